// Helpers for modules that manage files, built-in or custom: Ansible's mode syntax, the atomic
// write (temp file in the same directory, attributes, validate, backup, rename) as one shell
// command, attribute commands, checksums and content diffs.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { ApplyOutcome, Change, ExecResult, FileDiff, ModuleContext } from './module.js';
import { INPUT, joinCommands, raw, sh, shellSplit, type ShellCommand } from './sh.js';

/** Marker that prefixes the lines the helpers' commands print for the module to parse. */
export const MARKER = '__tsplay__';

/** An invalid `mode:` value; modules turn it into a plan failure. */
export class ModeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModeError';
  }
}

/** A mode as a playbook gives it: '0644', '644', 'u=rw,g=r', or a YAML integer (420 for 0644). */
export type ModeSpec = string | number;

/** What a symbolic mode is resolved against. */
export interface ModeContext {
  /** The object's current permission bits (for a new object: its default mode). */
  current: number;
  /** Directories get `X` as `x`. */
  isDirectory: boolean;
  /** The host's umask, applied to symbolic clauses without a user (`+x`), as chmod does. */
  umask?: number;
}

/** '0644' for 0o644, '04755' for 0o4755, as Ansible prints modes. */
export function formatMode(bits: number): string {
  return '0' + (bits & 0o7777).toString(8).padStart(3, '0');
}

/** The mode a new file (0666) or directory (0777) gets under `umask`. */
export function defaultMode(umask: number, isDirectory: boolean): number {
  return (isDirectory ? 0o777 : 0o666) & ~umask;
}

/** Parse a umask as printed by the `umask` builtin ('0022'). */
export function parseUmask(text: string): number {
  const n = parseInt(text.trim() || '022', 8);
  return Number.isNaN(n) ? 0o022 : n & 0o777;
}

/**
 * The permission bits that `spec` asks for, with Ansible's rules: a number is the value of the
 * bits (YAML 1.1 `0644` is already 420), a string of octal digits is octal, anything else is a
 * symbolic mode applied to `ctx.current`. Throws ModeError for an invalid mode.
 */
export function resolveMode(spec: ModeSpec, ctx: ModeContext): number {
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec < 0 || spec > 0o7777) {
      throw new ModeError(`mode must be in octal or symbolic form: ${spec} is not a valid mode`);
    }
    return spec;
  }
  const s = spec.trim();
  const octal = /^(?:0o)?([0-7]+)$/i.exec(s);
  if (octal) {
    const n = parseInt(octal[1]!, 8);
    if (n > 0o7777) throw new ModeError(`mode must be in octal or symbolic form: ${spec} is not a valid mode`);
    return n;
  }
  return applySymbolicMode(s, ctx);
}

const CLASS_SHIFT = { u: 6, g: 3, o: 0 } as const;
type UserClass = keyof typeof CLASS_SHIFT;
const SPECIAL = { u: 0o4000, g: 0o2000, o: 0o1000 } as const;

// chmod-style symbolic modes ("u=rw,g+X,o-rwx", "+x", "g=u") applied clause by clause.
function applySymbolicMode(spec: string, ctx: ModeContext): number {
  let mode = ctx.current & 0o7777;
  for (const clause of spec.split(',')) {
    const m = /^([ugoa]*)((?:[-+=][rwxXstugo]*)+)$/.exec(clause);
    if (!m) throw new ModeError(`bad symbolic permission for mode: ${spec}`);
    const useUmask = m[1] === '';
    const users: UserClass[] = m[1] === '' || m[1]!.includes('a') ? ['u', 'g', 'o'] : ([...new Set(m[1]!)] as UserClass[]);
    for (const op of m[2]!.matchAll(/([-+=])([rwxXstugo]*)/g)) {
      const operator = op[1]!;
      const perms = op[2]!;
      let next = mode;
      for (const user of users) {
        let bits = permBits(user, perms, mode, ctx.isDirectory);
        if (useUmask) bits &= ~(ctx.umask ?? 0);
        const classMask = (0o7 << CLASS_SHIFT[user]) | SPECIAL[user];
        if (operator === '+') next |= bits;
        else if (operator === '-') next &= ~bits;
        else next = (next & ~classMask) | bits;
      }
      mode = next;
    }
  }
  return mode;
}

