// file: the state of a path (file, directory, symlink, hard link, touched, absent) and its mode,
// owner and group, with Ansible's rules for each state. One probe gathers everything; the changes
// run as one command.
import { posix } from 'node:path';
import {
  attributeResult,
  defaultMode,
  defineModule,
  describeAttributes,
  filesFact,
  formatMode,
  joinCommands,
  ModeError,
  noop,
  parseUmask,
  parseWriteOutput,
  planAttributes,
  planFailure,
  resolveMode,
  runChangesAsOne,
  setAttributesCommand,
  sh,
  statCommand,
  stateDiff,
  type AttributePlan,
  type Change,
  type FileFact,
  type FileProbe,
  type FileStat,
  type ModeSpec,
  type ModuleContext,
  type Plan,
  type ShellCommand,
} from '../engine/index.js';

/** The states a path can be asked to be in. */
export type FileState = 'absent' | 'directory' | 'file' | 'hard' | 'link' | 'touch';

/** file's arguments, complete after validation. */
export interface FileArgs {
  path: string;
  state?: FileState;
  src?: string;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
  recurse: boolean;
  force: boolean;
  follow: boolean;
  access_time?: string;
  access_time_format: string;
  modification_time?: string;
  modification_time_format: string;
  unsafe_writes: boolean;
}

/** What file gathers, in one command. */
export interface FileModuleState {
  /** The path itself (lstat), with its nearest existing ancestor and what is below it. */
  path: FileFact;
  /** link: the src as seen from the link's directory; hard: the src. */
  src?: FileFact;
  /** hard: path/basename(src), for when path is a directory. */
  inDir?: FileFact;
}

/** The state Ansible names for what is at a path now. */
type PrevState = 'absent' | 'file' | 'directory' | 'link' | 'hard';

function prevState(f: FileFact | undefined): PrevState {
  if (!f || !f.exists) return 'absent';
  if (f.type === 'link') return 'link';
  if (f.type === 'directory') return 'directory';
  return (f.nlink ?? 1) > 1 ? 'hard' : 'file';
}

/** For link: where src is looked up (relative to the link's directory, or inside path when it is a directory). */
function linkSource(path: string, src: string, pathIsDir: boolean): string {
  return posix.isAbsolute(src) ? src : posix.join(pathIsDir ? path : posix.dirname(path), src);
}

async function gatherFile(ctx: ModuleContext, args: FileArgs): Promise<FileModuleState> {
  const probes: FileProbe[] = [
    {
      path: args.path,
      ancestor: true,
      children: args.recurse || args.state === 'link',
      ...(args.state === 'link' && (args.owner !== undefined || args.group !== undefined) ? { names: 'unless-link' as const } : {}),
    },
  ];
  if (args.state === 'link' && args.src !== undefined) {
    // Both candidates (path is a directory or not) are probed so the gather stays one command.
    probes.push({ path: linkSource(args.path, args.src, false) }, { path: linkSource(args.path, args.src, true) });
  }
  if (args.state === 'hard' && args.src !== undefined)
    probes.push({ path: args.src }, { path: posix.join(args.path, posix.basename(args.src)) });
  const facts = await ctx.fact(filesFact, probes);
  const path = facts[0]!;
  if (args.state === 'link' && args.src !== undefined) {
    const inside = path.type === 'directory';
    return { path, src: facts[inside ? 2 : 1] };
  }
  if (args.state === 'hard' && args.src !== undefined) return { path, src: facts[1], inDir: facts[2] };
  return { path };
}

/** A point in time for touch: now, or a stamp for `touch -t` and the text stat would show. */
type TimeSpec = { kind: 'preserve' } | { kind: 'now' } | { kind: 'stamp'; touch: string; stat: string };

