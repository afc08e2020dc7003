// assert: fail unless every condition holds.
import { defineModule, noop, planFailure } from '../engine/index.js';

interface AssertArgs {
  that: unknown;
  fail_msg?: unknown;
  success_msg?: unknown;
  quiet: boolean;
}

export default defineModule<AssertArgs, { failedAt?: string; error?: string }>({
  name: 'assert',
  aliases: ['ansible.builtin.assert'],
  description: 'Check that expressions hold (e.g. that a variable is set to a sane value) and fail with fail_msg otherwise.',
  schema: {
    type: 'object',
    properties: {
      that: { type: ['array', 'string', 'boolean'], description: 'Conditions, as in when: (a list, or one).' },
      fail_msg: { aliases: ['msg'], description: 'Message when an assertion fails.' },
      success_msg: { description: 'Message when all assertions pass.' },
      quiet: { type: 'boolean', default: false, description: 'Print less.' },
    },
    required: ['that'],
    additionalProperties: false,
  },
  examples: `- assert:
    that:
      - cluster_subnet is defined
      - dhcp_start | ipaddr  # any expression
    fail_msg: "set cluster_subnet in group_vars/all.yml"`,
  async gather(ctx, args) {
    for (const cond of Array.isArray(args.that) ? args.that : [args.that]) {
      const v = typeof cond === 'string' ? ctx.evaluate(cond) : cond;
      const ok =
        typeof v === 'string'
          ? !['', 'false', 'no', '0', 'off'].includes(v.toLowerCase())
          : Boolean(v) && !(Array.isArray(v) && v.length === 0);
      if (!ok) return { failedAt: String(cond) };
    }
    return {};
  },
  plan(state, args) {
    if (state.failedAt !== undefined) {
      return planFailure(args.fail_msg !== undefined ? String(args.fail_msg) : 'Assertion failed', {
        assertion: state.failedAt,
        evaluated_to: false,
        // ansible-playbook prints a failed assertion indented too, unless quiet
        _ansible_verbose_always: !args.quiet,
      });
    }
    return noop('all assertions hold', { msg: args.success_msg ?? 'All assertions passed', _ansible_verbose_always: !args.quiet });
  },
});
