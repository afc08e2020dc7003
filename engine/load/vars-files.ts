// group_vars/ and host_vars/ as Ansible's host_group_vars plugin reads them: for a name, the first of
// `name` (file or directory), `name.yml`, `name.yaml`, `name.json`; a directory's files in sorted
// order, recursively. Each file is a YAML 1.1 mapping; an empty file is {}.
import { readFileSync, type Stats } from 'node:fs';
import { extname, join } from 'node:path';
import { UserError } from '../errors.js';
import { listDir, readError, statOrMissing } from './read.js';
import { locationOf, parseYaml } from './yaml.js';

const VARS_EXTENSIONS = ['', '.yml', '.yaml', '.json'];

const stat = (path: string): Stats | undefined => statOrMissing(path, 'vars file', 'E_VARS');

/** The files holding the variables of `name` in `dir` (e.g. dir = inventory/group_vars), in load order. */
export function findVarsFiles(dir: string, name: string): string[] {
  if (!name || name.includes('/') || name === '.' || name === '..') return [];
  for (const ext of VARS_EXTENSIONS) {
    const path = join(dir, name + ext);
    const st = stat(path);
    if (!st) continue;
    return st.isDirectory() ? filesIn(path) : [path];
  }
  return [];
}

// Ansible's _get_dir_vars_files: hidden and backup (~) names skipped, subdirectories (without an
// extension) read in place, files only without an extension or as .yml/.yaml/.json.
function filesIn(dir: string): string[] {
  const found: string[] = [];
  for (const entry of listDir(dir, 'vars directory', 'E_VARS').sort()) {
    if (entry.startsWith('.') || entry.endsWith('~')) continue;
    const path = join(dir, entry);
    const ext = extname(entry);
    const st = stat(path);
    if (st?.isDirectory() && !ext) found.push(...filesIn(path));
    else if (st?.isFile() && VARS_EXTENSIONS.includes(ext)) found.push(path);
  }
  return found;
}

/** One vars file as a mapping ({} when empty); E_VARS when it holds anything but a mapping. */
export function loadVarsFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw readError(e, path, 'vars file');
    throw new UserError('E_FILE_NOT_FOUND', `vars file ${path} was not found (${(e as NodeJS.ErrnoException).code ?? e})`, {
      cause: e,
      hint: 'check the path; vars_files are relative to the playbook',
    });
  }
  const data = parseYaml(text, path);
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    const what = Array.isArray(data) ? 'a list' : `the ${typeof data} ${JSON.stringify(data)}`;
    throw new UserError('E_VARS', `a vars file must hold a mapping of variable names to values, not ${what}`, {
      location: locationOf(data) ?? { file: path, line: firstContentLine(text), col: 1 },
      hint: 'write one `name: value` per line at the top level, e.g. `ntp_server: 10.0.0.1`',
    });
  }
  return data as Record<string, unknown>;
}

function firstContentLine(text: string): number {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#') && l.trim() !== '---');
  return i < 0 ? 1 : i + 1;
}

/** Loads group_vars/host_vars once per file and merges a name's files (later files win per key). */
export class VarsFiles {
  private readonly files = new Map<string, Record<string, unknown>>();
  private readonly merged = new Map<string, Record<string, unknown>>();

  /** The merged variables of `name` in `dir` ({} when there are none). */
  load(dir: string, name: string): Record<string, unknown> {
    const key = `${dir}\0${name}`;
    let vars = this.merged.get(key);
    if (!vars) {
      vars = {};
      for (const f of findVarsFiles(dir, name)) {
        let data = this.files.get(f);
        if (!data) this.files.set(f, (data = loadVarsFile(f)));
        Object.assign(vars, data);
      }
      this.merged.set(key, vars);
    }
    return vars;
  }
}
