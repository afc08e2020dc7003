// group: a local group present (with a GID) or absent, as ansible.builtin.group does it with
// groupadd, groupmod and groupdel. The gather reads the group's entry (getent) in one command; a
// change runs its command and reads the entry again in the same round trip.
import { defineModule, noop, planFailure, probeAll, sh, type Plan } from '../engine/index.js';

/** group's arguments, complete after validation. */
export interface GroupArgs {
  name: string;
  gid?: number;
  state: 'present' | 'absent';
  system: boolean;
  local: boolean;
  non_unique: boolean;
}

/** The group's entry as getent printed it, or undefined when there is none. */
export interface GroupState {
  entry?: GroupEntry;
}

/** One line of getent group. */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Parse one `name:x:gid:members` line; undefined when there is none. */
export function parseGroupLine(line: string | undefined): GroupEntry | undefined {
  const f = (line ?? '').trim().split(':');
  if (f.length < 3 || f[0] === '' || !/^\d+$/.test(f[2]!)) return undefined;
  return { name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) };
}

/** The plan of group: pure. */
export function planGroup(cur: GroupState, args: GroupArgs): Plan {
  if (args.local)
    return planFailure('local: true (lgroupadd and friends) is not supported by tsplay; without it, groupadd manages the local /etc/group');
  if (args.non_unique && args.gid === undefined) return planFailure('non_unique needs gid');
  const e = cur.entry;
  if (args.state === 'absent') {
    if (!e) return noop(`group ${args.name} is absent`, { name: args.name, state: 'absent' });
    // Ansible's check-mode result of a removal says only changed
    return { changes: [{ summary: `remove group ${args.name} (gid ${e.gid})`, commands: [{ cmd: sh`groupdel -- ${args.name}` }] }] };
  }
  const unique = args.non_unique && args.gid !== undefined ? sh` -o` : sh``;
  if (!e) {
    const gid = args.gid !== undefined ? sh` -g ${args.gid}` : sh``;
    const system = args.system ? sh` -r` : sh``;
    return {
      changes: [
        {
          summary: `add group ${args.name}${args.gid !== undefined ? ` with gid ${args.gid}` : ''}${args.system ? ' (system)' : ''}`,
          commands: [{ cmd: sh`groupadd${gid}${unique}${system} -- ${args.name}` }],
        },
      ],
    };
  }
  const result = { name: args.name, gid: e.gid, state: 'present', system: args.system };
  if (args.gid !== undefined && args.gid !== e.gid) {
    return {
      changes: [
        {
          summary: `change the gid of group ${args.name} from ${e.gid} to ${args.gid}`,
          commands: [{ cmd: sh`groupmod -g ${args.gid}${unique} -- ${args.name}` }],
        },
      ],
      result,
    };
  }
  return noop(`group ${args.name} exists${args.gid !== undefined ? ` with gid ${args.gid}` : ''}`, result);
}

export default defineModule<GroupArgs, GroupState>({
  name: 'group',
  aliases: ['ansible.builtin.group'],
  description:
    "Manage a local group: present (groupadd, with a gid, a system group) or absent (groupdel); groupmod changes the gid of an existing group. The result has the group's gid, name, state and system, as Ansible's.",
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'The name of the group.' },
      gid: { type: 'integer', description: 'The GID it must have.' },
      state: { type: 'string', enum: ['absent', 'present'], default: 'present', description: 'present or absent.' },
      system: { type: 'boolean', default: false, description: 'Create it as a system group (a GID from the system range).' },
      local: { type: 'boolean', default: false, description: 'lgroupadd and friends: not supported by tsplay (refused).' },
      non_unique: { type: 'boolean', default: false, description: 'Allow a GID that another group has (groupadd/groupmod -o); needs gid.' },
    },
    required: ['name'],
    additionalProperties: false,
  },
  examples: `- name: The group that may use the GPIO pins
  group:
    name: gpio
    gid: 997
    system: yes`,
  async gather(ctx, args) {
    const { entry } = await probeAll(ctx, { entry: sh`getent group -- ${args.name}` });
    return { entry: entry?.rc === 0 ? parseGroupLine(entry.out.split('\n')[0]) : undefined };
  },
  plan: planGroup,
  async apply(ctx, changes, args) {
    const cmd = changes[0]!.commands[0]!.cmd;
    const r = await ctx.run(sh`${cmd} && { getent group -- ${args.name} || true; }`);
    if (r.rc !== 0) return { failed: r.stderr || r.stdout || `${cmd.display} failed (rc=${r.rc})`, result: { name: args.name } };
    if (args.state === 'absent') return { result: { name: args.name, state: 'absent' } };
    const e = parseGroupLine(r.stdout.split('\n')[0]);
    return { result: { name: args.name, gid: e?.gid ?? args.gid, state: 'present', system: args.system } };
  },
});
