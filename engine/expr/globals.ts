// Global functions of expressions: lookup()/query() with the env, file, vars, template, items,
// dict, first_found and sequence plugins, plus Jinja2's range(), dict(), namespace() and now().
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { PyDateTime } from './datetime.js';
import { hasOwn, isMapping, iterate, pyFunction, pyStr, truthy, tuple, typeError, type Dict } from './python.js';
import { Undefined, isUndefined } from './undefined.js';

/** The sentinel that `{{ omit }}` renders to: an argument equal to it is left out of module args. */
export const OMIT = '__omit_place_holder__tsplay';

/** What global functions need from the current render. */
export interface GlobalsEnv {
  /** A variable of the current render, or undefined if there is none. */
  variable(name: string): unknown;
  /** Render a template file with the current variables (lookup('template', ...)). */
  renderFile(path: string): string;
}

type Lookup = (terms: unknown[], kw: Dict, env: GlobalsEnv) => unknown[];

function searchDirs(env: GlobalsEnv, sub: string): string[] {
  const dirs: string[] = [];
  for (const name of ['role_path', 'playbook_dir']) {
    const d = env.variable(name);
    if (typeof d === 'string' && d) dirs.push(join(d, sub), d);
  }
  dirs.push(process.cwd());
  return dirs;
}

function findFile(env: GlobalsEnv, path: string, sub: string): string | undefined {
  if (isAbsolute(path)) return existsSync(path) ? path : undefined;
  return searchDirs(env, sub)
    .map((d) => resolve(d, path))
    .find((p) => existsSync(p));
}

function notFound(plugin: string, path: string, env: GlobalsEnv, sub: string): UserError {
  return new UserError('E_FILE_NOT_FOUND', `could not locate file in lookup ${plugin}: ${path}`, {
    hint: `searched ${isAbsolute(path) ? path : searchDirs(env, sub).join(', ')}`,
  });
}

// Ansible's first_found splits option values (not plain terms) on these characters.
function splitOn(v: unknown, chars: string): string[] {
  if (typeof v === 'string') return v.split(new RegExp(`[${chars}]`));
  return iterate(v ?? []).flatMap((x) => splitOn(x, chars));
}

// The candidates of first_found, as Ansible builds them: a dict term brings its own files, paths
// and skip; a string term is a file, unless files=/paths= were given to the lookup itself.
function firstFoundCandidates(terms: unknown[], kw: Dict): { search: string[]; skip: boolean } {
  let search: string[] = [];
  let skip = false;
  for (const term of terms) {
    let opts: Dict;
    if (isMapping(term)) opts = term;
    else if (typeof term === 'string') opts = kw;
    else if (Array.isArray(term)) {
      const inner = firstFoundCandidates(term, kw);
      search.push(...inner.search);
      skip = inner.skip;
      continue;
    } else
      throw typeError(`Invalid term supplied, can handle string, mapping or list of strings but got: ${typeof term} for ${pyStr(term)}`);
    const files = splitOn(opts.files, ',;');
    const paths = splitOn(opts.paths, ',:;');
    skip = truthy(opts.skip ?? false);
    if (paths.length) for (const p of paths) for (const f of files) search.push(isAbsolute(f) ? f : join(p, f));
    else if (files.length) search = files;
    else search.push(term as string);
  }
  return { search, skip };
}

function isRoleDir(path: string): boolean {
  const names = ['main.yml', 'main.yaml', 'main'];
  return [
    ...names.map((n) => join(path, n)),
    ...names.map((n) => join(path, 'tasks', n)),
    ...names.map((n) => join(path, '..', 'tasks', n)),
  ].some((p) => existsSync(p));
}

/**
 * Where Ansible finds a relative file of a lookup (its loader's path_dwim_relative_stack): in each
 * directory of ansible_search_path (the role's, then the task file's), under `subdir` and then
 * directly, and last in the playbook directory.
 */
