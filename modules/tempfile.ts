// tempfile: create a new temporary file or directory on the host (mktemp) and return its path and
// attributes. Every run creates a new one, so the task always changes; in check mode it is
// skipped, as Ansible skips it (the module does not support check mode there).
import { assignPath, defineModule, sh, type ShellCommand } from '../engine/index.js';

/** tempfile's arguments, complete after validation. */
export interface TempfileArgs {
  state: 'file' | 'directory';
  path?: string;
  prefix: string;
  suffix: string;
}

const MARKER = '__tsplay_tempfile__';

/**
 * The command that creates the file or directory: mktemp with eight random characters between
 * prefix and suffix, in `path` or else in $TMPDIR or /tmp (Python's tempfile does the same), then
 * prints the path and its attributes.
 */
export function tempfileCommand(args: TempfileArgs): ShellCommand {
  const dir = args.path === undefined ? sh`--tmpdir` : sh`--tmpdir="$d"`;
  const assign =
    args.path === undefined
      ? sh``
      : sh`${assignPath('d', args.path)}
`;
  const kind = args.state === 'directory' ? sh` -d` : sh``;
  const template = `${args.prefix}XXXXXXXX`;
  return sh`${assign}t=$(LC_ALL=C mktemp${kind} ${dir} --suffix=${args.suffix} -- ${template}) || exit 1
printf '%s path ' ${MARKER}; printf %s "$t" | base64 -w0; echo
LC_ALL=C stat -c ${`${MARKER} stat %a %u %g %s %U %G`} -- "$t"`;
}

/** Ansible's result of tempfile from what tempfileCommand printed. */
export function parseTempfileOutput(stdout: string, state: TempfileArgs['state']): Record<string, unknown> | undefined {
  const result: Record<string, unknown> = {};
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(MARKER + ' ')) continue;
    const [key, ...values] = line.slice(MARKER.length + 1).split(' ');
    if (key === 'path') result.path = Buffer.from(values[0] ?? '', 'base64').toString('utf8');
    else if (key === 'stat') {
      const [mode = '', uid, gid, size, owner, group] = values;
      Object.assign(result, {
        uid: Number(uid),
        gid: Number(gid),
        owner,
        group,
        mode: '0' + mode.padStart(3, '0'),
        state,
        size: Number(size),
      });
    }
  }
  return result.path === undefined || result.mode === undefined ? undefined : result;
}

const ERRNO: Record<string, number> = {
  'No such file or directory': 2,
  'Permission denied': 13,
  'Not a directory': 20,
  'Read-only file system': 30,
};

/**
 * mktemp's complaint as Python's OSError prints it, which is Ansible's message ("[Errno 2] No
 * such file or directory: '/nope/ansible.XXXXXXXX'", the random part as mktemp's template).
 */
export function mktempError(stderr: string): string | undefined {
  const m = /failed to create (?:file|directory) via template '(.*)': ([^:\n]+)$/m.exec(stderr);
  if (!m) return undefined;
  const errno = ERRNO[m[2]!];
  return errno === undefined ? `${m[2]}: '${m[1]}'` : `[Errno ${errno}] ${m[2]}: '${m[1]}'`;
}

export default defineModule<TempfileArgs, Record<string, never>>({
  name: 'tempfile',
  aliases: ['ansible.builtin.tempfile'],
  description:
    'Create a temporary file or directory (mode 0600 / 0700) and return its `path` with its attributes; remove it with `file: state=absent` when done. Always changed; skipped in check mode, as in Ansible.',
  idempotent: false,
  schema: {
    type: 'object',
    properties: {
      state: { type: 'string', enum: ['file', 'directory'], default: 'file', description: 'Create a file or a directory.' },
      path: { type: 'string', description: 'The directory to create it in (default: $TMPDIR or /tmp on the host).' },
      prefix: { type: 'string', default: 'ansible.', description: 'The start of its name.' },
      suffix: { type: 'string', default: '', description: 'The end of its name.' },
    },
    additionalProperties: false,
  },
  examples: `- name: A temporary build directory
  tempfile:
    state: directory
    suffix: build
  register: build_dir

- name: Remove it when done
  file:
    path: "{{ build_dir.path }}"
    state: absent
  when: build_dir.path is defined`,
  // nothing to read: a new name is made every time
  async gather() {
    return {};
  },
  plan(_state, args) {
    const where = args.path ?? '$TMPDIR or /tmp';
    return {
      changes: [{ summary: `create a temporary ${args.state} in ${where}`, commands: [{ cmd: tempfileCommand(args) }] }],
      outcomeUnknown: 'remote module (tempfile) does not support check mode',
    };
  },
  async apply(ctx, changes, args) {
    const r = await ctx.run(changes[0]!.commands[0]!.cmd);
    const result = r.rc === 0 ? parseTempfileOutput(r.stdout, args.state) : undefined;
    if (!result)
      return { failed: mktempError(r.stderr) ?? ((r.stderr || r.stdout).trim() || `mktemp failed (rc=${r.rc})`), result: { rc: r.rc } };
    return { result };
  },
});