function permBits(user: UserClass, perms: string, current: number, isDirectory: boolean): number {
  const shift = CLASS_SHIFT[user];
  let bits = 0;
  for (const p of perms) {
    if (p === 'r') bits |= 0o4 << shift;
    else if (p === 'w') bits |= 0o2 << shift;
    else if (p === 'x') bits |= 0o1 << shift;
    else if (p === 'X') bits |= isDirectory || (current & 0o111) !== 0 ? 0o1 << shift : 0;
    else if (p === 's') bits |= user === 'o' ? 0 : SPECIAL[user];
    else if (p === 't') bits |= user === 'o' ? SPECIAL.o : 0;
    else bits |= ((current >> CLASS_SHIFT[p as UserClass]) & 0o7) << shift;
  }
  return bits;
}

/** sha1 of content, hex: the `checksum` Ansible reports for files. */
export function sha1(content: string | Buffer): string {
  return createHash('sha1').update(content).digest('hex');
}

/** md5 of content, hex: Ansible's `md5sum` result field. */
export function md5(content: string | Buffer): string {
  return createHash('md5').update(content).digest('hex');
}

/** True when content is not UTF-8 text (contains NUL or an invalid sequence): no text diff. */
export function isBinary(content: Buffer): boolean {
  if (content.includes(0)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(content);
    return false;
  } catch {
    return true;
  }
}

/** A before/after diff of a file's content, or undefined when either side is binary or unknown. */
export function contentDiff(path: string, before: Buffer | undefined, after: Buffer): FileDiff | undefined {
  if (before === undefined || isBinary(before) || isBinary(after)) return undefined;
  return { before: before.toString('utf8'), after: after.toString('utf8'), beforeHeader: path, afterHeader: path };
}

/** Ansible's diff of a path's state (`{"path": ..., "state": ...}`), as sorted, indented JSON. */
export function stateDiff(before: Record<string, unknown>, after: Record<string, unknown>, header?: string): FileDiff {
  const text = (o: Record<string, unknown>) =>
    JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), null, 4) + '\n';
  return { before: text(before), after: text(after), ...(header ? { beforeHeader: header, afterHeader: header } : {}) };
}

/** Why a `validate:` command cannot be used, or undefined when it is fine. */
export function validateProblem(validate: string): string | undefined {
  if (!validate.includes('%s')) return `validate must contain %s: ${validate}`;
  try {
    shellSplit(validate);
  } catch (e) {
    return `validate: ${(e as Error).message}`;
  }
  return undefined;
}

// The validator as quoted words, with Ansible's `%s` replaced by the temp file ($t) and `%%` by %.
function validatorCommand(validate: string): ShellCommand {
  const words = shellSplit(validate).map((word) => {
    const pieces = word.split(/(%%|%s)/);
    return joinCommands(
      pieces.filter((p) => p !== '').map((p) => (p === '%s' ? sh`${raw('"$t"')}` : sh`${p === '%%' ? '%' : p}`)),
      '',
    );
  });
  return joinCommands(words, ' ');
}

