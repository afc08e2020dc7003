// Jinja2's builtin tests and Ansible's test plugins (`x is defined`, `r is changed`,
// `v is version('12', '>=')`), with their Python semantics and argument names.
import { existsSync, lstatSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { hasOwn, isMapping, iterate, plain, pyCmp, pyEq, pyStr, contains, truthy, typeError, typeName, type Dict } from './python.js';
import { pyRegex } from './regex.js';
import { FILTERS, canonicalName } from './filters.js';
import { isUndefined } from './undefined.js';

/** A test: receives the tested value, positional arguments and keyword arguments. */
export interface TestSpec {
  fn(value: unknown, args: unknown[], kw: Dict): boolean;
  /** The test accepts an undefined value (defined, undefined, type tests). */
  undefinedOk?: boolean;
}

/** Every test, by name (without the ansible.builtin. prefix). */
export const TESTS: Record<string, TestSpec> = Object.create(null);

type Params = [name: string, dflt: unknown][];
const REQUIRED = Symbol('required');

// Registers a test with a Python signature; `fn` gets the value and the bound arguments.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a filter or test takes any Jinja value, as in Python
function def(names: string | string[], params: Params, fn: (value: any, ...args: any[]) => boolean, undefinedOk = false): void {
  for (const name of Array.isArray(names) ? names : [names]) {
    TESTS[name] = {
      undefinedOk,
      fn: (value, args, kw) => {
        if (args.length > params.length) throw typeError(`test ${name} takes at most ${params.length} argument(s) (${args.length} given)`);
        for (const k of Object.keys(kw))
          if (!params.some(([p]) => p === k)) throw typeError(`test ${name} got an unexpected keyword argument '${k}'`);
        const bound = params.map(([p, d], i) => {
          const v = i < args.length ? args[i] : hasOwn(kw, p) ? kw[p] : d;
          if (v === REQUIRED) throw typeError(`test ${name} is missing its argument '${p}'`);
          return v;
        });
        return fn(value, ...bound);
      },
    };
  }
}

def('defined', [], (v) => !isUndefined(v), true);
def('undefined', [], (v) => isUndefined(v), true);
def('none', [], (v) => v === null, true);
def('string', [], (v) => typeof v === 'string', true);
def('number', [], (v) => typeof v === 'number' || typeof v === 'boolean', true);
def('integer', [], (v) => typeof v === 'number' && Number.isInteger(v), true);
def('float', [], (v) => typeof v === 'number' && !Number.isInteger(v), true);
def('boolean', [], (v) => typeof v === 'boolean', true);
def('mapping', [], (v) => isMapping(v), true);
def('sequence', [], (v) => typeof v === 'string' || Array.isArray(v) || isMapping(v), true);
def('iterable', [], (v) => typeof v === 'string' || Array.isArray(v) || isMapping(v), true);
def('callable', [], (v) => typeof v === 'function', true);
def('true', [], (v) => v === true, true);
def('false', [], (v) => v === false, true);
// Jinja2's filter / test tests: is this name a filter (a test) of the environment?
def('filter', [], (v) => typeof v === 'string' && hasOwn(FILTERS, canonicalName(v)), true);
def('test', [], (v) => typeof v === 'string' && hasOwn(TESTS, canonicalName(v)), true);
def('sameas', [['other', REQUIRED]], (v, other) => v === other || (v === null && other === undefined));
def('escaped', [], () => false);
def('lower', [], (v) => pyStr(v) === pyStr(v).toLowerCase());
def('upper', [], (v) => pyStr(v) === pyStr(v).toUpperCase());
def('even', [], (v) => Number(v) % 2 === 0);
def('odd', [], (v) => Math.abs(Number(v) % 2) === 1);
def('divisibleby', [['num', REQUIRED]], (v, n) => Number(v) % Number(n) === 0);

def(['eq', 'equalto', '=='], [['other', REQUIRED]], (v, other) => pyEq(v, other));
def(['ne', '!='], [['other', REQUIRED]], (v, other) => !pyEq(v, other));
def(['lt', 'lessthan', '<'], [['other', REQUIRED]], (v, other) => pyCmp(v, other, '<') < 0);
def(['le', '<='], [['other', REQUIRED]], (v, other) => pyCmp(v, other, '<=') <= 0);
def(['gt', 'greaterthan', '>'], [['other', REQUIRED]], (v, other) => pyCmp(v, other, '>') > 0);
def(['ge', '>='], [['other', REQUIRED]], (v, other) => pyCmp(v, other, '>=') >= 0);
def('in', [['seq', REQUIRED]], (v, seq) => contains(seq, v));
def('contains', [['value', REQUIRED]], (v, value) => contains(v, value));
def(['subset', 'issubset'], [['superset', REQUIRED]], (v, sup) => iterate(v).every((x) => contains(iterate(sup), x)));
def(['superset', 'issuperset'], [['subset', REQUIRED]], (v, sub) => iterate(sub).every((x) => contains(iterate(v), x)));
def('any', [], (v) => iterate(v).some(truthy));
def('all', [], (v) => iterate(v).every(truthy));

def('truthy', [['convert_bool', false]], (v, convert) => truthy(truthy(convert) ? toBoolLoose(v) : v));
def('falsy', [['convert_bool', false]], (v, convert) => !truthy(truthy(convert) ? toBoolLoose(v) : v));

function toBoolLoose(v: unknown): unknown {
  v = plain(v);
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['yes', 'on', '1', 'true', 'y', 't'].includes(s)) return true;
    if (['no', 'off', '0', 'false', 'n', 'f', ''].includes(s)) return false;
  }
  return v;
}

