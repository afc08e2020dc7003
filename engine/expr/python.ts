// Python value semantics for Jinja2 expressions: truthiness, str()/repr(), ==, ordering, + - * %,
// `in`, attribute/item lookup, slices and the str/list/dict methods playbooks call (x.split(',')).
import { PyDateTime, PyTimedelta, dateArithmetic, dateOrder } from './datetime.js';
import { UserError } from '../errors.js';
import { CondExprUndefined, Undefined, isUndefined } from './undefined.js';

export type Dict = Record<string, unknown>;

const tuples = new WeakSet<object>();

/** A Python tuple: a frozen-in-spirit array that `%` formatting spreads and repr prints with (). */
export function tuple(items: unknown[]): unknown[] {
  tuples.add(items);
  return items;
}

function isTuple(v: unknown): v is unknown[] {
  return Array.isArray(v) && tuples.has(v);
}

/** A plain mapping (YAML/JSON object), as opposed to a list, string or class instance. */
export function isMapping(v: unknown): v is Dict {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Undefined) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** nunjucks' SafeString (macro output) and String objects become primitive strings. */
export function plain(v: unknown): unknown {
  return v instanceof String ? String(v) : v;
}

/** Object.hasOwn that also works on Proxies and null-prototype objects. */
export function hasOwn(obj: object, key: PropertyKey): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** Python's type name, as `type_debug` and error messages show it. */
export function typeName(v: unknown): string {
  v = plain(v);
  if (v === null || v === undefined) return 'NoneType';
  if (isUndefined(v)) return 'AnsibleUndefined';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (isTuple(v)) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (isMapping(v)) return 'dict';
  if (typeof v === 'function') return 'function';
  if (v instanceof PyDateTime) return 'datetime';
  if (v instanceof PyTimedelta) return 'timedelta';
  return (v as object).constructor?.name ?? 'object';
}

/** An E_TEMPLATE error for a Python TypeError/ValueError in an expression. */
export function typeError(message: string, hint?: string): UserError {
  return new UserError('E_TEMPLATE', `template error: ${message}`, { hint });
}

/** Jinja2 truthiness: '', 0, None, False, [] and {} are false; an undefined value is an error. */
export function truthy(v: unknown): boolean {
  v = plain(v);
  if (v instanceof CondExprUndefined) return false;
  if (isUndefined(v)) v.fail();
  if (v === null || v === undefined || v === false || v === 0 || v === '' || Number.isNaN(v)) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isMapping(v)) return Object.keys(v).length > 0;
  return true;
}

function formatFloat(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

/** Python str(): True, None, ['a', 1], {'k': 'v'}. */
export function pyStr(v: unknown): string {
  v = plain(v);
  if (typeof v === 'string') return v;
  if (v instanceof CondExprUndefined) return '';
  if (isUndefined(v)) v.fail();
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return formatFloat(v);
  if (Array.isArray(v) || isMapping(v)) return pyRepr(v);
  if (v instanceof Date) return v.toISOString().replace('T', ' ').replace('Z', '');
  return String(v);
}

/** Python repr(): strings quoted as Python quotes them. */
export function pyRepr(v: unknown): string {
  v = plain(v);
  if (typeof v === 'string') return reprString(v);
  if (isTuple(v)) return v.length === 1 ? `(${pyRepr(v[0])},)` : `(${v.map(pyRepr).join(', ')})`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (isMapping(v))
    return `{${Object.keys(v)
      .map((k) => `${reprString(k)}: ${pyRepr(v[k])}`)
      .join(', ')}}`;
  return pyStr(v);
}

function reprString(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += `\\${q}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + q;
}

function isNumberLike(v: unknown): v is number | boolean {
  return typeof v === 'number' || typeof v === 'boolean';
}

/** Python ==: deep for lists and dicts, True == 1, '1' != 1. */
export function pyEq(x: unknown, y: unknown): boolean {
  const a = plain(x);
  const b = plain(y);
  if (isUndefined(a)) a.fail();
  if (isUndefined(b)) b.fail();
  if (isNumberLike(a) && isNumberLike(b)) return Number(a) === Number(b);
  const dates = dateOrder(a, b);
  if (dates !== undefined) return dates === 0;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((e, i) => pyEq(e, b[i]));
  if (isMapping(a) && isMapping(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => hasOwn(b, k) && pyEq(a[k], b[k]));
  }
  return (a ?? null) === (b ?? null);
}

/** Python ordering (<): numbers with numbers, strings with strings, lists item by item. */
export function pyCmp(a: unknown, b: unknown, op = '<'): number {
  a = plain(a);
  b = plain(b);
  if (isUndefined(a)) a.fail();
  if (isUndefined(b)) b.fail();
  if (isNumberLike(a) && isNumberLike(b)) return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const dates = dateOrder(a, b);
  if (dates !== undefined) return dates;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (!pyEq(a[i], b[i])) return pyCmp(a[i], b[i], op);
    }
    return a.length - b.length;
  }
  throw typeError(
    `'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`,
    'convert one side first, e.g. x | int or x | string',
  );
}