/** Options of atomicWriteCommand. */
export interface AtomicWriteOptions {
  /** Octal mode for the new file ('0644'); default: 0666 minus the host's umask. */
  mode?: string;
  /** Owner (name or uid) to give the new file; default: the writing user. */
  owner?: string;
  /** Group (name or gid) to give the new file; default: the writing user's group. */
  group?: string;
  /** The old file's owner, passed on when the writer may: unlike `owner`, a refusal is no failure. */
  keepOwner?: string;
  /** The old file's group, passed on when the writer may (a group it is not a member of stays its own). */
  keepGroup?: string;
  /** Ansible's `validate:`: a command with `%s`, run on the temp file before it replaces the target. */
  validate?: string;
  /** Keep a copy of the old file as `path.<pid>.<YYYY-MM-DD@HH:MM:SS>~` (printed as `backup`). */
  backup?: boolean;
  /** Copy this file on the host instead of reading standard input (copy's `remote_src`). */
  source?: string;
  /**
   * What standard input carries (the command's `stdin`), when there is no `source`: the host
   * checks that the temp file holds exactly this (its SHA-256) before anything replaces `path`, so
   * that a transfer cut short never installs a prefix of the new content.
   */
  content?: Buffer | string;
  /**
   * What the plan read of the file (null: it did not exist). Under a lock on the directory (flock,
   * where the host has it) the write checks the file is still that before replacing it; if another
   * run changed it meanwhile, nothing is written and the output says `stale` (parseWriteOutput):
   * the edit is planned again instead of silently undoing the other run's.
   */
  expect?: Buffer | string | null;
  /** Create missing parent directories first (`mkdir -p`). */
  makeParents?: boolean;
  /** Print the new file's stat for parseWriteOutput (default true); false saves a program when the result needs none. */
  reportStat?: boolean;
  /** Print the temp file's path (parseWriteOutput's `source`): the file renamed into place, copy's `src`. */
  reportTemp?: boolean;
}

/**
 * One shell command that replaces `path` atomically: it writes standard input (or `source`) to a
 * temp file in the same directory, sets owner, group and mode, runs `validate`, keeps a backup,
 * renames the temp file over `path`, and prints the new file's stat (unless `reportStat: false`). On any failure the temp file
 * is removed and `path` is untouched. Read its output with parseWriteOutput.
 */
