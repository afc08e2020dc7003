// apt_repository: one-line apt sources (`deb ...`, `deb-src ...`) kept present or absent, with
// ansible-core 2.14's rules: a line counts as present when any sources file
// (/etc/apt/sources.list, /etc/apt/sources.list.d/*.list) holds it, once normalised (spaces
// collapsed, a `# comment` after it set apart); a disabled copy (`# deb ...`) is enabled rather
// than a second one added; a new line goes to sources.list.d/<filename>.list, the name derived
// from the repository's URL unless given. A file that changes is written in the normalised form
// Ansible writes, atomically; a file left with no line is removed. apt-get update runs only after
// a change. No python-apt is needed on the host.
import {
  applyFileEdits,
  defineModule,
  filesFact,
  followed,
  type ModeSpec,
  noop,
  planFailure,
  planFileEdit,
  sh,
  type Change,
  type FileFact,
  type ModuleContext,
  type PlannedCommand,
  type Plan,
} from '../engine/index.js';

/** apt_repository's arguments, complete after validation. */
export interface AptRepositoryArgs {
  repo: string;
  state: 'present' | 'absent';
  mode?: ModeSpec;
  update_cache: boolean;
  update_cache_retries: number;
  update_cache_retry_max_delay: number;
  filename?: string;
  install_python_apt: boolean;
  validate_certs: boolean;
  codename?: string;
}

/** The sources files as the gather read them: sources.list first, then sources.list.d/*.list, and the target file. */
export interface AptSourcesState {
  files: FileFact[];
}

export const SOURCES_LIST = '/etc/apt/sources.list';
export const SOURCES_DIR = '/etc/apt/sources.list.d';
const VALID_TYPES = ['deb', 'deb-src'];

/** One line of a sources file as Ansible parses it. */
export interface SourceLine {
  valid: boolean;
  enabled: boolean;
  source: string;
  comment: string;
}

/** Ansible's reading of one line: `# ` disables it, text after a later `#` is its comment, spaces collapse in a valid source. */
export function parseSourceLine(raw: string): SourceLine {
  let line = raw.trim();
  let enabled = true;
  let comment = '';
  if (line.startsWith('#')) {
    enabled = false;
    line = line.slice(1);
  }
  const i = line.indexOf('#');
  if (i > 0) {
    comment = line.slice(i + 1).trim();
    line = line.slice(0, i);
  }
  let source = line.trim();
  let valid = false;
  if (source) {
    const chunks = source.split(/\s+/);
    if (VALID_TYPES.includes(chunks[0]!)) {
      valid = true;
      source = chunks.join(' ');
    }
  }
  return { valid, enabled, source, comment };
}

/** A line as Ansible writes it back. */
const renderLine = (l: SourceLine) => `${l.enabled ? '' : '# '}${l.source}${l.comment ? ` # ${l.comment}` : ''}\n`;

/** The lines of a file as Python iterates a text file (universal newlines). */
const splitLines = (text: string) => text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];

/** The file a new line goes to: sources.list.d/<filename or a name from the URL>.list (a name with a / is a path). */
export function sourcesFile(repo: string, filename: string | undefined): string {
  let name: string;
  if (filename !== undefined) name = `${filename}.list`;
  else {
    const line = repo.replace(/\[[^\]]+\]/g, '').replace(/\w+:\/\//g, '');
    const parts = line.split(/\s+/).filter((p) => p !== '' && !VALID_TYPES.includes(p));
    let first = parts[0] ?? '';
    if (first.includes('@')) first = first.slice(first.indexOf('@') + 1);
    name = `${first
      .replace(/[^a-zA-Z0-9]/g, ' ')
      .split(/\s+/)
      .filter(Boolean)
      .join('_')}.list`;
  }
  return name.includes('/') ? name : `${SOURCES_DIR}/${name}`;
}

/** The update command: apt-get update, retried with Ansible's exponential backoff (capped). */
function updateCommand(args: AptRepositoryArgs) {
  const delays = Array.from({ length: Math.max(args.update_cache_retries, 1) - 1 }, (_, r) =>
    String(Math.min(2 ** r, args.update_cache_retry_max_delay)),
  );
  return sh`for d in ${delays} last; do DEBIAN_FRONTEND=noninteractive apt-get update -q && exit 0; [ "$d" = last ] && exit 1; sleep "$d"; done`;
}

