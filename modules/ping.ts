// ping: prove the host is reachable and can run a command.
import { defineModule, noop, planFailure, sh } from '../engine/index.js';

export default defineModule<{ data: string }, { ok: boolean; stderr: string }>({
  name: 'ping',
  aliases: ['ansible.builtin.ping'],
  description: 'Connect to the host and run a trivial command; returns pong. Use it to check an inventory.',
  schema: {
    type: 'object',
    properties: { data: { type: 'string', default: 'pong', description: "What to return; 'crash' makes the module fail." } },
    additionalProperties: false,
  },
  examples: `- ping:`,
  async gather(ctx) {
    const r = await ctx.run(sh`echo pong`);
    return { ok: r.rc === 0 && r.stdout.trim() === 'pong', stderr: r.stderr };
  },
  plan(state, args) {
    if (args.data === 'crash') return planFailure('boom');
    if (!state.ok) return planFailure(`the host could not run /bin/sh: ${state.stderr.trim()}`);
    return noop('the host answered', { ping: args.data });
  },
});