export function atomicWriteCommand(path: string, opts: AtomicWriteOptions = {}): ShellCommand {
  const dir = posix.dirname(path);
  const name = posix.join(dir, `.${posix.basename(path).slice(0, 100)}.tsplay-`);
  const steps: ShellCommand[] = [];
  if (opts.makeParents) steps.push(sh`mkdir -p -- ${dir} || exit $?`);
  steps.push(sh`${raw('fail() { s=$?; rm -f -- "$t"; exit "$s"; }')}`);
  // A lost connection kills the writer with SIGPIPE as soon as anything writes to its closed
  // output (or sshd's HUP, a timeout's TERM): the temp file goes with it.
  steps.push(sh`${raw(`trap 'rm -f -- "$t"; exit 129' HUP; trap 'rm -f -- "$t"; exit 141' PIPE; trap 'rm -f -- "$t"; exit 143' TERM`)}`);
  // standard input (INPUT: `cat`, or printed by the shell when a session holds it in a variable)
  const writer = opts.source !== undefined ? sh`cat -- ${opts.source}` : sh`${INPUT}`;
  if (opts.source === undefined && opts.content === undefined) {
    throw new Error(`atomicWriteCommand(${path}): give the content that standard input carries (content), or a source file on the host`);
  }
  const chmod = opts.mode !== undefined ? sh`chmod -- ${opts.mode} "$t"` : sh`chmod -- "$(printf %o $((0666 & ~0$(umask))))" "$t"`;
  // (mktemp makes the file 0600: chmod after chown, which clears setuid and setgid bits)
  const viaMktemp = sh`t=$(mktemp -- ${name}XXXXXX) || exit $?; c=1; ${writer} > "$t" || fail`;
  // Every program started on the host costs a fork and an exec, so the temp file is created by the
  // shell itself, as it writes it: exclusively (noclobber), named after this shell's pid, which no
  // other live process has, and with its final mode when a umask can give it (no x or special
  // bits). Only when that name is taken (a leftover of a killed write) does mktemp make it.
  const viaUmask = opts.mode === undefined ? '' : umaskFor(opts.mode);
  if (viaUmask === undefined) {
    steps.push(viaMktemp);
  } else {
    const umask = viaUmask ? sh`umask ${viaUmask}; ` : sh``;
    steps.push(sh`t=${name}$$ c=`);
    steps.push(sh`if [ -e "$t" ] || [ -L "$t" ]; then ${viaMktemp}; else (${umask}set -C; ${writer} > "$t") || fail; fi`);
  }
  if (opts.source === undefined) steps.push(receivedCheck(opts.content!));
  if (opts.keepOwner !== undefined || opts.keepGroup !== undefined)
    steps.push(sh`${ownershipCommand(opts.keepOwner, opts.keepGroup, '', raw('"$t"'))} 2>/dev/null || :`);
  if (opts.owner !== undefined || opts.group !== undefined)
    steps.push(sh`${ownershipCommand(opts.owner, opts.group, '', raw('"$t"'))} || fail`);
  steps.push(viaUmask === undefined ? sh`${chmod} || fail` : sh`[ -z "$c" ] || ${chmod} || fail`);
  if (opts.validate !== undefined) {
    steps.push(sh`${validatorCommand(opts.validate)} || { s=$?; rm -f -- "$t"; echo ${MARKER} validate-failed "$s"; exit "$s"; }`);
  }
  if (opts.expect !== undefined) steps.push(unchangedCheck(path, dir, opts.expect));
  if (opts.backup) {
    // Ansible's name, path.<pid>.<date>~; the pid may be a session shell's, the same for every
    // command on it, so a name already taken (a backup of the same second) takes the next number
    steps.push(
      sh`if [ -e ${path} ]; then d=$(date +%Y-%m-%d@%H:%M:%S)~ n=$$; while [ -e ${path}."$n.$d" ]; do n=$((n + 1)); done; b=${path}."$n.$d"; cp -p -- ${path} "$b" || fail; printf '%s backup %s\\n' ${MARKER} "$b"; fi`,
    );
  }
  if (opts.reportTemp) steps.push(sh`printf '%s src %s\\n' ${MARKER} "$t"`);
  steps.push(sh`mv -fT -- "$t" ${path} || fail`);
  if (opts.reportStat !== false) steps.push(statCommand(path, false));
  return joinCommands(steps, '\n');
}

// A connection cut in the middle of the input ends it early: the shell takes the end of its
// input for the end of the here-document, and `cat` for the end of the file. Whatever the way the
// input travelled, the temp file must then hold exactly the content (its SHA-256, so its length
// too) or be removed, before anything renames it into place.
function receivedCheck(content: Buffer | string): ShellCommand {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const want = `${createHash('sha256').update(bytes).digest('hex')}  -`;
  return sh`[ "$(sha256sum < "$t")" = ${want} ] || { n=$(wc -c < "$t"); rm -f -- "$t"; echo ${MARKER} fail "received $n of" ${String(bytes.length)} "bytes (the transfer was cut short); the file is unchanged"; exit 1; }`;
}

// Compare-and-rename: the lock (fd 9 on the directory, held until this shell ends) keeps two
// writers of the same directory from both passing the check and both renaming; the check finds a
// file that changed since the plan read it.
function unchangedCheck(path: string, dir: string, expect: Buffer | string | null): ShellCommand {
  const stale = sh`{ rm -f -- "$t"; echo ${MARKER} stale; exit 75; }`;
  const lock = sh`exec 9<${dir} && { ! command -v flock >/dev/null 2>&1 || flock -w 60 9; } || { rm -f -- "$t"; echo ${MARKER} fail "could not lock" ${dir}; exit 1; }`;
  if (expect === null)
    return sh`${lock}
{ [ ! -e ${path} ] && [ ! -L ${path} ]; } || ${stale}`;
  const bytes = typeof expect === 'string' ? Buffer.from(expect) : expect;
  const want = `${createHash('sha256').update(bytes).digest('hex')}  -`;
  return sh`${lock}
[ "$(sha256sum < ${path} 2>/dev/null)" = ${want} ] || ${stale}`;
}