/** A comparison operator of an expression. */
export function compare(op: string, a: unknown, b: unknown): boolean {
  switch (op) {
    case '==':
    case '===':
      return pyEq(a, b);
    case '!=':
    case '!==':
      return !pyEq(a, b);
    case '<':
      return pyCmp(a, b, op) < 0;
    case '<=':
      return pyCmp(a, b, op) <= 0;
    case '>':
      return pyCmp(a, b, op) > 0;
    case '>=':
      return pyCmp(a, b, op) >= 0;
  }
  throw typeError(`unknown comparison ${op}`);
}

function unsupported(op: string, a: unknown, b: unknown): UserError {
  return typeError(
    `unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`,
    op === '+' ? 'to join text use ~ (it converts both sides to strings), or convert with | int / | string' : undefined,
  );
}

function num(op: string, a: unknown, b: unknown): [number, number] {
  if (isNumberLike(a) && isNumberLike(b)) return [Number(a), Number(b)];
  throw unsupported(op, a, b);
}

function repeat<T>(op: string, seq: T, n: unknown, other: unknown): T {
  if (typeof n !== 'number' && typeof n !== 'boolean') throw unsupported(op, seq, other);
  const times = Math.max(0, Math.trunc(Number(n)));
  if (typeof seq === 'string') return seq.repeat(times) as T;
  return Array.from({ length: times }, () => seq as unknown[]).flat() as T;
}

/** A binary operator of an expression: + - * / // % ** and ~. */
export function binop(op: string, a: unknown, b: unknown): unknown {
  a = plain(a);
  b = plain(b);
  if (isUndefined(a)) a.fail();
  if (isUndefined(b)) b.fail();
  const dates = dateArithmetic(op, a, b);
  if (dates !== undefined) return dates;
  switch (op) {
    case '~':
      return pyStr(a) + pyStr(b);
    case '+':
      if (typeof a === 'string' && typeof b === 'string') return a + b;
      if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
      return num(op, a, b).reduce((x, y) => x + y);
    case '-': {
      const [x, y] = num(op, a, b);
      return x - y;
    }
    case '*':
      if (typeof a === 'string' || Array.isArray(a)) return repeat(op, a, b, b);
      if (typeof b === 'string' || Array.isArray(b)) return repeat(op, b, a, a);
      return num(op, a, b).reduce((x, y) => x * y);
    case '/': {
      const [x, y] = num(op, a, b);
      if (y === 0) throw typeError('division by zero');
      return x / y;
    }
    case '//': {
      const [x, y] = num(op, a, b);
      if (y === 0) throw typeError('integer division or modulo by zero');
      return Math.floor(x / y);
    }
    case '%': {
      if (typeof a === 'string') return pyFormat(a, b);
      const [x, y] = num(op, a, b);
      if (y === 0) throw typeError('integer division or modulo by zero');
      return ((x % y) + y) % y;
    }
    case '**': {
      const [x, y] = num(op, a, b);
      return x ** y;
    }
  }
  throw typeError(`unknown operator ${op}`);
}

