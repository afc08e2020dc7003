// Jinja2's builtin filters and Ansible's filter plugins, with their Python semantics and argument
// names (positional or keyword: sort(attribute='name', reverse=true)).
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { posix } from 'node:path';
import { realpathSync } from 'node:fs';
import { UserError } from '../errors.js';
import {
  binop,
  center,
  contains,
  getitem,
  hasOwn,
  isMapping,
  iterate,
  plain,
  pyCmp,
  pyEq,
  pyFormat,
  pyRepr,
  pySplit,
  pyStr,
  pyStrip,
  splitLines,
  title,
  truthy,
  tuple,
  typeError,
  typeName,
  type Dict,
} from './python.js';
import { PyRandom } from './pyrandom.js';
import { fileGlob } from './fnmatch.js';
import { pyEscape, pyRegex, pySub } from './regex.js';
import { TESTS } from './tests.js';
import { strftime, strptime } from './datetime.js';
import { bcrypt } from './bcrypt.js';
import { dumpYaml, parseYaml, parseYamlAll } from './yaml-dump.js';
import { Undefined, isUndefined } from './undefined.js';
import { decryptVaultText, encryptVaultText, isVaultText } from '../vault.js';
import { secretValues } from '../redact.js';

/** A filter: receives the piped value, positional arguments and keyword arguments. */
export interface FilterSpec {
  fn(value: unknown, args: unknown[], kw: Dict): unknown;
  /** The filter accepts an undefined value (default, mandatory). */
  undefinedOk?: boolean;
}

/** Every filter, by name (without the ansible.builtin. prefix). */
export const FILTERS: Record<string, FilterSpec> = Object.create(null);

/** A filter or test name without its `ansible.builtin.` / `ansible.legacy.` prefix. */
export function canonicalName(name: string): string {
  return name.replace(/^ansible\.(builtin|legacy)\./, '');
}

const REQUIRED = Symbol('required');
type Params = [name: string, dflt: unknown][];

// Positional and keyword arguments matched to a Python signature.
function bind(name: string, params: Params, args: unknown[], kw: Dict): unknown[] {
  if (args.length > params.length) {
    throw typeError(`${name}() takes at most ${params.length} argument(s) (${args.length} given)`);
  }
  for (const k of Object.keys(kw)) {
    if (!params.some(([p]) => p === k)) throw typeError(`${name}() got an unexpected keyword argument '${k}'`);
  }
  return params.map(([p, d], i) => {
    const v = i < args.length ? args[i] : hasOwn(kw, p) ? kw[p] : d;
    if (v === REQUIRED) throw typeError(`${name}() missing required argument '${p}'`);
    return v;
  });
}

// Registers a filter with a Python signature; `fn` gets the value and the bound arguments.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a filter or test takes any Jinja value, as in Python
function def(names: string | string[], params: Params, fn: (value: any, ...args: any[]) => unknown, undefinedOk = false): void {
  const list = Array.isArray(names) ? names : [names];
  for (const name of list) {
    FILTERS[name] = { fn: (value, args, kw) => fn(value, ...bind(name, params, args, kw)), undefinedOk };
  }
}

// Registers a filter that takes any number of positional arguments plus keyword arguments.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as def
function defRaw(name: string, fn: (value: any, args: unknown[], kw: Dict) => unknown): void {
  FILTERS[name] = { fn };
}

// Apply filter `name` as an expression would (used by map).
function applyFilter(name: string, value: unknown, args: unknown[], kw: Dict = {}): unknown {
  const spec = FILTERS[canonicalName(name)];
  if (!spec) throw typeError(`no filter named '${name}'`);
  if (!spec.undefinedOk && isUndefined(value)) value.fail();
  return spec.fn(value, args, kw);
}

// Apply test `name` as an expression would (used by select/reject).
function applyTest(name: string, value: unknown, args: unknown[], kw: Dict = {}): boolean {
  const spec = TESTS[canonicalName(name)];
  if (!spec) throw typeError(`no test named '${name}'`);
  if (!spec.undefinedOk && isUndefined(value)) value.fail();
  return spec.fn(value, args, kw);
}

function str(v: unknown): string {
  return pyStr(v);
}

function int(v: unknown, name = 'value'): number {
  const n = Number(plain(v));
  if (!Number.isFinite(n)) throw typeError(`${name} must be a number, got ${pyRepr(v)}`);
  return Math.trunc(n);
}

function seq(v: unknown): unknown[] {
  return [...iterate(v)];
}

function mapping(v: unknown, filter: string): Dict {
  if (!isMapping(v)) throw typeError(`${filter} requires a dictionary, got ${typeName(v)} instead.`);
  return v;
}

// Jinja2's make_attrgetter: "a.b.0" walks items; missing parts give an Undefined (or `dflt`).
function attrGetter(attribute: unknown, dflt: unknown = undefined): (item: unknown) => unknown {
  const parts =
    typeof attribute === 'number'
      ? [attribute]
      : str(attribute)
          .split('.')
          .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return (item) => {
    let v = item;
    for (const p of parts) v = getitem(v, p);
    return isUndefined(v) && dflt !== undefined ? dflt : v;
  };
}

function sortValue(v: unknown, caseSensitive: boolean): unknown {
  v = plain(v);
  return !caseSensitive && typeof v === 'string' ? v.toLowerCase() : v;
}

function uniqueList(items: unknown[], key: (x: unknown) => unknown = (x) => x): unknown[] {
  const out: unknown[] = [];
  const seen: unknown[] = [];
  for (const item of items) {
    const k = key(item);
    if (!seen.some((s) => pyEq(s, k))) {
      seen.push(k);
      out.push(item);
    }
  }
  return out;
}

// ---- defaults and checks -------------------------------------------------------------------

def(
  ['default', 'd'],
  [
    ['default_value', ''],
    ['boolean', false],
  ],
  (v, dflt, boolean) => (isUndefined(v) || (truthy(boolean) && !truthy(v)) ? dflt : v),
  true,
);

def(
  'mandatory',
  [['msg', null]],
  (v, msg) => {
    if (isUndefined(v)) {
      // Ansible 2.14's own message has two spaces before "not"
      throw new UserError('E_UNDEFINED', msg !== null ? str(msg) : `Mandatory variable '${v.name ?? 'unknown'}'  not defined.`, {
        hint: v.message,
        alone: true,
      });
    }
    return v;
  },
  true,
);

def(
  'ternary',
  [
    ['true_val', REQUIRED],
    ['false_val', REQUIRED],
    ['none_val', null],
  ],
  (v, t, f, n) => ((v === null || v === undefined) && n !== null ? n : truthy(v) ? t : f),
);

def('type_debug', [], (v) => typeName(v));

// ---- type conversions ----------------------------------------------------------------------

/** Ansible's bool filter: yes/on/1/true (any case) and 1 are true, everything else false. */
export function toBool(v: unknown): boolean {
  v = plain(v);
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) return false;
  if (typeof v === 'string') v = v.toLowerCase();
  return v === 'yes' || v === 'on' || v === '1' || v === 'true' || v === 1;
}

def('bool', [], toBool);

function parsePyInt(s: string, base: number): number | undefined {
  let t = s.trim().replace(/(\d)_(?=\d)/g, '$1');
  let sign = 1;
  if (/^[-+]/.test(t)) {
    if (t[0] === '-') sign = -1;
    t = t.slice(1);
  }
  const prefixed = /^0([xob])/i.exec(t);
  if (prefixed) {
    const b = { x: 16, o: 8, b: 2 }[prefixed[1]!.toLowerCase() as 'x' | 'o' | 'b'];
    if (base === 0 || base === b) {
      base = b;
      t = t.slice(2);
    }
  }
  if (base === 0) base = 10;
  const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, base);
  if (!t || ![...t.toLowerCase()].every((c) => digits.includes(c))) return undefined;
  return sign * parseInt(t, base);
}

