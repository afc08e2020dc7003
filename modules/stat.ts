// stat: what is at a path (type, mode bits, owner, times, checksum, MIME type, attributes), with
// Ansible's result keys, in one remote command. Read-only: the plan is always a no-op that carries
// the result, so check mode returns it too.
import { assignPath, defineModule, noop, planFailure, raw, sh, UserError, type ShellCommand } from '../engine/index.js';

/** The checksum programs Ansible's checksum_algorithm names, each a GNU coreutils `<name>sum`. */
export const CHECKSUM_ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;

/** stat's arguments, complete after validation. */
export interface StatArgs {
  path: string;
  follow: boolean;
  get_checksum: boolean;
  checksum_algorithm: (typeof CHECKSUM_ALGORITHMS)[number];
  get_mime: boolean;
  get_attributes: boolean;
}

/** What the probe printed, parsed but not yet shaped into Ansible's keys. */
export interface StatState {
  /** The path with a leading ~ expanded, as the host saw it. */
  path: string;
  /** stat failed for another reason than "no such file": its message (Python's strerror). */
  error?: string;
  exists: boolean;
  /** GNU stat fields: %f %u %g %s %h %i %d %b %o %t %T %.9X %.9Y %.9Z %U %G. */
  fields?: string[];
  readable?: boolean;
  writeable?: boolean;
  executable?: boolean;
  lnkTarget?: string;
  lnkSource?: string;
  checksum?: string;
  /** `file -b --mime-type --mime-encoding` output, when it ran and succeeded. */
  mime?: string;
  /** `lsattr -vd` output, when it ran and succeeded. */
  lsattr?: string;
}

const MARKER = '__tsplay_stat__';
const STAT_FORMAT = '%f %u %g %s %h %i %d %b %o %t %T %.9X %.9Y %.9Z %U %G';

/** The one remote command: stat (or lstat) of the path and what the options ask for. */
export function statCommand(args: StatArgs): ShellCommand {
  const follow = args.follow ? '-L' : '';
  const sum = args.get_checksum ? `${args.checksum_algorithm}sum` : '';
  // `@{` stands for the shell's `${`, which the template would take
  const script = String.raw`b() { printf %s "$1" | base64 -w0; }
printf '%s path %s\n' "$M" "$(b "$p")"
if st=$(LC_ALL=C stat $L -c "$F" -- "$p" 2>&1); then
  printf '%s stat %s\n' "$M" "$st"
  r=0 w=0 x=0; [ -r "$p" ] && r=1; [ -w "$p" ] && w=1; [ -x "$p" ] && x=1
  printf '%s access %s %s %s\n' "$M" $r $w $x
  if [ -z "$L" ] && [ -L "$p" ]; then
    printf '%s link %s %s\n' "$M" "$(b "$(readlink -- "$p")")" "$(b "$(readlink -m -- "$p")")"
  fi
  case $st in 8*) if [ -n "$S" ] && [ $r = 1 ] && c=$($S < "$p"); then printf '%s checksum %s\n' "$M" "@{c%% *}"; fi ;; esac
  if [ "$MIME" = 1 ] && command -v file >/dev/null 2>&1 && m=$(file -b --mime-type --mime-encoding -- "$p" 2>/dev/null); then printf '%s mime %s\n' "$M" "$(b "$m")"; fi
  if [ "$ATTR" = 1 ] && command -v lsattr >/dev/null 2>&1 && a=$(lsattr -vd -- "$p" 2>/dev/null); then printf '%s attr %s\n' "$M" "$(b "$a")"; fi
else
  printf '%s error %s\n' "$M" "$(b "$st")"
fi`.replaceAll('@{', '${');
  return sh`M=${MARKER} F=${STAT_FORMAT} L=${follow} S=${sum} MIME=${args.get_mime ? 1 : 0} ATTR=${args.get_attributes ? 1 : 0}
${assignPath('p', args.path)}
${raw(script)}`;
}