const UPDATE_SUMMARY = 'apt-get update';

/** The plan of apt_repository: pure, from the sources files and the arguments. */
export function planAptRepository(state: AptSourcesState, args: AptRepositoryArgs): Plan {
  const result = { repo: args.repo, state: args.state };
  if (!args.repo) return planFailure("Please set argument 'repo' to a non-empty value");
  if (args.repo.startsWith('ppa:')) return planFailure('PPA repositories (ppa:) are Ubuntu only and not supported by tsplay');
  const wanted = parseSourceLine(args.repo);
  if (!wanted.valid || !wanted.enabled) return planFailure(`Invalid repository string: ${args.repo.trim().replace(/^#/, '')}`);
  const target = sourcesFile(wanted.source, args.filename);

  const files = new Map<string, { fact: FileFact; before: SourceLine[]; after: SourceLine[] }>();
  for (const fact of state.files) {
    if (files.has(fact.path)) continue;
    const f = followed(fact);
    if (!f.exists || f.stat?.type !== 'file') {
      if (fact.path === target) files.set(fact.path, { fact, before: [], after: [] });
      continue;
    }
    if (fact.content === undefined || fact.unreadable) return planFailure(`cannot read ${fact.path}`);
    const lines = splitLines(Buffer.from(fact.content, 'base64').toString('utf8')).map(parseSourceLine);
    files.set(fact.path, { fact, before: lines, after: lines.map((l) => ({ ...l })) });
  }

  let appended = false;
  if (args.state === 'present') {
    let found = false;
    for (const f of files.values())
      for (const l of f.after)
        if (l.valid && l.source === wanted.source) {
          l.enabled = true;
          found = true;
        }
    if (!found) {
      const f = files.get(target);
      if (!f) return planFailure(`internal: ${target} was not probed`);
      f.after.push({ valid: true, enabled: true, source: wanted.source, comment: '' });
      appended = true;
    }
  } else {
    for (const f of files.values()) f.after = f.after.filter((l) => !(l.valid && l.enabled && l.source === wanted.source));
  }

  const dump = (lines: SourceLine[]) => lines.map(renderLine).join('');
  const changes: Change[] = [];
  for (const [path, f] of files) {
    const before = dump(f.before);
    const after = dump(f.after);
    if (before === after) continue;
    const existed = f.before.length > 0;
    const diff = { before, after, beforeHeader: existed ? path : '/dev/null', afterHeader: f.after.length > 0 ? path : '/dev/null' };
    if (f.after.length === 0) {
      changes.push({ summary: `remove ${path} (no source left)`, commands: [{ cmd: sh`rm -f ${path}` }], diff });
      continue;
    }
    const change = planFileEdit(f.fact, after, {
      summary: `${args.state === 'present' ? 'add' : 'remove'} ${wanted.source} ${args.state === 'present' ? 'to' : 'from'} ${path}`,
      attributes: appended && path === target ? { mode: args.mode ?? '0644' } : {},
    });
    changes.push({ ...change, diff });
  }
  if (changes.length === 0)
    return noop(args.state === 'present' ? `${wanted.source} is already a source` : `${wanted.source} is not a source`, result);
  if (args.update_cache) changes.push({ summary: UPDATE_SUMMARY, commands: [{ cmd: updateCommand(args) }] });
  return { changes, result };
}

/**
 * The commands that put the sources files at `paths` back as the gather found them, when the
 * apt-get update after the change failed: a file that did not exist is removed, another one
 * written back (through a temp file renamed over it, with its old mode).
 */
export function revertCommands(state: AptSourcesState, paths: string[]): PlannedCommand[] {
  return paths.map((path) => {
    const fact = state.files.find((f) => f.path === path);
    const f = fact && followed(fact);
    if (!fact || !f?.exists || fact.content === undefined) return { cmd: sh`rm -f ${path}` };
    const mode = f.stat?.mode ?? '0644';
    return {
      cmd: sh`t=${`${f.path}.tsplay-revert`}; cat > "$t" && chmod ${mode} "$t" && mv -f "$t" ${f.path}`,
      stdin: Buffer.from(fact.content, 'base64'),
    };
  });
}