/** The umask under which a new file (0666) gets exactly `mode`, or undefined when none can. */
function umaskFor(mode: string): string | undefined {
  if (!/^0?[0-7]{3}$/.test(mode)) return undefined; // symbolic, or setuid/setgid/sticky
  const bits = parseInt(mode, 8);
  // a file is created without x bits, and the writer must be able to write it once created
  if (bits & 0o111 || !(bits & 0o200)) return undefined;
  return '0' + (0o777 & ~bits).toString(8).padStart(3, '0');
}

/** `chown`/`chgrp` for owner and/or group, with extra flags (-h, -R). */
function ownershipCommand(owner: string | undefined, group: string | undefined, flags: string, target: unknown): ShellCommand {
  if (owner !== undefined) return sh`chown${raw(flags)} -- ${group !== undefined ? `${owner}:${group}` : owner} ${target}`;
  return sh`chgrp${raw(flags)} -- ${group!} ${target}`;
}

/** Attributes to set on an existing path. */
export interface AttributeChange {
  /** Octal mode ('0644') or a chmod symbolic mode. */
  mode?: string;
  owner?: string;
  group?: string;
  /** Apply to a symlink itself rather than what it points to (chown -h; mode is then skipped). */
  noDereference?: boolean;
  /** Also every file and directory below (chown -R, chmod -R). */
  recurse?: boolean;
}

/** chown/chgrp then chmod (chown clears setuid bits, so mode comes last), as one command, on one path or several. */
export function setAttributesCommand(path: string | readonly string[], change: AttributeChange): ShellCommand {
  const steps: ShellCommand[] = [];
  const r = change.recurse ? raw(' -R') : raw('');
  if (change.owner !== undefined || change.group !== undefined) {
    // Recursively, symlinks below are changed themselves (-h), never what they point to.
    const flags = (change.recurse ? ' -R' : '') + (change.noDereference || change.recurse ? ' -h' : '');
    steps.push(ownershipCommand(change.owner, change.group, flags, path));
  }
  if (change.mode !== undefined && !change.noDereference) steps.push(sh`chmod${r} -- ${change.mode} ${path}`);
  return joinCommands(steps, ' && ');
}

/** A command that prints `path`'s stat as a marker line, read back by parseWriteOutput. */
export function statCommand(path: string, follow: boolean): ShellCommand {
  return sh`stat${follow ? raw(' -L') : raw('')} --printf ${`${MARKER} stat %f %u %g %s %U %G\\n`} -- ${path}`;
}

/** A path's attributes as a command printed them. */
export interface StatLine {
  type: 'file' | 'directory' | 'link' | 'other';
  mode: string;
  uid: number;
  gid: number;
  size: number;
  owner: string;
  group: string;
}

/** The file type and permission bits of a raw st_mode. */
export function decodeRawMode(raw: number): { type: StatLine['type']; mode: string } {
  const fmt = raw & 0o170000;
  const type = fmt === 0o100000 ? 'file' : fmt === 0o040000 ? 'directory' : fmt === 0o120000 ? 'link' : 'other';
  return { type, mode: formatMode(raw & 0o7777) };
}

/** Parse `%f %u %g %s %U %G` (stat's raw hex mode, ids, size, names). */
export function parseStatFields(fields: string[]): StatLine {
  const { type, mode } = decodeRawMode(parseInt(fields[0]!, 16));
  return { type, mode, uid: Number(fields[1]), gid: Number(fields[2]), size: Number(fields[3]), owner: fields[4]!, group: fields[5]! };
}

