// Ansible's `k=v` argument strings (`copy: src=a dest="b c"`), split like a shell would but
// never inside {{ }} / {% %}, with the free-form part kept for command and shell.

/** Split text into words on whitespace, honouring quotes and Jinja2 blocks. */
export function splitArgs(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let depth = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const two = text.slice(i, i + 2);
    if (quote === null && (two === '{{' || two === '{%' || two === '{#')) {
      depth++;
      cur += two;
      i++;
      inWord = true;
      continue;
    }
    if (depth > 0 && (two === '}}' || two === '%}' || two === '#}')) {
      depth--;
      cur += two;
      i++;
      continue;
    }
    if (depth > 0) {
      cur += c;
      continue;
    }
    if (quote) {
      cur += c;
      if (c === '\\' && i + 1 < text.length) {
        cur += text[++i];
      } else if (c === quote) {
        quote = null;
      }
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      cur += c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** Remove one level of matching outer quotes, with backslash escapes in double quotes. */
export function unquote(s: string): string {
  if (s.length >= 2 && (s[0] === '"' || s[0] === "'") && s[s.length - 1] === s[0]) {
    const inner = s.slice(1, -1);
    return s[0] === '"' ? inner.replace(/\\(["\\])/g, '$1') : inner.replace(/\\'/g, "'");
  }
  return s;
}

/**
 * Parse `k=v` text. With `freeFormKeys`, words that are not `known=value` are kept, in order, as
 * the free-form text (`command: ls -l chdir=/tmp` -> free 'ls -l', args {chdir: '/tmp'}).
 */
export function parseKv(
  text: string,
  freeFormKeys?: ReadonlySet<string>,
): { args: Record<string, string>; free: string } {
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
      args[last] = unquote(m[2]!);
    } else if (!freeFormKeys && last !== undefined) {
      // `msg=hello world`: a bare word continues the previous value
      args[last] += ' ' + unquote(word);
    } else {
      free += free === '' ? word : (before || ' ') + word;
    }
  }
  return { args, free };
}
