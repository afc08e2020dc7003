// sysctl: a kernel parameter in a sysctl file (ansible.posix.sysctl) and, with reload or
// sysctl_set, its live value. One remote command reads the file (with its attributes) and the
// live value; one more writes the file atomically and sets the value with `sysctl -w`.
import {
  parseProbeAll,
  probeAllCommand,
  applyFileEdits,
  planFileEdit,
  defineModule,
  followed,
  ModeError,
  noop,
  parseFileProbe,
  planFailure,
  fileProbeCommand,
  sh,
  type Change,
  type FileFact,
  type Plan,
} from '../engine/index.js';

/** sysctl's arguments, complete after validation. */
export interface SysctlArgs {
  name: string;
  value?: string;
  state: 'present' | 'absent';
  sysctl_file: string;
  reload: boolean;
  sysctl_set: boolean;
  ignoreerrors: boolean;
}

/** The sysctl file and the key's live value. */
export interface SysctlState {
  file: FileFact;
  /** The live value (`sysctl -n`), or undefined when the kernel has no such key. */
  live?: string;
  /** What sysctl said when it could not read the key. */
  liveError?: string;
}

// Ansible's value normalisation: booleans become 1/0, runs of whitespace one space.
export function normalizeValue(value: string): string {
  const v = value.trim();
  if (/^(yes|on|true)$/i.test(v)) return '1';
  if (/^(no|off|false)$/i.test(v)) return '0';
  return v.split(/\s+/).join(' ');
}

// The key a sysctl.conf line assigns ("-key" ignores errors), or undefined for comments and blanks.
function keyOf(line: string): string | undefined {
  const t = line.trim();
  const eq = t.indexOf('=');
  if (t.startsWith('#') || t.startsWith(';') || eq <= 0) return undefined;
  return t.slice(0, eq).trim().replace(/^-/, '');
}

/** key -> value of a sysctl.conf text, as sysctl reads it (the last assignment wins). */
export function parseSysctlConf(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const key = keyOf(line);
    if (key !== undefined) values.set(key, line.slice(line.indexOf('=') + 1).trim());
  }
  return values;
}

// The file with `name` set to `value` (first assignment replaced, later ones dropped) or removed.
function editConf(text: string, name: string, value: string | undefined): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let written = false;
  for (const line of lines) {
    if (keyOf(line) !== name) {
      out.push(line);
    } else if (value !== undefined && !written) {
      out.push(`${name}=${value}`);
      written = true;
    }
  }
  if (value !== undefined && !written) out.push(`${name}=${value}`);
  return out.length ? out.join('\n') + '\n' : '';
}

/** The plan of sysctl: pure, from the file, the live value and the arguments. */
export function planSysctl(cur: SysctlState, args: SysctlArgs): Plan {
  const name = args.name.trim();
  if (args.state === 'present' && args.value === undefined) return planFailure('value cannot be None');
  const file = followed(cur.file);
  if (file.stat?.type === 'directory') return planFailure(`${args.sysctl_file} is a directory`);
  if (file.exists && (cur.file.content === undefined || cur.file.unreadable)) return planFailure(`cannot read ${args.sysctl_file}`);
  const before = file.exists ? Buffer.from(cur.file.content!, 'base64').toString('utf8') : '';
  const wanted = args.value === undefined ? undefined : normalizeValue(args.value);
  const inFile = parseSysctlConf(before).get(name);
  const result = { name, value: wanted ?? null, sysctl_file: args.sysctl_file };

  const changes: Change[] = [];
  const fileOk = args.state === 'present' ? inFile !== undefined && normalizeValue(inFile) === wanted : inFile === undefined;
  if (!fileOk) {
    const after = editConf(before, name, wanted);
    try {
      changes.push(
        planFileEdit(cur.file, after, {
          summary: args.state === 'present' ? `set ${name}=${wanted} in ${args.sysctl_file}` : `remove ${name} from ${args.sysctl_file}`,
          diffPath: args.sysctl_file,
          diffBefore: before,
        }),
      );
    } catch (e) {
      if (e instanceof ModeError) return planFailure(e.message);
      throw e;
    }
  }
  const live = args.state === 'present' && (args.reload || args.sysctl_set);
  if (live) {
    if (cur.live === undefined) {
      if (!args.ignoreerrors) return planFailure(`setting ${name} failed: ${cur.liveError?.trim() || 'no such key'}`, result);
    } else if (normalizeValue(cur.live) !== wanted) {
      changes.push({
        summary: `set ${name} live: ${normalizeValue(cur.live)} -> ${wanted}`,
        commands: [{ cmd: sh`sysctl${args.ignoreerrors ? sh` -e` : sh``} -q -w ${`${name}=${wanted}`}` }],
        diff: {
          before: `${name} = ${normalizeValue(cur.live)}\n`,
          after: `${name} = ${wanted}\n`,
          beforeHeader: `${name} (live)`,
          afterHeader: `${name} (live)`,
        },
      });
    }
  }
  if (changes.length === 0) {
    const where =
      args.state === 'present'
        ? `${name}=${wanted} already in ${args.sysctl_file}${live && cur.live !== undefined ? ' and live' : ''}`
        : `${name} not in ${args.sysctl_file}`;
    return noop(where, result);
  }
  return { changes, result };
}