/** What an atomic write (or any command with the helpers' markers) reported. */
export interface WriteOutput {
  /** The backup copy's path, when one was made. */
  backupFile?: string;
  /** The final stat of the written path. */
  stat?: StatLine;
  /** The validator's exit code, when validation failed. */
  validateFailed?: number;
  /** The message of a failed guard (see guardCommand). */
  failure?: string;
  /** The file changed since it was read (AtomicWriteOptions.expect): nothing was written. */
  stale?: boolean;
  /** The temp file that was renamed into place (AtomicWriteOptions.reportTemp). */
  source?: string;
  /** Standard output without the marker lines (the validator's output, say). */
  stdout: string;
}

/**
 * A check that runs at apply time: when `test` fails, the command stops with `message`, which
 * parseWriteOutput returns as `failure`. For conditions a plan cannot rule out (check mode
 * reports the change, as Ansible does, and the real run fails with Ansible's message).
 */
export function guardCommand(test: ShellCommand, message: string): ShellCommand {
  return sh`${test} || { printf '%s fail %s\n' ${MARKER} ${message}; exit 1; }`;
}

/** Read the marker lines out of a command's standard output. */
export function parseWriteOutput(stdout: string): WriteOutput {
  const out: WriteOutput = { stdout: '' };
  const rest: string[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(MARKER + ' ')) {
      rest.push(line);
      continue;
    }
    const [kind, ...fields] = line.slice(MARKER.length + 1).split(' ');
    if (kind === 'backup') out.backupFile = fields.join(' ');
    else if (kind === 'src') out.source = fields.join(' ');
    else if (kind === 'stat') out.stat = parseStatFields(fields);
    else if (kind === 'validate-failed') out.validateFailed = Number(fields[0]);
    else if (kind === 'fail') out.failure = fields.join(' ');
    else if (kind === 'stale') out.stale = true;
  }
  out.stdout = rest.join('\n');
  return out;
}

/**
 * Run every command of the planned changes as ONE remote command (each in a subshell, joined with
 * &&), so a change costs a single round trip; `andThen` runs last (a stat for the result, say).
 * At most one command may read standard input.
 */
export async function runChangesAsOne(ctx: ModuleContext, changes: Change[], andThen?: ShellCommand): Promise<ExecResult> {
  const commands = changes.flatMap((c) => c.commands);
  const withInput = commands.filter((c) => c.stdin !== undefined);
  if (withInput.length > 1) throw new Error('runChangesAsOne: more than one command reads standard input');
  const all = andThen ? [...commands.map((c) => c.cmd), andThen] : commands.map((c) => c.cmd);
  if (all.length === 0) return { rc: 0, stdout: '', stderr: '' };
  const cmd =
    all.length === 1
      ? all[0]!
      : joinCommands(
          all.map((c) => sh`(${c})`),
          ' && ',
        );
  return ctx.run(cmd, { stdin: withInput[0]?.stdin });
}

/**
 * The failure of changes run as one command (runChangesAsOne): their summaries, the exit code and
 * what the host said (stderr, else `stdout`: pass parseWriteOutput's, without tsplay's markers).
 */
export function changesFailed(changes: Change[], r: ExecResult, stdout = r.stdout): ApplyOutcome {
  const marked = parseWriteOutput(r.stdout);
  if (marked.stale)
    return { stale: true, failed: `${changes.map((c) => c.summary).join('; ')}: the file changed on the host since it was read` };
  if (marked.failure)
    return { failed: `${changes.map((c) => c.summary).join('; ')}: ${marked.failure}`, result: { rc: r.rc, stderr: r.stderr } };
  return {
    failed: `${changes.map((c) => c.summary).join('; ')}: failed (rc=${r.rc}): ${(r.stderr || stdout).trim()}`,
    result: { rc: r.rc, stderr: r.stderr },
  };
}

/** An owner or group as given (name or numeric id) equals the current one. */
export function sameIdentity(wanted: string, name: string | undefined, id: number | undefined): boolean {
  return /^\d+$/.test(wanted) ? Number(wanted) === id : wanted === name;
}

