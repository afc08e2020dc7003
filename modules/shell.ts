// shell: run a command line through the host's shell (pipes, redirections, variables work).
import { defineModule, raw, sh } from '../engine/index.js';
import { commandProperties, gatherPaths, planCommand, runCommand, type CommandArgs, type CommandState } from './command.js';

export default defineModule<CommandArgs & { cmd: string }, CommandState>({
  name: 'shell',
  aliases: ['ansible.builtin.shell'],
  description:
    "Run a command line with the host's shell (/bin/sh, or `executable`). Reports changed unless creates/removes or changed_when decide; skipped in check mode unless creates/removes decide.",
  freeForm: 'cmd',
  idempotent: false,
  schema: {
    type: 'object',
    properties: {
      ...commandProperties,
      executable: { type: 'string', description: 'The shell to use, e.g. /bin/bash.' },
    },
    required: ['cmd'],
    additionalProperties: false,
  },
  examples: `- name: Count the leases
  shell: wc -l < /var/lib/misc/dnsmasq.leases
  register: leases
  changed_when: false`,
  gather: gatherPaths,
  plan: (state, args) => planCommand(state, args, args.cmd, 'shell command'),
  async apply(ctx, _changes, args) {
    const command = args.executable ? sh`${args.executable} -c ${args.cmd}` : sh`${raw(args.cmd)}`;
    return runCommand(ctx, command, args, args.cmd);
  },
});