function parsePyFloat(s: string): number | undefined {
  const t = s
    .trim()
    .replace(/(\d)_(?=\d)/g, '$1')
    .toLowerCase();
  if (/^[-+]?(inf|infinity)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[-+]?nan$/.test(t)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

def(
  'int',
  [
    ['default', 0],
    ['base', 10],
  ],
  (v, dflt, base) => {
    v = plain(v);
    if (typeof v === 'boolean') return Number(v);
    if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : dflt;
    if (typeof v === 'string') {
      const n = parsePyInt(v, int(base, 'base'));
      if (n !== undefined) return n;
      const f = parsePyFloat(v);
      return f !== undefined && Number.isFinite(f) ? Math.trunc(f) : dflt;
    }
    return dflt;
  },
);

def('float', [['default', 0.0]], (v, dflt) => {
  v = plain(v);
  if (typeof v === 'boolean') return Number(v);
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return parsePyFloat(v) ?? dflt;
  return dflt;
});

def('string', [], (v) => str(v));
def('list', [], (v) => seq(v));
def('abs', [], (v) => Math.abs(Number(plain(v))));

def(
  'round',
  [
    ['precision', 0],
    ['method', 'common'],
  ],
  (v, precision, method) => {
    const n = Number(plain(v));
    const m = 10 ** int(precision, 'precision');
    if (method === 'ceil') return Math.ceil(n * m) / m;
    if (method === 'floor') return Math.floor(n * m) / m;
    if (method !== 'common') throw typeError('method must be common, ceil or floor');
    const x = n * m;
    let r = Math.round(x);
    if (Math.abs(x % 1) === 0.5) r = 2 * Math.round(x / 2);
    return r / m;
  },
);

def('dict', [], (v) => {
  if (isMapping(v)) return { ...v };
  const out: Dict = {};
  for (const pair of iterate(v)) {
    const [k, val] = iterate(pair);
    out[str(k)] = val;
  }
  return out;
});

// ---- strings -------------------------------------------------------------------------------

def('lower', [], (v) => str(v).toLowerCase());
def('upper', [], (v) => str(v).toUpperCase());
def('capitalize', [], (v) => {
  const s = str(v);
  return s ? s[0]!.toUpperCase() + s.slice(1).toLowerCase() : s;
});
def('title', [], (v) => title(str(v)));
def('trim', [['chars', null]], (v, chars) => pyStrip(str(v), chars));
def(
  'replace',
  [
    ['old', REQUIRED],
    ['new', REQUIRED],
    ['count', null],
  ],
  (v, from, to, count) => {
    const s = str(v);
    const parts = s.split(str(from));
    if (count === null) return parts.join(str(to));
    const n = int(count, 'count');
    return parts.slice(0, n + 1).join(str(to)) + (parts.length > n + 1 ? str(from) + parts.slice(n + 1).join(str(from)) : '');
  },
);
def(
  'split',
  [
    ['sep', null],
    ['maxsplit', -1],
  ],
  (v, sep, maxsplit) => pySplit(str(v), sep, int(maxsplit, 'maxsplit')),
);
def('center', [['width', 80]], (v, width) => center(str(v), int(width, 'width')));
def('wordcount', [], (v) => (str(v).match(/[\p{L}\p{N}_]+/gu) ?? []).length);
FILTERS.format = { fn: (v, args, kw) => (Object.keys(kw).length ? pyFormat(str(v), kw) : pyFormat(str(v), tuple(args))) };
def(['safe', 'forceescape'], [], (v) => str(v));
def(['escape', 'e'], [], (v) =>
  str(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c]!),
);
def('pprint', [], (v) => pyRepr(v));

def(
  'truncate',
  [
    ['length', 255],
    ['killwords', false],
    ['end', '...'],
    ['leeway', 5],
  ],
  (v, length, killwords, end, leeway) => {
    const s = str(v);
    const n = int(length, 'length');
    if (s.length <= n + int(leeway, 'leeway')) return s;
    if (truthy(killwords)) return s.slice(0, n - str(end).length) + str(end);
    const cut = s.slice(0, n - str(end).length);
    const i = cut.lastIndexOf(' ');
    return (i > 0 ? cut.slice(0, i) : cut) + str(end);
  },
);

def(
  'indent',
  [
    ['width', 4],
    ['first', false],
    ['blank', false],
  ],
  (v, width, first, blank) => {
    const ind = typeof width === 'string' ? width : ' '.repeat(int(width, 'width'));
    const s = `${str(v)}\n`;
    let rv: string;
    if (truthy(blank)) {
      rv = splitLines(s).join(`\n${ind}`);
    } else {
      const lines = splitLines(s);
      rv = lines.shift() ?? '';
      if (lines.length) rv += `\n${lines.map((l) => (l ? ind + l : l)).join('\n')}`;
    }
    return truthy(first) ? ind + rv : rv;
  },
);

const COMMENT_STYLES: Record<string, Dict> = {
  plain: { decoration: '# ' },
  erlang: { decoration: '% ' },
  c: { decoration: '// ' },
  cblock: { beginning: '/*', decoration: ' * ', end: ' */' },
  xml: { beginning: '<!--', decoration: ' - ', end: '-->' },
};

// Ansible's comment filter, line for line.
defRaw('comment', (v, args, kw) => {
  const style = str(args[0] ?? kw.style ?? 'plain');
  const styleParams = COMMENT_STYLES[style];
  if (!styleParams) throw typeError(`unknown comment style '${style}'; use one of ${Object.keys(COMMENT_STYLES).join(', ')}`);
  const { style: _, ...opts } = kw;
  const prepostfix = str(hasOwn(opts, 'decoration') ? opts.decoration : styleParams.decoration);
  const p: Dict = {
    newline: '\n',
    beginning: '',
    prefix: prepostfix.trimEnd(),
    prefix_count: 1,
    decoration: '',
    postfix: prepostfix.trimEnd(),
    postfix_count: 1,
    end: '',
    ...styleParams,
    ...opts,
  };
  const nl = str(p.newline);
  const deco = str(p.decoration);
  const text = str(v);
  const beginning = p.beginning ? `${str(p.beginning)}${nl}` : '';
  let prefix = '';
  if (p.prefix) prefix = (p.prefix !== nl ? `${str(p.prefix)}${nl}` : nl).repeat(int(p.prefix_count));
  const body = `${deco}${text.split(nl).join(`${nl}${deco}`)}`.split(`${deco}${nl}`).join(`${deco.trimEnd()}${nl}`);
  const postfix = ['', ...Array.from({ length: int(p.postfix_count) }, () => str(p.postfix))].join(nl);
  const end = p.end ? `${nl}${str(p.end)}` : '';
  return beginning + prefix + body + postfix + end;
});

// Python shlex.quote.
function shellQuote(s: string): string {
  if (s === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

def('quote', [], (v) => shellQuote(str(v)));

// ---- regular expressions -------------------------------------------------------------------

def(
  'regex_replace',
  [
    ['pattern', ''],
    ['replacement', ''],
    ['ignorecase', false],
    ['multiline', false],
    ['count', 0],
    ['mandatory_count', 0],
  ],
  (v, pattern, replacement, ignorecase, multiline, count, mandatoryCount) => {
    const re = pyRegex(str(pattern), { ignorecase: truthy(ignorecase), multiline: truthy(multiline) });
    const s = str(v);
    const need = int(mandatoryCount, 'mandatory_count');
    if (need) {
      const found = (s.match(new RegExp(re.source, `${re.flags}g`)) ?? []).length;
      if (found !== need) throw typeError(`'${str(pattern)}' should match ${need} times, but matches ${found} times`);
    }
    return pySub(re, str(replacement), s, int(count, 'count'));
  },
);

defRaw('regex_search', (v, args, kw) => {
  const [pattern, ...groupArgs] = args;
  if (pattern === undefined) throw typeError("regex_search() missing required argument 'regex'");
  const groups = groupArgs.map((a) => {
    const g = /^\\g<(\S+)>$/.exec(str(a)) ?? /^\\(\d+)$/.exec(str(a));
    if (!g) throw typeError(`regex_search: unknown argument ${pyRepr(a)}; use '\\1' or '\\g<name>'`);
    return g[1]!;
  });
  const re = pyRegex(str(pattern), { ignorecase: truthy(kw.ignorecase ?? false), multiline: truthy(kw.multiline ?? false) });
  const m = re.exec(str(v));
  if (!m) return null;
  if (!groups.length) return m[0];
  return groups.map((g) => (/^\d+$/.test(g) ? m[Number(g)] : m.groups?.[g]) ?? null);
});

def(
  'regex_findall',
  [
    ['regex', REQUIRED],
    ['multiline', false],
    ['ignorecase', false],
  ],
  (v, pattern, multiline, ignorecase) => {
    const re = pyRegex(str(pattern), { ignorecase: truthy(ignorecase), multiline: truthy(multiline), global: true });
    return [...str(v).matchAll(re)].map((m) => {
      if (m.length === 1) return m[0];
      if (m.length === 2) return m[1] ?? '';
      return tuple(m.slice(1).map((g) => g ?? ''));
    });
  },
);

def('regex_escape', [['re_type', 'python']], (v, reType) => {
  if (reType === 'posix_basic') return str(v).replace(/[.^$*[\]\\]/g, (c) => `\\${c}`);
  if (reType !== 'python') throw typeError(`regex_escape: unsupported re_type '${str(reType)}'`);
  return pyEscape(str(v));
});

// ---- lists ---------------------------------------------------------------------------------

def(['length', 'count'], [], (v) => {
  v = plain(v);
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  if (isMapping(v)) return Object.keys(v).length;
  throw typeError(`object of type '${typeName(v)}' has no len()`);
});

def('first', [], (v) => {
  const items = iterate(v);
  return items.length ? items[0] : new Undefined('No first item, sequence was empty.');
});
def('last', [], (v) => {
  const items = iterate(v);
  return items.length ? items[items.length - 1] : new Undefined('No last item, sequence was empty.');
});

function extreme(which: 'min' | 'max') {
  return (v: unknown, caseSensitive: unknown, attribute: unknown): unknown => {
    const items = seq(v);
    if (!items.length) return new Undefined(`No aggregated item, sequence was empty.`);
    const key = attribute !== null ? attrGetter(attribute) : (x: unknown) => x;
    let best = items[0];
    for (const item of items.slice(1)) {
      const c = pyCmp(sortValue(key(item), truthy(caseSensitive)), sortValue(key(best), truthy(caseSensitive)));
      if (which === 'min' ? c < 0 : c > 0) best = item;
    }
    return best;
  };
}
def(
  'min',
  [
    ['case_sensitive', false],
    ['attribute', null],
  ],
  extreme('min'),
);
def(
  'max',
  [
    ['case_sensitive', false],
    ['attribute', null],
  ],
  extreme('max'),
);

def(
  'sum',
  [
    ['attribute', null],
    ['start', 0],
  ],
  (v, attribute, start) => {
    const key = attribute !== null ? attrGetter(attribute) : (x: unknown) => x;
    return seq(v).reduce((acc: unknown, x) => binop('+', acc, key(x)), start);
  },
);

def(
  'unique',
  [
    ['case_sensitive', false],
    ['attribute', null],
  ],
  (v, caseSensitive, attribute) => {
    const get = attribute !== null ? attrGetter(attribute) : (x: unknown) => x;
    return uniqueList(seq(v), (x) => sortValue(get(x), truthy(caseSensitive)));
  },
);

def(
  'sort',
  [
    ['reverse', false],
    ['case_sensitive', false],
    ['attribute', null],
  ],
  (v, reverse, caseSensitive, attribute) => {
    const getters =
      attribute === null
        ? [(x: unknown) => x]
        : str(attribute)
            .split(',')
            .map((a) => attrGetter(a.trim()));
    const key = (x: unknown) => getters.map((g) => sortValue(g(x), truthy(caseSensitive)));
    const sorted = seq(v)
      .map((item) => ({ item, k: key(item) }))
      .sort((a, b) => pyCmp(a.k, b.k));
    if (truthy(reverse)) sorted.reverse();
    return sorted.map((x) => x.item);
  },
);

def('reverse', [], (v) => {
  v = plain(v);
  if (typeof v === 'string') return [...v].reverse().join('');
  return seq(v).reverse();
});

def(
  'join',
  [
    ['d', ''],
    ['attribute', null],
  ],
  (v, d, attribute) => {
    const get = attribute !== null ? attrGetter(attribute) : (x: unknown) => x;
    return seq(v)
      .map((x) => str(get(x)))
      .join(str(d));
  },
);

def(
  'batch',
  [
    ['linecount', REQUIRED],
    ['fill_with', null],
  ],
  (v, linecount, fill) => {
    const n = int(linecount, 'linecount');
    const items = seq(v);
    const out: unknown[][] = [];
    for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
    const last = out[out.length - 1];
    if (fill !== null && last) while (last.length < n) last.push(fill);
    return out;
  },
);

defRaw('map', (v, args, kw) => {
  const items = seq(v);
  if (!args.length) {
    if (!hasOwn(kw, 'attribute')) throw typeError('map() needs a filter name or attribute=');
    const get = attrGetter(kw.attribute, hasOwn(kw, 'default') ? kw.default : undefined);
    return items.map(get);
  }
  const [name, ...rest] = args;
  return items.map((x) => applyFilter(str(name), x, rest, kw));
});

function selector(keep: boolean, byAttr: boolean) {
  return (v: unknown, args: unknown[], kw: Dict): unknown[] => {
    const rest = [...args];
    const get = byAttr ? attrGetter(rest.shift() ?? kw.attr) : (x: unknown) => x;
    const name = rest.shift();
    return seq(v).filter((item) => {
      const x = get(item);
      const ok = name === undefined ? truthy(x) : applyTest(str(name), x, rest, kw);
      return ok === keep;
    });
  };
}
defRaw('select', selector(true, false));
defRaw('reject', selector(false, false));
defRaw('selectattr', selector(true, true));
defRaw('rejectattr', selector(false, true));

def('attr', [['name', REQUIRED]], (v, name) => getitem(v, name));

def(
  'groupby',
  [
    ['attribute', REQUIRED],
    ['default', null],
    ['case_sensitive', false],
  ],
  (v, attribute, dflt, caseSensitive) => {
    const get = attrGetter(attribute, dflt === null ? undefined : dflt);
    const groups: { key: unknown; items: unknown[] }[] = [];
    for (const item of seq(v)) {
      const k = sortValue(get(item), truthy(caseSensitive));
      const g = groups.find((x) => pyEq(x.key, k));
      if (g) g.items.push(item);
      else groups.push({ key: k, items: [item] });
    }
    groups.sort((a, b) => pyCmp(a.key, b.key));
    return groups.map((g) => {
      const t = tuple([g.key, g.items]);
      Object.defineProperties(t, { grouper: { value: g.key }, list: { value: g.items } });
      return t;
    });
  },
);

def(
  'flatten',
  [
    ['levels', null],
    ['skip_nulls', true],
  ],
  function flat(v: unknown, levels: unknown, skipNulls: unknown): unknown[] {
    const out: unknown[] = [];
    for (const el of seq(v)) {
      if (truthy(skipNulls) && (el === null || el === 'None' || el === 'null')) continue;
      if (Array.isArray(el)) {
        if (levels === null) out.push(...flat(el, null, skipNulls));
        else if (int(levels, 'levels') >= 1) out.push(...flat(el, int(levels) - 1, skipNulls));
        else out.push(el);
      } else {
        out.push(el);
      }
    }
    return out;
  },
);

defRaw('zip', (v, args) => {
  const lists = [seq(v), ...args.map(seq)];
  const n = Math.min(...lists.map((l) => l.length));
  return Array.from({ length: n }, (_, i) => tuple(lists.map((l) => l[i])));
});

defRaw('zip_longest', (v, args, kw) => {
  const lists = [seq(v), ...args.map(seq)];
  const n = Math.max(...lists.map((l) => l.length));
  const fill = hasOwn(kw, 'fillvalue') ? kw.fillvalue : null;
  return Array.from({ length: n }, (_, i) => tuple(lists.map((l) => (i < l.length ? l[i] : fill))));
});

defRaw('product', (v, args, kw) => {
  const pools = [seq(v), ...args.map(seq)];
  const repeat = hasOwn(kw, 'repeat') ? int(kw.repeat, 'repeat') : 1;
  const all = Array.from({ length: repeat }, () => pools).flat();
  let out: unknown[][] = [[]];
  for (const pool of all) out = out.flatMap((prefix) => pool.map((x) => [...prefix, x]));
  return out.map(tuple);
});

def('permutations', [['r', null]], (v, r) => {
  const items = seq(v);
  const n = r === null ? items.length : int(r, 'r');
  const out: unknown[][] = [];
  const walk = (prefix: unknown[], rest: unknown[]) => {
    if (prefix.length === n) return void out.push(tuple(prefix));
    rest.forEach((x, i) => walk([...prefix, x], [...rest.slice(0, i), ...rest.slice(i + 1)]));
  };
  walk([], items);
  return out;
});

def('combinations', [['r', REQUIRED]], (v, r) => {
  const items = seq(v);
  const n = int(r, 'r');
  const out: unknown[][] = [];
  const walk = (start: number, prefix: unknown[]) => {
    if (prefix.length === n) return void out.push(tuple(prefix));
    for (let i = start; i < items.length; i++) walk(i + 1, [...prefix, items[i]]);
  };
  walk(0, []);
  return out;
});

def('union', [['b', REQUIRED]], (a, b) => uniqueList([...seq(a), ...seq(b)]));
def('intersect', [['b', REQUIRED]], (a, b) => uniqueList(seq(a).filter((x) => contains(seq(b), x))));
def('difference', [['b', REQUIRED]], (a, b) => uniqueList(seq(a).filter((x) => !contains(seq(b), x))));
def('symmetric_difference', [['b', REQUIRED]], (a, b) => {
  const both = seq(a).filter((x) => contains(seq(b), x));
  return uniqueList([...seq(a), ...seq(b)]).filter((x) => !contains(both, x));
});

def(
  'extract',
  [
    ['container', REQUIRED],
    ['morekeys', null],
  ],
  (item, container, morekeys) => {
    let v = getitem(container, item);
    const more = morekeys === null ? [] : Array.isArray(morekeys) ? morekeys : [morekeys];
    for (const k of more) v = getitem(v, k);
    return v;
  },
);

def(
  'subelements',
  [
    ['subelements', REQUIRED],
    ['skip_missing', false],
  ],
  (v, path, skipMissing) => {
    const out: unknown[] = [];
    for (const item of seq(v)) {
      let sub: unknown = item;
      for (const k of str(path).split('.')) sub = isUndefined(sub) ? sub : getitem(sub, k);
      if (isUndefined(sub)) {
        if (truthy(skipMissing)) continue;
        throw typeError(`could not find '${str(path)}' key in iterated item ${pyRepr(item)}`);
      }
      if (!Array.isArray(sub)) throw typeError(`the key ${str(path)} should point to a list, got ${pyRepr(sub)}`);
      for (const s of sub) out.push(tuple([item, s]));
    }
    return out;
  },
);

// ---- dictionaries --------------------------------------------------------------------------

def(
  'dict2items',
  [
    ['key_name', 'key'],
    ['value_name', 'value'],
  ],
  (v, k, val) => {
    const d = mapping(v, 'dict2items');
    return Object.keys(d).map((key) => ({ [str(k)]: key, [str(val)]: d[key] }));
  },
);

def(
  'items2dict',
  [
    ['key_name', 'key'],
    ['value_name', 'value'],
  ],
  (v, k, val) => {
    const out: Dict = {};
    for (const item of seq(v)) {
      if (!isMapping(item)) throw typeError(`items2dict requires a list of dictionaries, got ${typeName(item)} in the list`);
      if (!hasOwn(item, str(k)) || !hasOwn(item, str(val))) {
        throw typeError(`items2dict: each item needs the keys '${str(k)}' and '${str(val)}', got ${pyRepr(Object.keys(item))}`);
      }
      out[str(item[str(k)])] = item[str(val)];
    }
    return out;
  },
);

def('items', [], (v) => {
  if (isUndefined(v)) return [];
  const d = mapping(v, 'items');
  return Object.keys(d).map((k) => tuple([k, d[k]]));
});

def(
  'dictsort',
  [
    ['case_sensitive', false],
    ['by', 'key'],
    ['reverse', false],
  ],
  (v, caseSensitive, by, reverse) => {
    const d = mapping(v, 'dictsort');
    const pos = by === 'value' ? 1 : 0;
    const pairs = Object.keys(d).map((k) => tuple([k, d[k]]));
    pairs.sort((a, b) => pyCmp(sortValue(a[pos], truthy(caseSensitive)), sortValue(b[pos], truthy(caseSensitive))));
    return truthy(reverse) ? pairs.reverse() : pairs;
  },
);

const LIST_MERGE = ['replace', 'keep', 'append', 'prepend', 'append_rp', 'prepend_rp'];

function mergeDicts(a: Dict, b: Dict, recursive: boolean, listMerge: string): Dict {
  const out: Dict = { ...a };
  for (const k of Object.keys(b)) {
    const x = out[k];
    const y = b[k];
    if (hasOwn(out, k) && recursive && isMapping(x) && isMapping(y)) {
      out[k] = mergeDicts(x, y, recursive, listMerge);
    } else if (hasOwn(out, k) && Array.isArray(x) && Array.isArray(y) && listMerge !== 'replace') {
      if (listMerge === 'keep') out[k] = x;
      else if (listMerge === 'append') out[k] = [...x, ...y];
      else if (listMerge === 'prepend') out[k] = [...y, ...x];
      else if (listMerge === 'append_rp') out[k] = [...x.filter((e) => !contains(y, e)), ...y];
      else out[k] = [...y, ...x.filter((e) => !contains(y, e))];
    } else {
      out[k] = y;
    }
  }
  return out;
}

defRaw('combine', (v, args, kw) => {
  for (const k of Object.keys(kw)) {
    if (k !== 'recursive' && k !== 'list_merge') throw typeError(`combine() got an unexpected keyword argument '${k}'`);
  }
  const listMerge = str(kw.list_merge ?? 'replace');
  if (!LIST_MERGE.includes(listMerge)) throw typeError(`combine: list_merge must be one of ${LIST_MERGE.join(', ')}`);
  const terms = [v, ...args].flatMap((t) => (Array.isArray(t) ? t : [t]));
  return terms.reduce<Dict>((acc, t) => mergeDicts(acc, mapping(t, 'combine'), truthy(kw.recursive ?? false), listMerge), {});
});

// ---- data formats --------------------------------------------------------------------------

// Python json.dumps: ', ' and ': ' separators, ensure_ascii, optional indent and sort_keys.
function toJson(
  v: unknown,
  opts: { indent?: number | string | null; sortKeys?: boolean; ensureAscii?: boolean; separators?: [string, string] } = {},
): string {
  const indent =
    opts.indent === null || opts.indent === undefined ? null : typeof opts.indent === 'number' ? ' '.repeat(opts.indent) : opts.indent;
  const [itemSep, keySep] = opts.separators ?? (indent === null ? [', ', ': '] : [',', ': ']);
  const ascii = opts.ensureAscii ?? true;
  const enc = (s: string) => {
    const j = JSON.stringify(s);
    return ascii ? j.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : j;
  };
  const walk = (x: unknown, level: number): string => {
    x = plain(x);
    if (isUndefined(x)) x.fail();
    if (x === null || x === undefined) return 'null';
    if (typeof x === 'string') return enc(x);
    if (typeof x === 'boolean') return x ? 'true' : 'false';
    if (typeof x === 'number') return Number.isNaN(x) ? 'NaN' : Number.isFinite(x) ? String(x) : x > 0 ? 'Infinity' : '-Infinity';
    if (x instanceof Date) return enc(x.toISOString());
    const open = indent === null ? '' : `\n${indent.repeat(level + 1)}`;
    const close = indent === null ? '' : `\n${indent.repeat(level)}`;
    const sep = indent === null ? itemSep : `${itemSep}\n${indent.repeat(level + 1)}`;
    if (Array.isArray(x)) return x.length ? `[${open}${x.map((e) => walk(e, level + 1)).join(sep)}${close}]` : '[]';
    if (isMapping(x)) {
      const keys = Object.keys(x);
      if (opts.sortKeys) keys.sort();
      return keys.length ? `{${open}${keys.map((k) => `${enc(k)}${keySep}${walk(x[k], level + 1)}`).join(sep)}${close}}` : '{}';
    }
    return enc(String(x));
  };
  return walk(v, 0);
}

def(
  'to_json',
  [
    ['indent', null],
    ['sort_keys', false],
    ['ensure_ascii', true],
    ['separators', null],
  ],
  (v, indent, sortKeys, ensureAscii, separators) =>
    toJson(v, {
      indent: indent as number | null,
      sortKeys: truthy(sortKeys),
      ensureAscii: truthy(ensureAscii),
      separators: separators === null ? undefined : (seq(separators).map(str) as [string, string]),
    }),
);
def(
  'to_nice_json',
  [
    ['indent', 4],
    ['sort_keys', true],
    ['ensure_ascii', true],
  ],
  (v, indent, sortKeys, ensureAscii) =>
    toJson(v, { indent: indent as number, sortKeys: truthy(sortKeys), ensureAscii: truthy(ensureAscii), separators: [',', ': '] }),
);
def('from_json', [], (v) => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch (e) {
    throw typeError(`from_json: ${(e as Error).message}`, 'the value is not valid JSON');
  }
});

def(
  'to_yaml',
  [
    ['indent', 2],
    ['sort_keys', true],
    ['default_flow_style', null],
  ],
  (v, indent, sortKeys, flow) => dumpYaml(v, { indent: int(indent, 'indent'), flowLeaves: flow === null, sortKeys: truthy(sortKeys) }),
);
def(
  'to_nice_yaml',
  [
    ['indent', 4],
    ['sort_keys', true],
    ['width', 80],
  ],
  (v, indent, sortKeys) => dumpYaml(v, { indent: int(indent, 'indent'), flowLeaves: false, sortKeys: truthy(sortKeys) }),
);

function yamlError(e: unknown): UserError {
  return typeError(`from_yaml: ${(e as Error).message.split('\n')[0]}`, 'the value is not valid YAML');
}

// Anything but text passes through, an undefined value too (`vars | from_yaml` in a role), as in Ansible.
def(
  'from_yaml',
  [],
  (v) => {
    if (typeof v !== 'string') return v;
    try {
      return parseYaml(v);
    } catch (e) {
      throw yamlError(e);
    }
  },
  true,
);
def(
  'from_yaml_all',
  [],
  (v) => {
    if (typeof v !== 'string') return v;
    try {
      return parseYamlAll(v);
    } catch (e) {
      throw yamlError(e);
    }
  },
  true,
);

// ---- encoding and hashing ------------------------------------------------------------------

def('b64encode', [['encoding', 'utf-8']], (v) => Buffer.from(str(v), 'utf8').toString('base64'));
def('b64decode', [['encoding', 'utf-8']], (v) => Buffer.from(str(v), 'base64').toString('utf8'));

const HASHES: Record<string, string> = { md5: 'md5', sha1: 'sha1', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };

function digest(algorithm: string, v: unknown): string {
  const alg = HASHES[algorithm];
  if (!alg) throw typeError(`unsupported hash type '${algorithm}'; use one of ${Object.keys(HASHES).join(', ')}`);
  return createHash(alg).update(str(v), 'utf8').digest('hex');
}

def('hash', [['hashtype', 'sha1']], (v, type) => digest(str(type), v));
def(['checksum', 'sha1'], [], (v) => digest('sha1', v));
def('md5', [], (v) => digest('md5', v));

def('to_uuid', [['namespace', '361E6D51-FAEC-444A-9079-341386DA8E2E']], (v, ns) => {
  const nsBytes = Buffer.from(str(ns).replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(nsBytes).update(str(v), 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
});

def('urlencode', [], (v) => {
  if (isMapping(v))
    return Object.keys(v)
      .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(str(v[k]))}`)
      .join('&');
  return encodeURIComponent(str(v)).replace(/%2F/g, '/');
});

def('urlsplit', [['query', '']], (v, query) => {
  const u = new URL(str(v));
  const parts: Dict = {
    scheme: u.protocol.replace(/:$/, ''),
    netloc: u.host,
    hostname: u.hostname,
    port: u.port ? Number(u.port) : null,
    path: u.pathname,
    query: u.search.replace(/^\?/, ''),
    fragment: u.hash.replace(/^#/, ''),
    username: u.username || null,
    password: u.password || null,
  };
  if (query === '') return parts;
  if (!hasOwn(parts, str(query))) throw typeError(`urlsplit: unknown URL component '${str(query)}'`);
  return parts[str(query)];
});

// ---- paths ---------------------------------------------------------------------------------

def('basename', [], (v) => posix.basename(str(v)));
def('dirname', [], (v) => posix.dirname(str(v)).replace(/^\.$/, ''));
def('expanduser', [], (v) => str(v).replace(/^~(?=$|\/)/, homedir()));
def('expandvars', [], (v) => str(v).replace(/\$(\w+)|\$\{(\w+)\}/g, (m, a: string, b: string) => process.env[a ?? b] ?? m));
def('realpath', [], (v) => {
  try {
    return realpathSync(str(v));
  } catch {
    return posix.resolve(str(v));
  }
});
def('relpath', [['start', '.']], (v, start) => posix.relative(posix.resolve(str(start)), posix.resolve(str(v))) || '.');
def('splitext', [], (v) => {
  const s = str(v);
  const ext = posix.extname(s);
  return tuple([s.slice(0, s.length - ext.length), ext]);
});
def('path_join', [], (v) => {
  const parts = Array.isArray(v) ? v.map(str) : [str(v)];
  return parts.reduce((acc, p) => (p.startsWith('/') ? p : acc === '' ? p : acc.endsWith('/') ? acc + p : `${acc}/${p}`), '');
});

// ---- numbers and sizes ---------------------------------------------------------------------

def('log', [['base', Math.E]], (v, base) => Math.log(Number(plain(v))) / Math.log(Number(base)));
def('pow', [['y', REQUIRED]], (v, y) => Number(plain(v)) ** Number(y));
def('root', [['base', 2]], (v, base) => (Number(base) === 2 ? Math.sqrt(Number(plain(v))) : Number(plain(v)) ** (1 / Number(base))));

const SIZE_UNITS: [string, number][] = ['Y', 'Z', 'E', 'P', 'T', 'G', 'M', 'K', 'B'].map((u, i) => [u, 2 ** (10 * (8 - i))]);

def(
  'human_readable',
  [
    ['isbits', false],
    ['unit', null],
  ],
  (v, isbits, unit) => {
    const size = Number(plain(v));
    const base = truthy(isbits) ? 'bits' : 'Bytes';
    let [suffix, limit] = SIZE_UNITS[SIZE_UNITS.length - 1]!;
    for (const [u, l] of SIZE_UNITS) {
      if ((unit === null && size >= l) || (unit !== null && str(unit).toUpperCase()[0] === u)) {
        [suffix, limit] = [u, l];
        break;
      }
    }
    const label = limit !== 1 ? suffix + base[0] : base;
    return `${(size / limit).toFixed(2)} ${label}`;
  },
);

def(
  'human_to_bytes',
  [
    ['default_unit', null],
    ['isbits', false],
  ],
  (v, defaultUnit, isbits) => {
    const m = /^\s*(\d*\.?\d*)\s*([A-Za-z]+)?/.exec(str(v));
    if (!m || m[1] === '' || m[1] === '.') throw typeError(`human_to_bytes() can't interpret ${pyRepr(v)}`);
    const num = Number(m[1]);
    const unit = m[2] ?? (defaultUnit === null ? null : str(defaultUnit));
    if (unit === null) return Math.round(num);
    const key = unit[0]!.toUpperCase();
    const limit = SIZE_UNITS.find(([u]) => u === key)?.[1];
    if (limit === undefined)
      throw typeError(
        `human_to_bytes() failed to convert ${pyRepr(v)}: the suffix must be one of ${SIZE_UNITS.map(([u]) => u).join(', ')}`,
      );
    const unitClass = truthy(isbits) ? 'b' : 'B';
    if (unit.length > 1 && !unit.toLowerCase().includes(truthy(isbits) ? 'bit' : 'byte') && unit[1] !== unitClass) {
      throw typeError(`human_to_bytes() failed to convert ${pyRepr(v)}: expected ${key}${unitClass} or ${key}`);
    }
    return Math.round(num * limit);
  },
);

// ---- dates ---------------------------------------------------------------------------------

def(
  'strftime',
  [
    ['second', null],
    ['utc', false],
  ],
  (v, second, utc) => {
    const date = second === null ? new Date() : new Date(Number(plain(second)) * 1000);
    return strftime(str(v), date, truthy(utc));
  },
);

// to_datetime: Python's datetime.strptime (a naive datetime; subtracting two gives a timedelta
// with days, seconds and total_seconds(), as in Ansible).
def('to_datetime', [['format', '%Y-%m-%d %H:%M:%S']], (v, format) => {
  try {
    return strptime(str(v), str(format));
  } catch (e) {
    throw typeError(`to_datetime: ${(e as Error).message}`);
  }
});

// urlize: Jinja2 3.1's, with Ansible's environment policy (rel="noopener").
const HTTP_RE =
  /^((https?:\/\/|www\.)(([\w%-]+\.)+)?([a-z]{2,63}|xn--[\w%]{2,59})|([\w%-]{2,63}\.)+(com|net|int|edu|gov|org|info|mil)|(https?:\/\/)((\d{1,3}(\.\d{1,3}){3})|(\[([\da-f]{0,4}:){2}([\da-f]{0,4}:?){1,6}\])))(?::\d{1,5})?(?:[/?#]\S*)?$/iu;
const EMAIL_RE = /^\S+@\w[\w.-]*\.\w+$/u;
def(
  'urlize',
  [
    ['trim_url_limit', null],
    ['nofollow', false],
    ['target', null],
    ['rel', null],
    ['extra_schemes', null],
  ],
  (v, trimLimit, nofollow, target, rel, extraSchemes) => {
    const relParts = new Set((rel === null ? '' : str(rel)).split(/\s+/).filter(Boolean));
    if (truthy(nofollow)) relParts.add('nofollow');
    relParts.add('noopener');
    const relAttr = ` rel="${htmlEscape([...relParts].sort().join(' '))}"`;
    const targetAttr = target !== null ? ` target="${htmlEscape(str(target))}"` : '';
    const schemes = extraSchemes === null ? [] : iterate(extraSchemes).map(str);
    for (const scheme of schemes)
      if (!/^[a-zA-Z][\w+.-]*:(\/\/)?$/.test(scheme)) throw typeError(`${scheme} is not a valid URI scheme prefix.`);
    const limit = trimLimit === null ? null : int(trimLimit, 'trim_url_limit');
    const trim = (x: string) => (limit !== null && x.length > limit ? `${x.slice(0, limit)}...` : x);
    return htmlEscape(str(v))
      .split(/(\s+)/)
      .map((word) => {
        let head = '';
        let middle = word;
        let tail = '';
        const lead = /^([(<]|&lt;)+/.exec(middle);
        if (lead) {
          head = lead[0];
          middle = middle.slice(head.length);
        }
        const end = /([)>.,\n]|&gt;)+$/.exec(middle);
        if (end) {
          tail = end[0];
          middle = middle.slice(0, end.index);
        }
        for (const [open, close] of [
          ['(', ')'],
          ['<', '>'],
          ['&lt;', '&gt;'],
        ] as const) {
          const opens = middle.split(open).length - 1;
          if (opens <= middle.split(close).length - 1) continue;
          for (let n = Math.min(opens, tail.split(close).length - 1); n > 0; n--) {
            const at = tail.indexOf(close) + close.length;
            middle += tail.slice(0, at);
            tail = tail.slice(at);
          }
        }
        if (HTTP_RE.test(middle)) {
          const href = /^https?:\/\//.test(middle) ? middle : `https://${middle}`;
          middle = `<a href="${href}"${relAttr}${targetAttr}>${trim(middle)}</a>`;
        } else if (middle.startsWith('mailto:') && EMAIL_RE.test(middle.slice(7))) {
          middle = `<a href="${middle}">${middle.slice(7)}</a>`;
        } else if (
          middle.includes('@') &&
          !middle.startsWith('www.') &&
          !middle.startsWith('@') &&
          !middle.includes(':') &&
          EMAIL_RE.test(middle)
        ) {
          middle = `<a href="mailto:${middle}">${middle}</a>`;
        } else {
          for (const scheme of schemes)
            if (middle !== scheme && middle.startsWith(scheme)) middle = `<a href="${middle}"${relAttr}${targetAttr}>${middle}</a>`;
        }
        return head + middle + tail;
      })
      .join('');
  },
);

// ---- filters Ansible and Jinja2 ship that tsplay lacked ------------------------------------

// random: a random element of a sequence, or a random integer in range(start, end, step). With a
// seed, Python's own generator (pyrandom.ts), so the value is the one Ansible gives for that seed.
function pyRandom(seed: unknown): PyRandom {
  const s = plain(seed);
  if (typeof s === 'boolean') return new PyRandom(s ? 1n : 0n);
  if (typeof s === 'number' && Number.isInteger(s)) return new PyRandom(BigInt(s));
  if (typeof s === 'string') return new PyRandom(s);
  // Python 3.11 seeds only from None, int, float, str and bytes; a float that is not whole is
  // seeded from its hash there, which tsplay does not reproduce.
  throw typeError(`random: tsplay seeds only from a string or an integer, got ${pyRepr(seed)}`);
}
function systemBelow(n: number): number {
  return Math.floor(Math.random() * n);
}
def(
  'random',
  [
    ['start', null],
    ['step', null],
    ['seed', null],
  ],
  (v, start, step, seed) => {
    const rnd = seed === null || seed === undefined ? null : pyRandom(seed);
    if (typeof v === 'number' || typeof v === 'boolean') {
      const from = truthy(start) ? int(start, 'start') : 0;
      const by = truthy(step) ? int(step, 'step') : 1;
      const end = int(v, 'end');
      if (rnd) {
        const r = rnd.randrange(BigInt(from), BigInt(end), BigInt(by));
        if (r === null) throw typeError(`empty range for randrange() (${from}, ${end}, ${by})`);
        return Number(r);
      }
      const count = by > 0 ? Math.ceil((end - from) / by) : by < 0 ? Math.ceil((from - end) / -by) : 0;
      if (count <= 0) throw typeError(`empty range for randrange() (${from}, ${end}, ${by})`);
      return from + systemBelow(count) * by;
    }
    if (truthy(start) || truthy(step)) throw typeError('start and step can only be used with integer values');
    const items = seq(v);
    if (items.length === 0) throw typeError('random: cannot choose from an empty sequence');
    return items[rnd ? Number(rnd.randbelow(BigInt(items.length))) : systemBelow(items.length)];
  },
);
// shuffle: a seed that is not truthy shuffles unseeded, as Ansible's filter does.
def('shuffle', [['seed', null]], (v, seed) => {
  const items = [...seq(v)];
  if (truthy(seed)) pyRandom(seed).shuffle(items);
  else
    for (let i = items.length - 1; i > 0; i--) {
      const j = systemBelow(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
  return items;
});

def('fileglob', [], (v) => fileGlob(str(v)));

def(
  'rekey_on_member',
  [
    ['key', REQUIRED],
    ['duplicates', 'error'],
  ],
  (data, key, duplicates) => {
    const k = str(key);
    if (!['error', 'overwrite'].includes(str(duplicates)))
      throw typeError(`duplicates parameter to rekey_on_member has unknown value: ${str(duplicates)}`);
    const items = isMapping(data) ? Object.values(data) : Array.isArray(data) ? data : undefined;
    if (!items) throw typeError('Type is not a valid list, set, or dict');
    const out: Dict = {};
    for (const item of items) {
      if (!isMapping(item)) throw typeError(`List item is not a valid dict`);
      if (!hasOwn(item, k)) throw typeError(`Key ${k} was not found`);
      const name = str(item[k]);
      if (hasOwn(out, name) && str(duplicates) === 'error') throw typeError(`Key ${name} is not unique, cannot correctly turn into dict`);
      out[name] = item;
    }
    return out;
  },
);

def('urldecode', [], (v) => decodeURIComponent(str(v).replace(/\+/g, ' ')));

// ntpath: a drive (C: or \\host\share) and the rest, with / and \ both separators
function winSplitDrive(p: string): [string, string] {
  const unc = /^([\\/]{2}[^\\/]+[\\/][^\\/]+)(.*)$/s.exec(p);
  if (unc) return [unc[1]!, unc[2]!];
  return /^[A-Za-z]:/.test(p) ? [p.slice(0, 2), p.slice(2)] : ['', p];
}
def('win_splitdrive', [], (v) => tuple(winSplitDrive(str(v))));
def('win_basename', [], (v) => {
  const rest = winSplitDrive(str(v))[1];
  return rest.slice(Math.max(rest.lastIndexOf('/'), rest.lastIndexOf('\\')) + 1);
});
def('win_dirname', [], (v) => {
  const [drive, rest] = winSplitDrive(str(v));
  const i = Math.max(rest.lastIndexOf('/'), rest.lastIndexOf('\\')) + 1;
  const head = rest.slice(0, i);
  return drive + (/^[\\/]+$/.test(head) ? head : head.replace(/[\\/]+$/, ''));
});

// Jinja2's filesizeformat: 1.0 kB (powers of 1000) or 1.0 KiB with binary=true
def('filesizeformat', [['binary', false]], (v, binary) => {
  const bytes = Number(plain(v));
  const base = truthy(binary) ? 1024 : 1000;
  const units = truthy(binary)
    ? ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB']
    : ['kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  if (bytes === 1) return '1 Byte';
  if (bytes < base) return `${Math.trunc(bytes)} Bytes`;
  let unit = 0;
  let value = bytes / base;
  while (unit < units.length - 1 && value >= base) {
    value /= base;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
});

// Jinja2's slice: the items in `slices` lists, the first ones one longer, fill_with pads the rest
def(
  'slice',
  [
    ['slices', REQUIRED],
    ['fill_with', null],
  ],
  (v, slices, fill) => {
    const items = seq(v);
    const n = int(slices, 'slices');
    const per = Math.floor(items.length / n);
    const extra = items.length % n;
    const out: unknown[][] = [];
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const len = per + (i < extra ? 1 : 0);
      const part = items.slice(offset, offset + len);
      offset += len;
      if (fill !== null && i >= extra && extra > 0) part.push(fill);
      out.push(part);
    }
    return out;
  },
);

def('striptags', [], (v) =>
  str(v)
    .replace(/<!--[\s\S]*?-->|<[^>]*>/g, '')
    .replace(/&(amp|lt|gt|quot|#39|#34);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#34': '"' })[e]!)
    .split(/\s+/)
    .filter(Boolean)
    .join(' '),
);

// Python's textwrap.wrap as Jinja2's wordwrap uses it (whitespace collapsed, long words broken)
def(
  'wordwrap',
  [
    ['width', 79],
    ['break_long_words', true],
    ['wrapstring', null],
    ['break_on_hyphens', true],
  ],
  (v, width, breakLong, wrapstring) => {
    const w = int(width, 'width');
    const out: string[] = [];
    for (const para of str(v).split(/\r?\n/)) {
      const words = para.split(/\s+/).filter(Boolean);
      let line = '';
      for (let word of words) {
        while (truthy(breakLong) && word.length > w) {
          const room = line ? w - line.length - 1 : w;
          if (room <= 0) {
            out.push(line);
            line = '';
            continue;
          }
          out.push(line ? `${line} ${word.slice(0, room)}` : word.slice(0, room));
          line = '';
          word = word.slice(room);
        }
        if (!line) line = word;
        else if (line.length + 1 + word.length <= w) line += ` ${word}`;
        else {
          out.push(line);
          line = word;
        }
      }
      out.push(line);
    }
    return out.join(wrapstring === null ? '\n' : str(wrapstring));
  },
);

const htmlEscape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c]!);
def('xmlattr', [['autospace', true]], (d, autospace) => {
  const parts = Object.entries(mapping(d, 'xmlattr'))
    .filter(([, v]) => v !== null && !isUndefined(v))
    .map(([k, v]) => {
      if (/[\s/>=]/.test(k)) throw typeError(`Invalid character in attribute name: ${pyRepr(k)}`);
      return `${htmlEscape(k)}="${htmlEscape(str(v))}"`;
    });
  const text = parts.join(' ');
  return text && truthy(autospace) ? ` ${text}` : text;
});

// Jinja2's tojson: JSON with keys sorted and <, >, &, ' escaped, safe inside HTML
def('tojson', [['indent', null]], (v, indent) =>
  toJson(v, { indent: indent as number | null, sortKeys: true, ensureAscii: false }).replace(
    /[<>&']/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  ),
);

// password_hash: SHA-crypt ($5$ sha256, $6$ sha512; Ulrich Drepper's specification), as Ansible
// makes it with Python's crypt (5000 rounds unless asked; a random 16-character salt unless given).
const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SHA512_ORDER = [
  [0, 21, 42],
  [22, 43, 1],
  [44, 2, 23],
  [3, 24, 45],
  [25, 46, 4],
  [47, 5, 26],
  [6, 27, 48],
  [28, 49, 7],
  [50, 8, 29],
  [9, 30, 51],
  [31, 52, 10],
  [53, 11, 32],
  [12, 33, 54],
  [34, 55, 13],
  [56, 14, 35],
  [15, 36, 57],
  [37, 58, 16],
  [59, 17, 38],
  [18, 39, 60],
  [40, 61, 19],
  [62, 20, 41],
];
const SHA256_ORDER = [
  [0, 10, 20],
  [21, 1, 11],
  [12, 22, 2],
  [3, 13, 23],
  [24, 4, 14],
  [15, 25, 5],
  [6, 16, 26],
  [27, 7, 17],
  [18, 28, 8],
  [9, 19, 29],
];

function shaCrypt(kind: 'sha256' | 'sha512', password: string, salt: string, rounds: number | null): string {
  const H = (...parts: Buffer[]) => {
    const h = createHash(kind);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const size = kind === 'sha512' ? 64 : 32;
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(salt.slice(0, 16), 'utf8');
  const B = H(P, S, P);
  const a: Buffer[] = [P, S];
  for (let n = P.length; n > 0; n -= size) a.push(B.subarray(0, Math.min(n, size)));
  for (let n = P.length; n > 0; n >>= 1) a.push(n & 1 ? B : P);
  const A = H(...a);
  const repeat = (d: Buffer, len: number) => Buffer.concat(Array.from({ length: Math.ceil(len / size) }, () => d)).subarray(0, len);
  const Pseq = repeat(H(...Array.from({ length: P.length }, () => P)), P.length);
  const Sseq = repeat(H(...Array.from({ length: 16 + A[0]! }, () => S)), S.length);
  const n = rounds ?? 5000;
  let C = A;
  for (let r = 0; r < n; r++) {
    const parts: Buffer[] = [r % 2 ? Pseq : C];
    if (r % 3) parts.push(Sseq);
    if (r % 7) parts.push(Pseq);
    parts.push(r % 2 ? C : Pseq);
    C = H(...parts);
  }
  const b64 = (b2: number, b1: number, b0: number, chars: number) => {
    let w = (b2 << 16) | (b1 << 8) | b0;
    let out = '';
    for (let i = 0; i < chars; i++, w >>= 6) out += CRYPT_ALPHABET[w & 0x3f];
    return out;
  };
  let hash = (kind === 'sha512' ? SHA512_ORDER : SHA256_ORDER).map(([x, y, z]) => b64(C[x!]!, C[y!]!, C[z!]!, 4)).join('');
  hash += kind === 'sha512' ? b64(0, 0, C[63]!, 2) : b64(0, C[31]!, C[30]!, 3);
  const id = kind === 'sha512' ? '6' : '5';
  return `$${id}$${rounds !== null ? `rounds=${rounds}$` : ''}${S.toString('utf8')}$${hash}`;
}

// md5-crypt ($1$, Poul-Henning Kamp's), as glibc's crypt makes it: the salt is what follows $1$
// up to the next $, at most 8 characters.
function md5Crypt(password: string, saltString: string): string {
  const md5 = (...parts: Buffer[]) => {
    const h = createHash('md5');
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(saltString.split('$')[0]!.slice(0, 8), 'utf8');
  const alt = md5(P, S, P);
  const ctx: Buffer[] = [P, Buffer.from('$1$'), S];
  for (let n = P.length; n > 0; n -= 16) ctx.push(alt.subarray(0, Math.min(n, 16)));
  for (let n = P.length; n > 0; n >>= 1) ctx.push(n & 1 ? Buffer.from([0]) : P.subarray(0, 1));
  let C = md5(...ctx);
  for (let i = 0; i < 1000; i++) {
    const parts: Buffer[] = [i & 1 ? P : C];
    if (i % 3) parts.push(S);
    if (i % 7) parts.push(P);
    parts.push(i & 1 ? C : P);
    C = md5(...parts);
  }
  const b64 = (b2: number, b1: number, b0: number, chars: number) => {
    let w = (b2 << 16) | (b1 << 8) | b0;
    let out = '';
    for (let i = 0; i < chars; i++, w >>= 6) out += CRYPT_ALPHABET[w & 0x3f];
    return out;
  };
  const groups = [
    [0, 6, 12],
    [1, 7, 13],
    [2, 8, 14],
    [3, 9, 15],
    [4, 10, 5],
  ];
  const hash = groups.map(([x, y, z]) => b64(C[x!]!, C[y!]!, C[z!]!, 4)).join('') + b64(0, 0, C[11]!, 2);
  return `$1$${S.toString('utf8')}$${hash}`;
}

// bcrypt as Ansible 2.14 makes it with passlib (without, crypt gives the useless '*0'): cost 12,
// ident 2b, a 22-character salt whose last character passlib normalizes.
function bcryptHash(password: string, salt: unknown, rounds: unknown, ident: unknown): string {
  const fail = (why: string) => typeError(`Could not hash the secret.: ${why}`);
  let s = salt === null || salt === '' ? '' : str(salt);
  if (!s) {
    for (let i = 0; i < 21; i++) s += CRYPT_ALPHABET[Math.floor(Math.random() * 64)];
    s += '.Oeu'[Math.floor(Math.random() * 4)];
  }
  if (!/^[./0-9A-Za-z]{22}$/.test(s)) throw fail('bcrypt salt must be 22 characters of ./0-9A-Za-z');
  const cost = rounds === null || rounds === 0 ? 12 : int(rounds, 'rounds');
  if (cost < 4 || cost > 31) throw fail('rounds must be from 4 to 31 for bcrypt');
  const id = ident === null || ident === '' ? '2b' : str(ident);
  if (!['2a', '2b', '2y'].includes(id)) throw fail(`invalid ident: '${id}'`);
  if (password.includes('\0')) throw fail('bcrypt does not allow NUL bytes in the password');
  return bcrypt(password, s, cost, id);
}

// Ansible 2.14's hash types without passlib (its CryptHash): salt size, and the rounds it leaves
// out because passlib would (then crypt uses its own default, 5000 for SHA-crypt).
const CRYPT_TYPES: Record<string, { saltSize: number; implicitRounds: number | null }> = {
  md5_crypt: { saltSize: 8, implicitRounds: null },
  sha256_crypt: { saltSize: 16, implicitRounds: 535000 },
  sha512_crypt: { saltSize: 16, implicitRounds: 656000 },
};
const HASH_ALIASES: Record<string, string> = { md5: 'md5_crypt', blowfish: 'bcrypt', sha256: 'sha256_crypt', sha512: 'sha512_crypt' };

def(
  'password_hash',
  [
    ['hashtype', 'sha512'],
    ['salt', null],
    ['salt_size', null],
    ['rounds', null],
    ['ident', null],
  ],
  (v, hashtype, salt, saltSize, rounds, ident) => {
    const type = HASH_ALIASES[str(hashtype)] ?? str(hashtype);
    if (type === 'bcrypt') return bcryptHash(str(v), salt, rounds, ident);
    const algo = CRYPT_TYPES[type];
    if (!algo) throw typeError(`crypt.crypt does not support '${type}' algorithm`);
    // (ident only matters to bcrypt; passlib ignores it for the others)
    const size = saltSize === null || saltSize === 0 ? algo.saltSize : int(saltSize, 'salt_size');
    let s = salt === null || salt === '' ? '' : str(salt);
    if (!s) for (let i = 0; i < size; i++) s += CRYPT_ALPHABET[Math.floor(Math.random() * 64)];
    if (/[^./0-9A-Za-z]/.test(s)) throw typeError('invalid characters in salt');
    if (s.length > size) throw typeError('invalid salt size');
    let r = rounds === null ? null : int(rounds, 'rounds');
    if (r === algo.implicitRounds || r === 0) r = null;
    const settings = r === null ? s : `rounds=${r}$${s}`;
    if (type === 'md5_crypt') return md5Crypt(str(v), settings);
    // glibc keeps the rounds within 1000 .. 999999999 and writes them out whenever given
    const clamped = r === null ? null : Math.min(Math.max(r, 1000), 999999999);
    return shaCrypt(type === 'sha512_crypt' ? 'sha512' : 'sha256', str(v), s, clamped);
  },
);

// vault / unvault: encrypt a value with a password as Ansible's filters do (format 1.2, the label
// filter_default unless another is given), and decrypt such text
def(
  'vault',
  [
    ['secret', REQUIRED],
    ['salt', null],
    ['vaultid', 'filter_default'],
    ['wrap_object', false],
    ['vault_id', null],
  ],
  (v, secret, _salt, vaultid, _wrap, vaultId) => {
    if (typeof v !== 'string') throw typeError(`vault: can only encrypt strings, not ${typeName(v)}`);
    const id = str(vaultId ?? vaultid);
    return encryptVaultText(v, { id: id === 'default' ? 'default' : id, password: str(secret) }).replace(/\n$/, '');
  },
);
def(
  'unvault',
  [
    ['secret', REQUIRED],
    ['vaultid', 'filter_default'],
    ['vault_id', null],
  ],
  (v, secret, vaultid, vaultId) => {
    const text = str(v);
    if (!isVaultText(text)) throw typeError('unvault: the value is not vault-encrypted text');
    const plain = decryptVaultText(text, undefined, [{ id: str(vaultId ?? vaultid), password: str(secret) }]);
    secretValues.add(plain);
    return plain;
  },
);

// ---- ansible.utils.ipwrap ----------------------------------------------------------------------

function ipv4Text(s: string): string | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number).join('.');
}

// The 8 groups of an IPv6 address (an embedded dotted IPv4 allowed at the end), or undefined.
function ipv6Groups(s: string): number[] | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.split('::').length > 2) return undefined;
  const toGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (const [i, item] of items.entries()) {
      if (item.includes('.')) {
        const v4 = i === items.length - 1 ? ipv4Text(item) : undefined;
        if (!v4) return undefined;
        const b = v4.split('.').map(Number);
        out.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(item)) out.push(parseInt(item, 16));
      else return undefined;
    }
    return out;
  };
  const [head, tail] = s.split('::');
  const h = toGroups(head!);
  const t = tail === undefined ? [] : toGroups(tail);
  if (!h || !t) return undefined;
  if (tail === undefined) return h.length === 8 ? h : undefined;
  if (h.length + t.length > 7) return undefined;
  return [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
}

// RFC 5952 text of an IPv6 address (the longest run of two or more zero groups as ::), with the
// last 32 bits of an IPv4-mapped or -compatible address dotted, as netaddr prints them.
function ipv6Text(g: number[]): string {
  const dotted = `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${dotted}`;
  if (g.slice(0, 6).every((x) => x === 0) && g[6] !== 0) return `::${dotted}`;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

// One value as ansible.utils.ipwrap leaves it: an IPv6 address (or network) in brackets, an IPv4
// one normalized, anything else unchanged.
function ipwrapOne(v: unknown): unknown {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 32)
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/32`;
  if (typeof v !== 'string') return v;
  const m = /^([^/]+)(?:\/(0|[1-9]\d{0,2}))?$/.exec(v);
  if (!m) return v;
  const [, addr, prefix] = m;
  const v4 = ipv4Text(addr!);
  if (v4 !== undefined) return prefix === undefined ? v4 : Number(prefix) <= 32 ? `${v4}/${Number(prefix)}` : v;
  const g = ipv6Groups(addr!);
  if (!g || (prefix !== undefined && Number(prefix) > 128)) return v;
  return `[${ipv6Text(g)}]${prefix === undefined ? '' : `/${Number(prefix)}`}`;
}

def(['ansible.utils.ipwrap', 'ipwrap'], [['query', '']], (v) => {
  if (Array.isArray(v)) return v.map(ipwrapOne);
  if (typeof v !== 'string') throw typeError(`Unrecognized type <<class '${typeName(v)}'>> for ipwrap filter <value>`);
  return ipwrapOne(v);
});