export function searchStack(source: string, where: { searchPath: string[]; playbookDir: string; subdir: string }): string[] {
  if (source.startsWith('~')) source = join(process.env.HOME ?? '/', source.slice(1));
  if (isAbsolute(source)) return [source];
  const out: string[] = [];
  const first = source.split('/')[0];
  for (const path of where.searchPath) {
    const parent = resolve(path, '..');
    if (isRoleDir(path) && parent.endsWith('/tasks')) {
      out.push(join(parent, '..', where.subdir, source), join(parent, source));
    } else {
      if (first !== where.subdir) out.push(join(path, where.subdir, source));
      out.push(join(path, source));
    }
  }
  if (first !== where.subdir) out.push(join(where.playbookDir, where.subdir, source));
  out.push(join(where.playbookDir, source));
  return out;
}

/** Ansible's first_found lookup: the first existing file of the candidates, or none with skip. */
export function firstFound(terms: unknown[], kw: Dict, where: { searchPath: string[]; playbookDir: string; subdir: string }): string[] {
  const { search, skip } = firstFoundCandidates(terms, kw);
  for (const fn of search) {
    const found = searchStack(fn, where).find((p) => existsSync(p));
    if (found) return [found];
  }
  if (skip) return [];
  throw new UserError('E_FILE_NOT_FOUND', `No file was found when using first_found: ${search.join(', ')}`, {
    hint: 'add one of the files, or pass skip: true',
  });
}

const LOOKUPS: Record<string, Lookup> = {
  env: (terms, kw) => terms.map((t) => process.env[pyStr(t)] ?? (hasOwn(kw, 'default') ? kw.default : '')),
  file: (terms, kw, env) =>
    terms.map((t) => {
      const path = findFile(env, pyStr(t), 'files');
      if (!path) throw notFound('file', pyStr(t), env, 'files');
      let text = readFileSync(path, 'utf8');
      if (truthy(kw.rstrip ?? true)) text = text.trimEnd();
      if (truthy(kw.lstrip ?? false)) text = text.trimStart();
      return text;
    }),
  template: (terms, _kw, env) =>
    terms.map((t) => {
      const path = findFile(env, pyStr(t), 'templates');
      if (!path) throw notFound('template', pyStr(t), env, 'templates');
      return env.renderFile(path);
    }),
  vars: (terms, kw, env) =>
    terms.map((t) => {
      const v = env.variable(pyStr(t));
      if (v !== undefined && !isUndefined(v)) return v;
      if (hasOwn(kw, 'default')) return kw.default;
      throw new UserError('E_UNDEFINED', `No variable found with this name: ${pyStr(t)}`, {
        hint: `define ${pyStr(t)} or pass default= to the vars lookup`,
      });
    }),
  items: (terms) => terms.flatMap((t) => (Array.isArray(t) ? t : [t])),
  list: (terms) => terms,
  indexed_items: (terms) => terms.flatMap((t) => (Array.isArray(t) ? t : [t])).map((x, i) => tuple([i, x])),
  dict: (terms) =>
    terms.flatMap((t) => {
      if (!isMapping(t)) throw typeError("with_dict / lookup('dict') expects a dict");
      return Object.keys(t).map((k) => ({ key: k, value: t[k] }));
    }),
  first_found: (terms, kw, env) => {
    const search = env.variable('ansible_search_path');
    const playbookDir = env.variable('playbook_dir');
    return firstFound(terms, kw, {
      searchPath: Array.isArray(search) ? search.map(pyStr) : [],
      playbookDir: typeof playbookDir === 'string' ? playbookDir : process.cwd(),
      subdir: 'files',
    });
  },
  sequence: (terms) =>
    terms.flatMap((t) => {
      const args: Dict = {};
      for (const part of pyStr(t).split(/\s+/).filter(Boolean)) {
        const [k, v] = part.split('=');
        if (v === undefined) {
          const m = /^(\d+)-(\d+)(?:\/(\d+))?(?::(.*))?$/.exec(part);
          if (!m) throw typeError(`sequence: can't parse ${part}`);
          Object.assign(args, { start: m[1], end: m[2], stride: m[3] ?? '1', format: m[4] ?? '%d' });
        } else {
          args[k!] = v;
        }
      }
      const start = Number(args.start ?? 1);
      const stride = Number(args.stride ?? 1);
      const end = args.count !== undefined ? start + (Number(args.count) - 1) * stride : Number(args.end);
      const format = pyStr(args.format ?? '%d');
      const out: string[] = [];
      for (let i = start; stride > 0 ? i <= end : i >= end; i += stride)
        out.push(format.replace(/%(0?\d*)d/, (_m, w: string) => String(i).padStart(Number(w) || 0, w.startsWith('0') ? '0' : ' ')));
      return out;
    }),
};