const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** Parse what statCommand printed. */
export function parseStatOutput(stdout: string, stderr = ''): StatState {
  const state: Partial<StatState> = { exists: false };
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(MARKER + ' ')) continue;
    const [key = '', ...values] = line.slice(MARKER.length + 1).split(' ');
    if (key === 'path') state.path = b64(values[0] ?? '');
    else if (key === 'stat') {
      state.exists = true;
      state.fields = values;
    } else if (key === 'access') {
      [state.readable, state.writeable, state.executable] = values.map((v) => v === '1');
    } else if (key === 'link') {
      state.lnkTarget = b64(values[0] ?? '');
      state.lnkSource = b64(values[1] ?? '');
    } else if (key === 'checksum') state.checksum = values[0];
    else if (key === 'mime') state.mime = b64(values[0] ?? '');
    else if (key === 'attr') state.lsattr = b64(values[0] ?? '');
    else if (key === 'error') {
      // `stat: cannot statx 'x': No such file or directory`: the part after the last colon
      const message = b64(values[0] ?? '').trim();
      const reason = message.slice(message.lastIndexOf(': ') + 2);
      if (reason !== 'No such file or directory') state.error = reason || message;
    }
  }
  if (state.path === undefined) {
    throw new UserError('E_MODULE', `stat could not inspect the path on the host: ${(stderr || stdout).trim() || 'no output'}`, {
      hint: 'stat needs a POSIX shell with GNU coreutils (stat, base64, readlink) on the host',
    });
  }
  if (state.exists && (state.fields?.length ?? 0) < 16) {
    throw new UserError('E_MODULE', `unexpected output of stat on the host: ${state.fields?.join(' ')}`, {
      hint: 'stat needs GNU coreutils (stat, readlink, base64) on the host',
    });
  }
  return state as StatState;
}

// lsattr's flag letters and the names Ansible gives them (its FILE_ATTRIBUTES table).
const ATTRIBUTE_NAMES: Record<string, string> = {
  A: 'noatime',
  a: 'append',
  c: 'compressed',
  C: 'nocow',
  d: 'nodump',
  D: 'dirsync',
  e: 'extents',
  E: 'encrypted',
  h: 'blocksize',
  i: 'immutable',
  I: 'indexed',
  j: 'journalled',
  N: 'inline',
  s: 'zero',
  S: 'synchronous',
  t: 'notail',
  T: 'blockroot',
  u: 'undelete',
  X: 'compressedraw',
  Z: 'compresseddirty',
};

/** A GNU stat time with nanoseconds ('1700000000.123456789') as Python's st_mtime float. */
export function statTime(text: string): number {
  const [sec = '0', frac = ''] = text.split('.');
  // the same arithmetic as Python's os.stat, so the float prints the same digits
  return Number(sec) + Number(frac.padEnd(9, '0').slice(0, 9)) * 1e-9;
}

