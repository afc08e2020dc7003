// The file fact, public (engine/index.ts) for every module that reads or edits files: a read-only
// probe of one or more paths in ONE remote command (POSIX sh + GNU coreutils): type, mode,
// ownership, size, times, link target, sha1 and base64 content, parent directory, and the writing
// user's identity and umask.
import { createHash } from 'node:crypto';
import { UserError } from './errors.js';
import { decodeRawMode, MARKER } from './files.js';
import { defineFact, type ExecResult } from './module.js';
import { joinCommands, raw, sh, type ShellCommand } from './sh.js';

/** What kind of object a path is (a symlink is 'link', not followed). */
export type FileType = 'file' | 'directory' | 'link' | 'other';

/** Attributes of a filesystem object, as stat reports them. */
export interface FileStat {
  type: FileType;
  /** Permission bits as Ansible prints them: '0644', '04755'. */
  mode: string;
  owner: string;
  group: string;
  uid: number;
  gid: number;
  size: number;
  /** Number of hard links. */
  nlink: number;
  inode: number;
  /** Modification time as the host prints it in local time: '2024-05-01 10:00:00.123456789 +0200'. */
  mtime: string;
  /** Access time, same format as mtime. */
  atime: string;
}

/** The user commands run as, and its umask: what new files get by default. */
export interface HostIdentity {
  uid: number;
  gid: number;
  user: string;
  group: string;
  /** The umask as printed by the shell: '0022'. */
  umask: string;
}

/** A distinct (type, mode, ownership) combination found below a directory (for recurse). */
export interface ChildAttributes {
  type: FileType;
  mode: string;
  uid: number;
  gid: number;
  owner: string;
  group: string;
}

/** Everything a file module needs to know about one path. Attributes are those of the path itself (lstat). */
export interface FileFact extends Partial<FileStat> {
  /** The path probed, with a leading `~` expanded. */
  path: string;
  /** The path exists (a dangling symlink exists). */
  exists: boolean;
  /** For a symlink: what it points to, as stored (readlink). */
  linkTarget?: string;
  /** For a symlink: the fully resolved path (readlink -f), when it can be resolved. */
  realPath?: string;
  /** For a symlink that resolves: the attributes of what it points to. */
  linked?: FileStat;
  /** sha1 of the content (regular files, or links to one), when asked. */
  checksum?: string;
  /** The content in base64 (regular files, or links to one), when asked and within the size limit. */
  content?: string;
  /** The file exists but could not be read. */
  unreadable?: boolean;
  /** The parent directory exists (as a directory). */
  parentExists: boolean;
  /** For a missing path, when asked: the nearest ancestor that exists. */
  existingAncestor?: string;
  /** For a directory, when asked: the distinct attributes found below it. */
  children?: ChildAttributes[];
  /** Who the commands run as. */
  identity: HostIdentity;
}

/** What to probe about one path. */
export interface FileProbe {
  path: string;
  /** Fetch the content: true always, a number only up to that many bytes. */
  content?: boolean | number;
  /** Compute the sha1 of the content. */
  checksum?: boolean;
  /** For a missing path, find the nearest existing ancestor. */
  ancestor?: boolean;
  /** For a directory, list the distinct attributes of everything below it. */
  children?: boolean;
  /**
   * Also the names of the user and group the commands run as (identity.user and .group, which
   * are otherwise their numbers), for what a new file or symlink will be owned by: when the path
   * does not exist, or is not a symlink. It costs a program (`id`) on the host.
   */
  names?: 'if-missing' | 'unless-link';
}