/** The attributes a module's arguments ask for (`mode`, `owner`, `group`). */
export interface WantedAttributes {
  mode?: ModeSpec;
  owner?: string;
  group?: string;
}

/** An existing object's attributes, as a probe found them. */
export interface CurrentAttributes {
  mode: string;
  owner: string;
  group: string;
  uid: number;
  gid: number;
}

/** How the wanted attributes differ from the current ones. */
export interface AttributePlan {
  /** The mode the object will have. */
  mode: string;
  /** Only the attributes that change, ready for setAttributesCommand. */
  change: { mode?: string; owner?: string; group?: string };
  /** Ansible's before/after of the changed attributes ({mode: '0644'} -> {mode: '0600'}). */
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  /** True when anything changes. */
  changed: boolean;
}

/**
 * Compare wanted and current attributes (a symbolic mode applies to the current mode).
 * Throws ModeError for an invalid mode.
 */
export function planAttributes(
  current: CurrentAttributes,
  wanted: WantedAttributes,
  opts: { isDirectory: boolean; umask: number },
): AttributePlan {
  const bits = parseInt(current.mode, 8);
  const mode =
    wanted.mode === undefined ? bits : resolveMode(wanted.mode, { current: bits, isDirectory: opts.isDirectory, umask: opts.umask });
  const plan: AttributePlan = { mode: formatMode(mode), change: {}, before: {}, after: {}, changed: false };
  if (wanted.owner !== undefined && !sameIdentity(wanted.owner, current.owner, current.uid)) {
    plan.change.owner = wanted.owner;
    plan.before.owner = current.owner;
    plan.after.owner = wanted.owner;
  }
  if (wanted.group !== undefined && !sameIdentity(wanted.group, current.group, current.gid)) {
    plan.change.group = wanted.group;
    plan.before.group = current.group;
    plan.after.group = wanted.group;
  }
  if (mode !== (bits & 0o7777)) {
    plan.change.mode = formatMode(mode);
    plan.before.mode = formatMode(bits);
    plan.after.mode = formatMode(mode);
  }
  plan.changed = Object.keys(plan.change).length > 0;
  return plan;
}

/** A one-line description of an attribute change: "mode 0644 -> 0600, owner root -> www-data". */
export function describeAttributes(plan: AttributePlan): string {
  return (['owner', 'group', 'mode'] as const)
    .filter((k) => plan.change[k] !== undefined)
    .map((k) => `${k} ${String(plan.before[k])} -> ${String(plan.after[k])}`)
    .join(', ');
}

/**
 * The mode, owner and group an atomic rewrite must give the new file: the wanted ones, else the
 * old file's (ownership is passed on when it differs from the writer's, or always for root), else
 * the defaults for a new file. Throws ModeError for an invalid mode.
 */
export function writeAttributes(
  existing: CurrentAttributes | undefined,
  wanted: WantedAttributes,
  writer: { uid: number; gid: number; umask: number },
): { mode: string; owner?: string; group?: string; keepOwner?: string; keepGroup?: string } {
  if (!existing) {
    const base = defaultMode(writer.umask, false);
    const mode = wanted.mode === undefined ? base : resolveMode(wanted.mode, { current: base, isDirectory: false, umask: writer.umask });
    return { mode: formatMode(mode), owner: wanted.owner, group: wanted.group };
  }
  const { mode } = planAttributes(existing, wanted, { isDirectory: false, umask: writer.umask });
  const root = writer.uid === 0;
  // what was not asked for is passed on from the old file where the writer may (as Ansible's
  // atomic_move tries, and goes on when it may not: a group the writer is not a member of)
  return {
    mode,
    owner: wanted.owner,
    group: wanted.group,
    keepOwner: wanted.owner === undefined && (root || existing.uid !== writer.uid) ? String(existing.uid) : undefined,
    keepGroup: wanted.group === undefined && (root || existing.gid !== writer.gid) ? String(existing.gid) : undefined,
  };
}