// Python's time.strptime for the directives timestamps use (%Y %y %m %d %H %M %S %%).
function parseTime(value: string, format: string): TimeSpec {
  const fields: Record<string, number> = { Y: 1900, m: 1, d: 1, H: 0, M: 0, S: 0 };
  let v = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c === '%' && i + 1 < format.length) {
      const d = format[++i]!;
      if (d === '%') {
        if (value[v++] !== '%') throw new Error(`time data '${value}' does not match format '${format}'`);
        continue;
      }
      const width = d === 'Y' ? 4 : 2;
      if (!'YymdHMS'.includes(d)) throw new Error(`unsupported directive %${d} in format '${format}'`);
      const m = new RegExp(`^\\d{1,${width}}`).exec(value.slice(v));
      if (!m) throw new Error(`time data '${value}' does not match format '${format}'`);
      v += m[0].length;
      const n = Number(m[0]);
      if (d === 'y') fields.Y = n < 69 ? 2000 + n : 1900 + n;
      else fields[d] = n;
    } else if (value[v++] !== c) {
      throw new Error(`time data '${value}' does not match format '${format}'`);
    }
  }
  if (v !== value.length) throw new Error(`unconverted data remains: ${value.slice(v)}`);
  const { Y, m, d, H, M, S } = fields as Record<'Y' | 'm' | 'd' | 'H' | 'M' | 'S', number>;
  const check = new Date(Date.UTC(Y, m - 1, d, H, M, S));
  if (check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d || H > 23 || M > 59 || S > 61) {
    throw new Error(`time data '${value}' does not match format '${format}'`);
  }
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return {
    kind: 'stamp',
    touch: `${p(Y, 4)}${p(m)}${p(d)}${p(H)}${p(M)}.${p(S)}`,
    stat: `${p(Y, 4)}-${p(m)}-${p(d)} ${p(H)}:${p(M)}:${p(S)}.000000000`,
  };
}

function timeSpec(value: string | undefined, format: string, state: FileState): TimeSpec {
  const v = value ?? (state === 'touch' ? 'now' : 'preserve');
  if (v === 'preserve') return { kind: 'preserve' };
  if (v === 'now') return { kind: 'now' };
  return parseTime(v, format);
}

/** The `touch` commands that set access / modification times (none when both are preserved or already right). */
function timeCommands(
  path: string,
  atime: TimeSpec,
  mtime: TimeSpec,
  current: FileStat | undefined,
  noDereference: boolean,
): { commands: ShellCommand[]; what: string[] } {
  const h = noDereference ? ['-h'] : [];
  const due = (t: TimeSpec, now: string | undefined) => t.kind === 'now' || (t.kind === 'stamp' && !now?.startsWith(t.stat));
  const a = due(atime, current?.atime);
  const m = due(mtime, current?.mtime);
  if (atime.kind === 'now' && mtime.kind === 'now')
    return { commands: [sh`touch ${h} -- ${path}`], what: ['access and modification times'] };
  const commands: ShellCommand[] = [];
  const what: string[] = [];
  for (const [flag, t, isDue, name] of [
    ['-a', atime, a, 'access time'],
    ['-m', mtime, m, 'modification time'],
  ] as const) {
    if (!isDue) continue;
    what.push(name);
    commands.push(t.kind === 'stamp' ? sh`touch ${flag} ${h} -t ${t.touch} -- ${path}` : sh`touch ${flag} ${h} -- ${path}`);
  }
  return { commands, what };
}

/** Ansible's diff of a path: {path, state} before and after, plus changed attributes. */
function pathDiff(
  path: string,
  prev: string,
  state: string,
  attrs?: AttributePlan,
  extra: { before?: Record<string, unknown>; after?: Record<string, unknown> } = {},
) {
  const before: Record<string, unknown> = { path, ...(attrs?.before ?? {}), ...(extra.before ?? {}) };
  const after: Record<string, unknown> = { path, ...(attrs?.after ?? {}), ...(extra.after ?? {}) };
  if (prev !== state) {
    before.state = prev;
    after.state = state;
  }
  return stateDiff(before, after);
}

