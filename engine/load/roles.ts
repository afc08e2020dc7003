// Roles on disk, as Ansible finds and reads them: the search path, the layout (tasks/ handlers/
// defaults/ vars/ meta/ files/ templates/), entry points (tasks_from, vars_from, ...) and
// meta/main.yml (dependencies, allow_duplicates) with meta/argument_specs.yml. Turning a role into
// task nodes is the playbook loader's job (playbook.ts); this file only reads.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { UserError, type SourceLocation } from '../errors.js';
import { findVarsFiles, loadVarsFile } from './vars-files.js';
import { keyLocationOf, locationOf, parseYaml } from './yaml.js';
import { readText } from './read.js';

/** Ansible's DEFAULT_ROLES_PATH when neither ANSIBLE_ROLES_PATH nor ansible.cfg sets one. */
export function defaultRolesPath(): string[] {
  return [join(homedir(), '.ansible/roles'), '/usr/share/ansible/roles', '/etc/ansible/roles'];
}

/** One `argument_specs` entry point: its options, as Ansible's role argument validation reads them. */
export interface ArgumentSpec {
  short_description?: string;
  options: Record<string, unknown>;
}

/** What a role directory holds for one set of entry points. */
export interface RoleFiles {
  name: string;
  path: string;
  /** defaults/<defaults_from> (main), merged in file order when a directory. */
  defaults: Record<string, unknown>;
  /** vars/<vars_from> (main). */
  vars: Record<string, unknown>;
  /** tasks/<tasks_from> (main), if the role has one. */
  tasksFile?: string;
  /** handlers/<handlers_from> (main), if the role has one. */
  handlersFile?: string;
  /** meta/main.yml dependencies as written. */
  dependencies: unknown[];
  dependenciesLocation?: SourceLocation;
  allowDuplicates: boolean;
  argumentSpecs: Record<string, ArgumentSpec>;
}

function fail(message: string, location: SourceLocation | undefined, hint?: string): never {
  throw new UserError('E_PLAYBOOK', message, { location, hint });
}

/**
 * Find a role by name as Ansible does: `roles/` beside the playbook, the roles path, the directory
 * of the role that depends on it, the playbook's directory; then the name as a path.
 */
