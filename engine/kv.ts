// Ansible's `k=v` argument strings (`copy: src=a dest="b c"`), split like a shell would but
// never inside {{ }} / {% %} (splitArgs, engine/sh.ts), with the free-form part kept for command
// and shell.
import { splitArgs } from './sh.js';

/** Remove one level of matching outer quotes (Ansible's unquote: nothing else). */
export function unquote(s: string): string {
  if (s.length >= 2 && (s[0] === '"' || s[0] === "'") && s[s.length - 1] === s[0]) return s.slice(1, -1);
  return s;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/**
 * Ansible's _decode_escapes (2.14), applied to each k=v word before it is split: the escapes
 * \t \n \b \\ \" \' \a \f \r \v \x41 \u00e9 \U0001f600 become the characters they stand for, so
 * `line='tab\there'` is a tab and `regexp='\b'` a backspace; anything else (octal \101 included)
 * keeps its backslash. \N{NAME} is not decoded (Ansible does; tsplay has no Unicode name table).
 */
export function decodeEscapes(s: string): string {
  return s.replace(/\\(U[0-9a-fA-F]{8}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[\\'"abfnrtv])/g, (m, e: string) => {
    const c = e[0]!;
    if (c === 'U' || c === 'u' || c === 'x') return String.fromCodePoint(parseInt(e.slice(1), 16));
    return SIMPLE_ESCAPES[c] ?? m;
  });
}

/**
 * Parse `k=v` text. With `freeFormKeys`, words that are not `known=value` are kept, in order, as
 * the free-form text (`command: ls -l chdir=/tmp` -> free 'ls -l', args {chdir: '/tmp'}).
 */
export function parseKv(text: string, freeFormKeys?: ReadonlySet<string>): { args: Record<string, string>; free: string } {
  const args: Record<string, string> = {};
  // Free-form text is kept verbatim (a `shell: |` script keeps its newlines): each free word is
  // put back with the whitespace that preceded it in the original string.
  let free = '';
  let cursor = 0;
  let last: string | undefined;
  for (const word of splitArgs(text)) {
    const start = text.indexOf(word, cursor);
    const before = text.slice(cursor, start);
    cursor = start + word.length;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(word);
    if (m && (!freeFormKeys || freeFormKeys.has(m[1]!))) {
      last = m[1]!;
      args[last] = unquote(decodeEscapes(m[2]!));
    } else if (!freeFormKeys && last !== undefined) {
      // `msg=hello world`: a bare word continues the previous value
      args[last] += ' ' + unquote(decodeEscapes(word));
    } else {
      free += free === '' ? word : (before || ' ') + word;
    }
  }
  return { args, free };
}
