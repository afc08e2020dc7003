// copy: put a controller file (or inline content, or a file already on the host) at dest, written
// atomically, only when its sha1 differs; otherwise only the attributes are brought in line.
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import {
  atomicWriteCommand,
  attributeResult,
  changesFailed,
  contentDiff,
  defineModule,
  describeAttributes,
  filesFact,
  followed,
  formatMode,
  guardCommand,
  joinCommands,
  md5,
  ModeError,
  noop,
  parseUmask,
  parseWriteOutput,
  planAttributes,
  planFailure,
  readVaultFile,
  resolveMode,
  runChanges,
  runChangesAsOne,
  setAttributesCommand,
  sh,
  sha1,
  stateDiff,
  validateProblem,
  writeAttributes,
  type Change,
  type FileFact,
  type FileProbe,
  type FileStat,
  type ModeSpec,
  type ModuleContext,
  type Plan,
} from '../engine/index.js';

/** Ansible's largest file shown in a diff (max_diff_size); larger old files are not fetched. */
export const MAX_DIFF_SIZE = 104448;

/** copy's arguments, complete after validation. */
export interface CopyArgs {
  src?: string;
  content?: string | Record<string, unknown> | unknown[];
  dest: string;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
  backup: boolean;
  validate?: string;
  force: boolean;
  remote_src: boolean;
  decrypt: boolean;
  follow: boolean;
  checksum?: string;
  unsafe_writes: boolean;
  local_follow: boolean;
  directory_mode?: ModeSpec;
}

/** The arguments copy and template share for writing dest. */
export interface WriteArgs {
  dest: string;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
  backup: boolean;
  validate?: string;
  force: boolean;
  follow: boolean;
}

/** The new content, as the controller has it. */
export interface SourceContent {
  /** base64 of the bytes to write. */
  content: string;
  /** The source file's mode, for mode=preserve. */
  mode: string;
  /** Basename used when dest is a directory (undefined for inline content). */
  basename?: string;
  /** Read from a vault-encrypted file: the content is a secret, and no diff shows it. */
  vaulted?: boolean;
}

/** What copy and template gather: dest (and dest/basename for a directory dest), and the source. */
export interface CopyState {
  dest: FileFact;
  /** dest/<basename of src>, probed in the same command for when dest is a directory. */
  inDir?: FileFact;
  /** The content to write (inline content, a controller file, a rendered template). */
  source?: SourceContent;
  /** remote_src: the source file on the host. */
  remote?: FileFact;
  /** The controller src is a directory: what it holds, and dest's state for each. */
  tree?: SourceTree;
}

/** One thing below a controller directory that copy recreates on the host. */
export interface TreeEntry {
  /** The path below the destination directory. */
  rel: string;
  kind: 'directory' | 'file' | 'link';
  /** The controller file to copy (files). */
  from?: string;
  /** What the link points to, as stored (links). */
  target?: string;
  /** Made only when missing, and given directory_mode then (dest itself, src's own directory). */
  implicit?: boolean;
}

/** A controller directory as src: where it goes, its entries, and the host's state for each. */
export interface SourceTree {
  /** The source directory as found, with the trailing slash the task gave. */
  src: string;
  /** dest, ending with a slash. */
  root: string;
  entries: TreeEntry[];
  facts: FileFact[];
  /** The files' contents, by rel. */
  sources: Record<string, SourceContent>;
}

/**
 * The entries of a controller directory as Ansible's copy walks it: `dir/` copies what it holds,
 * `dir` the directory itself. With local_follow, a symlink to a file is copied as the file and one
 * to a directory is walked (unless it points back into the walk); without, links are recreated.
 */
export function walkSource(top: string, trailingSlash: boolean, localFollow: boolean): TreeEntry[] {
  const entries: TreeEntry[] = [];
  const base = trailingSlash ? '' : posix.basename(top);
  if (base) entries.push({ rel: base, kind: 'directory', implicit: true });
  const recurse = (dir: string, rel: string, parents: Set<string>) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      const st = lstatSync(path);
      if (st.isSymbolicLink()) {
        let real: string | undefined;
        try {
          real = realpathSync(path);
        } catch {
          real = undefined;
        }
        const target = real !== undefined ? statSync(real) : undefined;
        if (localFollow && target?.isFile()) entries.push({ rel: relPath, kind: 'file', from: real });
        else if (localFollow && target?.isDirectory() && !parents.has(real!)) {
          entries.push({ rel: relPath, kind: 'directory' });
          recurse(real!, relPath, new Set([...parents, real!]));
        } else entries.push({ rel: relPath, kind: 'link', target: readlinkSync(path) });
      } else if (st.isDirectory()) {
        entries.push({ rel: relPath, kind: 'directory' });
        recurse(path, relPath, new Set([...parents, realpathSync(path)]));
      } else if (st.isFile()) entries.push({ rel: relPath, kind: 'file', from: path });
    }
  };
  recurse(top, base, new Set([realpathSync(top)]));
  return entries;
}

