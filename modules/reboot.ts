// reboot: reboot the host and wait until it is back with a new boot id and passes test_command,
// as ansible.builtin.reboot does. The plan always changes (check mode reports the reboot without
// doing it); apply issues the reboot, then reconnects until the host answers from its new boot.
import { defineModule, raw, sh, type ModuleContext, type ShellCommand } from '../engine/index.js';
import { waitUntilAnswers } from './wait_for_connection.js';

/** reboot's arguments, complete after validation. */
export interface RebootArgs {
  msg: string;
  pre_reboot_delay: number;
  post_reboot_delay: number;
  reboot_timeout: number;
  connect_timeout?: number;
  test_command: string;
  boot_time_command: string;
  reboot_command?: string;
  search_paths: string[];
}

/** The boot the host is in before the reboot. */
export interface BootState {
  bootId: string;
}

const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The command that reboots after the pre-reboot delay, detached so it outlives the session. */
export function rebootCommand(args: RebootArgs): ShellCommand {
  const reboot = args.reboot_command !== undefined ? sh`${raw(args.reboot_command)}` : sh`shutdown -r now ${args.msg} || systemctl reboot`;
  const inner = sh`sleep ${String(args.pre_reboot_delay)}; ${reboot}`;
  return sh`nohup sh -c ${inner.text} </dev/null >/dev/null 2>&1 &`;
}

async function waitForNewBoot(ctx: ModuleContext, args: RebootArgs, before: string, startedAt: number) {
  const connectTimeout = (args.connect_timeout ?? 10) * 1000;
  const boot = await waitUntilAnswers(ctx, { timeout: args.reboot_timeout, sleep: 1, connectTimeout, startedAt }, async (c) => {
    const r = await c.run(sh`${raw(args.boot_time_command)}`.inOwnShell(), { timeoutMs: connectTimeout });
    const id = r.stdout.trim();
    return r.rc === 0 && id !== '' && id !== before ? true : r.rc === 0 ? 'still the same boot' : `rc=${r.rc}`;
  });
  if (!boot.ok)
    return {
      failed: `Timed out waiting for last boot time check (timeout=${args.reboot_timeout})${boot.lastError ? `: ${boot.lastError}` : ''}`,
      result: { rebooted: true, elapsed: boot.elapsed },
    };
  const test = await waitUntilAnswers(ctx, { timeout: args.reboot_timeout, sleep: 1, connectTimeout, startedAt }, async (c) => {
    const r = await c.run(sh`${raw(args.test_command)}`.inOwnShell(), { timeoutMs: connectTimeout });
    return r.rc === 0 ? true : `rc=${r.rc} ${r.stderr.trim()}`;
  });
  if (!test.ok)
    return {
      failed: `Timed out waiting for post-reboot test command (timeout=${args.reboot_timeout})${test.lastError ? `: ${test.lastError}` : ''}`,
      result: { rebooted: true, elapsed: test.elapsed },
    };
  if (args.post_reboot_delay > 0) await sleepMs(args.post_reboot_delay * 1000);
  return { result: { rebooted: true, elapsed: Math.round((Date.now() - startedAt) / 1000) } };
}

export default defineModule<RebootArgs, BootState>({
  name: 'reboot',
  aliases: ['ansible.builtin.reboot'],
  description:
    'Reboot the host, then wait until it answers from a new boot (its boot id changed) and test_command succeeds, reconnecting as needed; the play goes on with the rebooted host. Always changed; check mode only reports it.',
  schema: {
    type: 'object',
    properties: {
      msg: { type: 'string', default: 'Reboot initiated by Ansible', description: 'The message shutdown broadcasts.' },
      pre_reboot_delay: { type: 'integer', default: 0, description: 'Seconds to wait before rebooting.' },
      post_reboot_delay: { type: 'integer', default: 0, description: 'Seconds to wait after the host is back.' },
      reboot_timeout: { type: 'integer', default: 600, description: 'Seconds to wait for the host to come back and pass test_command.' },
      connect_timeout: { type: 'integer', description: 'Seconds one attempt to reach the host may take (default 10).' },
      test_command: { type: 'string', default: 'whoami', description: 'A command that must succeed on the rebooted host.' },
      boot_time_command: {
        type: 'string',
        default: 'cat /proc/sys/kernel/random/boot_id',
        description: 'A command whose output changes with each boot.',
      },
      reboot_command: { type: 'string', description: 'The command that reboots (default: shutdown -r now MSG, else systemctl reboot).' },
      search_paths: {
        type: 'array',
        items: { type: 'string' },
        default: ['/sbin', '/bin', '/usr/sbin', '/usr/bin', '/usr/local/sbin'],
        description: 'Accepted for compatibility.',
      },
    },
    additionalProperties: false,
  },
  examples: `- name: Reboot the gateway and wait for it
  reboot:
    reboot_timeout: 300
    test_command: systemctl is-system-running --wait`,
  idempotent: false,
  async gather(ctx, args) {
    const r = await ctx.run(sh`${raw(args.boot_time_command)}`.inOwnShell());
    return { bootId: r.rc === 0 ? r.stdout.trim() : '' };
  },
  plan: (state) => ({
    changes: [{ summary: `reboot (boot ${state.bootId.slice(0, 8) || 'unknown'})`, commands: [] }],
    alwaysChanges: true,
    result: { rebooted: false, elapsed: 0 },
  }),
  async apply(ctx, _changes, args, current) {
    const startedAt = Date.now();
    const r = await ctx.run(rebootCommand(args)).catch((e: Error) => ({ rc: -1, stdout: '', stderr: e.message }));
    if (r.rc !== 0 && r.rc !== -1)
      return { failed: `Reboot command failed: ${(r.stderr || r.stdout).trim()}`, result: { rebooted: false, rc: r.rc } };
    // The host may go down any moment now; the next command must not use the old connection.
    await ctx.reconnect?.();
    return waitForNewBoot(ctx, args, current.bootId, startedAt);
  },
});
