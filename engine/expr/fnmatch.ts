// Python's fnmatch patterns (* ? [seq] [!seq]) as regular expressions: Ansible matches host
// patterns and fileglob's path components with them.
import { opendirSync, statSync } from 'node:fs';
import { posix } from 'node:path';

/** Python's fnmatch.translate without its anchors: * ? [seq] [!seq]. */
export function fnmatchSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      let j = i + 1;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, j).replace(/\\/g, '\\\\');
      if (body[0] === '!') body = `^${body.slice(1)}`;
      else if (body[0] === '^') body = `\\${body}`;
      out += `[${body.replace(/\]/g, '\\]')}]`;
      i = j;
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return out;
}

// A directory's names in the order the OS lists them, as Python's os.scandir (and so glob) gives
// them; readdirSync would sort them.
function listDir(dir: string): string[] {
  const out: string[] = [];
  const d = opendirSync(dir);
  try {
    for (let e = d.readSync(); e; e = d.readSync()) out.push(e.name);
  } finally {
    d.closeSync();
  }
  return out;
}

/**
 * The files (not directories) on the controller that match a shell pattern, as Python's glob
 * finds them (Ansible's fileglob filter and lookup): each path component matched with fnmatch,
 * hidden names only by a pattern starting with a dot, in the directory's own order.
 */
export function fileGlob(pattern: string): string[] {
  const abs = pattern.startsWith('/');
  let paths = [abs ? '/' : '.'];
  for (const part of pattern.split('/').filter(Boolean)) {
    const next: string[] = [];
    for (const dir of paths) {
      if (!/[*?[]/.test(part)) {
        next.push(dir === '.' && !abs ? part : posix.join(dir, part));
        continue;
      }
      let entries: string[];
      try {
        entries = listDir(dir);
      } catch {
        continue;
      }
      const re = new RegExp(`^${fnmatchSource(part)}$`);
      for (const e of entries)
        if ((!e.startsWith('.') || part.startsWith('.')) && re.test(e)) next.push(dir === '.' && !abs ? e : posix.join(dir, e));
    }
    paths = next;
  }
  return paths.filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}
