// find: the files below directories that match names (globs or Python regexes), type, age, size
// and content, each with Ansible's stat-like dictionary. One remote command (GNU find) lists
// every entry with its lstat; the controller walks them in the order Python's os.walk would and
// filters as Ansible's find module does. A second command runs only for get_checksum or contains,
// on the entries that passed the other filters. Read-only: check mode returns the same result.
import { posix } from 'node:path';
import {
  assignPath,
  defineModule,
  noop,
  planFailure,
  raw,
  sh,
  UserError,
  type ModuleContext,
  type Plan,
  type ShellCommand,
} from '../engine/index.js';

/** find's arguments, complete after validation. */
export interface FindArgs {
  paths: string[];
  patterns: string[];
  excludes?: string[];
  contains?: string;
  read_whole_file: boolean;
  file_type: 'any' | 'directory' | 'file' | 'link';
  age?: string;
  age_stamp: 'atime' | 'ctime' | 'mtime';
  size?: string;
  recurse: boolean;
  hidden: boolean;
  follow: boolean;
  get_checksum: boolean;
  use_regex: boolean;
  depth?: number;
}

/** One entry below a searched directory, as `find -printf` described it (lstat, but for `isDir`). */
export interface FindEntry {
  /** Path relative to the searched directory: 'a/b.txt'. */
  rel: string;
  /** find's %y: f d l p s c b (the entry itself). */
  type: string;
  /** The entry is a directory, following a symlink (os.walk's is_dir()): it is walked into. */
  isDir: boolean;
  /** Permission bits, octal, as find's %m prints them: '644', '4755'. */
  mode: string;
  size: number;
  inode: number;
  dev: number;
  nlink: number;
  uid: number;
  gid: number;
  owner: string;
  group: string;
  atime: number;
  mtime: number;
  ctime: number;
}

/** One searched path: its entries, or why it was skipped. */
export interface FindRoot {
  /** The path as given, with a leading ~ expanded. */
  path: string;
  entries: FindEntry[];
  /** Not a directory, or find reported an error below it. */
  skipped?: string;
}

/** What gather found. */
export interface FindState {
  /** The host's clock when find ran (Python's time.time()). */
  now: number;
  roots: FindRoot[];
  /**
   * sha1 of the candidate regular files (get_checksum), by full path; set (maybe empty) when the
   * second command ran, with `containing` and `unreadable`.
   */
  checksums?: Record<string, string>;
  /** Full paths of the candidate files whose content matches `contains`. */
  containing?: string[];
  /** Full paths of the candidate files the user cannot read. */
  unreadable?: string[];
}

const MARKER = '__tsplay_find__';
// %y %Y %m %s %i %D %n %U %G %u %g %A@ %T@ %C@ then the relative path, each entry ended by a NUL
const ENTRY_FORMAT = `${MARKER} e %y %Y %m %s %i %D %n %U %G %u %g %A@ %T@ %C@ %P\\0`;
// With follow (find -L, which reports what links point to): each entry's path as find names it,
// and for the symlinks their own lstat (what Ansible reports), from stat, found by that path.
const FULL_PATH_FORMAT = `${MARKER} p %p\\0`;
const LINK_FORMAT = `${MARKER} l %f %s %i %d %h %u %g %U %G %.9X %.9Y %.9Z %n\\0`;

/**
 * The listing command: the host's time, then for each path either "not a directory" or every
 * entry below it (to the depth Ansible examines: one level without recurse, depth + 1 with it,
 * since Ansible looks at the entries one level past the depth before it stops), NUL-separated.
 * A path that is a symlink to a directory is searched (-H), as os.walk searches it.
 */
export function findCommand(args: FindArgs): ShellCommand {
  const max = !args.recurse ? ['-maxdepth', '1'] : args.depth ? ['-maxdepth', String(args.depth + 1)] : [];
  const each = args.paths.map(
    (p) => sh`${assignPath('p', p)}; printf '%s root %s\\0' "$M" "$(printf %s "$p" | base64 -w0)"
if [ -d "$p" ]; then LC_ALL=C find ${args.follow ? sh`-L "$p" -mindepth 1 ${max} -printf ${ENTRY_FORMAT} -printf ${FULL_PATH_FORMAT} \\( -xtype l -exec stat --printf ${LINK_FORMAT} -- {} + \\)` : sh`-H "$p" -mindepth 1 ${max} -printf ${ENTRY_FORMAT}`}; printf '%s rc %s\\0' "$M" $?; else printf '%s notdir\\0' "$M"; fi`,
  );
  const parts = [sh`M=${MARKER}; printf '%s now %s\\0' "$M" "$(date +%s.%N)"`, ...each];
  return sh`${raw(parts.map((c) => c.text).join('\n'))}`;
}

