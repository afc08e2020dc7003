// debug: print a message or a variable's value; changes nothing.
import { defineModule, noop, UserError } from '../engine/index.js';

interface DebugArgs {
  msg?: unknown;
  var?: string;
  verbosity: number;
}

interface DebugState {
  shown: boolean;
  value?: unknown;
}

export default defineModule<DebugArgs, DebugState>({
  name: 'debug',
  aliases: ['ansible.builtin.debug'],
  description:
    'Print a message (msg) or the value of a variable or expression (var), e.g. a registered result. Shown only when -v is at least `verbosity`.',
  schema: {
    type: 'object',
    properties: {
      msg: { description: 'The message to print (any value).' },
      var: { type: 'string', description: 'A variable name or expression whose value is printed.' },
      verbosity: { type: 'integer', default: 0, minimum: 0, description: 'Print only with at least this many -v.' },
    },
    mutuallyExclusive: [['msg', 'var']],
    additionalProperties: false,
  },
  examples: `- debug:
    msg: "gateway is {{ ansible_host }}"
- debug:
    var: result.stdout_lines`,
  async gather(ctx, args) {
    if (ctx.verbosity < args.verbosity) return { shown: false };
    if (args.var === undefined) return { shown: true };
    try {
      return { shown: true, value: ctx.evaluate(args.var) };
    } catch (e) {
      // only an undefined variable is "not defined"; any other error (a broken template in the
      // variable, a bad filter argument) fails the task, as in Ansible; -v says which variable
      if (!(e instanceof UserError) || e.code !== 'E_UNDEFINED') throw e;
      return { shown: true, value: ctx.verbosity > 0 ? `VARIABLE IS NOT DEFINED!: ${e.message}` : 'VARIABLE IS NOT DEFINED!' };
    }
  },
  plan(state, args) {
    if (!state.shown) return noop('verbosity threshold not met', { skipped: true, skipped_reason: 'Verbosity threshold not met.' });
    if (args.var !== undefined) return noop('debug changes nothing', { [args.var]: state.value, _ansible_verbose_always: true });
    return noop('debug changes nothing', { msg: args.msg ?? 'Hello world!', _ansible_verbose_always: true });
  },
});