interface Target {
  /** The path operated on (the link's target when following). */
  path: string;
  prev: PrevState;
  stat?: FileStat;
}

// With follow, a symlink stands for what it points to (Ansible's realpath).
function target(fact: FileFact, follow: boolean): Target {
  if (follow && fact.type === 'link') {
    const real = fact.realPath ?? fact.path;
    if (!fact.linked) return { path: real, prev: 'absent' };
    return {
      path: real,
      prev: fact.linked.type === 'directory' ? 'directory' : fact.linked.nlink > 1 ? 'hard' : 'file',
      stat: fact.linked,
    };
  }
  return { path: fact.path, prev: prevState(fact), stat: fact.exists ? (fact as FileStat) : undefined };
}

/** The effective state: the given one, else what the path is now (file when missing, directory with recurse). */
export function effectiveState(current: FileModuleState, args: FileArgs): FileState {
  if (args.state) return args.state;
  const prev = prevState(current.path);
  if (prev === 'hard') return 'file';
  if (prev !== 'absent') return prev;
  return args.recurse ? 'directory' : 'file';
}

function changeOf(summary: string, commands: ShellCommand[], diff?: ReturnType<typeof stateDiff>): Change {
  return { summary, commands: commands.map((cmd) => ({ cmd })), ...(diff ? { diff } : {}) };
}

/** The plan of file: pure, from the probe and the arguments. */
export function planFile(current: FileModuleState, args: FileArgs): Plan {
  const state = effectiveState(current, args);
  const fact = current.path;
  const path = fact.path;
  if (args.recurse && state !== 'directory') return planFailure("recurse option requires state to be 'directory'", { path });
  if (args.src !== undefined && state !== 'link' && state !== 'hard')
    return planFailure("src option requires state to be 'link' or 'hard'", { path });
  const umask = parseUmask(fact.identity.umask);
  let atime: TimeSpec;
  let mtime: TimeSpec;
  try {
    atime = timeSpec(args.access_time, args.access_time_format, state);
  } catch (e) {
    return planFailure(
      `Error while obtaining timestamp for time ${args.access_time} using format ${args.access_time_format}: ${(e as Error).message}`,
      { path },
    );
  }
  try {
    mtime = timeSpec(args.modification_time, args.modification_time_format, state);
  } catch (e) {
    return planFailure(
      `Error while obtaining timestamp for time ${args.modification_time} using format ${args.modification_time_format}: ${(e as Error).message}`,
      { path },
    );
  }
  try {
    switch (state) {
      case 'absent':
        return planAbsent(fact);
      case 'file':
        return planExisting(fact, args, 'file', atime, mtime, umask);
      case 'directory':
        return planDirectory(fact, args, atime, mtime, umask);
      case 'touch':
        return planTouch(fact, args, atime, mtime, umask);
      case 'link':
        return planLink(current, args, atime, mtime, umask);
      case 'hard':
        return planHard(current, args, atime, mtime, umask);
    }
  } catch (e) {
    if (e instanceof ModeError) return planFailure(e.message, { path });
    throw e;
  }
}

function planAbsent(fact: FileFact): Plan {
  const prev = prevState(fact);
  if (prev === 'absent') return noop(`${fact.path} is already absent`, { path: fact.path, state: 'absent' });
  const cmd = prev === 'directory' ? sh`rm -rf -- ${fact.path}` : sh`rm -f -- ${fact.path}`;
  return {
    changes: [changeOf(`remove ${prev} ${fact.path}`, [cmd], pathDiff(fact.path, prev, 'absent'))],
    result: { path: fact.path, state: 'absent' },
  };
}

/** Attributes for `stat` (none when the object is a symlink handled without following: no mode on links). */
function attributesFor(stat: FileStat, args: FileArgs, umask: number, isLink: boolean): AttributePlan {
  const wanted = { mode: isLink ? undefined : args.mode, owner: args.owner, group: args.group };
  return planAttributes(stat, wanted, { isDirectory: stat.type === 'directory', umask });
}