// The probe as a shell function; its arguments: path, content (none|all|max bytes), sha1 (0|1),
// ancestor (0|1), children (0|1), names (no|missing|link). Every line it prints starts with the marker and a key.
// Each program started on the host costs a fork and an exec (a millisecond or more on a small or
// busy host), so the shell's own expansions do what they can: paths are printed as they are unless
// they hold a newline, the parent and the nearest existing ancestor are computed without dirname,
// the size limit is checked against the size stat printed, and the sha1 of fetched content is
// computed by the controller. Who runs the commands comes from /proc/self/status, read by the
// shell itself; their names, which only a new file or symlink needs, from one `id` when a probe
// asks for them. (`@{` stands for the shell's `${`, which the template would take.)
const PROBE = String.raw`probe() {
  p=$1; want=$2; sha=$3; anc=$4; kids=$5; nm=$6; c=
  case $p in "~") p=$HOME ;; "~/"*) p=$HOME/@{p#"~/"} ;; esac
  case $p in *"
"*) printf '%s path %s\n' "$M" "$(printf %s "$p" | base64 -w0)" ;; *) printf '%s rawpath %s\n' "$M" "$p" ;; esac
  if [ -L "$p" ] || [ -e "$p" ]; then
    st=$(stat --printf "$M stat %f %u %g %s %h %i %U %G\n$M mtime %y\n$M atime %x\n" -- "$p") && printf '%s\n' "$st"
    set -f; set -- $st; set +f; size=$6
    if [ -L "$p" ]; then
      printf '%s link %s\n' "$M" "$(readlink -- "$p" | base64 -w0)"
      r=$(readlink -f -- "$p") && printf '%s real %s\n' "$M" "$(printf %s "$r" | base64 -w0)"
      [ -e "$p" ] && size=$(stat -L -c %s -- "$p") && stat -L --printf "$M linked %f %u %g %s %h %i %U %G\n$M lmtime %y\n$M latime %x\n" -- "$p"
    fi
    if [ -f "$p" ]; then
      case $want in none) ;; all) c=1 ;; *) [ "$size" -le "$want" ] && c=1 ;; esac
      if [ -n "$c" ] && [ -r "$p" ]; then
        [ "$sha" = 1 ] && echo "$M sha1-of-content"
        printf '%s content ' "$M"; base64 -w0 < "$p"; echo
      else
        if [ "$sha" = 1 ]; then s=$(sha1sum < "$p") && printf '%s sha1 %.40s\n' "$M" "$s"; fi
        [ -n "$c" ] && echo "$M unreadable"
      fi
    fi
    if [ "$kids" = 1 ] && [ -d "$p" ] && [ ! -L "$p" ]; then
      find -P "$p" -mindepth 1 -printf "$M child %y %m %U %G %u %g\n" | sort -u
    fi
  elif [ "$anc" = 1 ]; then
    a=$p; while [ ! -e "$a" ]; do a=@{a%"@{a##*[!/]}"}; case $a in */*) a=@{a%/*}; a=@{a%"@{a##*[!/]}"}; a=@{a:-/} ;; "") a=/ ;; *) a=. ;; esac; done
    case $a in *"
"*) printf '%s ancestor %s\n' "$M" "$(printf %s "$a" | base64 -w0)" ;; *) printf '%s rawancestor %s\n' "$M" "$a" ;; esac
  fi
  case $nm in missing) [ -e "$p" ] || names=1 ;; link) [ -L "$p" ] || names=1 ;; esac
  d=@{p%"@{p##*[!/]}"}
  case $d in */*) d=@{d%/*}; d=@{d%"@{d##*[!/]}"}; d=@{d:-/} ;; "") d=/ ;; *) d=. ;; esac
  [ -d "$d" ] && echo "$M parent"
  return 0
}`.replaceAll('@{', '${');

// After the probes: the umask, and who runs the commands (see above).
const WHO = String.raw`printf '%s umask ' "$M"; umask
u= g=; { while read -r k r e x; do case $k in Uid:) u=$e ;; Gid:) g=$e; break ;; esac; done </proc/self/status; } 2>/dev/null
if [ -z "$names" ] && [ -n "$g" ]; then printf '%s ids uid=%s gid=%s\n' "$M" "$u" "$g"; else printf '%s ids ' "$M"; LC_ALL=C id; fi`;

/**
 * The single remote command that probes every path in order; read its output with
 * parseFileProbe. For a gather that also runs other commands in the same round trip (give it to
 * probeAll as one named probe); otherwise fileFact and filesFact do both steps.
 */
export function fileProbeCommand(probes: FileProbe[]): ShellCommand {
  const calls = probes.map((p) => {
    const content = p.content === true ? 'all' : typeof p.content === 'number' ? String(p.content) : 'none';
    const names = p.names === 'if-missing' ? 'missing' : p.names === 'unless-link' ? 'link' : 'no';
    return sh`probe ${p.path} ${content} ${p.checksum ? 1 : 0} ${p.ancestor ? 1 : 0} ${p.children ? 1 : 0} ${names}`;
  });
  return joinCommands([sh`M=${MARKER} names=`, sh`${raw(PROBE)}`, ...calls, sh`${raw(WHO)}`], '\n');
}

const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

function parseStat(fields: string[]): Omit<FileStat, 'mtime' | 'atime'> {
  const { type, mode } = decodeRawMode(parseInt(fields[0]!, 16));
  return {
    type,
    mode,
    uid: Number(fields[1]),
    gid: Number(fields[2]),
    size: Number(fields[3]),
    nlink: Number(fields[4]),
    inode: Number(fields[5]),
    owner: fields[6]!,
    group: fields[7]!,
  };
}

const FIND_TYPES: Record<string, FileType> = { f: 'file', d: 'directory', l: 'link' };

/**
 * Parse fileProbeCommand's output into one FileFact per probed path (`count` of them). Throws a
 * UserError saying what the host lacks when the probe could not run.
 */