/** Unary minus and plus. */
export function unary(op: '-' | '+', a: unknown): number {
  a = plain(a);
  if (isUndefined(a)) a.fail();
  if (!isNumberLike(a)) throw typeError(`bad operand type for unary ${op}: '${typeName(a)}'`);
  return op === '-' ? -Number(a) : Number(a);
}

/** Python `item in container`. */
export function contains(container: unknown, item: unknown): boolean {
  container = plain(container);
  item = plain(item);
  if (isUndefined(container)) container.fail();
  if (isUndefined(item)) item.fail();
  if (typeof container === 'string') {
    if (typeof item !== 'string') throw typeError(`'in <string>' requires string as left operand, not ${typeName(item)}`);
    return container.includes(item);
  }
  if (Array.isArray(container)) return container.some((x) => pyEq(x, item));
  if (isMapping(container)) return item !== null && typeof item !== 'object' && hasOwn(container, String(item));
  throw typeError(`argument of type '${typeName(container)}' is not iterable`);
}

/** Python's %-formatting: '%s-%02d' % (a, b), '%(name)s' % d. */
export function pyFormat(fmt: string, args: unknown): string {
  const list = isTuple(args) ? args : [args];
  let i = 0;
  const out = fmt.replace(
    /%(?:\(([^)]*)\))?([-+ #0]*)(\d+|\*)?(?:\.(\d+))?([sdifrxXoeEgGc%])/g,
    (_m, key: string | undefined, flags: string, width: string | undefined, prec: string | undefined, conv: string) => {
      if (conv === '%') return '%';
      let v: unknown;
      if (key !== undefined) {
        if (!isMapping(args)) throw typeError('format requires a mapping');
        v = args[key];
      } else {
        if (width === '*') width = String(list[i++]);
        if (i >= list.length) throw typeError('not enough arguments for format string');
        v = list[i++];
      }
      return pad(convert(v, conv, prec), flags, width);
    },
  );
  if (isTuple(args) && i < list.length) throw typeError('not all arguments converted during string formatting');
  return out;
}

function convert(v: unknown, conv: string, prec: string | undefined): string {
  switch (conv) {
    case 's':
      return prec !== undefined ? pyStr(v).slice(0, Number(prec)) : pyStr(v);
    case 'r':
      return pyRepr(v);
    case 'c':
      return typeof v === 'number' ? String.fromCodePoint(v) : pyStr(v);
  }
  const n = Number(plain(v));
  if (Number.isNaN(n) && typeof v !== 'number') throw typeError(`%${conv} format: a number is required, not ${typeName(v)}`);
  const p = prec !== undefined ? Number(prec) : 6;
  switch (conv) {
    case 'd':
    case 'i':
      return String(Math.trunc(n));
    case 'f':
      return n.toFixed(p);
    case 'x':
      return Math.trunc(n).toString(16);
    case 'X':
      return Math.trunc(n).toString(16).toUpperCase();
    case 'o':
      return Math.trunc(n).toString(8);
    case 'e':
    case 'E': {
      const s = n.toExponential(p).replace(/e([+-])(\d)$/, 'e$10$2');
      return conv === 'E' ? s.toUpperCase() : s;
    }
    default:
      return String(Number(n.toPrecision(p || 1)));
  }
}

function pad(s: string, flags: string, width: string | undefined): string {
  if (flags.includes('+') && /^\d/.test(s)) s = `+${s}`;
  else if (flags.includes(' ') && /^\d/.test(s)) s = ` ${s}`;
  const w = width ? Number(width) : 0;
  if (s.length >= w) return s;
  if (flags.includes('-')) return s.padEnd(w);
  // zero padding of any number: decimal, hex (%02x of 11 is "0b"), octal, float
  if (flags.includes('0') && /^[-+ ]?[\da-fA-F]/.test(s) && !/^[-+ ]?(inf|nan)/i.test(s)) {
    const sign = /^[-+ ]/.test(s) ? s[0]! : '';
    return sign + s.slice(sign.length).padStart(w - sign.length, '0');
  }
  return s.padStart(w);
}

/** Python str.split: no separator splits on runs of whitespace; maxsplit keeps the rest whole. */
export function pySplit(s: string, sep: unknown = null, maxsplit = -1): string[] {
  if (sep === null || sep === undefined) {
    const words: string[] = [];
    let rest = s.replace(/^\s+/, '');
    while (rest.length) {
      if (maxsplit >= 0 && words.length === maxsplit) {
        words.push(rest.replace(/\s+$/, ''));
        break;
      }
      const m = /\s+/.exec(rest);
      if (!m) {
        words.push(rest);
        break;
      }
      words.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return words;
  }
  const sp = pyStr(sep);
  if (sp === '') throw typeError('empty separator');
  const parts = s.split(sp);
  if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
  return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sp)];
}