// state=file (and the attribute part of others): the object must exist; set attributes and times.
function planExisting(fact: FileFact, args: FileArgs, state: FileState, atime: TimeSpec, mtime: TimeSpec, umask: number): Plan {
  const t = target(fact, args.follow);
  if (t.prev !== 'file' && t.prev !== 'hard') return planFailure(`file (${t.path}) is ${t.prev}, cannot continue`, { path: t.path });
  const stat = t.stat!;
  const attrs = attributesFor(stat, args, umask, false);
  const times = timeCommands(t.path, atime, mtime, stat, false);
  const changes: Change[] = [];
  const diff = pathDiff(t.path, 'file', state, attrs);
  if (attrs.changed)
    changes.push(changeOf(`set ${describeAttributes(attrs)} on ${t.path}`, [setAttributesCommand(t.path, attrs.change)], diff));
  if (times.commands.length)
    changes.push(changeOf(`set ${times.what.join(' and ')} of ${t.path}`, times.commands, attrs.changed ? undefined : diff));
  const result = { path: t.path, ...attributeResult(stat), ...(attrs.changed ? { mode: attrs.mode } : {}) };
  if (changes.length === 0) return noop(`${t.path} already has the wanted attributes`, result);
  return { changes, result };
}

function planDirectory(fact: FileFact, args: FileArgs, atime: TimeSpec, mtime: TimeSpec, umask: number): Plan {
  const t = target(fact, args.follow);
  if (t.prev === 'absent') {
    // Like Ansible: every directory created on the way gets the mode and ownership.
    const from = fact.existingAncestor ?? posix.dirname(t.path);
    const rel = posix
      .relative(from, t.path)
      .split('/')
      .filter((p) => p !== '');
    const base = defaultMode(umask, true);
    const mode = args.mode === undefined ? undefined : formatMode(resolveMode(args.mode, { current: base, isDirectory: true, umask }));
    let dir = from;
    const created: string[] = [];
    for (const part of rel) {
      dir = posix.join(dir, part);
      created.push(dir);
    }
    // One program for all of them (parents first), each program being a fork and an exec on the
    // host; ownership before mode, because chown may clear setuid and setgid bits.
    const owned = args.owner !== undefined || args.group !== undefined;
    const commands: ShellCommand[] = [mode !== undefined && !owned ? sh`mkdir -m ${mode} -- ${created}` : sh`mkdir -- ${created}`];
    if (owned) commands.push(setAttributesCommand(created, { mode, owner: args.owner, group: args.group }));
    const times = timeCommands(t.path, atime, mtime, undefined, false);
    commands.push(...times.commands);
    return {
      changes: [
        changeOf(
          `create directory ${t.path}${created.length > 1 ? ` (and ${created.length - 1} parent${created.length > 2 ? 's' : ''})` : ''}${mode ? ` mode ${mode}` : ''}`,
          [joinCommands(commands, ' && ')],
          pathDiff(t.path, 'absent', 'directory'),
        ),
      ],
      result: { path: t.path, state: 'directory', mode: mode ?? formatMode(base) },
    };
  }
  if (t.prev !== 'directory') return planFailure(`${t.path} already exists as a ${t.prev}`, { path: t.path });
  const stat = t.stat!;
  const attrs = attributesFor(stat, args, umask, false);
  const times = timeCommands(t.path, atime, mtime, stat, false);
  const changes: Change[] = [];
  const diff = pathDiff(t.path, 'directory', 'directory', attrs);
  if (attrs.changed)
    changes.push(changeOf(`set ${describeAttributes(attrs)} on ${t.path}`, [setAttributesCommand(t.path, attrs.change)], diff));
  if (times.commands.length) changes.push(changeOf(`set ${times.what.join(' and ')} of ${t.path}`, times.commands));
  if (args.recurse) {
    const below = recursiveChange(fact, args, umask);
    if (below) changes.push(changeOf(`set ${below.what} on everything below ${t.path}`, [setAttributesCommand(t.path, below.change)]));
  }
  const result = { path: t.path, ...attributeResult(stat), ...(attrs.changed ? { mode: attrs.mode } : {}) };
  if (changes.length === 0) return noop(`${t.path} is already a directory with the wanted attributes`, result);
  return { changes, result };
}