export function parseFileProbe(output: ExecResult, count: number): FileFact[] {
  const facts: FileFact[] = [];
  let umask: string | undefined;
  let ids: RegExpExecArray | null = null;
  let cur: FileFact | undefined;
  const fromContent = new Set<FileFact>();
  for (const line of output.stdout.split('\n')) {
    if (!line.startsWith(MARKER + ' ')) continue;
    const rest = line.slice(MARKER.length + 1);
    const sp = rest.indexOf(' ');
    const key = sp < 0 ? rest : rest.slice(0, sp);
    const value = sp < 0 ? '' : rest.slice(sp + 1);
    const fields = value.split(' ');
    if (key === 'path' || key === 'rawpath') {
      cur = { path: key === 'path' ? b64(value) : value, exists: false, parentExists: false } as FileFact;
      facts.push(cur);
    } else if (key === 'umask') {
      umask = value.trim();
    } else if (key === 'ids') {
      // `id`: uid=1000(pi) gid=1000(pi) groups=...; a uid without a name is printed bare
      ids = /^uid=(\d+)(?:\(([^)]*)\))? gid=(\d+)(?:\(([^)]*)\))?/.exec(value);
    } else if (cur) {
      if (key === 'stat') Object.assign(cur, parseStat(fields), { exists: true });
      else if (key === 'mtime') cur.mtime = value;
      else if (key === 'atime') cur.atime = value;
      else if (key === 'link') cur.linkTarget = b64(value).replace(/\n$/, '');
      else if (key === 'real') cur.realPath = b64(value);
      else if (key === 'linked') cur.linked = { ...parseStat(fields), mtime: '', atime: '' };
      else if (key === 'lmtime' && cur.linked) cur.linked.mtime = value;
      else if (key === 'latime' && cur.linked) cur.linked.atime = value;
      else if (key === 'sha1') cur.checksum = value;
      else if (key === 'sha1-of-content') fromContent.add(cur);
      else if (key === 'content') cur.content = value;
      else if (key === 'unreadable') cur.unreadable = true;
      else if (key === 'parent') cur.parentExists = true;
      else if (key === 'ancestor') cur.existingAncestor = b64(value);
      else if (key === 'rawancestor') cur.existingAncestor = value;
      else if (key === 'child') {
        (cur.children ??= []).push({
          type: FIND_TYPES[fields[0]!] ?? 'other',
          mode: '0' + fields[1]!.padStart(3, '0'),
          uid: Number(fields[2]),
          gid: Number(fields[3]),
          owner: fields[4]!,
          group: fields[5]!,
        });
      }
    }
  }
  const identity: HostIdentity | undefined =
    ids && umask !== undefined
      ? { uid: Number(ids[1]), gid: Number(ids[3]), user: ids[2] ?? ids[1]!, group: ids[4] ?? ids[3]!, umask }
      : undefined;
  if (facts.length !== count || !identity) {
    throw new UserError(
      'E_MODULE',
      `could not inspect ${count === 1 ? 'the path' : 'the paths'} on the host: ${(output.stderr || output.stdout).trim() || `rc=${output.rc}`}`,
      {
        hint: 'file modules need a POSIX shell with GNU coreutils (stat, base64, sha1sum, mktemp) on the host',
      },
    );
  }
  for (const f of facts) {
    f.identity = identity;
    if (fromContent.has(f) && f.content !== undefined)
      f.checksum = createHash('sha1').update(Buffer.from(f.content, 'base64')).digest('hex');
  }
  return facts;
}

/** Probe one path: exists, type, mode, ownership, size, link target, content, parent. */
export const fileFact = defineFact<FileFact, FileProbe>({
  name: 'file',
  command: (probe) => fileProbeCommand([probe]),
  process: (output) => parseFileProbe(output, 1)[0]!,
});

/** Probe several paths in the same single command. */
export const filesFact = defineFact<FileFact[], FileProbe[]>({
  name: 'files',
  command: (probes) => fileProbeCommand(probes),
  process: (output, probes) => parseFileProbe(output, probes.length),
});

/** The attributes that apply when following a symlink: the target's, or the path's own. */
export function followed(fact: FileFact): { exists: boolean; stat?: FileStat; path: string } {
  if (fact.type === 'link') return { exists: fact.linked !== undefined, stat: fact.linked, path: fact.realPath ?? fact.path };
  return { exists: fact.exists, stat: fact.exists ? (fact as FileStat) : undefined, path: fact.path };
}

/** Ansible's file attribute result fields (path state, mode, owner, ...) for a stat. */
export function attributeResult(
  stat: Pick<FileStat, 'type' | 'mode' | 'owner' | 'group' | 'uid' | 'gid' | 'size'> | undefined,
): Record<string, unknown> {
  if (!stat) return { state: 'absent' };
  const state = stat.type === 'link' ? 'link' : stat.type === 'directory' ? 'directory' : 'file';
  return { state, mode: stat.mode, owner: stat.owner, group: stat.group, uid: stat.uid, gid: stat.gid, size: stat.size };
}
