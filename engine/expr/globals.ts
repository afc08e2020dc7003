// Global functions of expressions: lookup()/query() with the env, file, fileglob, pipe, lines,
// vars, varnames, template, items, dict, subelements, first_found and sequence plugins, plus
// Jinja2's range(), dict(), namespace() and now().
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError, type SourceLocation } from '../errors.js';
import { parseKv } from '../kv.js';
import { PyDateTime } from './datetime.js';
import { fileGlob } from './fnmatch.js';
import type { LexOptions } from './jinja.js';
import { pyRegex } from './regex.js';
import { hasOwn, isMapping, iterate, pyFormat, pyFunction, pyStr, truthy, tuple, typeError, type Dict } from './python.js';
import { Undefined, isUndefined } from './undefined.js';

/** The sentinel that `{{ omit }}` renders to: an argument equal to it is left out of module args. */
export const OMIT = '__omit_place_holder__tsplay';

/** What global functions need from the current render. */
export interface GlobalsEnv {
  /** A variable of the current render, or undefined if there is none. */
  variable(name: string): unknown;
  /**
   * Render a template file with the current variables and `vars` above them (lookup('template',
   * ...)), with other variable and comment delimiters when given.
   */
  renderFile(path: string, vars?: Dict, tags?: NonNullable<LexOptions['tags']>): string;
  /** The names of the variables of the current render (lookup('varnames', ...)). */
  names(): string[];
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

// The directory Ansible's loader calls its base: relative commands of pipe and lines run there.
function baseDir(env: GlobalsEnv): string {
  const d = env.variable('playbook_dir');
  return typeof d === 'string' && d ? d : process.cwd();
}

// A shell command on the controller (Python's Popen with shell=True): its stdout, or the error
// Ansible raises for a non-zero exit. stderr goes through to the terminal.
function shell(plugin: string, term: unknown, env: GlobalsEnv): Buffer {
  const cmd = pyStr(term);
  const r = spawnSync('/bin/sh', ['-c', cmd], { cwd: baseDir(env), stdio: ['pipe', 'pipe', 'inherit'], maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw typeError(`lookup_plugin.${plugin}(${cmd}) returned ${r.status ?? 1}`);
  return r.stdout;
}

// The search path of a lookup's relative files: ansible_search_path, else the playbook directory.
function lookupSearchPath(env: GlobalsEnv): string[] {
  const search = env.variable('ansible_search_path');
  return Array.isArray(search) && search.length ? search.map(pyStr) : [baseDir(env)];
}

// fileglob: a pattern with a directory is globbed in the first existing directory the search
// stack gives for that directory (under files/ first); a bare pattern in each search path's
// files/ and then the path itself, the first that matches anything wins.
function fileglob(term: string, env: GlobalsEnv): string[] {
  const file = basename(term);
  let dirs: string[];
  if (file !== term) {
    const found = searchStack(dirname(term), { searchPath: lookupSearchPath(env), playbookDir: baseDir(env), subdir: 'files' }).find((p) =>
      existsSync(p),
    );
    dirs = found ? [found] : [];
  } else dirs = lookupSearchPath(env).flatMap((p) => [join(p, 'files'), p]);
  for (const d of dirs) {
    const found = fileGlob(join(d, file));
    if (found.length) return found;
  }
  return [];
}

// subelements: [list or dict of records, 'key' or 'a.b', {skip_missing}] -> (record, element)
// pairs; the record is given without the key it was walked by, as Ansible pops it.
function subelements(terms: unknown[]): unknown[] {
  const termsError = (msg = '') => typeError(`subelements lookup expects a list of two or three items, ${msg}`);
  if (terms.length < 2 || terms.length > 3) throw termsError();
  const [data, key, flags = {}] = terms;
  if (!(Array.isArray(data) || isMapping(data)) || typeof key !== 'string')
    throw termsError('first a dict or a list, second a string pointing to the subkey');
  if (!isMapping(flags) || !Object.keys(flags).every((k) => k === 'skip_missing'))
    throw termsError("the optional third item must be a dict with flags ['skip_missing']");
  if (isMapping(data) && data.skipped !== undefined && data.skipped !== false) return [];
  const records = Array.isArray(data) ? data : Object.values(data);
  const skipMissing = truthy(flags.skip_missing ?? false);
  const path = key.split('.');
  const out: unknown[] = [];
  for (const rec of records) {
    if (!isMapping(rec)) throw typeError(`subelements lookup expects a dictionary, got '${pyStr(rec)}'`);
    if (rec.skipped !== undefined && rec.skipped !== false) continue;
    // a copy along the path, so that the key is removed from the pair, not from the variable
    const top: Dict = { ...rec };
    let node: Dict = top;
    let list: unknown[] = [];
    for (const [i, k] of path.entries()) {
      if (!hasOwn(node, k)) {
        if (skipMissing) continue;
        throw typeError(`could not find '${k}' key in iterated item '${pyStr(node)}'`);
      }
      const v = node[k];
      if (i < path.length - 1) {
        if (!isMapping(v)) {
          if (skipMissing) continue;
          throw typeError(`the key ${k} should point to a dictionary, got '${pyStr(v)}'`);
        }
        node = node[k] = { ...v };
      } else {
        if (!Array.isArray(v)) throw typeError(`the key ${k} should point to a list, got '${pyStr(v)}'`);
        list = v;
        delete node[k];
      }
    }
    for (const x of list) out.push(tuple([top, x]));
  }
  return out;
}

// Ansible's sequence lookup: `start=1 end=10 stride=2 format=node%02x` (or count= instead of end=),
// or the short form `[start-]end[/stride][:format]`; numbers in decimal, 0x hex or 0o octal; each
// item is Python's `format % number` (%d, %02x, %o, ...).
export function sequenceItems(spec: string, location?: SourceLocation): string[] {
  const fail = (msg: string) =>
    new UserError('E_PLAYBOOK', `with_sequence: ${msg} in '${spec}'`, {
      location,
      hint: 'e.g. with_sequence: start=1 end=10 format=node%02d',
    });
  const num = (s: string | undefined, what: string): number | undefined => {
    if (s === undefined) return undefined;
    const m = /^(-?)(0x[0-9a-f]+|0o[0-7]+|\d+)$/i.exec(s.trim());
    const n = m ? (m[1] ? -1 : 1) * Number(m[2]) : NaN;
    if (!Number.isInteger(n)) throw fail(`can't parse ${what}=${s} as an integer`);
    return n;
  };
  const words = parseKv(spec).args;
  let start: number | undefined;
  let end: number | undefined;
  let stride: number | undefined;
  let count: number | undefined;
  let format: string | undefined;
  if (Object.keys(words).length) {
    start = num(words.start, 'start');
    end = num(words.end, 'end');
    stride = num(words.stride, 'stride');
    count = num(words.count, 'count');
    format = words.format;
  } else {
    const m =
      /^(?:(-?(?:0x[0-9a-f]+|0o[0-7]+|\d+))-)?(-?(?:0x[0-9a-f]+|0o[0-7]+|\d+))(?:\/(-?(?:0x[0-9a-f]+|0o[0-7]+|\d+)))?(?::(.+))?$/i.exec(
        spec.trim(),
      );
    if (!m) throw fail("can't parse arg");
    start = num(m[1], 'start');
    end = num(m[2], 'end');
    stride = num(m[3], 'stride');
    format = m[4];
  }
  start ??= 1;
  stride ??= 1;
  if (count !== undefined) {
    if (end !== undefined) throw fail("can't specify both count and end");
    if (count === 0) return [];
    end = start + count * stride - 1;
  }
  if (end === undefined) throw fail('must specify count or end');
  if (stride === 0) return [];
  if (stride > 0 && end < start) throw fail('to count backwards make stride negative');
  if (stride < 0 && end > start) throw fail("to count forward don't make stride negative");
  const out: string[] = [];
  for (let i = start; stride > 0 ? i <= end : i >= end; i += stride) out.push(pyFormat(format ?? '%d', i));
  return out;
}

const LOOKUPS: Record<string, Lookup> = {
  env: (terms, kw) =>
    terms.map((t) => {
      const name = pyStr(t).trim().split(/\s+/)[0] ?? '';
      const v = process.env[name] ?? (hasOwn(kw, 'default') ? kw.default : '');
      if (isUndefined(v)) throw new UserError('E_UNDEFINED', `The "env" lookup, found an undefined variable: ${name}`);
      return v;
    }),
  fileglob: (terms, _kw, env) => terms.flatMap((t) => fileglob(pyStr(t), env)),
  pipe: (terms, _kw, env) => terms.map((t) => shell('pipe', t, env).toString('utf8').trimEnd()),
  // Python's bytes.splitlines: \n, \r\n and \r end lines
  lines: (terms, _kw, env) =>
    terms.flatMap((t) => {
      const text = shell('lines', t, env).toString('utf8');
      return text === '' ? [] : text.replace(/(\r\n|\r|\n)$/, '').split(/\r\n|\r|\n/);
    }),
  subelements: (terms) => subelements(terms),
  varnames: (terms, _kw, env) =>
    terms.flatMap((t) => {
      if (typeof t !== 'string') throw typeError(`Invalid setting identifier, "${pyStr(t)}" is not a string, it is a ${typeof t}`);
      const re = pyRegex(t);
      return env.names().filter((n) => re.test(n));
    }),
  file: (terms, kw, env) =>
    terms.map((t) => {
      const path = findFile(env, pyStr(t), 'files');
      if (!path) throw notFound('file', pyStr(t), env, 'files');
      let text = readFileSync(path, 'utf8');
      if (truthy(kw.rstrip ?? true)) text = text.trimEnd();
      if (truthy(kw.lstrip ?? false)) text = text.trimStart();
      return text;
    }),
  template: (terms, kw, env) =>
    terms.map((t) => {
      const path = findFile(env, pyStr(t), 'templates');
      if (!path) throw notFound('template', pyStr(t), env, 'templates');
      const vars = kw.template_vars ?? {};
      if (!isMapping(vars)) throw typeError(`template_vars must be a dict, got ${pyStr(vars)}`);
      const tags: NonNullable<LexOptions['tags']> = {};
      const names = {
        variable_start_string: 'variableStart',
        variable_end_string: 'variableEnd',
        comment_start_string: 'commentStart',
        comment_end_string: 'commentEnd',
      } as const;
      for (const [opt, key] of Object.entries(names)) if (kw[opt] !== undefined) tags[key] = pyStr(kw[opt]);
      return env.renderFile(path, vars, Object.keys(tags).length ? tags : undefined);
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
  sequence: (terms) => terms.flatMap((t) => sequenceItems(pyStr(t))),
  together: (terms) => {
    const n = Math.max(0, ...terms.map((l) => iterate(l).length));
    return Array.from({ length: n }, (_, i) => terms.map((l) => iterate(l)[i] ?? null));
  },
  nested: (terms) => terms.reduce<unknown[][]>((acc, l) => acc.flatMap((a) => iterate(l).map((x) => [...a, x])), [[]]),
};

const LOOKUP_OPTIONS = new Set(['wantlist', 'errors']);

/** The names of the lookup plugins tsplay has (with_<name> loops use them too). */
export const LOOKUP_NAMES: readonly string[] = Object.keys(LOOKUPS);

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
  // an empty result is [] under lookup() too, as Ansible returns it unjoined
  if (wantlist || truthy(kw.wantlist ?? false) || ran.length === 0) return ran;
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