/** The gather as one command: the file probe, then the live value (see probeAll). */
export function sysctlGatherCommand(args: SysctlArgs) {
  return probeAllCommand({
    file: { cmd: fileProbeCommand([{ path: args.sysctl_file, content: true }]), stderr: 'pass' },
    live: sh`sysctl -n -- ${args.name.trim()}`,
  });
}

/** Parse the gather's output. */
export function parseSysctlGather(stdout: string, stderr: string, rc: number): SysctlState {
  const probed = parseProbeAll<'file' | 'live'>(stdout);
  const file = parseFileProbe({ stdout: probed.file?.out ?? '', stderr, rc }, 1)[0]!;
  const text = (probed.live?.out ?? '').replace(/\n+$/, '');
  return probed.live?.rc === 0 ? { file, live: text } : { file, liveError: text || 'sysctl failed' };
}

export default defineModule<SysctlArgs, SysctlState>({
  name: 'sysctl',
  aliases: ['ansible.posix.sysctl'],
  // net.* changes how the host is reached: applied under the engine's rollback guard
  network: (args) => args.name.startsWith('net.'),
  description:
    'Manage an entry in a sysctl file (default /etc/sysctl.conf) and, with reload or sysctl_set, the live kernel value (sysctl -w). Changed when the file entry or the live value differs.',
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', aliases: ['key'], description: 'The dot-separated path (key) of the sysctl variable: net.ipv4.ip_forward.' },
      value: {
        type: 'string',
        aliases: ['val'],
        description: 'Desired value; yes/true become 1, no/false 0, whitespace is normalised. Required with state=present.',
      },
      state: {
        type: 'string',
        enum: ['present', 'absent'],
        default: 'present',
        description: 'Whether the entry should be in the sysctl file.',
      },
      sysctl_file: {
        type: 'string',
        default: '/etc/sysctl.conf',
        description: 'The file the entry is kept in (e.g. /etc/sysctl.d/90-forward.conf).',
      },
      reload: { type: 'boolean', default: true, description: 'Also apply the value now (sysctl -w) when the live value differs.' },
      sysctl_set: { type: 'boolean', default: false, description: 'Verify the live value and set it with sysctl -w (implied by reload).' },
      ignoreerrors: { type: 'boolean', default: false, description: 'Ignore errors about unknown keys (sysctl -e).' },
    },
    required: ['name'],
    additionalProperties: false,
  },
  examples: `- name: Forward IPv4 packets, now and after a reboot
  sysctl:
    name: net.ipv4.ip_forward
    value: '1'
    sysctl_set: true
    state: present

- name: Keep the setting in its own file
  ansible.posix.sysctl:
    name: net.ipv6.conf.all.forwarding
    value: '1'
    sysctl_file: /etc/sysctl.d/90-forwarding.conf

- name: Remove kernel.panic from /etc/sysctl.conf, leaving the live value alone
  sysctl:
    name: kernel.panic
    state: absent
    reload: false`,
  async gather(ctx, args) {
    const r = await ctx.run(sysctlGatherCommand(args));
    return parseSysctlGather(r.stdout, r.stderr, r.rc);
  },
  plan: planSysctl,
  async apply(ctx, changes) {
    return (await applyFileEdits(ctx, changes)).failure ?? {};
  },
});
