// pip: Python packages in a virtualenv or for the host's Python (ansible.builtin.pip). One remote
// command reads whether the virtualenv exists, which pip to run and what it has installed (pip list
// --format=json; for state=latest also what is outdated, asked with the task's index options); the
// plan compares requirements with PEP 440 specifiers, so check mode and the second run know
// whether pip would change anything. Names that are paths or URLs (other than a wheel file, whose
// name says its version) cannot be known without running pip: they are always installed.
import {
  defineModule,
  noop,
  parseProbeAll,
  planFailure,
  probeAllCommand,
  sh,
  shellSplit,
  type Change,
  type ModuleContext,
  type Plan,
  type ShellCommand,
} from '../engine/index.js';

/** pip's arguments, complete after validation. */
export interface PipArgs {
  name?: string[];
  version?: string;
  requirements?: string;
  state: 'present' | 'absent' | 'latest' | 'forcereinstall';
  virtualenv?: string;
  virtualenv_site_packages: boolean;
  virtualenv_command: string;
  virtualenv_python?: string;
  extra_args?: string;
  editable: boolean;
  chdir?: string;
  executable?: string;
  umask?: string;
}

/** What the gather found. */
export interface PipState {
  /** The virtualenv asked for exists (has bin/activate); always true without one. */
  venvExists: boolean;
  /** The pip command found on the host, as words (`/srv/venv/bin/pip3`, `python3 -m pip.__main__`). */
  pip?: string[];
  /** Installed distributions: canonical name -> version. */
  installed?: Record<string, string>;
  /** For state=latest: canonical names with a newer version on the index. */
  outdated?: string[];
  /** The requirements file's text, when one is given and readable. */
  requirements?: string;
  /** Why the state could not be read (pip missing, chdir missing, requirements unreadable). */
  error?: string;
}

// ---------------------------------------------------------------------------------------------
// PEP 440 versions and PEP 508 requirements, as far as deciding "is it installed" needs them.

interface Version {
  epoch: number;
  release: number[];
  pre?: [number, number];
  post?: number;
  dev?: number;
}