// ---- regular expressions -------------------------------------------------------------------

function regexTest(matchType: 'match' | 'search' | 'fullmatch') {
  return (v: unknown, pattern: unknown, ignorecase: unknown, multiline: unknown): boolean => {
    const re = pyRegex(pyStr(pattern), { ignorecase: truthy(ignorecase), multiline: truthy(multiline) });
    const s = pyStr(v);
    if (matchType === 'search') return re.test(s);
    const anchored = new RegExp(`^(?:${re.source})${matchType === 'fullmatch' ? '$' : ''}`, re.flags.replace('m', ''));
    return anchored.test(s);
  };
}
def(
  'match',
  [
    ['pattern', ''],
    ['ignorecase', false],
    ['multiline', false],
  ],
  regexTest('match'),
);
def(
  'search',
  [
    ['pattern', ''],
    ['ignorecase', false],
    ['multiline', false],
  ],
  regexTest('search'),
);
def(
  'regex',
  [
    ['pattern', ''],
    ['ignorecase', false],
    ['multiline', false],
    ['match_type', 'search'],
  ],
  (v, p, i, m, type) => {
    if (!['match', 'search', 'fullmatch'].includes(String(type)))
      throw typeError(`regex test: match_type must be match, search or fullmatch`);
    return regexTest(type as 'match')(v, p, i, m);
  },
);

// ---- task results --------------------------------------------------------------------------

function result(v: unknown, test: string): Dict {
  if (!isMapping(v)) {
    throw typeError(
      `the '${test}' test expects a dictionary (a registered task result), got ${typeName(v)}`,
      'use it on a variable set with register:',
    );
  }
  return v;
}

function changed(v: unknown): boolean {
  const r = result(v, 'changed');
  if (hasOwn(r, 'changed')) return truthy(r.changed);
  if (Array.isArray(r.results) && isMapping(r.results[0])) return r.results.some((x) => isMapping(x) && truthy(x.changed ?? false));
  return false;
}

def(['changed', 'change'], [], changed);
def(['failed', 'failure'], [], (v) => truthy(result(v, 'failed').failed ?? false));
def(['succeeded', 'success', 'successful'], [], (v) => !truthy(result(v, 'succeeded').failed ?? false));
def(['skipped', 'skip'], [], (v) => truthy(result(v, 'skipped').skipped ?? false));
def('unreachable', [], (v) => truthy(result(v, 'unreachable').unreachable ?? false));
def('reachable', [], (v) => !truthy(result(v, 'reachable').unreachable ?? false));
def('finished', [], (v) => truthy(result(v, 'finished').finished ?? true));
def('started', [], (v) => truthy(result(v, 'started').started ?? true));

// ---- versions ------------------------------------------------------------------------------

const OPERATORS: Record<string, string> = {
  '==': 'eq',
  '=': 'eq',
  eq: 'eq',
  '<': 'lt',
  lt: 'lt',
  '<=': 'le',
  le: 'le',
  '>': 'gt',
  gt: 'gt',
  '>=': 'ge',
  ge: 'ge',
  '!=': 'ne',
  '<>': 'ne',
  ne: 'ne',
};

type Part = number | string;

// LooseVersion: numbers compare as numbers, letter runs as text, dots separate.
function looseParts(v: string): Part[] {
  return v
    .split(/(\d+|[a-z]+|\.)/i)
    .filter((p) => p && p !== '.')
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function strictParts(v: string): Part[] {
  const m = /^(\d+)\.(\d+)(\.(\d+))?([ab](\d+))?$/.exec(v);
  if (!m) throw typeError(`invalid version number '${v}' (strict versions look like 1.2, 1.2.3 or 1.2b1)`);
  return [Number(m[1]), Number(m[2]), Number(m[4] ?? 0), m[5] ? m[5][0]! : 'z', Number(m[6] ?? 0)];
}

function compareParts(a: Part[], b: Part[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i >= a.length) return -1;
    if (i >= b.length) return 1;
    const x = a[i]!;
    const y = b[i]!;
    if (typeof x !== typeof y)
      throw typeError(`Version comparison failed: '<' not supported between instances of '${typeName(x)}' and '${typeName(y)}'`);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function semverCompare(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v);
    if (!m) throw typeError(`invalid semantic version '${v}'`);
    return {
      core: [Number(m[1]), Number(m[2]), Number(m[3])],
      pre: m[4] ? m[4].split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [],
    };
  };
  const x = parse(a);
  const y = parse(b);
  const c = compareParts(x.core, y.core);
  if (c) return c;
  if (!x.pre.length || !y.pre.length) return y.pre.length - x.pre.length;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return p - q;
    if (typeof p === 'number') return -1;
    if (typeof q === 'number') return 1;
    return p < q ? -1 : 1;
  }
  return 0;
}