/** A dict or list given as content, written as Python's json.dumps does (', ' and ': ', ASCII only). */
export function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string')
    return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (Array.isArray(value)) return '[' + value.map(pythonJson).join(', ') + ']';
  return (
    '{' +
    Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`)
      .join(', ') +
    '}'
  );
}

/** The probes copy and template need, all answered by one remote command. */
export function destProbes(dest: string, basename: string | undefined): FileProbe[] {
  const probe = (path: string): FileProbe => ({ path, checksum: true, content: MAX_DIFF_SIZE });
  const probes = [probe(dest)];
  if (basename !== undefined) probes.push(probe(posix.join(dest, basename)));
  return probes;
}

/** Read a controller file as the content to write; a vault-encrypted one is decrypted with the run's vault secrets unless `decrypt` is false, as Ansible does. */
export function readSource(path: string, decrypt = true): SourceContent {
  const source = { mode: formatMode(statSync(path).mode), basename: posix.basename(path) };
  const plain = decrypt ? readVaultFile(path) : undefined;
  if (plain !== undefined) return { ...source, content: Buffer.from(plain, 'utf8').toString('base64'), vaulted: true };
  return { ...source, content: readFileSync(path).toString('base64') };
}

async function gatherCopy(ctx: ModuleContext, args: CopyArgs): Promise<CopyState> {
  let source: SourceContent | undefined;
  if (args.content !== undefined) {
    const text = typeof args.content === 'string' ? args.content : pythonJson(args.content);
    source = { content: Buffer.from(text, 'utf8').toString('base64'), mode: '0600' };
  } else if (!args.remote_src) {
    const path = ctx.findFile('files', args.src!);
    if (statSync(path).isDirectory()) return gatherTree(ctx, args, path);
    source = readSource(path, args.decrypt);
  }
  const basename = args.src !== undefined ? posix.basename(args.src.replace(/\/+$/, '')) : undefined;
  const probes = destProbes(args.dest, basename);
  if (args.remote_src) probes.push({ path: args.src!, checksum: true, content: MAX_DIFF_SIZE });
  const facts = await ctx.fact(filesFact, probes);
  return {
    dest: facts[0]!,
    inDir: basename !== undefined ? facts[1] : undefined,
    source,
    remote: args.remote_src ? facts[facts.length - 1] : undefined,
  };
}

async function gatherTree(ctx: ModuleContext, args: CopyArgs, path: string): Promise<CopyState> {
  const trailingSlash = args.src!.endsWith('/');
  const root = args.dest.endsWith('/') ? args.dest : `${args.dest}/`;
  const entries: TreeEntry[] = [{ rel: '', kind: 'directory', implicit: true }, ...walkSource(path, trailingSlash, args.local_follow)];
  const sources: Record<string, SourceContent> = {};
  for (const e of entries) if (e.kind === 'file') sources[e.rel] = readSource(e.from!, args.decrypt);
  const facts = await ctx.fact(
    filesFact,
    entries.map((e) => ({
      path: e.rel ? posix.join(root, e.rel) : args.dest,
      ...(e.kind === 'file' ? { checksum: true, content: MAX_DIFF_SIZE } : {}),
      ...(e.implicit ? { ancestor: true } : {}),
    })),
  );
  const dest = facts[0]!;
  return { dest, tree: { src: trailingSlash ? `${path}/` : path, root, entries, facts, sources } };
}

/**
 * The plan of a directory copy, as Ansible's copy action runs it: each file copied like a single
 * one (mode, owner, group, force), each directory made as file state=directory with
 * directory_mode, each link as file state=link. One file copied gives that file's result;
 * otherwise dest (with a trailing slash) and src.
 */
function planTree(tree: SourceTree, args: CopyArgs): Plan {
  const changes: Change[] = [];
  let single: Record<string, unknown> | undefined;
  // An empty source directory makes nothing, not even dest (as in Ansible).
  if (tree.entries.every((e) => e.implicit)) return noop(`${tree.src} is empty`, { dest: tree.root, src: tree.src });
  const umask = parseUmask(tree.facts[0]!.identity.umask);
  try {
    tree.entries.forEach((entry, i) => {
      const fact = tree.facts[i]!;
      const path = fact.path;
      if (entry.kind === 'directory') {
        const isDir = fact.type === 'directory';
        if (fact.exists && !isDir) throw new PlanError(`${path} exists and is not a directory`);
        const wanted = {
          mode: args.directory_mode,
          owner: entry.implicit ? undefined : args.owner,
          group: entry.implicit ? undefined : args.group,
        };
        if (!isDir) {
          const mode =
            args.directory_mode === undefined
              ? undefined
              : resolveMode(args.directory_mode, { current: 0o777 & ~umask, isDirectory: true, umask });
          // mkdir -p for dest and src's own directory: every directory it makes gets directory_mode.
          const made = entry.implicit ? newDirectories(path, fact.existingAncestor) : [path];
          const mkdir = entry.implicit ? sh`mkdir -p -- ${path}` : sh`mkdir -- ${path}`;
          const change = { ...(mode !== undefined ? { mode: formatMode(mode) } : {}), owner: wanted.owner, group: wanted.group };
          const set =
            mode !== undefined || wanted.owner !== undefined || wanted.group !== undefined ? [setAttributesCommand(made, change)] : [];
          changes.push({
            summary: `create directory ${path}`,
            commands: [{ cmd: joinCommands([mkdir, ...set], ' && ') }],
            diff: stateDiff({ path, state: 'absent' }, { path, state: 'directory' }, path),
          });
          return;
        }
        if (entry.implicit) return;
        const attrs = planAttributes(fact as FileStat, wanted, { isDirectory: true, umask });
        if (attrs.changed)
          changes.push({
            summary: `set ${describeAttributes(attrs)} on ${path}`,
            commands: [{ cmd: setAttributesCommand(path, attrs.change) }],
            diff: stateDiff({ path, ...attrs.before }, { path, ...attrs.after }, `${path} (file attributes)`),
          });
        return;
      }
      if (entry.kind === 'link') {
        if (fact.type === 'link' && fact.linkTarget === entry.target) return;
        if (fact.type === 'directory') throw new PlanError(`refusing to replace the directory ${path} with a link`);
        changes.push({
          summary: `link ${path} -> ${entry.target!}`,
          commands: [{ cmd: sh`ln -sfn -- ${entry.target!} ${path}` }],
          diff: stateDiff({ path, state: fact.exists ? fact.type : 'absent' }, { path, state: 'link', src: entry.target }, path),
        });
        return;
      }
      const plan = planWrite({ dest: fact, source: tree.sources[entry.rel] }, { ...args, dest: path, follow: false }, { inline: false });
      if (plan.failed) throw new PlanError(plan.failed, plan.result);
      changes.push(...plan.changes);
      single = plan.result;
    });
  } catch (e) {
    if (e instanceof PlanError) return planFailure(e.message, e.result);
    if (e instanceof ModeError) return planFailure(e.message);
    throw e;
  }
  const files = tree.entries.filter((e) => e.kind === 'file').length;
  const result = files === 1 && single ? single : { dest: tree.root, src: tree.src };
  if (!changes.length) return noop(`${tree.root} already holds ${tree.src} with the wanted attributes`, result);
  return { changes, result };
}

/** The directories `mkdir -p path` makes below the nearest existing ancestor. */
function newDirectories(path: string, ancestor: string | undefined): string[] {
  const out: string[] = [];
  for (let p = path.replace(/\/+$/, ''); p && p !== ancestor && p !== '/' && p !== '.'; p = posix.dirname(p)) out.unshift(p);
  return out;
}

class PlanError extends Error {
  constructor(
    message: string,
    readonly result?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Where the content goes: dest itself, or dest/basename when dest is (or ends like) a directory. */
function destination(state: CopyState, args: WriteArgs, inline: boolean): { fact: FileFact; makeParents: boolean } | { failed: string } {
  const isDir = state.dest.type === 'directory' || (state.dest.type === 'link' && state.dest.linked?.type === 'directory');
  if (args.dest.endsWith('/')) {
    if (inline) return { failed: 'dest must be a file if content is defined' };
    return { fact: state.inDir!, makeParents: true };
  }
  if (isDir) {
    if (inline || !state.inDir) return { failed: 'can not use content with a dir as dest' };
    return { fact: state.inDir, makeParents: false };
  }
  return { fact: state.dest, makeParents: false };
}

/** The plan shared by copy and template: write the source (or copy `remote`) to dest when its sha1 differs, else fix attributes. */
export function planWrite(state: CopyState, args: WriteArgs, opts: { inline: boolean; wantedChecksum?: string }): Plan {
  const where = destination(state, args, opts.inline);
  if ('failed' in where) return planFailure(where.failed);
  const fact = where.fact;
  const path = fact.path;
  const source = state.source;
  const remote = state.remote;
  const newChecksum = source ? sha1(Buffer.from(source.content, 'base64')) : remote!.checksum!;
  const newBytes = source
    ? Buffer.from(source.content, 'base64')
    : remote?.content !== undefined
      ? Buffer.from(remote.content, 'base64')
      : undefined;
  if (opts.wantedChecksum !== undefined && opts.wantedChecksum !== newChecksum) {
    return planFailure('Copied file does not match the expected checksum. Transfer failed.', {
      checksum: newChecksum,
      expected_checksum: opts.wantedChecksum,
    });
  }

  // A symlink at dest is written through with follow, and replaced by a file without.
  const throughLink = fact.type === 'link' && args.follow;
  const target = throughLink ? followed(fact) : { exists: fact.exists, stat: fact.exists ? (fact as FileStat) : undefined, path };
  if (target.exists && !args.force) return noop(`${path} exists and force is false`, { dest: path, msg: 'file already exists' });
  if (target.stat?.type === 'directory') return planFailure(`can not write ${path}: it is a directory`);

  const umask = parseUmask(fact.identity.umask);
  const mode = args.mode === 'preserve' ? (source?.mode ?? (remote?.linked ?? remote)?.mode) : args.mode;
  const wanted = { mode, owner: args.owner, group: args.group };
  const isRegular = target.stat?.type === 'file';
  const sameContent = isRegular && !(fact.type === 'link' && !args.follow) && fact.checksum === newChecksum;
  const base = { dest: path, checksum: newChecksum, ...(remote ? { src: remote.path } : {}) };

  try {
    if (sameContent) {
      const attrs = planAttributes(target.stat!, wanted, { isDirectory: false, umask });
      const result = { ...base, ...attributeResult(target.stat), ...(attrs.changed ? { mode: attrs.mode } : {}) };
      if (!attrs.changed) return noop(`${path} already has the wanted content and attributes`, result);
      return {
        changes: [
          {
            summary: `set ${describeAttributes(attrs)} on ${path}`,
            commands: [{ cmd: setAttributesCommand(target.path, attrs.change) }],
            diff: stateDiff({ path, ...attrs.before }, { path, ...attrs.after }, `${path} (file attributes)`),
          },
        ],
        result,
      };
    }
    if (args.validate !== undefined) {
      const problem = validateProblem(args.validate);
      if (problem) return planFailure(problem);
    }
    const existing = isRegular && target.stat ? target.stat : undefined;
    const attributes = writeAttributes(existing, wanted, { uid: fact.identity.uid, gid: fact.identity.gid, umask });
    const before =
      !target.exists || !isRegular ? Buffer.alloc(0) : fact.content !== undefined ? Buffer.from(fact.content, 'base64') : undefined;
    // A missing directory may be created by an earlier task (check mode cannot know): checked at apply.
    const dir = posix.dirname(target.path);
    const guard =
      !fact.parentExists && !where.makeParents ? [guardCommand(sh`[ -d ${dir} ]`, `Destination directory ${dir} does not exist`)] : [];
    const write = atomicWriteCommand(target.path, {
      ...attributes,
      validate: args.validate,
      backup: args.backup,
      makeParents: where.makeParents,
      ...(remote ? { source: remote.path } : { content: Buffer.from(source!.content, 'base64'), reportTemp: true }),
    });
    const change: Change = {
      summary: `${target.exists ? 'update' : 'create'} ${path}${remote ? ` from ${remote.path}` : ''}`,
      commands: [{ cmd: joinCommands([...guard, write], '\n'), ...(source ? { stdin: Buffer.from(source.content, 'base64') } : {}) }],
    };
    const diff = newBytes && !source?.vaulted ? contentDiff(path, before, newBytes) : undefined;
    if (diff) change.diff = diff;
    return {
      changes: [change],
      result: { ...base, state: 'file', mode: attributes.mode, ...(newBytes ? { size: newBytes.length, md5sum: md5(newBytes) } : {}) },
    };
  } catch (e) {
    if (e instanceof ModeError) return planFailure(e.message);
    throw e;
  }
}

/** apply of copy and template: one command; the result gets the written file's stat and backup. */
export async function applyWrite(ctx: ModuleContext, changes: Change[]) {
  const r = await runChangesAsOne(ctx, changes);
  const out = parseWriteOutput(r.stdout);
  if (out.failure !== undefined) return { failed: out.failure };
  if (out.validateFailed !== undefined) {
    return { failed: 'failed to validate', result: { exit_status: out.validateFailed, stdout: out.stdout, stderr: r.stderr } };
  }
  if (r.rc !== 0) return changesFailed(changes, r, out.stdout);
  return {
    result: {
      ...(out.stat ? attributeResult(out.stat) : {}),
      ...(out.backupFile ? { backup_file: out.backupFile } : {}),
      // Ansible's src is the temp file it uploaded and moved into place; tsplay's is the one it wrote
      ...(out.source ? { src: out.source } : {}),
    },
  };
}

/** Shared schema properties of copy and template. */
export const writeProperties = {
  dest: { type: 'string', description: 'Where to write the file; a directory (or a path ending with /) receives a file named like src.' },
  mode: {
    type: ['string', 'integer'],
    description: "Permissions: '0644', 'u=rw,g=r,o=r', a YAML integer, or 'preserve' (the source's mode).",
  },
  owner: { type: 'string', description: 'Owner name or uid.' },
  group: { type: 'string', description: 'Group name or gid.' },
  backup: { type: 'boolean', default: false, description: 'Keep a timestamped copy of the old file.' },
  validate: { type: 'string', description: 'Command run on the new file (%s is its path) before it replaces the old one.' },
  force: {
    type: 'boolean',
    default: true,
    description: 'Replace a file whose content differs; false: only write when dest does not exist.',
  },
  follow: { type: 'boolean', default: false, description: 'Write through a symlink at dest instead of replacing the link.' },
  unsafe_writes: { type: 'boolean', default: false, description: 'Accepted for compatibility; writes are always atomic.' },
} as const;

export default defineModule<CopyArgs, CopyState>({
  name: 'copy',
  aliases: ['ansible.builtin.copy'],
  description:
    'Copy a file from the controller (src, looked up in files/), inline content, or a file already on the host (remote_src) to dest. The file is written atomically only when its sha1 differs, optionally validated and backed up; mode, owner and group are set either way. A directory src is copied recursively: `dir/` copies what it holds, `dir` the directory itself.',
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string', description: 'Controller file to copy (searched in files/), or a host path with remote_src.' },
      content: {
        type: ['string', 'object', 'array'],
        description: 'Write this text instead of a file (a dict or list is written as JSON).',
      },
      ...writeProperties,
      remote_src: { type: 'boolean', default: false, description: 'src is a file on the host, not on the controller.' },
      decrypt: {
        type: 'boolean',
        default: true,
        description:
          "Decrypt a vault-encrypted src with the run's vault secrets (its content is then never shown in a diff); false: copy it as it is.",
      },
      checksum: { type: 'string', description: 'Expected sha1 of the source; the task fails when it differs.' },
      local_follow: {
        type: 'boolean',
        default: true,
        description: 'In a directory src, copy what a symlink points to; false: recreate the symlinks on the host.',
      },
      directory_mode: {
        type: ['string', 'integer'],
        description: 'Mode of the directories a directory copy makes (and of the ones below src it finds); others keep theirs.',
      },
    },
    required: ['dest'],
    mutuallyExclusive: [['src', 'content']],
    requiredOneOf: [['src', 'content']],
    additionalProperties: false,
  },
  examples: `- name: Install the dnsmasq configuration
  copy:
    src: dnsmasq.conf
    dest: /etc/dnsmasq.conf
    owner: root
    group: root
    mode: '0644'
    backup: yes
    validate: dnsmasq --test -C %s

- name: Write a file from inline content
  copy:
    content: "net.ipv4.ip_forward=1\\n"
    dest: /etc/sysctl.d/90-forward.conf

- name: Copy a file that is already on the host
  copy:
    src: /etc/hosts
    dest: /etc/hosts.orig
    remote_src: yes
    force: no`,
  gather: gatherCopy,
  plan(state, args) {
    if (state.tree) return planTree(state.tree, args);
    if (args.remote_src) {
      const src = state.remote!;
      if (!src.exists || (src.type === 'link' && !src.linked)) return planFailure(`Source ${args.src} not found`);
      const kind = src.type === 'link' ? src.linked!.type : src.type;
      if (kind === 'directory')
        return planFailure(`Source ${args.src} is a directory: copying directories with remote_src is not supported`);
      if (src.checksum === undefined) return planFailure(`Source ${args.src} not readable`);
    }
    return planWrite(state, args, { inline: args.content !== undefined, wantedChecksum: args.checksum });
  },
  apply: async (ctx, changes, _args, state) => (state.tree ? runChanges(ctx, changes) : applyWrite(ctx, changes)),
});