/** Ansible's `stat` dictionary from the parsed probe (without the keys of missing options). */
export function statResult(
  state: StatState,
  args: Pick<StatArgs, 'get_checksum' | 'get_mime' | 'get_attributes'>,
): Record<string, unknown> {
  if (!state.exists || !state.fields) return { exists: false };
  const [rawMode, uid, gid, size, nlink, inode, dev, blocks, blockSize, major, minor, atime, mtime, ctime, owner, group] = state.fields as [
    string,
    ...string[],
  ];
  const mode = parseInt(rawMode, 16);
  const type = mode & 0o170000;
  const bit = (b: number) => (mode & b) !== 0;
  const maj = parseInt(major!, 16);
  const min = parseInt(minor!, 16);
  // glibc's makedev: st_rdev from the major and minor numbers
  const rdev = Number(
    (BigInt(maj & 0xfffff000) << 32n) | (BigInt(maj & 0xfff) << 8n) | (BigInt(min & 0xffffff00) << 12n) | BigInt(min & 0xff),
  );
  const out: Record<string, unknown> = {
    exists: true,
    path: state.path,
    mode: (mode & 0o7777).toString(8).padStart(4, '0'),
    isdir: type === 0o040000,
    ischr: type === 0o020000,
    isblk: type === 0o060000,
    isreg: type === 0o100000,
    isfifo: type === 0o010000,
    islnk: type === 0o120000,
    issock: type === 0o140000,
    uid: Number(uid),
    gid: Number(gid),
    size: Number(size),
    inode: Number(inode),
    dev: Number(dev),
    nlink: Number(nlink),
    atime: statTime(atime!),
    mtime: statTime(mtime!),
    ctime: statTime(ctime!),
    wusr: bit(0o200),
    rusr: bit(0o400),
    xusr: bit(0o100),
    wgrp: bit(0o020),
    rgrp: bit(0o040),
    xgrp: bit(0o010),
    woth: bit(0o002),
    roth: bit(0o004),
    xoth: bit(0o001),
    isuid: bit(0o4000),
    isgid: bit(0o2000),
    blocks: Number(blocks),
    block_size: Number(blockSize),
    device_type: rdev,
    readable: state.readable ?? false,
    writeable: state.writeable ?? false,
    executable: state.executable ?? false,
  };
  // GNU stat prints UNKNOWN for an id without a name; Ansible then leaves the key out
  if (owner !== 'UNKNOWN') out.pw_name = owner;
  if (group !== 'UNKNOWN') out.gr_name = group;
  if (out.islnk && state.lnkTarget !== undefined) {
    out.lnk_source = state.lnkSource;
    out.lnk_target = state.lnkTarget;
  }
  if (args.get_checksum && state.checksum !== undefined) out.checksum = state.checksum;
  if (args.get_mime) {
    out.mimetype = 'unknown';
    out.charset = 'unknown';
    // "text/plain; charset=us-ascii"; anything else (a dangling link's bare "inode/symlink") is unknown
    const parts = state.mime?.trim().split(';');
    if (parts?.length === 2 && parts[1]!.includes('=')) {
      out.mimetype = parts[0]!.trim();
      out.charset = parts[1]!.split('=')[1]!.trim();
    }
  }
  if (args.get_attributes) {
    out.version = null;
    out.attributes = [];
    out.attr_flags = '';
    // "2025764001 --------------e------- /path": the version, then the flags
    const [version, flags] = (state.lsattr ?? '').split('\n')[0]!.trim().split(/\s+/);
    if (version !== undefined && flags !== undefined) {
      out.version = version;
      out.attr_flags = flags.replaceAll('-', '');
      out.attributes = [...(out.attr_flags as string)].flatMap((f) => (ATTRIBUTE_NAMES[f] ? [ATTRIBUTE_NAMES[f]] : []));
    }
  }
  return out;
}

export default defineModule<StatArgs, StatState>({
  name: 'stat',
  aliases: ['ansible.builtin.stat'],
  description:
    "Retrieve facts about a path (type, mode, owner, size, times, link target, checksum, MIME type, file attributes) into the result's `stat`, with Ansible's keys; only `exists: false` when nothing is there. Never changes anything, and runs in check mode too.",
  schema: {
    type: 'object',
    properties: {
      path: {
        type: 'string',
        aliases: ['dest', 'name'],
        description: 'The path to get the facts of (a leading ~ is expanded on the host).',
      },
      follow: { type: 'boolean', default: false, description: 'Follow a symlink: report what it points to.' },
      get_checksum: { type: 'boolean', default: true, description: 'Return the checksum of a readable regular file.' },
      checksum_algorithm: {
        type: 'string',
        enum: [...CHECKSUM_ALGORITHMS],
        default: 'sha1',
        aliases: ['checksum', 'checksum_algo'],
        description: "The checksum to compute (with the host's `<algorithm>sum`).",
      },
      get_mime: {
        type: 'boolean',
        default: true,
        aliases: ['mime', 'mime_type', 'mime-type'],
        description: 'Return mimetype and charset, from `file` when the host has it.',
      },
      get_attributes: {
        type: 'boolean',
        default: true,
        aliases: ['attr', 'attributes'],
        description: 'Return version, attributes and attr_flags, from `lsattr` when the host has it.',
      },
    },
    required: ['path'],
    additionalProperties: false,
  },
  examples: `- name: Does the file exist, and who owns it?
  stat:
    path: /etc/foo.conf
  register: st

- name: Fail if it does not belong to root
  fail:
    msg: /etc/foo.conf changed owner
  when: st.stat.exists and st.stat.pw_name != 'root'

- name: A sha256 checksum, no MIME type
  stat:
    path: /srv/image.img
    checksum_algorithm: sha256
    get_mime: false
  register: image`,
  async gather(ctx, args) {
    const r = await ctx.run(statCommand(args));
    return parseStatOutput(r.stdout, r.stderr);
  },
  plan(state, args) {
    if (state.error !== undefined) return planFailure(state.error);
    const stat = statResult(state, args);
    return noop(state.exists ? `${state.path} exists` : `${state.path} does not exist`, { stat });
  },
});