// Compare two version strings as Ansible's version test does.
function compareVersions(a: string, b: string, type: string | null = null, strict = false): number {
  const kind = type ?? (strict ? 'strict' : 'loose');
  if (kind === 'semver' || kind === 'semantic') return semverCompare(a, b);
  if (kind === 'strict') return compareParts(strictParts(a), strictParts(b));
  if (kind === 'loose' || kind === 'pep440') return compareParts(looseParts(a), looseParts(b));
  throw typeError(`version_type must be one of loose, strict, semver, semantic, pep440; got '${kind}'`);
}

def(
  ['version', 'version_compare'],
  [
    ['version', REQUIRED],
    ['operator', 'eq'],
    ['strict', false],
    ['version_type', null],
  ],
  (v, version, operator, strict, versionType) => {
    const value = pyStr(v);
    if (!value) throw typeError('the version test got an empty version', 'check the variable holding the version');
    const op = OPERATORS[String(operator)];
    if (!op) throw typeError(`invalid operator '${String(operator)}' for the version test; use one of ${Object.keys(OPERATORS).join(' ')}`);
    const c = compareVersions(value, pyStr(version), versionType === null ? null : String(versionType), truthy(strict));
    return { eq: c === 0, ne: c !== 0, lt: c < 0, le: c <= 0, gt: c > 0, ge: c >= 0 }[op]!;
  },
);

// ---- controller paths ----------------------------------------------------------------------

function stat(path: unknown, link = false): ReturnType<typeof statSync> | undefined {
  try {
    return link ? lstatSync(pyStr(path)) : statSync(pyStr(path));
  } catch {
    return undefined;
  }
}

def(['file', 'is_file'], [], (v) => stat(v)?.isFile() ?? false);
def(['directory', 'is_dir'], [], (v) => stat(v)?.isDirectory() ?? false);
def(['link', 'is_link'], [], (v) => stat(v, true)?.isSymbolicLink() ?? false);
def('exists', [], (v) => existsSync(pyStr(v)));
def(['abs', 'is_abs'], [], (v) => isAbsolute(pyStr(v)));
def('vault_encrypted', [], (v) => typeof v === 'string' && v.trimStart().startsWith('$ANSIBLE_VAULT;'));
def('link_exists', [], (v) => stat(v, true) !== undefined);
// os.path.ismount: the path's device differs from its parent's, or it is its parent (/)
def(['mount', 'is_mount'], [], (v) => {
  const here = stat(v, true);
  if (!here || here.isSymbolicLink()) return false;
  const parent = stat(`${pyStr(v).replace(/\/+$/, '')}/..`);
  return !parent || parent.dev !== here.dev || parent.ino === here.ino;
});
def(['same_file', 'is_same_file'], [['other', REQUIRED]], (v, other) => {
  const a = stat(v);
  const b = stat(other);
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
});

// ---- values and results --------------------------------------------------------------------

def(['nan', 'isnan'], [], (v) => typeof v === 'number' && Number.isNaN(v));
def('timedout', [], (v) => isMapping(v) && isMapping(v.timedout) && truthy((v.timedout as Dict).period));

// Ansible's uri tests: Python's urlparse always finds a (maybe empty) scheme and path, so a value
// is a URI unless `schemes` leaves its scheme out; a URL also has a host, or is a file: URL.
function urlParts(v: unknown): { scheme: string; netloc: string } | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(v);
  const scheme = m ? m[1]!.toLowerCase() : '';
  const rest = m ? m[2]! : v;
  const netloc = rest.startsWith('//') ? rest.slice(2).split(/[/?#]/)[0]! : '';
  return { scheme, netloc };
}
def('uri', [['schemes', null]], (v, schemes) => {
  const p = urlParts(v);
  return p !== undefined && (schemes === null || !truthy(schemes) || [...iterate(schemes)].map((s) => pyStr(s)).includes(p.scheme));
});
def('url', [['schemes', null]], (v, schemes) => {
  const p = urlParts(v);
  if (!p || (schemes !== null && truthy(schemes) && ![...iterate(schemes)].map((s) => pyStr(s)).includes(p.scheme))) return false;
  return p.netloc !== '' || p.scheme === 'file';
});
def('urn', [], (v) => urlParts(v)?.scheme === 'urn');
