// Python `re` semantics on JavaScript RegExp, the one translation tsplay has: the Jinja2 filters
// and tests (regex_search, regex_replace, match, ...), host patterns (~regex) and the modules
// (lineinfile, replace, wait_for) all compile Python patterns and expand re.sub templates here.
import { UserError } from '../errors.js';

export interface PyRegexOptions {
  ignorecase?: boolean;
  multiline?: boolean;
  global?: boolean;
}

const cache = new Map<string, RegExp>();

/**
 * pythonRegex for templates and host patterns: compiled once per pattern and options, and a
 * pattern that does not compile is the user's template error.
 */
export function pyRegex(pattern: string, opts: PyRegexOptions = {}): RegExp {
  const key = `${opts.global ? 'g' : ''}${opts.ignorecase ? 'i' : ''}${opts.multiline ? 'm' : ''}/${pattern}`;
  const hit = cache.get(key);
  if (hit) {
    hit.lastIndex = 0;
    return hit;
  }
  let re: RegExp;
  try {
    re = pythonRegex(pattern, opts);
  } catch (e) {
    throw templateError(pattern, e);
  }
  if (cache.size > 500) cache.clear();
  cache.set(key, re);
  return re;
}

function templateError(pattern: string, e: unknown): UserError {
  return new UserError('E_TEMPLATE', `template error: invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`, {
    hint: 'patterns use Python re syntax; escape special characters with \\ or the regex_escape filter',
    cause: e,
  });
}

/** Python re.sub(pattern, repl, s, count), for templates: a bad group reference is a template error. */
export function pySub(re: RegExp, repl: string, s: string, count = 0): string {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  let n = 0;
  try {
    return s.replace(g, (...args: unknown[]) => {
      if (count > 0 && n >= count) return args[0] as string;
      n++;
      const hasGroups = typeof args[args.length - 1] === 'object';
      const groupCount = args.length - (hasGroups ? 3 : 2);
      const m = args.slice(0, groupCount) as unknown as RegExpExecArray;
      if (hasGroups) m.groups = args[args.length - 1] as Record<string, string>;
      return expandTemplate(repl, m);
    });
  } catch (e) {
    if (e instanceof PatternError) {
      throw new UserError('E_TEMPLATE', `template error: invalid replacement ${JSON.stringify(repl)}: ${e.message}`, {
        hint: 'replacements use Python re syntax: \\1, \\g<name>',
        cause: e,
      });
    }
    throw e;
  }
}

/** Python re.escape (3.7+): escapes characters special in patterns. */
export function pyEscape(s: string): string {
  return s.replace(/[()[\]{}?*+\-|^$\\.&~# \t\n\r\v\f]/g, (c) => `\\${c}`);
}

/** A Python regular expression or backreference that cannot be used. */
export class PatternError extends Error {}

/** Options of pythonRegex: Python's flags (re.I, re.M, re.S, re.A) given outside the pattern. */
export interface PythonRegexOptions {
  /** re.IGNORECASE. */
  ignorecase?: boolean;
  /** re.MULTILINE: `^` and `$` also match at every line. */
  multiline?: boolean;
  /** re.DOTALL: `.` also matches a newline. */
  dotall?: boolean;
  /** re.ASCII, what a bytes pattern always is (lineinfile's): `\s` is ASCII whitespace only. */
  ascii?: boolean;
  /** The RegExp gets the `g` flag (for matchAll and replace). */
  global?: boolean;
}

/**
 * A Python `re` pattern as a JavaScript RegExp, with Python's semantics: (?P<n>..), (?P=n), \A,
 * \Z, (?#...) comments, `.` (anything but \n), `^` and `$` (the end, or before a final \n;
 * with multiline, at every \n only), and the leading inline flags (?aimsx), verbose included.
 * Throws PatternError when it does not compile.
 */
export function pythonRegex(pattern: string, opts: PythonRegexOptions = {}): RegExp {
  let src = pattern;
  let flags = '';
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    flags = inline[1]!;
  }
  const ignorecase = opts.ignorecase || flags.includes('i');
  const multiline = opts.multiline || flags.includes('m');
  const dotall = opts.dotall || flags.includes('s');
  const verbose = flags.includes('x');
  const ascii = opts.ascii || flags.includes('a');
  const space = ascii ? PY_SPACE : '';
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1] ?? '';
      if (!inClass && n === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && n === 'Z') out += '(?![\\s\\S])';
      else if (n === 's' && space) out += inClass ? space : `[${space}]`;
      else if (n === 'S' && space) out += inClass ? '\\S' : `[^${space}]`;
      else out += c + n;
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (verbose && /\s/.test(c)) {
      continue;
    } else if (verbose && c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '[') {
      inClass = true;
      out += c;
      if (src[i + 1] === '^') out += src[++i];
      if (src[i + 1] === ']') out += '\\' + src[++i];
    } else if (src.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else if (src.startsWith('(?P=', i)) {
      const end = src.indexOf(')', i);
      if (end < 0) throw new PatternError(`missing ), unterminated name at position ${i}`);
      out += `\\k<${src.slice(i + 4, end)}>`;
      i = end;
    } else if (src.startsWith('(?#', i)) {
      const end = src.indexOf(')', i);
      i = end < 0 ? src.length : end;
    } else if (c === '.') {
      out += dotall ? '[\\s\\S]' : '[^\\n]';
    } else if (c === '$') {
      out += multiline ? '(?=\\n|(?![\\s\\S]))' : '(?=\\n?(?![\\s\\S]))';
    } else if (c === '^') {
      out += multiline ? '(?:(?<![\\s\\S])|(?<=\\n))' : '(?<![\\s\\S])';
    } else {
      out += c;
    }
  }
  try {
    return new RegExp(out, (opts.global ? 'g' : '') + (ignorecase ? 'i' : ''));
  } catch (e) {
    throw new PatternError((e as Error).message);
  }
}

/** Python's match.expand(template): \1..\99, \g<n>, \g<name>, octal and the usual escapes. */
export function expandTemplate(template: string, m: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '\\' || i === template.length - 1) {
      out += c;
      continue;
    }
    const rest = template.slice(i + 1);
    const named = /^g<([^>]*)>/.exec(rest);
    const numbered = /^(?:0[0-7]{0,2}|[1-7][0-7]{2}|\d{1,2})/.exec(rest);
    if (named) {
      const ref = named[1]!;
      if (/^\d+$/.test(ref)) {
        if (Number(ref) >= m.length) throw new PatternError(`invalid group reference ${ref}`);
        out += m[Number(ref)] ?? '';
      } else {
        if (!m.groups || !(ref in m.groups)) throw new PatternError(`unknown group name '${ref}'`);
        out += m.groups[ref] ?? '';
      }
      i += named[0].length;
    } else if (numbered) {
      const d = numbered[0];
      if (d.startsWith('0') || d.length === 3) {
        out += String.fromCharCode(parseInt(d, 8));
      } else {
        if (Number(d) >= m.length) throw new PatternError(`invalid group reference ${d}`);
        out += m[Number(d)] ?? '';
      }
      i += d.length;
    } else {
      const n = template[i + 1]!;
      const esc: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };
      out += esc[n] ?? `\\${n}`;
      i++;
    }
  }
  return out;
}

/** Python's whitespace in bytes patterns (JavaScript's \s also matches \xa0 and Unicode spaces). */
const PY_SPACE = ' \\t\\n\\r\\f\\v';