// recurse: compare every distinct (type, mode, owner) found below with what is wanted; a change
// becomes chown -R / chmod -R with the mode as given (chmod applies a symbolic mode per file).
function recursiveChange(
  fact: FileFact,
  args: FileArgs,
  umask: number,
): { change: { mode?: string; owner?: string; group?: string; recurse: true }; what: string } | undefined {
  const change: { mode?: string; owner?: string; group?: string; recurse: true } = { recurse: true };
  for (const child of fact.children ?? []) {
    const isLink = child.type === 'link';
    const attrs = planAttributes(
      child,
      { mode: isLink ? undefined : args.mode, owner: args.owner, group: args.group },
      { isDirectory: child.type === 'directory', umask },
    );
    if (attrs.change.owner !== undefined) change.owner = args.owner;
    if (attrs.change.group !== undefined) change.group = args.group;
    if (attrs.change.mode !== undefined) change.mode = typeof args.mode === 'number' ? formatMode(args.mode) : String(args.mode);
  }
  if (change.owner === undefined && change.group === undefined && change.mode === undefined) return undefined;
  if (change.owner !== undefined || change.group !== undefined) {
    change.owner = args.owner;
    change.group = args.group;
  }
  const what = [
    change.owner !== undefined ? `owner ${change.owner}` : '',
    change.group !== undefined ? `group ${change.group}` : '',
    change.mode !== undefined ? `mode ${change.mode}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return { change, what };
}

function planTouch(fact: FileFact, args: FileArgs, atime: TimeSpec, mtime: TimeSpec, umask: number): Plan {
  const prev = prevState(fact);
  const t = target(fact, args.follow);
  if (prev === 'absent' || t.prev === 'absent') {
    const where = t.path;
    const base = defaultMode(umask, false);
    const mode = args.mode === undefined ? undefined : formatMode(resolveMode(args.mode, { current: base, isDirectory: false, umask }));
    const commands = [sh`touch -- ${where}`];
    if (args.owner !== undefined || args.group !== undefined || mode !== undefined)
      commands.push(setAttributesCommand(where, { mode, owner: args.owner, group: args.group }));
    const times = timeCommands(
      where,
      atime.kind === 'now' ? { kind: 'preserve' } : atime,
      mtime.kind === 'now' ? { kind: 'preserve' } : mtime,
      undefined,
      false,
    );
    commands.push(...times.commands);
    return {
      alwaysChanges: atime.kind === 'now' || mtime.kind === 'now',
      changes: [
        changeOf(
          `create empty file ${where}${mode ? ` mode ${mode}` : ''}`,
          [joinCommands(commands, ' && ')],
          pathDiff(where, 'absent', 'touch'),
        ),
      ],
      result: { dest: where, state: 'file', mode: mode ?? formatMode(base) },
    };
  }
  const isLink = !args.follow && fact.type === 'link';
  const stat = t.stat!;
  const attrs = attributesFor(stat, args, umask, isLink);
  const times = timeCommands(t.path, atime, mtime, stat, isLink);
  const diff = pathDiff(t.path, t.prev, 'touch', attrs);
  const changes: Change[] = [];
  if (attrs.changed)
    changes.push(
      changeOf(
        `set ${describeAttributes(attrs)} on ${t.path}`,
        [setAttributesCommand(t.path, { ...attrs.change, noDereference: isLink })],
        diff,
      ),
    );
  if (times.commands.length)
    changes.push(changeOf(`touch ${t.path} (${times.what.join(' and ')})`, times.commands, attrs.changed ? undefined : diff));
  const result = { dest: t.path, ...attributeResult(stat), ...(attrs.changed ? { mode: attrs.mode } : {}) };
  if (changes.length === 0) return noop(`${t.path} exists and its times are preserved`, result);
  return { changes, result, alwaysChanges: times.commands.length > 0 && (atime.kind === 'now' || mtime.kind === 'now') };
}

function planLink(current: FileModuleState, args: FileArgs, atime: TimeSpec, mtime: TimeSpec, umask: number): Plan {
  const fact = current.path;
  const path = fact.path;
  const prev = prevState(fact);
  let src = args.src;
  if (src === undefined) {
    if (args.follow && prev === 'link') src = fact.linkTarget;
    else return planFailure('src is required for creating new symlinks', { path });
  }
  const absrc = linkSource(path, src!, prev === 'directory');
  const srcExists = current.src
    ? current.src.exists && (current.src.type !== 'link' || current.src.linked !== undefined)
    : prev === 'link' && fact.linked !== undefined;
  if (!args.force && !srcExists) {
    return planFailure(`src file does not exist, use "force=yes" if you really want to create the link: ${absrc}`, { path, src });
  }
  if (prev === 'directory') {
    if (!args.force) return planFailure(`refusing to convert from directory to symlink for ${path}`, { path });
    if ((fact.children ?? []).length > 0) return planFailure(`the directory ${path} is not empty, refusing to convert it`, { path });
  } else if ((prev === 'file' || prev === 'hard') && !args.force) {
    return planFailure(`refusing to convert from ${prev} to symlink for ${path}`, { path });
  }

  const changes: Change[] = [];
  const srcChange = prev === 'link' && fact.linkTarget !== src ? { before: { src: fact.linkTarget }, after: { src } } : {};
  if (prev !== 'link' || fact.linkTarget !== src) {
    const cmd =
      prev === 'absent'
        ? sh`ln -s -- ${src!} ${path}`
        : sh`${prev === 'directory' ? sh`rmdir -- ${path} && ` : sh``}t=$(mktemp -u -- ${posix.join(posix.dirname(path), `.${posix.basename(path).slice(0, 100)}.tsplay-XXXXXX`)}) && ln -s -- ${src!} "$t" && { mv -fT -- "$t" ${path} || { rm -f -- "$t"; exit 1; }; }`;
    changes.push(
      changeOf(
        `${prev === 'absent' ? 'create' : 'point'} symlink ${path} -> ${src}`,
        [cmd],
        pathDiff(path, prev, 'link', undefined, srcChange),
      ),
    );
  }

  // Attributes: of what the link points to with follow (when it exists), else of the link itself.
  const warnings: string[] = [];
  const probed = current.src ?? (prev === 'link' ? { ...fact, type: 'link' as const } : undefined);
  const pointsTo = probed && probed.exists ? (probed.type === 'link' ? probed.linked : (probed as FileStat)) : undefined;
  const wantsAttrs = args.mode !== undefined || args.owner !== undefined || args.group !== undefined;
  if (args.follow) {
    if (!pointsTo) {
      if (wantsAttrs || atime.kind !== 'preserve' || mtime.kind !== 'preserve')
        warnings.push('Cannot set fs attributes on a non-existent symlink target. follow should be set to False to avoid this.');
    } else {
      const where = probed!.type === 'link' ? (probed!.realPath ?? absrc) : absrc;
      const attrs = attributesFor(pointsTo, args, umask, false);
      if (attrs.changed)
        changes.push(changeOf(`set ${describeAttributes(attrs)} on ${where}`, [setAttributesCommand(where, attrs.change)]));
      const times = timeCommands(where, atime, mtime, pointsTo, false);
      if (times.commands.length) changes.push(changeOf(`set ${times.what.join(' and ')} of ${where}`, times.commands));
    }
  } else {
    const own: FileStat | undefined = prev === 'link' ? (fact as FileStat) : undefined;
    const attrs = own
      ? attributesFor(own, args, umask, true)
      : planAttributes(
          { mode: '0777', owner: fact.identity.user, group: fact.identity.group, uid: fact.identity.uid, gid: fact.identity.gid },
          { owner: args.owner, group: args.group },
          { isDirectory: false, umask },
        );
    if (attrs.changed)
      changes.push(
        changeOf(`set ${describeAttributes(attrs)} on symlink ${path}`, [
          setAttributesCommand(path, { ...attrs.change, noDereference: true }),
        ]),
      );
    const times = timeCommands(path, atime, mtime, own, true);
    if (times.commands.length) changes.push(changeOf(`set ${times.what.join(' and ')} of symlink ${path}`, times.commands));
  }
  const result = { dest: path, src, state: 'link', ...(warnings.length ? { warnings } : {}) };
  if (changes.length === 0) return noop(`${path} already links to ${src}`, result);
  return { changes, result };
}

function planHard(current: FileModuleState, args: FileArgs, atime: TimeSpec, mtime: TimeSpec, umask: number): Plan {
  const src = args.src;
  if (src === undefined) return planFailure('src is required for creating new hardlinks');
  const srcFact = current.src;
  if (!srcFact || !srcFact.exists || (srcFact.type === 'link' && !srcFact.linked))
    return planFailure('src does not exist', { dest: current.path.path, src });
  const srcStat = srcFact.type === 'link' ? srcFact.linked! : (srcFact as FileStat);
  // A directory at path receives path/basename(src), as in Ansible.
  const fact = current.path.type === 'directory' && current.inDir ? current.inDir : current.path;
  const path = fact.path;
  const prev = prevState(fact);
  const changes: Change[] = [];
  let linkChange = false;
  if (prev === 'absent') linkChange = true;
  else if (prev === 'link') linkChange = true;
  else if (prev === 'hard' || prev === 'file') {
    if (fact.inode !== srcStat.inode) {
      if (!args.force)
        return planFailure(
          prev === 'hard' ? 'Cannot link, different hard link exists at destination' : `Cannot link, ${prev} exists at destination`,
          { dest: path, src },
        );
      linkChange = true;
    }
  } else {
    return planFailure(`Cannot link: ${path} is a ${prev}`, { dest: path, src });
  }
  if (linkChange) {
    const cmd =
      prev === 'absent'
        ? sh`ln -- ${src} ${path}`
        : sh`t=$(mktemp -u -- ${posix.join(posix.dirname(path), `.${posix.basename(path).slice(0, 100)}.tsplay-XXXXXX`)}) && ln -- ${src} "$t" && { mv -fT -- "$t" ${path} || { rm -f -- "$t"; exit 1; }; }`;
    changes.push(
      changeOf(
        `hard link ${path} to ${src}`,
        [cmd],
        pathDiff(path, prev, 'hard', undefined, prev === 'link' ? { before: { src: fact.linkTarget }, after: { src } } : {}),
      ),
    );
  }
  const attrs = attributesFor(srcStat, args, umask, false);
  if (attrs.changed) changes.push(changeOf(`set ${describeAttributes(attrs)} on ${path}`, [setAttributesCommand(path, attrs.change)]));
  const times = timeCommands(path, atime, mtime, srcStat, false);
  if (times.commands.length) changes.push(changeOf(`set ${times.what.join(' and ')} of ${path}`, times.commands));
  const result = { dest: path, src, state: 'hard' };
  if (changes.length === 0) return noop(`${path} is already a hard link to ${src}`, result);
  return { changes, result };
}

/** The path whose attributes the result reports after apply (nothing for absent). */
function resultPath(current: FileModuleState, args: FileArgs): { path: string; follow: boolean } | undefined {
  const state = effectiveState(current, args);
  if (state === 'absent') return undefined;
  if (state === 'link') return { path: current.path.path, follow: false };
  if (state === 'hard')
    return { path: current.path.type === 'directory' && current.inDir ? current.inDir.path : current.path.path, follow: false };
  return { path: target(current.path, args.follow).path, follow: false };
}

export default defineModule<FileArgs, FileModuleState>({
  name: 'file',
  aliases: ['ansible.builtin.file'],
  description:
    'Set the state of a path: an existing file (state=file, fails when missing), a directory (created with its parents), a symlink or hard link, a touched file (times updated), or absent (removed recursively); and its mode, owner and group, optionally recursively for a directory.',
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', aliases: ['dest', 'name'], description: 'Path to the file being managed.' },
      state: {
        type: 'string',
        enum: ['absent', 'directory', 'file', 'hard', 'link', 'touch'],
        description: 'What the path should be; default: its current state, or file.',
      },
      src: { type: 'string', description: 'Path to link to (state=link or hard); relative to the link’s directory for link.' },
      mode: { type: ['string', 'integer'], description: "Permissions: '0644', 'u=rw,g=r,o=r', 'u+x', or a YAML integer." },
      owner: { type: 'string', description: 'Owner name or uid.' },
      group: { type: 'string', description: 'Group name or gid.' },
      recurse: {
        type: 'boolean',
        default: false,
        description: 'Set the attributes on everything below the directory too (state=directory).',
      },
      force: {
        type: 'boolean',
        default: false,
        description: 'Create the symlink even when src does not exist, or replace a file or empty directory at path.',
      },
      follow: { type: 'boolean', default: true, description: 'Operate on what a symlink at path points to.' },
      access_time: {
        type: 'string',
        description: "'preserve', 'now', or a time in access_time_format; default now for touch, preserve otherwise.",
      },
      access_time_format: { type: 'string', default: '%Y%m%d%H%M.%S', description: 'Format of access_time (Python strftime directives).' },
      modification_time: {
        type: 'string',
        description: "'preserve', 'now', or a time in modification_time_format; default now for touch, preserve otherwise.",
      },
      modification_time_format: { type: 'string', default: '%Y%m%d%H%M.%S', description: 'Format of modification_time.' },
      unsafe_writes: { type: 'boolean', default: false, description: 'Accepted for compatibility.' },
    },
    required: ['path'],
    additionalProperties: false,
  },
  examples: `- name: Create a directory if it does not exist
  file:
    path: /etc/some_directory
    state: directory
    mode: '0755'

- name: Change file ownership, group and permissions
  file:
    path: /etc/foo.conf
    owner: foo
    group: foo
    mode: '0644'

- name: Create a symbolic link
  file:
    src: /file/to/link/to
    dest: /path/to/symlink
    state: link

- name: Touch a file without changing its times when it exists (idempotent)
  file:
    path: /etc/foo.conf
    state: touch
    mode: u+rw,g-wx,o-rwx
    modification_time: preserve
    access_time: preserve

- name: Recursively remove a directory
  file:
    path: /etc/foo
    state: absent`,
  gather: gatherFile,
  plan: planFile,
  async apply(ctx, changes, args, current) {
    const where = resultPath(current, args);
    const stat = where ? sh`${statCommand(where.path, where.follow)} 2>/dev/null || true` : undefined;
    const r = await runChangesAsOne(ctx, changes, stat);
    if (r.rc !== 0) {
      const what = changes.map((c) => c.summary).join('; ');
      return {
        failed: `There was an issue with ${what}: ${r.stderr.trim() || `rc=${r.rc}`}`,
        result: { rc: r.rc, path: current.path.path },
      };
    }
    const out = parseWriteOutput(r.stdout);
    const state = effectiveState(current, args);
    return { result: out.stat ? { ...attributeResult(out.stat), ...(state === 'hard' ? { state } : {}) } : {} };
  },
});