function pyRsplit(s: string, sep: unknown = null, maxsplit = -1): string[] {
  if (maxsplit < 0) return pySplit(s, sep);
  const rev = (x: string) => [...x].reverse().join('');
  const revSep = sep === null || sep === undefined ? sep : rev(pyStr(sep));
  return pySplit(rev(s), revSep, maxsplit).map(rev).reverse();
}

/** Python str.strip(chars): whitespace by default. */
export function pyStrip(s: string, chars: unknown = null, side: 'both' | 'left' | 'right' = 'both'): string {
  const set = chars === null || chars === undefined ? null : new Set(pyStr(chars));
  const strip = (c: string) => (set ? set.has(c) : /\s/.test(c));
  const cs = [...s];
  let i = 0;
  let j = cs.length;
  if (side !== 'right') while (i < j && strip(cs[i]!)) i++;
  if (side !== 'left') while (j > i && strip(cs[j - 1]!)) j--;
  return cs.slice(i, j).join('');
}

/** Python str.splitlines (keepends=False). */
export function splitLines(s: string): string[] {
  const lines = s.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Python str.center. */
export function center(s: string, width: number, fill = ' '): string {
  const marg = width - s.length;
  if (marg <= 0) return s;
  const left = Math.floor(marg / 2) + (marg & width & 1);
  return fill.repeat(left) + s + fill.repeat(marg - left);
}

/** Python str.title() as Jinja's title filter does it (words start after space, -, (, [, {, <). */
export function title(s: string): string {
  return s
    .split(/([-\s({[<]+)/)
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1).toLowerCase() : w))
    .join('');
}

function index(n: unknown, len: number): number | undefined {
  if (typeof n === 'boolean') n = Number(n);
  if (typeof n !== 'number' || !Number.isInteger(n)) return undefined;
  const i = n < 0 ? n + len : n;
  return i >= 0 && i < len ? i : undefined;
}

/** obj[start:stop:step], Python semantics. */
export function slice(obj: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  obj = plain(obj);
  if (isUndefined(obj)) obj.fail();
  const seq: unknown[] | null = typeof obj === 'string' ? [...obj] : Array.isArray(obj) ? obj : null;
  if (!seq) throw typeError(`'${typeName(obj)}' object is not subscriptable`);
  const len = seq.length;
  const st = step === null || step === undefined ? 1 : Number(step);
  if (st === 0) throw typeError('slice step cannot be zero');
  const norm = (v: unknown, dflt: number, lo: number, hi: number): number => {
    if (v === null || v === undefined) return dflt;
    let n = Math.trunc(Number(v));
    if (n < 0) n += len;
    return Math.min(Math.max(n, lo), hi);
  };
  const out: unknown[] = [];
  if (st > 0) {
    const a = norm(start, 0, 0, len);
    const b = norm(stop, len, 0, len);
    for (let i = a; i < b; i += st) out.push(seq[i]);
  } else {
    const a = norm(start, len - 1, -1, len - 1);
    const b = norm(stop, -1, -1, len - 1);
    for (let i = a; i > b; i += st) out.push(seq[i]);
  }
  return typeof obj === 'string' ? out.join('') : out;
}

const CALLABLE = Symbol('tsplay.pycallable');

/** A function that takes Python-style (positional, keyword) arguments. */
export type PyFunction = ((args: unknown[], kwargs: Dict) => unknown) & { [CALLABLE]: true };

/** Marks `fn` as taking (positional, keyword) arguments when called from an expression. */
export function pyFunction(fn: (args: unknown[], kwargs: Dict) => unknown): PyFunction {
  return Object.assign(fn, { [CALLABLE]: true as const });
}

/** True for functions made with pyFunction. */
export function isPyFunction(v: unknown): v is PyFunction {
  return typeof v === 'function' && (v as Partial<PyFunction>)[CALLABLE] === true;
}

function arg(args: unknown[], kw: Dict, i: number, name: string, dflt: unknown): unknown {
  if (i < args.length) return args[i];
  if (hasOwn(kw, name)) return kw[name];
  return dflt;
}

function prefixes(v: unknown): string[] {
  v = plain(v);
  return Array.isArray(v) ? v.map((x) => pyStr(x)) : [pyStr(v)];
}

type Method<T> = (self: T, args: unknown[], kw: Dict) => unknown;

const STR_METHODS: Record<string, Method<string>> = {
  startswith: (s, a, k) => {
    const sub = s.slice(Number(arg(a, k, 1, 'start', 0)));
    return prefixes(arg(a, k, 0, 'prefix', '')).some((p) => sub.startsWith(p));
  },
  endswith: (s, a, k) => prefixes(arg(a, k, 0, 'suffix', '')).some((p) => s.endsWith(p)),
  split: (s, a, k) => pySplit(s, arg(a, k, 0, 'sep', null), Number(arg(a, k, 1, 'maxsplit', -1))),
  rsplit: (s, a, k) => pyRsplit(s, arg(a, k, 0, 'sep', null), Number(arg(a, k, 1, 'maxsplit', -1))),
  splitlines: (s) => splitLines(s),
  strip: (s, a, k) => pyStrip(s, arg(a, k, 0, 'chars', null)),
  lstrip: (s, a, k) => pyStrip(s, arg(a, k, 0, 'chars', null), 'left'),
  rstrip: (s, a, k) => pyStrip(s, arg(a, k, 0, 'chars', null), 'right'),
  lower: (s) => s.toLowerCase(),
  upper: (s) => s.toUpperCase(),
  casefold: (s) => s.toLowerCase(),
  swapcase: (s) => [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
  capitalize: (s) => (s ? s[0]!.toUpperCase() + s.slice(1).toLowerCase() : s),
  title: (s) => title(s),
  replace: (s, a, k) => {
    const from = pyStr(arg(a, k, 0, 'old', ''));
    const to = pyStr(arg(a, k, 1, 'new', ''));
    const count = Number(arg(a, k, 2, 'count', -1));
    if (count < 0) return s.split(from).join(to);
    const parts = s.split(from);
    return parts.slice(0, count + 1).join(to) + (parts.length > count + 1 ? from + parts.slice(count + 1).join(from) : '');
  },
  join: (s, a) =>
    iterate(a[0])
      .map((x) => {
        if (typeof plain(x) !== 'string') throw typeError(`sequence item: expected str instance, ${typeName(x)} found`);
        return plain(x) as string;
      })
      .join(s),
  find: (s, a) => s.indexOf(pyStr(a[0])),
  rfind: (s, a) => s.lastIndexOf(pyStr(a[0])),
  index: (s, a) => {
    const i = s.indexOf(pyStr(a[0]));
    if (i < 0) throw typeError('substring not found');
    return i;
  },
  count: (s, a) => {
    const sub = pyStr(a[0]);
    return sub === '' ? s.length + 1 : s.split(sub).length - 1;
  },
  format: (s, a, k) => strFormat(s, a, k),
  isdigit: (s) => /^\d+$/.test(s),
  isnumeric: (s) => /^\d+$/.test(s),
  isdecimal: (s) => /^\d+$/.test(s),
  isalpha: (s) => /^\p{L}+$/u.test(s),
  isalnum: (s) => /^[\p{L}\d]+$/u.test(s),
  isspace: (s) => /^\s+$/.test(s),
  islower: (s) => /\p{Ll}/u.test(s) && s === s.toLowerCase(),
  isupper: (s) => /\p{Lu}/u.test(s) && s === s.toUpperCase(),
  zfill: (s, a) => {
    const w = Number(a[0]);
    const sign = /^[-+]/.test(s) ? s[0]! : '';
    return s.length >= w ? s : sign + s.slice(sign.length).padStart(w - sign.length, '0');
  },
  ljust: (s, a) => s.padEnd(Number(a[0]), a[1] === undefined ? ' ' : pyStr(a[1])),
  rjust: (s, a) => s.padStart(Number(a[0]), a[1] === undefined ? ' ' : pyStr(a[1])),
  center: (s, a) => center(s, Number(a[0]), a[1] === undefined ? ' ' : pyStr(a[1])),
  partition: (s, a) => {
    const sep = pyStr(a[0]);
    const i = s.indexOf(sep);
    return tuple(i < 0 ? [s, '', ''] : [s.slice(0, i), sep, s.slice(i + sep.length)]);
  },
  rpartition: (s, a) => {
    const sep = pyStr(a[0]);
    const i = s.lastIndexOf(sep);
    return tuple(i < 0 ? ['', '', s] : [s.slice(0, i), sep, s.slice(i + sep.length)]);
  },
  encode: (s) => s,
  decode: (s) => s,
};

const LIST_METHODS: Record<string, Method<unknown[]>> = {
  append: (l, a) => {
    l.push(a[0]);
    return null;
  },
  extend: (l, a) => {
    l.push(...iterate(a[0]));
    return null;
  },
  insert: (l, a) => {
    l.splice(Number(a[0]), 0, a[1]);
    return null;
  },
  pop: (l, a) => {
    if (!l.length) throw typeError('pop from empty list');
    const i = a.length ? index(a[0], l.length) : l.length - 1;
    if (i === undefined) throw typeError('pop index out of range');
    return l.splice(i, 1)[0];
  },
  remove: (l, a) => {
    const i = l.findIndex((x) => pyEq(x, a[0]));
    if (i < 0) throw typeError('list.remove(x): x not in list');
    l.splice(i, 1);
    return null;
  },
  index: (l, a) => {
    const i = l.findIndex((x) => pyEq(x, a[0]));
    if (i < 0) throw typeError(`${pyRepr(a[0])} is not in list`);
    return i;
  },
  count: (l, a) => l.filter((x) => pyEq(x, a[0])).length,
  copy: (l) => [...l],
};

const DICT_METHODS: Record<string, Method<Dict>> = {
  get: (d, a) => {
    const k = String(plain(a[0]));
    return hasOwn(d, k) ? d[k] : a.length > 1 ? a[1] : null;
  },
  keys: (d) => Object.keys(d),
  values: (d) => Object.keys(d).map((k) => d[k]),
  items: (d) => Object.keys(d).map((k) => tuple([k, d[k]])),
  copy: (d) => ({ ...d }),
  update: (d, a, k) => {
    for (const src of [...a, k]) {
      if (isMapping(src)) Object.assign(d, src);
      else for (const pair of iterate(src)) d[String((pair as unknown[])[0])] = (pair as unknown[])[1];
    }
    return null;
  },
  pop: (d, a) => {
    const k = String(plain(a[0]));
    if (hasOwn(d, k)) {
      const v = d[k];
      delete d[k];
      return v;
    }
    if (a.length > 1) return a[1];
    throw typeError(`KeyError: ${pyRepr(k)}`);
  },
  setdefault: (d, a) => {
    const k = String(plain(a[0]));
    if (!hasOwn(d, k)) d[k] = a.length > 1 ? a[1] : null;
    return d[k];
  },
  has_key: (d, a) => hasOwn(d, String(plain(a[0]))),
};

/** str.format with {} / {0} / {name} fields (format specs beyond <, >, ^ widths are ignored). */
function strFormat(s: string, args: unknown[], kw: Dict): string {
  let auto = 0;
  return s.replace(/\{\{|\}\}|\{([^{}!:]*)(?:![rs])?(?::([^{}]*))?\}/g, (m, field: string | undefined, spec: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const f = field ?? '';
    const v = f === '' ? args[auto++] : /^\d+$/.test(f) ? args[Number(f)] : kw[f];
    let out = pyStr(v);
    const align = /^(.)?([<>^])?(\d+)?$/.exec(spec ?? '');
    if (align && align[3]) {
      const w = Number(align[3]);
      const fill = align[2] ? (align[1] ?? ' ') : ' ';
      const dir = align[2] ?? (typeof v === 'number' ? '>' : '<');
      out = dir === '<' ? out.padEnd(w, fill) : dir === '>' ? out.padStart(w, fill) : center(out, w, fill);
    }
    return out;
  });
}

function bindMethod<T>(self: T, m: Method<T>): PyFunction {
  return pyFunction((args, kw) => m(self, args.map(plain), kw));
}

/** The items of an iterable as Python iterates it: a dict gives its keys, a string its characters. */
export function iterate(v: unknown): unknown[] {
  v = plain(v);
  if (v instanceof CondExprUndefined) return [];
  if (isUndefined(v)) v.fail();
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isMapping(v)) return Object.keys(v);
  if (v instanceof Set || v instanceof Map) return [...v.keys()];
  throw typeError(`'${typeName(v)}' object is not iterable`);
}

function noAttribute(obj: unknown, name: unknown, path?: string): Undefined {
  const what = obj === null || obj === undefined ? "'None'" : `'${typeName(obj)} object'`;
  const key = typeof name === 'number' ? String(name) : `'${String(name)}'`;
  const expr = path ? `${path}${typeof name === 'number' ? `[${name}]` : `.${String(name)}`}` : undefined;
  const message = typeof name === 'number' && Array.isArray(obj) ? `list object has no element ${name}` : `${what} has no attribute ${key}`;
  const hint = path
    ? `${path} has no ${typeof name === 'number' ? 'element' : 'key'} ${key}; check the name or use {{ ${expr} | default(...) }}`
    : `check the name or use | default(...)`;
  return new Undefined(message, hint, String(name));
}

/** obj.name as Jinja2 resolves it: Python attribute (method) first, then item. */
export function getattr(obj: unknown, name: unknown, path?: string): unknown {
  if (isUndefined(obj)) return obj;
  if (typeof name === 'number') return getitem(obj, name, path);
  obj = plain(obj);
  const key = String(name);
  if (typeof obj === 'string') {
    const m = STR_METHODS[key];
    return m ? bindMethod(obj, m) : noAttribute(obj, key, path);
  }
  if (Array.isArray(obj)) {
    const m = LIST_METHODS[key];
    if (m) return bindMethod(obj, m);
    return hasOwn(obj, key) && !/^\d+$/.test(key) && key !== 'length' ? obj[key as never] : noAttribute(obj, key, path);
  }
  if (isMapping(obj)) {
    const m = DICT_METHODS[key];
    if (m) return bindMethod(obj, m);
    return hasOwn(obj, key) ? obj[key] : noAttribute(obj, key, path);
  }
  if (obj !== null && (typeof obj === 'object' || typeof obj === 'function') && key in obj) {
    const v = (obj as Dict)[key];
    return typeof v === 'function' ? v.bind(obj) : v;
  }
  return noAttribute(obj, key, path);
}

/** obj[key] as Jinja2 resolves it: item first, then attribute. */
export function getitem(obj: unknown, key: unknown, path?: string): unknown {
  if (isUndefined(obj)) return obj;
  obj = plain(obj);
  key = plain(key);
  if (isUndefined(key)) key.fail();
  if (typeof obj === 'string' || Array.isArray(obj)) {
    if (typeof key === 'number' || typeof key === 'boolean') {
      const i = index(key, obj.length);
      if (i === undefined) return noAttribute(obj, Number(key), path);
      return typeof obj === 'string' ? [...obj][i] : obj[i];
    }
    return getattr(obj, key, path);
  }
  if (isMapping(obj)) {
    const k = key === null ? 'None' : String(key);
    if (hasOwn(obj, k)) return obj[k];
    return typeof key === 'string' && DICT_METHODS[key] ? getattr(obj, key, path) : noAttribute(obj, k, path);
  }
  return getattr(obj, key, path);
}
