// Ansible host patterns ("Patterns: targeting hosts and groups"): all, *, names, globs, ~regex,
// g[0] / g[1:3] subscripts, a:b / a,b unions, &intersections and !exclusions, combined in Ansible's
// order (plain terms first, then every &, then every !), as inventory/manager.py does it.
import { UserError } from '../errors.js';
import { fnmatchSource } from '../expr/fnmatch.js';
import { pyRegex } from '../expr/regex.js';
import { parseAddress } from './inventory-hosts.js';

/** Names that stand for the controller when the inventory does not define them. */
export const LOCALHOST_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** What pattern matching needs to know about an inventory. */
export interface PatternTarget {
  /** Every host name, in inventory order. */
  hostNames(): Iterable<string>;
  /** Every group name, in inventory order. */
  groupNames(): Iterable<string>;
  /** The hosts of a group and of its descendants, in Ansible's order. */
  hostsOf(group: string): readonly string[];
  hasHost(name: string): boolean;
}

/**
 * Split a pattern (or a list of them) into single terms: on ',' when there is one, else on ':'
 * unless the whole text is one address (an IPv6 address or `host[1:3]` is never split).
 */
export function splitHostPattern(pattern: string | readonly string[]): string[] {
  if (typeof pattern !== 'string') return pattern.flatMap((p) => splitHostPattern(String(p)));
  let parts: string[];
  if (pattern.includes(',')) parts = pattern.split(',');
  else if (parseAddress(pattern.trim(), true)) parts = [pattern];
  else parts = pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** Ansible's order of combination: unions first, then intersections (&), then exclusions (!); only & or ! starts from 'all'. */
export function orderPatterns(patterns: readonly string[]): string[] {
  const regular: string[] = [];
  const and: string[] = [];
  const not: string[] = [];
  for (const p of patterns) {
    if (!p) continue;
    if (p[0] === '!') not.push(p);
    else if (p[0] === '&') and.push(p);
    else regular.push(p);
  }
  return [...(regular.length ? regular : ['all']), ...and, ...not];
}

/**
 * Refuse a pattern that cannot mean anything: an unclosed or stray bracket (`web[0:`), an empty
 * subscript, or a `~regex` that does not compile. Ansible would warn and match nothing.
 */
export function checkHostPattern(pattern: string | readonly string[]): void {
  if (typeof pattern !== 'string') return pattern.forEach((p) => checkHostPattern(String(p)));
  for (const piece of pattern.includes(',') ? pattern.split(',') : [pattern]) {
    const term = piece.trim().replace(/^[&!]/, '');
    if (term.startsWith('~')) {
      compile(term);
      continue;
    }
    let depth = 0;
    for (const c of term) {
      depth += c === '[' ? 1 : c === ']' ? -1 : 0;
      if (depth < 0 || depth > 1) break;
    }
    if (depth !== 0 || /\[\]/.test(term)) {
      throw new UserError('E_INVENTORY', `Invalid host list pattern: ${piece.trim()} (unbalanced brackets)`, {
        hint: 'a subscript is group[0], group[-1] or group[0:2]; glob character classes close their bracket: web[12]; quote the pattern in YAML',
      });
    }
  }
}

/** The hosts a pattern selects, in order, without duplicates; [] when it matches nothing. */
export function selectHosts(target: PatternTarget, pattern: string | readonly string[]): string[] {
  checkHostPattern(pattern);
  const terms = splitHostPattern(pattern);
  if (terms.length === 0) return [];
  let hosts: string[] = [];
  const cache = new Map<string, string[]>();
  for (const p of orderPatterns(terms)) {
    if (target.hasHost(p)) {
      if (!hosts.includes(p)) hosts.push(p);
      continue;
    }
    const bare = p[0] === '&' || p[0] === '!' ? p.slice(1) : p;
    let that = cache.get(bare);
    if (!that) cache.set(bare, (that = matchOne(target, bare)));
    const set = new Set(that);
    if (p[0] === '!') hosts = hosts.filter((h) => !set.has(h));
    else if (p[0] === '&') hosts = hosts.filter((h) => set.has(h));
    else {
      const have = new Set(hosts);
      for (const h of that)
        if (!have.has(h)) {
          hosts.push(h);
          have.add(h);
        }
    }
  }
  return hosts;
}

const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/;

// One term without its &/! prefix: group and host matches, then the subscript.
function matchOne(target: PatternTarget, pattern: string): string[] {
  let expr = pattern;
  let subscript: [number, number | undefined] | undefined;
  const m = pattern[0] === '~' ? null : SUBSCRIPT.exec(pattern);
  if (m) {
    expr = m[1]!;
    subscript = m[2] !== undefined ? [Number(m[2]), undefined] : [Number(m[3]), m[5] ? Number(m[5]) : -1];
  }
  const hosts = enumerate(target, expr);
  if (!subscript || hosts.length === 0) return hosts;
  const [start, end] = subscript;
  if (end) return hosts.slice(start, (end === -1 ? hosts.length - 1 : end) + 1);
  const h = hosts[start < 0 ? hosts.length + start : start];
  if (h === undefined) {
    throw new UserError('E_INVENTORY', `No hosts matched the subscripted pattern '${pattern}': '${expr}' has ${hosts.length} host(s)`, {
      hint: `subscripts count from 0: ${expr}[0] is the first host, ${expr}[-1] the last, ${expr}[0:2] the first three`,
    });
  }
  return [h];
}

function enumerate(target: PatternTarget, pattern: string): string[] {
  const re = compile(pattern);
  const out = new Set<string>();
  let groupMatched = false;
  for (const g of target.groupNames()) {
    if (!re(g)) continue;
    groupMatched = true;
    for (const h of target.hostsOf(g)) out.add(h);
  }
  if (!groupMatched || pattern[0] === '~' || /[.?*[]/.test(pattern)) {
    for (const h of target.hostNames()) if (re(h)) out.add(h);
  }
  if (out.size === 0 && LOCALHOST_NAMES.includes(pattern)) out.add(pattern);
  return [...out];
}

// A name test: fnmatch (case-sensitive, whole name) or, after '~', a Python regex matched at the start.
function compile(pattern: string): (name: string) => boolean {
  if (pattern[0] !== '~') {
    if (!/[*?[]/.test(pattern)) return (name) => name === pattern;
    const re = new RegExp(`^${fnmatchSource(pattern)}$`, 's');
    return (name) => re.test(name);
  }
  let re: RegExp;
  try {
    re = pyRegex(pattern.slice(1));
  } catch (e) {
    throw new UserError('E_INVENTORY', `Invalid host list pattern: ${pattern}`, {
      cause: e,
      hint: "after '~' comes a Python regular expression, e.g. ~node[12] or ~(web|db).*\\.example\\.com",
    });
  }
  return (name) => {
    re.lastIndex = 0;
    return re.exec(name)?.index === 0;
  };
}