/** The sources files: sources.list, every sources.list.d/*.list, and `target` (which may not exist yet). */
export async function gatherSources(ctx: ModuleContext, target: string): Promise<FileFact[]> {
  const listing = await ctx.run(sh`for f in ${SOURCES_DIR}/*.list; do [ -f "$f" ] && printf '%s\n' "$f"; done; true`);
  const listed = listing.stdout.split('\n').filter(Boolean);
  const paths = [...new Set([SOURCES_LIST, ...listed, target])];
  return ctx.fact(
    filesFact,
    paths.map((path) => ({ path, content: true })),
  );
}

export default defineModule<AptRepositoryArgs, AptSourcesState>({
  name: 'apt_repository',
  aliases: ['ansible.builtin.apt_repository'],
  description:
    'Add or remove a one-line apt source (deb or deb-src) in /etc/apt/sources.list.d/<filename>.list. A line already in any sources file (spaces and comments aside) counts as present; a disabled copy is enabled. apt-get update runs after a change. Needs no python-apt on the host (install_python_apt is accepted and ignored).',
  schema: {
    type: 'object',
    properties: {
      repo: { type: 'string', description: "The source line, e.g. 'deb [arch=arm64] http://example/debian bookworm main'." },
      state: { type: 'string', enum: ['absent', 'present'], default: 'present', description: 'Whether the source should be there or not.' },
      mode: { type: ['string', 'integer'], description: 'Mode of a sources file a line is added to (default 0644).' },
      update_cache: {
        type: 'boolean',
        default: true,
        aliases: ['update-cache'],
        description: 'Run apt-get update after a change.',
      },
      update_cache_retries: { type: 'integer', default: 5, description: 'How many times apt-get update is tried.' },
      update_cache_retry_max_delay: {
        type: 'integer',
        default: 12,
        description: 'The longest wait, in seconds, between tries (they double from 1).',
      },
      filename: {
        type: 'string',
        description: 'The name of the file in sources.list.d, without .list (default: from the URL).',
      },
      install_python_apt: { type: 'boolean', default: true, description: 'Accepted and ignored: tsplay needs no python-apt.' },
      validate_certs: { type: 'boolean', default: true, description: 'Accepted for compatibility (used by Ansible for PPAs only).' },
      codename: { type: 'string', description: 'Accepted for compatibility (used by Ansible for PPAs only).' },
    },
    required: ['repo'],
    additionalProperties: false,
  },
  examples: `- name: The cluster's local mirror
  apt_repository:
    repo: deb [arch=arm64 signed-by=/etc/apt/keyrings/local.asc] http://10.213.1.1/debian bookworm main
    filename: local-mirror

- name: Remove it
  apt_repository:
    repo: deb [arch=arm64 signed-by=/etc/apt/keyrings/local.asc] http://10.213.1.1/debian bookworm main
    state: absent`,
  async gather(ctx, args) {
    const wanted = parseSourceLine(args.repo);
    return { files: await gatherSources(ctx, sourcesFile(wanted.source, args.filename)) };
  },
  plan: planAptRepository,
  async apply(ctx, changes, _args, state) {
    const edits = changes.filter((c) => c.summary !== UPDATE_SUMMARY);
    const done = await applyFileEdits(ctx, edits);
    if (done.failure) return done.failure;
    const update = changes.find((c) => c.summary === UPDATE_SUMMARY);
    if (update) {
      const r = await ctx.run(update.commands[0]!.cmd);
      if (r.rc !== 0) {
        // as Ansible: the sources go back to what they were, so that a bad one does not break apt
        const touched = changes.flatMap((c) =>
          c.diff ? [c.diff.afterHeader === '/dev/null' ? c.diff.beforeHeader! : c.diff.afterHeader!] : [],
        );
        for (const cmd of revertCommands(state, touched)) await ctx.run(cmd.cmd, cmd.stdin === undefined ? {} : { stdin: cmd.stdin });
        return {
          failed: `Failed to update apt cache: ${r.stderr.trim() || 'unknown reason'}`,
          result: { rc: r.rc, stdout: r.stdout, stderr: r.stderr },
        };
      }
    }
    return {};
  },
});