/** A GNU time with a fraction ('1700000000.1234567890') as Python's float of st_mtime. */
function floatTime(text: string): number {
  const [sec = '0', frac = ''] = text.split('.');
  // the same arithmetic as Python's os.stat, so the float prints the same digits
  return Number(sec) + Number(frac.padEnd(9, '0').slice(0, 9)) * 1e-9;
}

const ERRNO: Record<string, number> = {
  'No such file or directory': 2,
  'Permission denied': 13,
  'Not a directory': 20,
  'Too many levels of symbolic links': 40,
};

// find's first complaint below a root ("find: '/srv/x': Permission denied") as Python's OSError
// prints it, which is what Ansible reports: "[Errno 13] Permission denied: '/srv/x'".
function walkError(stderr: string, root: string): string | undefined {
  for (const line of stderr.split('\n')) {
    const m = /^find: '(.*)': ([^:]+)$/.exec(line);
    if (!m || !(m[1] === root || m[1]!.startsWith(root.replace(/\/*$/, '/')))) continue;
    const errno = ERRNO[m[2]!];
    return errno === undefined ? `${m[2]}: '${m[1]}'` : `[Errno ${errno}] ${m[2]}: '${m[1]}'`;
  }
  return undefined;
}

/** Parse what findCommand printed; stderr holds find's complaints (unreadable directories). */
export function parseFindOutput(stdout: string, stderr: string): Pick<FindState, 'now' | 'roots'> {
  let now = NaN;
  const roots: FindRoot[] = [];
  const byFullPath = new Map<string, FindEntry>();
  for (const record of stdout.split('\0')) {
    const at = record.indexOf(MARKER + ' ');
    if (at < 0) continue;
    const text = record.slice(at + MARKER.length + 1);
    const root = roots[roots.length - 1];
    if (text.startsWith('now ')) now = floatTime(text.slice(4).trim());
    else if (text.startsWith('root ')) roots.push({ path: Buffer.from(text.slice(5), 'base64').toString('utf8'), entries: [] });
    else if (text === 'notdir' && root) root.skipped = `'${root.path}' is not a directory`;
    else if (text.startsWith('rc ') && root && text.slice(3) !== '0') {
      root.skipped = walkError(stderr, root.path) ?? (stderr.trim() || `find failed (rc=${text.slice(3)})`);
    } else if (text.startsWith('p ') && root) {
      const last = root.entries[root.entries.length - 1];
      if (last) byFullPath.set(text.slice(2), last);
    } else if (text.startsWith('l ') && root) {
      const f = text.slice(2).split(' ');
      const entry = byFullPath.get(f.slice(12).join(' '));
      const [rawMode = '0', size, inode, dev, nlink, uid, gid, owner, group, atime = '', mtime = '', ctime = ''] = f;
      if (entry) {
        Object.assign(entry, {
          type: 'l',
          mode: (parseInt(rawMode, 16) & 0o7777).toString(8),
          size: Number(size),
          inode: Number(inode),
          dev: Number(dev),
          nlink: Number(nlink),
          uid: Number(uid),
          gid: Number(gid),
          owner: owner === 'UNKNOWN' ? '' : owner,
          group: group === 'UNKNOWN' ? '' : group,
          atime: floatTime(atime),
          mtime: floatTime(mtime),
          ctime: floatTime(ctime),
        });
      }
    } else if (text.startsWith('e ') && root) {
      const f = text.slice(2).split(' ');
      const rel = f.slice(14).join(' ');
      const [
        type = '',
        followedType,
        mode = '',
        size,
        inode,
        dev,
        nlink,
        uid,
        gid,
        owner = '',
        group = '',
        atime = '',
        mtime = '',
        ctime = '',
      ] = f;
      root.entries.push({
        rel,
        type,
        isDir: followedType === 'd',
        mode,
        size: Number(size),
        inode: Number(inode),
        dev: Number(dev),
        nlink: Number(nlink),
        uid: Number(uid),
        gid: Number(gid),
        // find prints the number when the id has no name; Ansible's find then says ''
        owner: owner === uid ? '' : owner,
        group: group === gid ? '' : group,
        atime: floatTime(atime),
        mtime: floatTime(mtime),
        ctime: floatTime(ctime),
      });
    }
  }
  if (Number.isNaN(now) || roots.length === 0) {
    throw new UserError('E_MODULE', `find could not list the paths on the host: ${(stderr || stdout).trim() || 'no output'}`, {
      hint: 'find needs a POSIX shell with GNU findutils and coreutils (find, date, base64) on the host',
    });
  }
  return { now, roots };
}

/** Python's fnmatch.fnmatch (case-sensitive, as on POSIX): a glob over the whole name. */
export function fnmatch(name: string, pattern: string): boolean {
  let src = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') src += '.*';
    else if (c === '?') src += '.';
    else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) src += '\\[';
      else {
        let body = pattern.slice(i + 1, j).replaceAll('\\', '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        else if (body.startsWith('^')) body = '\\' + body;
        src += `[${body}]`;
        i = j;
      }
    } else src += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^(?:${src})$`, 's').test(name);
}

/** A Python `re` pattern as a JavaScript RegExp: named groups, \A \Z, inline flags, Python's `$`. */
export function pythonRegExp(pattern: string, flags = ''): RegExp {
  let src = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    for (const f of inline[1]!) if ('ims'.includes(f) && !flags.includes(f)) flags += f;
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1] ?? '';
      i++;
      if (!inClass && n === 'A') out += '^';
      else if (!inClass && n === 'Z') out += '$(?![\\s\\S])';
      else out += c + n;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
      if (src[i + 1] === '^') out += src[++i];
      if (src[i + 1] === ']') out += '\\' + src[++i];
    } else if (src.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else if (src.startsWith('(?P=', i)) {
      const end = src.indexOf(')', i);
      out += `\\k<${src.slice(i + 4, end)}>`;
      i = end;
    } else if (c === '$' && !flags.includes('m')) {
      out += '(?=\\n?$(?![\\s\\S]))'; // Python's $ also matches before a final newline
    } else out += c;
  }
  // no `u` flag: it refuses escapes Python takes (`\-`, `\_`)
  return new RegExp(out, flags);
}

// re.match: the pattern anchored at the start of the text, not at its end.
function reMatch(re: RegExp, text: string): boolean {
  const sticky = new RegExp(re.source, re.flags.includes('y') ? re.flags : re.flags + 'y');
  sticky.lastIndex = 0;
  return sticky.test(text);
}

/** Ansible's pfilter: the name matches a pattern and no exclude. */
function nameMatches(name: string, patterns: (string | RegExp)[], excludes: (string | RegExp)[]): boolean {
  const test = (p: string | RegExp) => (typeof p === 'string' ? fnmatch(name, p) : reMatch(p, name));
  return patterns.some(test) && !excludes.some(test);
}

/** Seconds or bytes from Ansible's "2d" / "-1w" / "10m" notation, or undefined when it does not parse. */
export function parseAmount(text: string, units: Record<string, number>): number | undefined {
  const m = new RegExp(`^(-?\\d+)([${Object.keys(units).join('')}])?$`).exec(text.toLowerCase());
  return m ? Number(m[1]) * (m[2] ? units[m[2]]! : 1) : undefined;
}

const AGE_UNITS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const SIZE_UNITS = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** The entries of a root in os.walk's order: each directory's non-directories, then its directories, top-down. */
export function walkOrder(entries: FindEntry[], follow: boolean): FindEntry[] {
  const byParent = new Map<string, FindEntry[]>();
  for (const e of entries) {
    const slash = e.rel.lastIndexOf('/');
    const parent = slash < 0 ? '' : e.rel.slice(0, slash);
    const list = byParent.get(parent);
    if (list) list.push(e);
    else byParent.set(parent, [e]);
  }
  const out: FindEntry[] = [];
  const walk = (dir: string) => {
    const list = byParent.get(dir) ?? [];
    const dirs = list.filter((e) => e.isDir);
    out.push(...list.filter((e) => !e.isDir), ...dirs);
    for (const d of dirs) if (follow || d.type !== 'l') walk(d.rel);
  };
  walk('');
  return out;
}

/** Ansible's dictionary of one found entry (its statinfo). */
function entryResult(path: string, e: FindEntry): Record<string, unknown> {
  const mode = parseInt(e.mode, 8);
  const bit = (b: number) => (mode & b) !== 0;
  return {
    path,
    mode: e.mode.padStart(4, '0'),
    isdir: e.type === 'd',
    ischr: e.type === 'c',
    isblk: e.type === 'b',
    isreg: e.type === 'f',
    isfifo: e.type === 'p',
    islnk: e.type === 'l',
    issock: e.type === 's',
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    inode: e.inode,
    dev: e.dev,
    nlink: e.nlink,
    atime: e.atime,
    mtime: e.mtime,
    ctime: e.ctime,
    gr_name: e.group,
    pw_name: e.owner,
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
  };
}

// Python's os.path.normpath(os.path.join(root, name)) for the paths Ansible returns.
function fullPath(root: string, rel: string): string {
  const joined = posix.normalize(`${root}/${rel}`);
  return joined.length > 1 ? joined.replace(/\/+$/, '') : joined;
}

interface Selection {
  files: { path: string; entry: FindEntry }[];
  /** The regular files whose checksum or content Ansible would read (the second command's). */
  probe: string[];
  examined: number;
  skipped: Record<string, string>;
}

type Compiled = { patterns: (string | RegExp)[]; excludes: (string | RegExp)[]; age?: number; size?: number };

/** What the second command read of the probed files. */
interface Details {
  checksums: Record<string, string>;
  containing: ReadonlySet<string>;
  unreadable: ReadonlySet<string>;
}

// The entries Ansible's find selects, in its order. Without `details` (before the second command),
// contains and get_checksum are not applied and `probe` lists what they need; with them, a
// checksum of an unreadable file ends the search of its path, as the exception does in Ansible
// (what was found before it is kept).
function select(state: Pick<FindState, 'now' | 'roots'>, args: FindArgs, c: Compiled, details?: Details): Selection {
  const files: Selection['files'] = [];
  const probe: string[] = [];
  const skipped: Record<string, string> = {};
  let examined = 0;
  const stamp = (e: FindEntry) => e[args.age_stamp];
  const ageOk = (e: FindEntry) =>
    c.age === undefined || (c.age >= 0 ? state.now - stamp(e) >= Math.abs(c.age) : state.now - stamp(e) <= Math.abs(c.age));
  const sizeOk = (e: FindEntry) => c.size === undefined || (c.size >= 0 ? e.size >= Math.abs(c.size) : e.size <= Math.abs(c.size));
  const depthOf = (rel: string) => rel.split('/').length;
  for (const root of state.roots) {
    if (root.skipped) skipped[root.path] = root.skipped;
    const entries = walkOrder(root.entries, args.follow).filter(
      // without recurse, only the first level; Ansible looks at one level past the depth, then
      // stops descending
      (e) => (args.recurse || depthOf(e.rel) === 1) && !(args.depth && depthOf(e.rel) > args.depth + 1),
    );
    // Ansible counts a directory's entries before it looks at them
    const parentOf = (e: FindEntry) => e.rel.slice(0, Math.max(0, e.rel.lastIndexOf('/')));
    const perDirectory = new Map<string, number>();
    for (const e of entries) perDirectory.set(parentOf(e), (perDirectory.get(parentOf(e)) ?? 0) + 1);
    for (const e of entries) {
      examined += perDirectory.get(parentOf(e)) ?? 0;
      perDirectory.delete(parentOf(e));
      if (args.depth && depthOf(e.rel) > args.depth) continue;
      const name = e.rel.slice(e.rel.lastIndexOf('/') + 1);
      if (name.startsWith('.') && !args.hidden) continue;
      if (!nameMatches(name, c.patterns, c.excludes) || !ageOk(e)) continue;
      const path = fullPath(root.path, e.rel);
      const regular = e.type === 'f';
      let wanted: boolean;
      let summed = false;
      if (args.file_type === 'any') {
        summed = regular && args.get_checksum; // before the size test, as Ansible does
        wanted = !regular || sizeOk(e);
      } else if (args.file_type === 'file') {
        wanted = regular && sizeOk(e) && (args.contains === undefined || !details || details.containing.has(path));
        summed = wanted && args.get_checksum;
        if (regular && sizeOk(e) && args.contains !== undefined && !details) probe.push(path);
      } else {
        wanted = e.type === (args.file_type === 'directory' ? 'd' : 'l');
      }
      if (summed && !details && probe[probe.length - 1] !== path) probe.push(path);
      if (summed && details?.unreadable.has(path)) {
        skipped[root.path] = `[Errno 13] Permission denied: b'${path}'`;
        break;
      }
      if (wanted) files.push({ path, entry: e });
    }
  }
  return { files, probe, examined, skipped };
}

// The arguments that can be wrong (age, size, regexes), checked and compiled.
function compile(args: FindArgs): Compiled | { msg: string; result?: Record<string, unknown> } {
  const c: Compiled = { patterns: [], excludes: [] };
  if (args.age !== undefined) {
    c.age = parseAmount(args.age, AGE_UNITS);
    if (c.age === undefined) return { msg: 'failed to process age', result: { age: args.age } };
  }
  if (args.size !== undefined) {
    c.size = parseAmount(args.size, SIZE_UNITS);
    if (c.size === undefined) return { msg: 'failed to process size', result: { size: args.size } };
  }
  const patterns = args.patterns.length ? args.patterns : [args.use_regex ? '.*' : '*'];
  try {
    c.patterns = args.use_regex ? patterns.map((p) => pythonRegExp(p)) : patterns;
    c.excludes = args.use_regex ? (args.excludes ?? []).map((p) => pythonRegExp(p)) : (args.excludes ?? []);
    if (args.contains !== undefined) pythonRegExp(args.contains);
  } catch (e) {
    return { msg: `invalid regular expression: ${(e as Error).message}` };
  }
  return c;
}

/**
 * The second command, for the files that need it only: their sha1 (get_checksum), and for
 * `contains` their content, base64, which the controller searches with Python's regex semantics.
 */
export function detailsCommand(paths: string[], checksum: boolean, content: boolean): ShellCommand {
  return sh`M=${MARKER} S=${checksum ? 1 : 0} C=${content ? 1 : 0}
for p in ${paths}; do
  printf '%s file\\n' "$M"
  if [ ! -r "$p" ]; then printf '%s unreadable\\n' "$M"; continue; fi
  if [ "$S" = 1 ] && s=$(sha1sum < "$p"); then printf '%s sha1 %.40s\\n' "$M" "$s"; fi
  if [ "$C" = 1 ]; then printf '%s content ' "$M"; base64 -w0 < "$p"; echo; fi
done`;
}

// Python's open(path) then: each line with re.match, or the whole text with re.search.
function contentMatches(base64: string, re: RegExp, wholeFile: boolean): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(base64, 'base64'));
  } catch {
    return false; // Python's decode error: the file does not match
  }
  text = text.replace(/\r\n?/g, '\n'); // universal newlines
  if (wholeFile) return new RegExp(re.source, re.flags.replace('y', '')).test(text);
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  return lines.some((line) => reMatch(re, line));
}

async function gatherFind(ctx: ModuleContext, args: FindArgs): Promise<FindState> {
  const compiled = compile(args);
  if ('msg' in compiled) return { now: 0, roots: [] }; // the plan fails, saying why
  const r = await ctx.run(findCommand(args));
  const state: FindState = parseFindOutput(r.stdout, r.stderr);
  const content = args.contains !== undefined && args.file_type === 'file';
  const { probe } = select(state, args, compiled);
  if (probe.length === 0) return state;
  const d = await ctx.run(detailsCommand(probe, args.get_checksum, content));
  const re = content ? pythonRegExp(args.contains!) : undefined;
  const checksums: Record<string, string> = {};
  const containing: string[] = [];
  const unreadable: string[] = [];
  let i = -1;
  for (const line of d.stdout.split('\n')) {
    if (!line.startsWith(MARKER + ' ')) continue;
    const [key = '', value = ''] = line.slice(MARKER.length + 1).split(' ');
    if (key === 'file') i++;
    const path = probe[i];
    if (path === undefined) continue;
    if (key === 'sha1') checksums[path] = value;
    else if (key === 'unreadable') unreadable.push(path);
    else if (key === 'content' && re && contentMatches(value, re, args.read_whole_file)) containing.push(path);
  }
  return { ...state, checksums, containing, unreadable };
}

/** The plan of find: pure, from the listing and the arguments; always a no-op with the result. */
export function planFind(state: FindState, args: FindArgs): Plan {
  const compiled = compile(args);
  if ('msg' in compiled) return planFailure(compiled.msg, compiled.result);
  const details = state.checksums
    ? { checksums: state.checksums, containing: new Set(state.containing), unreadable: new Set(state.unreadable) }
    : undefined;
  const { files, examined, skipped } = select(state, args, compiled, details);
  const results: Record<string, unknown>[] = [];
  for (const { path, entry } of files) {
    const r = entryResult(path, entry);
    const sum = state.checksums?.[path];
    if (args.get_checksum && entry.type === 'f' && sum !== undefined) r.checksum = sum;
    results.push(r);
  }
  const warned = Object.keys(skipped).length > 0;
  return noop(`${results.length} of ${examined} entries matched`, {
    files: results,
    matched: results.length,
    examined,
    msg: warned ? 'Not all paths examined, check warnings for details' : 'All paths examined',
    skipped_paths: skipped,
    ...(warned ? { warnings: Object.entries(skipped).map(([p, why]) => `Skipped '${p}' path due to this access issue: ${why}\n`) } : {}),
  });
}

export default defineModule<FindArgs, FindState>({
  name: 'find',
  aliases: ['ansible.builtin.find'],
  description:
    "Find files below directories by name (shell globs, or Python regexes with use_regex), type, age, size and content; `files` lists each match with Ansible's stat-like keys, with `matched` and `examined`. Never changes anything, and runs in check mode too.",
  schema: {
    type: 'object',
    properties: {
      paths: {
        type: 'array',
        items: { type: 'string' },
        aliases: ['name', 'path'],
        description: 'The directories to search (a list, or comma-separated).',
      },
      patterns: {
        type: 'array',
        items: { type: 'string' },
        default: [],
        aliases: ['pattern'],
        description:
          "Basename patterns, one of which must match ('*' by default; '.*' with use_regex). A regex must match at the start of the name.",
      },
      excludes: {
        type: 'array',
        items: { type: 'string' },
        aliases: ['exclude'],
        description: 'Basename patterns that take an entry out again.',
      },
      contains: {
        type: 'string',
        description:
          'A Python regex that a line of the file must match from its start (or that must occur anywhere, with read_whole_file); file_type file only.',
      },
      read_whole_file: {
        type: 'boolean',
        default: false,
        description: 'Search `contains` anywhere in the whole file instead of line by line.',
      },
      file_type: {
        type: 'string',
        enum: ['any', 'directory', 'file', 'link'],
        default: 'file',
        description: 'The type of entry to select.',
      },
      age: {
        type: 'string',
        description: "Select entries at least this old ('2d', '3600', units s m h d w), or at most this old when negative.",
      },
      age_stamp: { type: 'string', enum: ['atime', 'ctime', 'mtime'], default: 'mtime', description: 'The time age is measured from.' },
      size: { type: 'string', description: "Select files at least this big ('10m', units b k m g t), or at most this big when negative." },
      recurse: { type: 'boolean', default: false, description: 'Descend into subdirectories.' },
      hidden: { type: 'boolean', default: false, description: 'Also select names that start with a dot.' },
      follow: { type: 'boolean', default: false, description: 'Descend into symlinked directories.' },
      get_checksum: { type: 'boolean', default: false, description: 'Add the sha1 checksum of each regular file.' },
      use_regex: { type: 'boolean', default: false, description: 'patterns and excludes are Python regexes, not shell globs.' },
      depth: { type: 'integer', description: 'With recurse: how many levels below each path to select (1: the entries directly in it).' },
    },
    required: ['paths'],
    additionalProperties: false,
  },
  examples: `- name: Logs older than two weeks
  find:
    paths: /var/log
    patterns: '*.gz,*.old'
    age: 2w
    recurse: true
  register: old_logs

- name: Remove them
  file:
    path: "{{ item.path }}"
    state: absent
  loop: "{{ old_logs.files }}"`,
  gather: gatherFind,
  plan: planFind,
});