const LOOKUP_OPTIONS = new Set(['wantlist', 'errors']);

function runLookup(env: GlobalsEnv, args: unknown[], kw: Dict, wantlist: boolean): unknown {
  const [name, ...terms] = args;
  const plugin = LOOKUPS[pyStr(name).replace(/^ansible\.(builtin|legacy)\./, '')];
  if (!plugin) {
    throw typeError(`lookup plugin '${pyStr(name)}' not found`, `tsplay provides: ${Object.keys(LOOKUPS).join(', ')}`);
  }
  const pluginKw = Object.fromEntries(Object.entries(kw).filter(([k]) => !LOOKUP_OPTIONS.has(k)));
  const errors = pyStr(kw.errors ?? 'strict');
  let ran: unknown[];
  try {
    ran = plugin(terms, pluginKw, env);
  } catch (e) {
    if (errors === 'ignore' || errors === 'warn') return wantlist ? [] : null;
    throw e;
  }
  if (wantlist || truthy(kw.wantlist ?? false)) return ran;
  if (ran.every((x) => typeof x === 'string')) return ran.join(',');
  return ran.length === 1 ? ran[0] : ran;
}

// Python range(): range(stop), range(start, stop[, step]).
function range(args: unknown[]): number[] {
  const n = args.map((a) => Number(a));
  const [start, stop, step] = n.length === 1 ? [0, n[0]!, 1] : [n[0]!, n[1]!, n[2] ?? 1];
  if (step === 0) throw typeError('range() arg 3 must not be zero');
  const len = Math.max(0, Math.ceil((stop - start) / step));
  if (len > 100000) throw typeError('range too big, the maximum is 100000 items');
  return Array.from({ length: len }, (_, i) => start + i * step);
}

/** The global names of expressions, bound to the render they are called from. */
export function makeGlobals(env: GlobalsEnv): Record<string, unknown> {
  return {
    True: true,
    False: false,
    None: null,
    omit: OMIT,
    lookup: pyFunction((args, kw) => runLookup(env, args, kw, false)),
    query: pyFunction((args, kw) => runLookup(env, args, kw, true)),
    q: pyFunction((args, kw) => runLookup(env, args, kw, true)),
    range: pyFunction((args) => range(args)),
    dict: pyFunction((args, kw) => {
      const out: Dict = {};
      if (args.length) {
        const src = args[0];
        if (isMapping(src)) Object.assign(out, src);
        else for (const pair of iterate(src)) out[pyStr(iterate(pair)[0])] = iterate(pair)[1];
      }
      return Object.assign(out, kw);
    }),
    namespace: pyFunction((args, kw) => Object.assign({}, ...args.filter(isMapping), kw)),
    now: pyFunction((args, kw) => {
      const utc = truthy(args[0] ?? kw.utc ?? false);
      const fmt = args[1] ?? kw.fmt;
      const dt = new PyDateTime(new Date(), utc);
      return fmt === undefined || fmt === null ? dt : dt.strftime(pyStr(fmt));
    }),
    undef: pyFunction((args) => new Undefined(args.length ? pyStr(args[0]) : 'undefined value', undefined)),
  };
}