const VERSION_RE =
  /^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?(\d*))?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d*))?(?:[-_.]?(dev)[-_.]?(\d*))?(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\s*$/i;

/** A PEP 440 version, or undefined for one that is not (compared as a plain string then). */
export function parseVersion(text: string): Version | undefined {
  const m = VERSION_RE.exec(text);
  if (!m) return undefined;
  const preKind = m[3]?.toLowerCase();
  const preRank = preKind === undefined ? undefined : preKind.startsWith('a') ? 0 : preKind.startsWith('b') ? 1 : 2;
  return {
    epoch: Number(m[1] ?? 0),
    release: m[2]!.split('.').map(Number),
    pre: preRank === undefined ? undefined : [preRank, Number(m[4] || 0)],
    post: m[5] !== undefined ? Number(m[5]) : m[6] !== undefined ? Number(m[7] || 0) : undefined,
    dev: m[8] !== undefined ? Number(m[9] || 0) : undefined,
  };
}

// packaging's sort key: a dev release sorts before its pre-releases, a final after them.
function sortKey(v: Version): number[] {
  const pre = v.pre ?? (v.post === undefined && v.dev !== undefined ? [-Infinity, 0] : [Infinity, 0]);
  return [...pre, v.post ?? -Infinity, v.dev ?? Infinity];
}

/** -1, 0 or 1 as a < b, a == b, a > b (trailing zeros of the release do not count). */
export function compareVersions(a: Version, b: Version): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  const n = Math.max(a.release.length, b.release.length);
  for (let i = 0; i < n; i++) {
    const x = a.release[i] ?? 0;
    const y = b.release[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  const ka = sortKey(a);
  const kb = sortKey(b);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
  return 0;
}

/** Does `version` satisfy one specifier clause (`>=1.2`, `==1.*`, `~=2.1`)? Pre-releases count. */
function satisfiesClause(version: string, op: string, wanted: string): boolean {
  if (op === '===') return version.trim() === wanted.trim();
  const v = parseVersion(version);
  if (op === '==' || op === '!=') {
    let equal: boolean;
    if (wanted.endsWith('.*')) {
      const prefix = parseVersion(wanted.slice(0, -2));
      equal =
        v !== undefined && prefix !== undefined && v.epoch === prefix.epoch && prefix.release.every((x, i) => (v.release[i] ?? 0) === x);
    } else {
      const w = parseVersion(wanted);
      equal = v !== undefined && w !== undefined ? compareVersions(v, w) === 0 : version.trim() === wanted.trim();
    }
    return op === '==' ? equal : !equal;
  }
  const w = parseVersion(wanted);
  if (v === undefined || w === undefined) return false;
  const c = compareVersions(v, w);
  switch (op) {
    case '>=':
      return c >= 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '<':
      return c < 0;
    case '~=': {
      // ~=2.1.3 is >=2.1.3 and ==2.1.*
      if (c < 0 || w.release.length < 2) return false;
      return w.release.slice(0, -1).every((x, i) => (v.release[i] ?? 0) === x);
    }
    default:
      return false;
  }
}

/** A requested package: a PEP 508 requirement (`name`, `canonical`, `specs`) or something else. */
export interface Requirement {
  /** As given (passed to pip unchanged). */
  text: string;
  /** The canonical (PEP 503) name of a plain requirement, or of a wheel file's distribution. */
  canonical?: string;
  /** The version clauses of a plain requirement: [operator, version]. */
  specs: [string, string][];
  /** A wheel file named by path or URL: its version, from the file name. */
  wheelVersion?: string;
}

/** PEP 503: runs of -, _ and . become one -, lower case. */
export const canonicalName = (name: string) => name.replace(/[-_.]+/g, '-').toLowerCase();

const NAME_RE = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*?)\s*(?:;.*)?$/;
const CLAUSE_RE = /^\s*(~=|===|==|!=|<=|>=|<|>)\s*([^\s,]+)\s*$/;

/** Parse one requirement as pip reads it. */
export function parseRequirement(text: string): Requirement {
  const wheel = /(?:^|\/)([^/]+?)-([^-/]+?)(?:-\d[^-/]*)?-[^-/]+-[^-/]+-[^-/]+\.whl$/.exec(text.trim());
  if (wheel) return { text, canonical: canonicalName(wheel[1]!), specs: [], wheelVersion: wheel[2]! };
  const m = NAME_RE.exec(text);
  if (!m) return { text, specs: [] };
  const rest = m[3]!.replace(/^\((.*)\)$/, '$1');
  const specs: [string, string][] = [];
  if (rest !== '') {
    for (const clause of rest.split(',')) {
      const c = CLAUSE_RE.exec(clause);
      if (!c) return { text, specs: [] };
      specs.push([c[1]!, c[2]!]);
    }
  }
  return { text, canonical: canonicalName(m[1]!), specs };
}

/** Is an installed version enough for this requirement? Undefined: pip must be run to know. */
export function isSatisfied(req: Requirement, installed: Record<string, string>): boolean | undefined {
  if (req.canonical === undefined) return undefined;
  const have = installed[req.canonical];
  if (have === undefined) return false;
  if (req.wheelVersion !== undefined) return satisfiesClause(have, '==', req.wheelVersion);
  return req.specs.every(([op, v]) => satisfiesClause(have, op, v));
}

// Ansible's recovery of names that a comma split apart: 'a>1', '<2' -> 'a>1,<2'.
export function recoverPackageNames(names: string[]): string[] {
  const parts = names.flatMap((n) => n.split(','));
  const out: string[] = [];
  let current: string[] = [];
  let inBrackets = false;
  for (const part of parts) {
    const isName = !/^\s*(>=|<=|>|<|==|!=|~=)/.test(part);
    if (isName && !inBrackets) {
      if (current.length) out.push(current.join(','));
      current = [];
    }
    if (part.includes('[')) inBrackets = true;
    if (inBrackets && part.includes(']')) inBrackets = false;
    current.push(part);
  }
  out.push(current.join(','));
  return out;
}

/** The requirements of a requirements file, or undefined when a line needs pip to decide. */
export function parseRequirementsFile(text: string): Requirement[] | undefined {
  const reqs: Requirement[] = [];
  for (const raw of text.replace(/\\\n/g, '').split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    if (line.startsWith('-')) {
      // includes, constraints and editables need pip; index options do not change what is wanted
      if (/^(-r|-c|-e|--requirement|--constraint|--editable)\b/.test(line)) return undefined;
      continue;
    }
    const req = parseRequirement(line);
    if (req.canonical === undefined || req.wheelVersion !== undefined) return undefined;
    reqs.push(req);
  }
  return reqs;
}

// ---------------------------------------------------------------------------------------------
// The host side.

const VENV_STYLE = /pyvenv|-m venv/;

/** The virtualenv's path as Ansible computes it (relative to chdir when both are given). */
function venvPath(args: PipArgs): string | undefined {
  if (args.virtualenv === undefined) return undefined;
  if (args.chdir !== undefined && !args.virtualenv.startsWith('/')) return `${args.chdir.replace(/\/$/, '')}/${args.virtualenv}`;
  return args.virtualenv;
}

/** The directory pip runs in: chdir, else /tmp (Ansible's default, away from the become user's home). */
const workDir = (args: PipArgs) => args.chdir ?? '/tmp';

// Shell functions that find pip as Ansible does: the virtualenv's pip3 or pip; the executable
// (a path, or a name on PATH); else the interpreter's pip module (python3, or the host's
// ansible_python_interpreter), else pip3 on PATH.
function pipFunctions(args: PipArgs, interpreter: string): ShellCommand {
  const env = venvPath(args);
  let find: ShellCommand;
  if (env !== undefined) {
    find = sh`for p in ${`${env}/bin/pip3`} ${`${env}/bin/pip`}; do if [ -x "$p" ]; then printf '%s\\n' "$p"; return 0; fi; done
echo ${`Unable to find pip in the virtualenv, ${env}, under any of these names: pip3, pip. Make sure pip is present in the virtualenv.`} >&2; return 127`;
  } else if (args.executable !== undefined && args.executable.startsWith('/')) {
    find = sh`printf '%s\\n' ${args.executable}`;
  } else if (args.executable !== undefined) {
    find = sh`command -v ${args.executable} || { echo ${`Unable to find any of ${args.executable} to use.  pip needs to be installed.`} >&2; return 127; }`;
  } else {
    find = sh`if py=$(command -v ${interpreter}) && "$py" -c 'import pip' >/dev/null 2>&1; then printf '%s\\n' "$py" -m pip.__main__; return 0; fi
command -v pip3 || { echo 'Unable to find any of pip3 to use.  pip needs to be installed.' >&2; return 127; }`;
  }
  return sh`tsplay_pip_path() {
${find}
}
tsplay_pip() { tsplay_p=$(tsplay_pip_path) || return 127; tsplay_ifs=$IFS; IFS='
'; set -- $tsplay_p "$@"; IFS=$tsplay_ifs; PIP_DISABLE_PIP_VERSION_CHECK=1 "$@"; }
cd ${workDir(args)} 2>/dev/null`;
}

// Index options of extra_args, for asking what is outdated (pip list takes the same ones).
function indexOptions(extra: string[]): string[] {
  const out: string[] = [];
  const withValue = ['-i', '--index-url', '--extra-index-url', '-f', '--find-links', '--trusted-host'];
  for (let i = 0; i < extra.length; i++) {
    const a = extra[i]!;
    if (withValue.includes(a) && i + 1 < extra.length) out.push(a, extra[++i]!);
    else if (withValue.some((o) => o.startsWith('--') && a.startsWith(`${o}=`))) out.push(a);
    else if (a === '--no-index' || a === '--pre') out.push(a);
  }
  return out;
}

/** The gather as one command (see probeAll). */
export function pipGatherCommand(args: PipArgs, interpreter = 'python3'): ShellCommand {
  const env = venvPath(args);
  const probes: Record<string, ShellCommand | { cmd: ShellCommand; stderr: 'pass' }> = {
    cwd: sh`cd ${workDir(args)}`,
  };
  if (env !== undefined) probes.venv = sh`test -e ${`${env}/bin/activate`}`;
  probes.pip = sh`tsplay_pip_path`;
  probes.list = { cmd: sh`tsplay_pip list --format=json`, stderr: 'pass' };
  if (args.state === 'latest') {
    const opts = indexOptions(args.extra_args === undefined ? [] : shellSplit(args.extra_args));
    probes.outdated = { cmd: sh`tsplay_pip list --outdated --format=json ${opts}`, stderr: 'pass' };
  }
  if (args.requirements !== undefined) probes.req = sh`cat -- ${args.requirements}`;
  return probeAllCommand(probes, { setup: pipFunctions(args, interpreter) });
}

function namesOf(json: string): Record<string, string> | undefined {
  try {
    const list = JSON.parse(json) as { name: string; version: string }[];
    return Object.fromEntries(list.map((p) => [canonicalName(p.name), p.version]));
  } catch {
    return undefined;
  }
}

/** Parse the gather's output (stderr: what pip printed there). */
export function parsePipGather(stdout: string, stderr: string, args: PipArgs): PipState {
  const p = parseProbeAll<'cwd' | 'venv' | 'pip' | 'list' | 'outdated' | 'req'>(stdout);
  const venvExists = args.virtualenv === undefined || p.venv?.rc === 0;
  const state: PipState = { venvExists };
  if (p.cwd?.rc !== 0) return { ...state, error: `chdir ${workDir(args)}: ${(p.cwd?.out ?? '').trim() || 'no such directory'}` };
  if (args.requirements !== undefined) {
    if (p.req?.rc === 0) state.requirements = p.req.out;
  }
  if (!venvExists) return state;
  if (p.pip?.rc !== 0) return { ...state, error: stderr.trim() || (p.pip?.out ?? '').trim() || 'pip was not found' };
  state.pip = p.pip.out.trim().split('\n');
  const installed = p.list?.rc === 0 ? namesOf(p.list.out) : undefined;
  if (installed === undefined) return { ...state, error: `pip list failed: ${(stderr || p.list?.out || '').trim()}` };
  state.installed = installed;
  if (p.outdated?.rc === 0) state.outdated = Object.keys(namesOf(p.outdated.out) ?? {});
  return state;
}

// ---------------------------------------------------------------------------------------------
// The plan.

const STATE_WORDS: Record<PipArgs['state'], string[]> = {
  present: ['install'],
  absent: ['uninstall', '-y'],
  latest: ['install', '-U'],
  forcereinstall: ['install', '-U', '--force-reinstall'],
};

/** The plan of pip: pure, from what the gather found and the arguments. */
export function planPip(cur: PipState, args: PipArgs): Plan {
  const env = venvPath(args);
  const result: Record<string, unknown> = {
    name: args.name ?? null,
    version: args.version ?? null,
    state: args.state,
    requirements: args.requirements ?? null,
    virtualenv: env ?? null,
  };
  if (args.state === 'latest' && args.version !== undefined) return planFailure('version is incompatible with state=latest', result);
  if (args.virtualenv_python !== undefined && VENV_STYLE.test(args.virtualenv_command)) {
    return planFailure('virtualenv_python should not be used when using the venv module or pyvenv as virtualenv_command', result);
  }
  let extra = args.extra_args === undefined ? [] : shellSplit(args.extra_args);
  if (args.editable && !extra.includes('-e')) extra = [...extra, '-e'];

  let reqs: Requirement[] | undefined;
  if (args.name !== undefined) {
    reqs = recoverPackageNames(args.name).map(parseRequirement);
    if (args.version !== undefined) {
      if (reqs.length > 1) {
        return planFailure(
          "'version' argument is ambiguous when installing multiple package distributions. Please specify version restrictions next to each package in 'name' argument.",
          result,
        );
      }
      if (reqs[0]!.specs.length > 0) {
        return planFailure(
          "The 'version' argument conflicts with any version specifier provided along with a package name. Please keep the version specifier, but remove the 'version' argument.",
          result,
        );
      }
      const v = args.version.trimStart();
      reqs[0] = parseRequirement(`${reqs[0]!.text}${/^\d/.test(v) ? '==' : ' '}${v}`);
    }
  }
  if (cur.error !== undefined) return planFailure(cur.error, result);
  if (args.requirements !== undefined && cur.requirements === undefined && cur.venvExists) {
    return planFailure(`cannot read the requirements file ${args.requirements} (in ${workDir(args)})`, result);
  }

  const changes: Change[] = [];
  const cd = sh`cd ${workDir(args)} && ${args.umask === undefined ? sh`` : sh`umask ${args.umask} && `}`;
  let pip = cur.pip;
  if (!cur.venvExists) {
    const words = shellSplit(args.virtualenv_command);
    if (args.virtualenv_site_packages) words.push('--system-site-packages');
    if (!VENV_STYLE.test(args.virtualenv_command) && args.virtualenv_python !== undefined) words.push(`-p${args.virtualenv_python}`);
    words.push(env!);
    changes.push({ summary: `create virtualenv ${env}`, commands: [{ cmd: sh`${cd}${words}` }] });
    pip = [`${env}/bin/pip3`];
  }

  // what is installed, as far as it can be known before pip runs (a new virtualenv has nothing)
  const installed = cur.venvExists ? (cur.installed ?? {}) : {};
  const outdated = new Set(cur.outdated ?? []);
  const wanted = reqs ?? (args.requirements !== undefined ? parseRequirementsFile(cur.requirements ?? '') : undefined);
  let todo: Requirement[] | undefined; // undefined: pip must run to know
  if (args.state === 'forcereinstall' || wanted === undefined || (args.state === 'latest' && cur.outdated === undefined)) {
    todo = undefined;
  } else {
    const pending: Requirement[] = [];
    let unknown = false;
    for (const req of wanted) {
      const ok = isSatisfied(req, installed);
      if (ok === undefined) unknown = true;
      else if (args.state === 'present' && !ok) pending.push(req);
      else if (args.state === 'absent' && ok) pending.push(req);
      else if (args.state === 'latest' && (!ok || outdated.has(req.canonical!))) pending.push(req);
    }
    todo = unknown ? undefined : pending;
  }

  const what = args.name !== undefined ? (reqs ?? []).map((r) => r.text) : [`-r`, args.requirements!];
  const cmd = [...pip!, ...STATE_WORDS[args.state], ...extra, ...what];
  result.cmd = cmd;
  if (todo !== undefined && todo.length === 0 && changes.length === 0) {
    const why =
      args.state === 'absent'
        ? 'none of them is installed'
        : args.state === 'latest'
          ? 'all installed, none outdated'
          : 'all installed with a matching version';
    return noop(`${(wanted ?? []).map((r) => r.text).join(', ') || 'nothing requested'}: ${why}`, result);
  }
  const verb = { present: 'install', absent: 'uninstall', latest: 'upgrade', forcereinstall: 'reinstall' }[args.state];
  const names = (todo ?? wanted ?? []).map((r) => r.text).join(', ') || `-r ${args.requirements}`;
  if (!(args.state === 'absent' && todo !== undefined && todo.length === 0)) {
    const env2 = env === undefined ? sh`` : sh`PATH=${`${env}/bin`}:"$PATH" `;
    changes.push({
      summary: `pip ${verb} ${names}`,
      commands: [{ cmd: sh`${cd}${env2}PIP_DISABLE_PIP_VERSION_CHECK=1 ${cmd}` }],
    });
  }
  return { changes, result, alwaysChanges: todo === undefined };
}

/** Run the planned commands, keeping pip's output for the result, failing as Ansible does. */
async function applyPip(
  ctx: ModuleContext,
  changes: Change[],
  args: PipArgs,
): Promise<{ result?: Record<string, unknown>; failed?: string }> {
  let stdout = '';
  let stderr = '';
  for (const change of changes) {
    for (const c of change.commands) {
      const r = await ctx.run(c.cmd);
      stdout += r.stdout;
      stderr += r.stderr;
      const notInstalled = args.state === 'absent' && r.rc === 1 && /not installed/.test(r.stdout + r.stderr);
      if (r.rc !== 0 && !notInstalled) {
        const msg = `${stdout ? `stdout: ${stdout}` : ''}${stderr ? `\n:stderr: ${stderr}` : ''}` || `${change.summary}: rc=${r.rc}`;
        return { failed: msg, result: { stdout, stderr } };
      }
    }
  }
  return { result: { stdout, stderr } };
}

const interpreterOf = (ctx: ModuleContext) => {
  const v = ctx.vars.ansible_python_interpreter;
  return typeof v === 'string' && v !== '' && !v.startsWith('auto') ? v : 'python3';
};

export default defineModule<PipArgs, PipState>({
  name: 'pip',
  aliases: ['ansible.builtin.pip'],
  description:
    'Manage Python packages with pip, for the host\'s python3 or in a virtualenv (created when missing, with virtualenv_command, default "python3 -m venv"). Installed packages are read with pip list and compared with PEP 440 specifiers, so check mode and a second run say exactly whether pip would change something; names that are paths or URLs (except wheel files) are always installed.',
  schema: {
    type: 'object',
    properties: {
      name: {
        type: 'array',
        items: { type: 'string' },
        description: 'Packages (with optional version specifiers: "flask>=2,<3"), paths or URLs to install.',
      },
      version: { type: 'string', description: 'The version of the one package in name (==version, or a specifier).' },
      requirements: { type: 'string', description: 'A pip requirements file (relative to chdir).' },
      state: {
        type: 'string',
        enum: ['present', 'absent', 'latest', 'forcereinstall'],
        default: 'present',
        description: 'present, absent, latest (upgrade when the index has newer), forcereinstall.',
      },
      virtualenv: { type: 'string', description: 'A virtualenv to install into; created when it does not exist.' },
      virtualenv_site_packages: { type: 'boolean', default: false, description: 'Give a new virtualenv the global site-packages.' },
      virtualenv_command: {
        type: 'string',
        default: 'python3 -m venv',
        description: 'The command that creates the virtualenv (Ansible\'s default is "virtualenv", often missing on Debian).',
      },
      virtualenv_python: { type: 'string', description: 'The Python of a new virtualenv (virtualenv -p; not with venv).' },
      extra_args: { type: 'string', description: 'More pip arguments ("--no-index --find-links /srv/wheels").' },
      editable: { type: 'boolean', default: false, description: 'Pass -e (develop mode).' },
      chdir: { type: 'string', description: 'Run pip in this directory (default /tmp).' },
      executable: { type: 'string', description: 'The pip to run (a path or a name on PATH); not with virtualenv.' },
      umask: { type: 'string', description: 'The umask pip runs with (octal: "0022").' },
    },
    requiredOneOf: [['name', 'requirements']],
    mutuallyExclusive: [
      ['name', 'requirements'],
      ['executable', 'virtualenv'],
    ],
    additionalProperties: false,
  },
  examples: `- name: A virtualenv with the app's packages
  pip:
    name: ["flask>=2,<3", gunicorn]
    virtualenv: /srv/app/venv

- name: From a local wheel directory, no index
  pip:
    name: mytool==1.2
    virtualenv: /opt/mytool
    extra_args: --no-index --find-links /srv/wheels

- pip:
    requirements: /srv/app/requirements.txt
    virtualenv: /srv/app/venv`,
  async gather(ctx, args) {
    const r = await ctx.run(pipGatherCommand(args, interpreterOf(ctx)));
    return parsePipGather(r.stdout, r.stderr, args);
  },
  plan: planPip,
  apply: (ctx, changes, args) => applyPip(ctx, changes, args),
});
