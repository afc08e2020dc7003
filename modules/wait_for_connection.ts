// wait_for_connection: wait until the host answers again over the task's connection (after a
// reboot, or while it boots), as ansible.builtin.wait_for_connection does. Nothing changes on the
// host, so the waiting is the gather: a trivial command, retried over a new connection each time.
import { defineModule, noop, planFailure, sh, UnreachableError, type ModuleContext } from '../engine/index.js';

/** wait_for_connection's arguments, complete after validation. */
export interface WaitForConnectionArgs {
  delay: number;
  sleep: number;
  timeout: number;
  connect_timeout: number;
}

/** How the waiting ended. */
export interface ConnectionWait {
  ok: boolean;
  /** Seconds from the start (the delay included). */
  elapsed: number;
  /** The last reason the host did not answer. */
  lastError?: string;
}

const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Run `probe` until it succeeds or `timeout` seconds have passed, over a new connection after each
 * failure (ctx.reconnect). Exported for reboot.
 */
export async function waitUntilAnswers(
  ctx: ModuleContext,
  opts: { timeout: number; sleep: number; connectTimeout: number; startedAt?: number },
  probe: (ctx: ModuleContext) => Promise<boolean | string>,
): Promise<ConnectionWait> {
  const start = opts.startedAt ?? Date.now();
  const deadline = start + opts.timeout * 1000;
  let lastError: string | undefined;
  let first = true;
  for (;;) {
    if (!first) await ctx.reconnect?.();
    first = false;
    try {
      const answer = await probe(ctx);
      if (answer === true) return { ok: true, elapsed: Math.round((Date.now() - start) / 1000) };
      lastError = typeof answer === 'string' ? answer : lastError;
    } catch (e) {
      if (!(e instanceof UnreachableError) && !(e instanceof Error)) throw e;
      lastError = (e as Error).message;
    }
    if (Date.now() + opts.sleep * 1000 > deadline) return { ok: false, elapsed: Math.round((Date.now() - start) / 1000), lastError };
    await sleepMs(opts.sleep * 1000);
  }
}

export default defineModule<WaitForConnectionArgs, ConnectionWait>({
  name: 'wait_for_connection',
  aliases: ['ansible.builtin.wait_for_connection'],
  description:
    "Wait until the host answers a command over the task's connection (reconnecting between attempts), for at most timeout seconds after delay. Changes nothing; runs in check mode too.",
  schema: {
    type: 'object',
    properties: {
      delay: { type: 'integer', default: 0, description: 'Seconds to wait before the first attempt.' },
      sleep: { type: 'integer', default: 1, description: 'Seconds between attempts.' },
      timeout: { type: 'integer', default: 600, description: 'Seconds to wait at most.' },
      connect_timeout: { type: 'integer', default: 5, description: 'Seconds one attempt may take.' },
    },
    additionalProperties: false,
  },
  examples: `- name: Wait for the node to come up
  wait_for_connection:
    delay: 5
    timeout: 300`,
  async gather(ctx, args) {
    const start = Date.now();
    if (args.delay > 0) await sleepMs(args.delay * 1000);
    return waitUntilAnswers(
      ctx,
      { timeout: args.timeout, sleep: args.sleep, connectTimeout: args.connect_timeout, startedAt: start },
      async (c) => {
        const r = await c.run(sh`echo ping`, { timeoutMs: args.connect_timeout * 1000 });
        return r.rc === 0 && r.stdout.trim() === 'ping' ? true : `rc=${r.rc} ${r.stderr.trim()}`;
      },
    );
  },
  plan(state, args) {
    if (!state.ok)
      return planFailure(`timed out waiting for ping module test: ${state.lastError ?? 'no answer'} (timeout=${args.timeout})`, {
        elapsed: state.elapsed,
      });
    return noop(`the host answered after ${state.elapsed}s`, { elapsed: state.elapsed });
  },
});