export function findRole(
  name: string,
  playbookDir: string,
  rolesPath: string[],
  dependentOf: string | undefined,
  loc: SourceLocation | undefined,
): { name: string; path: string } {
  if (name.split('.').length === 3 && !name.includes('/')) {
    fail(
      `the role '${name}' looks like a collection role (namespace.collection.role), which tsplay does not load`,
      loc,
      'copy the role into roles/ beside the playbook and name it by its directory',
    );
  }
  const searched = [join(playbookDir, 'roles'), ...rolesPath, ...(dependentOf ? [dirname(dependentOf)] : []), playbookDir];
  for (const dir of searched) {
    const p = resolve(dir, name);
    if (isDir(p)) return { name, path: p };
  }
  const asPath = isAbsolute(name) ? name : resolve(playbookDir, name);
  if (isDir(asPath)) return { name: basename(asPath), path: asPath };
  fail(
    `the role '${name}' was not found in ${searched.join(':')}`,
    loc,
    'put the role in roles/ beside the playbook, or set roles_path in ansible.cfg (or ANSIBLE_ROLES_PATH)',
  );
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

// A role file by entry-point name: `main`, `main.yml`, `main.yaml`, `main.json`, or a directory.
function roleFile(dir: string, name: string): string | undefined {
  for (const ext of ['', '.yml', '.yaml', '.json']) {
    const p = join(dir, name + ext);
    if (existsSync(p) && (ext !== '' || !isDir(p) || dir.endsWith('/vars') || dir.endsWith('/defaults'))) return p;
  }
  return undefined;
}

function readVars(dir: string, name: string, explicit: boolean, what: string, loc: SourceLocation | undefined): Record<string, unknown> {
  const files = findVarsFiles(dir, name);
  if (files.length === 0) {
    if (explicit) fail(`Could not find specified file in role: ${what}/${name}`, loc, `the role has no ${what}/${name}.yml`);
    return {};
  }
  const out: Record<string, unknown> = {};
  for (const f of files) Object.assign(out, loadVarsFile(f));
  return out;
}

function readMeta(path: string): { obj: Record<string, unknown>; file?: string } {
  const file = roleFile(join(path, 'meta'), 'main');
  if (!file) return { obj: {} };
  const data = parseYaml(readText(file, 'role meta'), file);
  if (data === null || data === undefined) return { obj: {}, file };
  if (typeof data !== 'object' || Array.isArray(data))
    fail('meta/main.yml must be a mapping', locationOf(data) ?? { file, line: 1, col: 1 }, 'e.g. dependencies: [common]');
  return { obj: data as Record<string, unknown>, file };
}

function readArgumentSpecs(path: string, meta: Record<string, unknown>): Record<string, ArgumentSpec> {
  // meta/argument_specs.yml wins over an argument_specs key in meta/main.yml, as in Ansible
  const file = roleFile(join(path, 'meta'), 'argument_specs');
  let specs: unknown = meta.argument_specs;
  let where: SourceLocation | undefined = keyLocationOf(meta, 'argument_specs');
  if (file) {
    const data = parseYaml(readText(file, 'role argument specs'), file) as Record<string, unknown> | null;
    specs = data?.argument_specs;
    where = (data && keyLocationOf(data, 'argument_specs')) ?? { file, line: 1, col: 1 };
  }
  if (specs === undefined || specs === null) return {};
  if (typeof specs !== 'object' || Array.isArray(specs)) fail('argument_specs must map entry points (main, ...) to their options', where);
  const out: Record<string, ArgumentSpec> = {};
  for (const [entry, spec] of Object.entries(specs as Record<string, unknown>)) {
    const s = (spec ?? {}) as Record<string, unknown>;
    if (typeof s !== 'object' || Array.isArray(s)) fail(`argument_specs.${entry} must be a mapping`, keyLocationOf(specs, entry) ?? where);
    const options = s.options ?? {};
    if (typeof options !== 'object' || Array.isArray(options))
      fail(`argument_specs.${entry}.options must be a mapping of argument names to their specs`, keyLocationOf(s, 'options') ?? where);
    out[entry] = {
      short_description: s.short_description === undefined ? undefined : String(s.short_description),
      options: options as Record<string, unknown>,
    };
  }
  return out;
}

/** Entry points of a role, as include_role / import_role name them. */
export interface EntryPoints {
  tasks_from?: string;
  vars_from?: string;
  defaults_from?: string;
  handlers_from?: string;
}

/** Read a role's files for these entry points. */
export function readRole(found: { name: string; path: string }, from: EntryPoints, loc: SourceLocation | undefined): RoleFiles {
  const { path } = found;
  const entry = (v: string | undefined) =>
    v === undefined ? { name: 'main', explicit: false } : { name: v.replace(/\.(ya?ml|json)$/, ''), explicit: true };
  const tasks = entry(from.tasks_from);
  const handlers = entry(from.handlers_from);
  const tasksFile = roleFile(join(path, 'tasks'), tasks.name);
  if (!tasksFile && tasks.explicit)
    fail(`Could not find specified file in role: tasks/${tasks.name}`, loc, `the role ${found.name} has no tasks/${tasks.name}.yml`);
  const handlersFile = roleFile(join(path, 'handlers'), handlers.name);
  if (!handlersFile && handlers.explicit) fail(`Could not find specified file in role: handlers/${handlers.name}`, loc);
  const defaults = entry(from.defaults_from);
  const vars = entry(from.vars_from);
  const meta = readMeta(path);
  const deps = meta.obj.dependencies ?? [];
  if (!Array.isArray(deps))
    fail(
      'dependencies in meta/main.yml must be a list of roles',
      keyLocationOf(meta.obj, 'dependencies'),
      'e.g. dependencies: [common, { role: ntp, ntp_server: 10.0.0.1 }]',
    );
  return {
    name: found.name,
    path,
    defaults: readVars(join(path, 'defaults'), defaults.name, defaults.explicit, 'defaults', loc),
    vars: readVars(join(path, 'vars'), vars.name, vars.explicit, 'vars', loc),
    tasksFile,
    handlersFile,
    dependencies: deps,
    dependenciesLocation: keyLocationOf(meta.obj, 'dependencies') ?? (meta.file ? { file: meta.file, line: 1, col: 1 } : undefined),
    allowDuplicates: meta.obj.allow_duplicates === true || ['yes', 'true', 'on'].includes(String(meta.obj.allow_duplicates).toLowerCase()),
    argumentSpecs: readArgumentSpecs(path, meta.obj),
  };
}
