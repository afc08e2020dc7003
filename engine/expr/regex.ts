// Python `re` syntax on JavaScript RegExp: (?P<name>...), (?P=name), inline flags, \A \Z, Python's
// `$` (also before a final newline), and re.sub replacement templates (\1, \g<name>, \g<0>).
import { UserError } from '../errors.js';

export interface PyRegexOptions {
  ignorecase?: boolean;
  multiline?: boolean;
  global?: boolean;
}

const cache = new Map<string, RegExp>();

/** Compile a Python regular expression to a JavaScript RegExp. */
export function pyRegex(pattern: string, opts: PyRegexOptions = {}): RegExp {
  let flags = opts.global ? 'g' : '';
  if (opts.ignorecase) flags += 'i';
  if (opts.multiline) flags += 'm';
  const key = `${flags}/${pattern}`;
  const hit = cache.get(key);
  if (hit) {
    hit.lastIndex = 0;
    return hit;
  }
  let src = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    for (const f of inline[1]!) if ('ims'.includes(f) && !flags.includes(f)) flags += f;
  }
  let re: RegExp;
  try {
    re = new RegExp(translate(src, flags.includes('m')), flags);
  } catch (e) {
    throw new UserError('E_TEMPLATE', `template error: invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`, {
      hint: 'patterns use Python re syntax; escape special characters with \\ or the regex_escape filter',
      cause: e,
    });
  }
  if (cache.size > 500) cache.clear();
  cache.set(key, re);
  return re;
}

function translate(p: string, multiline: boolean): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1];
      if (!inClass && n === 'A') out += '^';
      else if (!inClass && n === 'Z') out += '(?![\\s\\S])';
      else out += c + (n ?? '');
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
      if (p[i + 1] === '^') out += p[++i];
      if (p[i + 1] === ']') out += `\\${p[++i]}`;
    } else if (c === '(' && p.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else if (c === '(' && p.startsWith('(?P=', i)) {
      const end = p.indexOf(')', i);
      out += `\\k<${p.slice(i + 4, end)}>`;
      i = end;
    } else if (c === '$' && !multiline) {
      out += '(?=\\n?(?![\\s\\S]))';
    } else {
      out += c;
    }
  }
  return out;
}

/** Expand a Python re.sub replacement template (\1, \g<1>, \g<name>, \\, \n) for one match. */
export function expandReplacement(template: string, m: RegExpExecArray | RegExpMatchArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '\\' || i === template.length - 1) {
      out += c;
      continue;
    }
    const n = template[i + 1]!;
    const g = /^g<(\w+)>/.exec(template.slice(i + 1));
    if (g) {
      const ref = g[1]!;
      out += (/^\d+$/.test(ref) ? m[Number(ref)] : m.groups?.[ref]) ?? '';
      i += g[0].length;
    } else if (/\d/.test(n)) {
      const d = /^\d{1,2}/.exec(template.slice(i + 1))![0];
      out += m[Number(d)] ?? '';
      i += d.length;
    } else {
      const esc: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', f: '\f', v: '\v', a: '\x07', b: '\b' };
      out += esc[n] ?? `\\${n}`;
      i++;
    }
  }
  return out;
}

/** Python re.sub(pattern, repl, s, count). */
export function pySub(re: RegExp, repl: string, s: string, count = 0): string {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  let n = 0;
  return s.replace(g, (...args: unknown[]) => {
    if (count > 0 && n >= count) return args[0] as string;
    n++;
    const hasGroups = typeof args[args.length - 1] === 'object';
    const groupCount = args.length - (hasGroups ? 3 : 2);
    const m = args.slice(0, groupCount) as unknown as RegExpMatchArray;
    if (hasGroups) m.groups = args[args.length - 1] as Record<string, string>;
    return expandReplacement(repl, m);
  });
}

/** Python re.escape (3.7+): escapes characters special in patterns. */
export function pyEscape(s: string): string {
  return s.replace(/[()[\]{}?*+\-|^$\\.&~# \t\n\r\v\f]/g, (c) => `\\${c}`);
}
