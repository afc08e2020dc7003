// Playbook files -> typed plays and task trees, with every node's file:line:col kept.
// Everything that can be checked without a host is checked here, before any connection.
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError, type SourceLocation } from '../errors.js';
import { itemLocationOf, keyLocationOf, locationOf, parseYaml } from './yaml.js';
import { readText } from './read.js';
import { parseKv } from '../kv.js';
import { checkArgs, prepareArgs, type ModuleLookup } from './args.js';
import { distance } from '../errors.js';
import { checkSyntax, template } from '../expr/templar.js';
import { ansibleOnlyModule } from './ansible-only.js';
import { LOOKUP_NAMES } from '../expr/globals.js';
import { checkHostPattern } from './patterns.js';
import { defaultRolesPath, findRole, readRole, type ArgumentSpec, type EntryPoints } from './roles.js';

/** Keywords shared by tasks, blocks and plays that tasks inherit. */
export interface Keywords {
  when: unknown[];
  tags: string[];
  become?: boolean | string;
  become_user?: string;
  become_method?: string;
  vars: Record<string, unknown>;
  environment: Array<Record<string, unknown> | string>;
  ignore_errors?: unknown;
  ignore_unreachable?: unknown;
  check_mode?: unknown;
  diff?: unknown;
  no_log?: unknown;
  delegate_to?: string;
  run_once?: unknown;
  any_errors_fatal?: unknown;
  timeout?: unknown;
  /** Apply under a rollback armed on the host (default: the module says whether it changes how the host is reached). */
  safe_network?: unknown;
  /** Seconds after which an unconfirmed network change restores itself (default 60). */
  rollback_timeout?: unknown;
  remote_user?: string;
  connection?: string;
  /** Facts a delegated task returns go to the host it was delegated to. */
  delegate_facts?: unknown;
  /**
   * Default arguments by module (its canonical name: `file`, not `ansible.builtin.file`), one
   * mapping per module_defaults entry at this level; a module's entry may be a template, decided
   * at run time. The closer level's entry for a module replaces the outer one's, as in Ansible.
   */
  module_defaults?: ModuleDefaults;
}

export type ModuleDefaults = Array<Record<string, unknown>>;

/** A task: one module call with its keywords. */
export interface TaskNode extends Keywords {
  kind: 'task';
  name?: string;
  /** Module name as written (`ansible.builtin.copy`). */
  action: string;
  /** Arguments before templating; the free-form text is under `_raw_params`. */
  args: Record<string, unknown>;
  register?: string;
  notify: string[];
  listen: string[];
  changed_when?: unknown;
  failed_when?: unknown;
  loop?: unknown;
  /** `with_items` etc.: the lookup name. */
  loopKind?: string;
  loop_control: { loop_var: string; index_var?: string; label?: unknown; pause?: number; extended?: boolean };
  until?: unknown;
  retries?: unknown;
  delay?: unknown;
  location: SourceLocation;
  /** Directory of the file the task came from (for relative include paths). */
  baseDir: string;
  /**
   * Set for include_tasks: the file it includes, loaded ahead of time when static. A static file
   * that fails to load keeps its error here: as in Ansible, it is raised only when the include runs.
   */
  include?: { file: string; preloaded?: Node[]; error?: UserError };
  /** Where `notify:` is written. */
  notifyLocation?: SourceLocation;
  /** Handlers only: the name handlers are notified by. */
  isHandler?: boolean;
  /** The role this task belongs to (its name prefixes the task's in the output). */
  role?: RoleInfo;
  /** Role handlers: the keyword layers between the play and the handler (the role's entry and the role). */
  parents?: Keywords[];
  /** Seconds the task may run (async:), and how often to check on it (poll:, 0: in the background). */
  async?: unknown;
  poll?: unknown;
  /** include_tasks / include_role `apply:`: keywords for every included task. */
  apply?: Keywords;
  /** include_role: the role it includes, loaded ahead of time when its name holds no variable (or its load error). */
  includeRole?: { name: string; from: EntryPoints; preloaded?: LoadedRole; error?: UserError };
}

/** One vars_prompt entry. */
export interface VarsPrompt {
  name: string;
  prompt: string;
  private: boolean;
  default?: unknown;
  confirm: boolean;
  encrypt?: string;
  salt?: string;
  unsafe: boolean;
  location?: SourceLocation;
}

const PROMPT_KEYS = ['name', 'prompt', 'private', 'default', 'confirm', 'encrypt', 'salt', 'salt_size', 'unsafe'];

function loadVarsPrompt(obj: Obj): VarsPrompt[] {
  const list = obj.vars_prompt;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list))
    fail(
      'vars_prompt must be a list of prompts',
      keyLocationOf(obj, 'vars_prompt'),
      'e.g. vars_prompt: [{ name: wifi_password, prompt: "Wi-Fi password" }]',
    );
  return list.map((e, i) => {
    const loc = locationOf(e) ?? itemLocationOf(list, i) ?? keyLocationOf(obj, 'vars_prompt');
    if (!isObj(e) || typeof e.name !== 'string' || e.name === '')
      fail("each vars_prompt entry needs a 'name'", loc, 'e.g. - name: wifi_password');
    for (const k of Object.keys(e))
      if (!PROMPT_KEYS.includes(k))
        fail(`'${k}' is not a valid vars_prompt option`, keyLocationOf(e, k) ?? loc, `use ${PROMPT_KEYS.join(', ')}`);
    if (e.encrypt !== undefined && !['sha512_crypt', 'sha256_crypt'].includes(String(e.encrypt))) {
      fail(
        `vars_prompt encrypt '${String(e.encrypt)}' is not supported by tsplay`,
        keyLocationOf(e, 'encrypt') ?? loc,
        'use sha512_crypt or sha256_crypt',
      );
    }
    const truthy = (v: unknown, dflt: boolean) =>
      v === undefined ? dflt : v === true || ['yes', 'true', 'on', '1'].includes(String(v).toLowerCase());
    return {
      name: e.name,
      prompt: e.prompt === undefined ? e.name : String(e.prompt),
      private: truthy(e.private, true),
      default: e.default,
      confirm: truthy(e.confirm, false),
      encrypt: e.encrypt === undefined ? undefined : String(e.encrypt),
      salt: e.salt === undefined ? undefined : String(e.salt),
      unsafe: truthy(e.unsafe, false),
      location: loc,
    };
  });
}

/** A role as a play uses it: its variables in their precedence layers, and where it lives. */
export interface RoleInfo {
  name: string;
  path: string;
  /** defaults/main.yml: below every other variable. */
  defaults: Record<string, unknown>;
  /** The role entry's `vars:`, then vars/main.yml: above play vars. */
  vars: Record<string, unknown>;
  /** Role parameters (other keys of a `roles:` entry or dependency): above set_fact. */
  params: Record<string, unknown>;
  /** The role that depends on this one (meta/main.yml), for inherited variables. */
  parent?: RoleInfo;
}

/** A role turned into task nodes, with the handlers it brings. */
export interface LoadedRole {
  info: RoleInfo;
  nodes: Node[];
  handlers: TaskNode[];
}

/** block / rescue / always with shared keywords. */
export interface BlockNode extends Keywords {
  kind: 'block';
  name?: string;
  block: Node[];
  rescue: Node[];
  always: Node[];
  location: SourceLocation;
  /** Set on the block that holds a role's tasks: the role whose variables its tasks see. */
  role?: RoleInfo;
}

export type Node = TaskNode | BlockNode;

/** One play of a playbook. */
export interface Play extends Keywords {
  name?: string;
  hosts: string[];
  gather_facts: unknown;
  vars_files: Array<string | string[]>;
  pre_tasks: Node[];
  tasks: Node[];
  post_tasks: Node[];
  handlers: TaskNode[];
  serial: unknown[];
  strategy: 'linear' | 'free';
  max_fail_percentage?: number;
  force_handlers?: boolean;
  order?: string;
  location: SourceLocation;
  /** Where `hosts:` is written. */
  hostsLocation?: SourceLocation;
  /** Where `serial:` is written. */
  serialLocation?: SourceLocation;
  /** Directory of the playbook file (playbook_dir). */
  dir: string;
  file: string;
  /** Roles whose defaults and vars every task of the play sees (roles: and import_role). */
  roles: RoleInfo[];
  /** vars_prompt: variables asked for before the run (unless given with -e). */
  vars_prompt: VarsPrompt[];
  /** Names of the roles listed under roles: (ansible_play_role_names). */
  roleNames: string[];
  /** A handler may come from a role named at run time: notify names cannot all be known now. */
  dynamicHandlers?: boolean;
}

const KEYWORDS_COMMON = [
  'name',
  'when',
  'tags',
  'become',
  'become_user',
  'become_method',
  'vars',
  'environment',
  'ignore_errors',
  'ignore_unreachable',
  'check_mode',
  'diff',
  'no_log',
  'delegate_to',
  'run_once',
  'any_errors_fatal',
  'timeout',
  'remote_user',
  'connection',
  'become_flags',
  'collections',
  'module_defaults',
  'debugger',
  'throttle',
  'delegate_facts',
  'port',
  'safe_network',
  'rollback_timeout',
];
export const TASK_KEYWORDS = new Set([
  ...KEYWORDS_COMMON,
  'register',
  'notify',
  'changed_when',
  'failed_when',
  'loop',
  'loop_control',
  'until',
  'retries',
  'delay',
  'args',
  'action',
  'local_action',
  'listen',
  'async',
  'poll',
]);
export const BLOCK_KEYWORDS = new Set([...KEYWORDS_COMMON, 'block', 'rescue', 'always', 'notify']);
export const PLAY_KEYWORDS = new Set([
  ...KEYWORDS_COMMON,
  'hosts',
  'gather_facts',
  'vars_files',
  'vars_prompt',
  'pre_tasks',
  'tasks',
  'post_tasks',
  'handlers',
  'roles',
  'serial',
  'strategy',
  'max_fail_percentage',
  'force_handlers',
  'order',
  'gather_subset',
  'gather_timeout',
  'fact_path',
]);
/** Keywords we know from Ansible but do not implement: refusing them beats ignoring them. */
export const UNSUPPORTED = new Set(['debugger']);
const INCLUDE_ACTIONS = ['include_tasks', 'import_tasks', 'include_role', 'import_role', 'meta', 'import_playbook'];
const ROLE_OPTIONS = [
  'name',
  'tasks_from',
  'vars_from',
  'defaults_from',
  'handlers_from',
  'allow_duplicates',
  'public',
  'apply',
  'rolespec_validate',
];
const LOOP_LOOKUPS = new Set([
  ...LOOKUP_NAMES,
  'items',
  'list',
  'dict',
  'indexed_items',
  'together',
  'sequence',
  'nested',
  'fileglob',
  'subelements',
  'first_found',
]);

/** Options for loading playbooks. */
export interface LoadOptions {
  registry: ModuleLookup;
  /** Variables known at load time (extra vars), for templated import paths. */
  extraVars?: Record<string, unknown>;
  /** The roles path (ansible.cfg roles_path / ANSIBLE_ROLES_PATH); Ansible's default when unset. */
  rolesPath?: string[];
  /** The playbook's directory, where roles/ is searched first. */
  playbookDir?: string;
  /** The role whose tasks are being loaded. */
  role?: RoleInfo;
  /** What the play being loaded collects from its roles. */
  collect?: RoleCollector;
  /** module_defaults of the play, blocks, roles and includes around what is being loaded. */
  moduleDefaults?: ModuleDefaults;
}

// Options for what a node with these keywords holds: its module_defaults join the outer ones.
function within(opts: LoadOptions, kw: Pick<Keywords, 'module_defaults'>): LoadOptions {
  return kw.module_defaults ? { ...opts, moduleDefaults: [...(opts.moduleDefaults ?? []), ...kw.module_defaults] } : opts;
}

/** What loading a play's roles adds to the play. */
export interface RoleCollector {
  roles: RoleInfo[];
  handlers: TaskNode[];
  /** Roles already in the play (path + parameters + entry points): each runs once unless allow_duplicates. */
  seen: Set<string>;
  dynamicHandlers: boolean;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(message: string, location: SourceLocation | undefined, hint?: string): never {
  throw new UserError('E_PLAYBOOK', message, { location, hint });
}

function suggestion(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function readYaml(file: string, from?: SourceLocation): unknown {
  if (!existsSync(file)) {
    throw new UserError('E_FILE_NOT_FOUND', `file not found: ${file}`, {
      location: from,
      hint: 'paths are relative to the file that names them; check the spelling',
    });
  }
  return parseYaml(readText(file, 'playbook'), file);
}

function asList(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function asStringList(v: unknown, what: string, loc: SourceLocation | undefined): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string')
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (Array.isArray(v)) return v.map((x) => String(x));
  if (typeof v === 'number') return [String(v)];
  fail(`${what} must be a string or a list of strings`, loc, `e.g. ${what}: [one, two] or ${what}: one`);
}

// Ansible's booleans (module_utils/parsing/convert_bool.py), as keyword values may be written.
const BOOLEANS = new Set(['yes', 'on', '1', 'true', 't', 'y', 'no', 'off', '0', 'false', 'f', 'n']);
const BOOLEAN_KEYWORDS = [
  'become',
  'ignore_errors',
  'ignore_unreachable',
  'check_mode',
  'diff',
  'no_log',
  'run_once',
  'any_errors_fatal',
  'gather_facts',
  'force_handlers',
  'delegate_facts',
];

// A boolean keyword with a literal value that is no boolean (become: maybe) is refused now;
// a templated one is decided at run time.
function checkBooleans(obj: Obj): void {
  for (const key of BOOLEAN_KEYWORDS) {
    const v = obj[key];
    if (v === undefined || v === null || typeof v === 'boolean') continue;
    if (typeof v === 'number' ? v === 0 || v === 1 : typeof v === 'string' && (BOOLEANS.has(v.toLowerCase()) || /{{|{%/.test(v))) continue;
    fail(
      `the field '${key}' has an invalid value (${typeof v === 'string' ? v : JSON.stringify(v)}), and could not be converted to a bool`,
      keyLocationOf(obj, key),
      `write ${key}: true or ${key}: false (yes/no also work)`,
    );
  }
}

// Compile the expressions of a task or block now: a Jinja2 syntax error or an unknown filter is
// reported with its line before any host is contacted.
function checkExpressions(obj: Obj, loc: SourceLocation): void {
  for (const key of ['when', 'changed_when', 'failed_when', 'until']) {
    if (obj[key] !== undefined) checkSyntax(obj[key], keyLocationOf(obj, key) ?? loc, true);
  }
  const loopKey = Object.keys(obj).find((k) => k === 'loop' || k.startsWith('with_'));
  if (loopKey) checkSyntax(obj[loopKey], keyLocationOf(obj, loopKey) ?? loc);
}

// retries, delay and timeout written as literals must be numbers (Ansible fails every host).
function checkNumbers(obj: Obj): void {
  for (const key of ['retries', 'delay', 'timeout', 'async', 'poll']) {
    const v = obj[key];
    if (
      v === undefined ||
      v === null ||
      typeof v === 'number' ||
      (typeof v === 'string' && (/^\s*\d+(\.\d+)?\s*$/.test(v) || /{{|{%/.test(v)))
    )
      continue;
    fail(
      `the field '${key}' has an invalid value (${typeof v === 'string' ? v : JSON.stringify(v)}), and could not be converted to a number`,
      keyLocationOf(obj, key),
      `write ${key}: 5 (${key === 'timeout' ? 'seconds' : key === 'delay' ? 'seconds between attempts' : 'attempts'})`,
    );
  }
}

/**
 * The canonical name of a module named in module_defaults (`ansible.builtin.file` -> `file`), or
 * undefined when there is no such module.
 */
export function canonicalModule(name: string, registry: ModuleLookup): string | undefined {
  const entry = registry.get(name);
  if (entry) return entry.def.name;
  return ansibleOnlyModule(name) !== undefined ? name.replace(/^ansible\.(builtin|legacy)\./, '') : undefined;
}

// module_defaults: a mapping (or a list of them) of module names to default arguments. Action
// groups (group/...) hold no tsplay module: their entries are accepted and apply to nothing.
function readModuleDefaults(obj: Obj, loc: SourceLocation, registry: ModuleLookup | undefined): ModuleDefaults | undefined {
  const v = obj.module_defaults;
  if (v === undefined || v === null) return undefined;
  const where = keyLocationOf(obj, 'module_defaults') ?? loc;
  const hint = 'e.g. module_defaults: { apt: { update_cache: true }, file: { owner: pi } }';
  const out: ModuleDefaults = [];
  for (const entry of Array.isArray(v) ? v : [v]) {
    if (!isObj(entry))
      fail(
        'module_defaults must be a mapping (or a list of mappings) whose keys are module names; only the values may be templates',
        locationOf(entry) ?? where,
        `${hint}, or { ping: "{{ ping_defaults }}" }`,
      );
    const norm: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(entry)) {
      const kloc = keyLocationOf(entry, k) ?? where;
      if (k.startsWith('group/')) continue;
      const name = registry ? canonicalModule(k, registry) : k;
      if (name === undefined)
        fail(
          `Could not resolve action ${k} in module_defaults`,
          kloc,
          'name a module tsplay has (`tsplay doc --list`), e.g. file or ansible.builtin.file',
        );
      if (val !== null && val !== undefined && !isObj(val) && !(typeof val === 'string' && /{{|{%/.test(val)))
        fail(`the module_defaults of ${k} must be a mapping of its arguments`, kloc, hint);
      norm[name] = val ?? {};
    }
    out.push(norm);
  }
  return out;
}

/**
 * The default arguments module_defaults give `module` (a canonical name), the closest level's
 * entry winning; undefined when the entry is a template, known only at run time.
 */
export function moduleDefaultsFor(defaults: ModuleDefaults, module: string): Record<string, unknown> | undefined {
  const v = (Object.assign({}, ...defaults) as Record<string, unknown>)[module];
  if (v === undefined || v === null) return {};
  return typeof v === 'string' ? undefined : (v as Record<string, unknown>);
}

function readKeywords(obj: Obj, loc: SourceLocation, registry?: ModuleLookup): Keywords {
  checkBooleans(obj);
  checkNumbers(obj);
  let vars = obj.vars ?? {};
  // Ansible also takes a list of mappings, merged in order
  if (Array.isArray(vars) && vars.every(isObj)) vars = Object.assign({}, ...vars);
  if (!isObj(vars))
    fail(
      'vars must be a mapping of variable names to values',
      locationOf(vars) ?? keyLocationOf(obj, 'vars') ?? loc,
      'write one "name: value" per line under vars:, without "- " list dashes',
    );
  const env = obj.environment;
  if (env !== undefined && env !== null && !isObj(env) && typeof env !== 'string' && !Array.isArray(env)) {
    fail('environment must be a mapping', keyLocationOf(obj, 'environment'), 'write one "NAME: value" per line under environment:');
  }
  return {
    when: asList(obj.when),
    tags: asStringList(obj.tags, 'tags', keyLocationOf(obj, 'tags')),
    // a templated become (become: "{{ use_sudo }}") is decided per task at run time
    become: obj.become === undefined || obj.become === null ? undefined : typeof obj.become === 'string' ? obj.become : Boolean(obj.become),
    become_user: obj.become_user === undefined ? undefined : String(obj.become_user),
    become_method: obj.become_method === undefined ? undefined : String(obj.become_method),
    vars: vars as Obj,
    environment: env === undefined || env === null ? [] : (asList(env) as Array<Obj | string>),
    ignore_errors: obj.ignore_errors,
    ignore_unreachable: obj.ignore_unreachable,
    check_mode: obj.check_mode,
    diff: obj.diff,
    no_log: obj.no_log,
    delegate_to: obj.delegate_to === undefined || obj.delegate_to === null ? undefined : String(obj.delegate_to),
    run_once: obj.run_once,
    any_errors_fatal: obj.any_errors_fatal,
    timeout: obj.timeout,
    safe_network: obj.safe_network,
    rollback_timeout: obj.rollback_timeout,
    remote_user: obj.remote_user === undefined ? undefined : String(obj.remote_user),
    connection: obj.connection === undefined ? undefined : String(obj.connection),
    delegate_facts: obj.delegate_facts,
    module_defaults: readModuleDefaults(obj, loc, registry),
  };
}

/** Load one or more playbook files (import_playbook followed) into plays, validated. */
export function loadPlaybooks(files: string[], opts: LoadOptions): Play[] {
  const plays: Play[] = [];
  for (const f of files) plays.push(...loadPlaybookFile(resolve(f), opts, new Set()));
  return plays;
}

function loadPlaybookFile(file: string, opts: LoadOptions, seen: Set<string>, from?: SourceLocation): Play[] {
  if (seen.has(file)) fail(`import_playbook loop: ${file} imports itself`, from);
  const doc = readYaml(file, from);
  const loc: SourceLocation = { file, line: 1, col: 1 };
  if (doc === null || doc === undefined) fail('the playbook is empty', loc, 'a playbook is a YAML list of plays');
  if (!Array.isArray(doc)) {
    fail('a playbook must be a list of plays', locationOf(doc) ?? loc, 'start each play with "- hosts: ..."');
  }
  const plays: Play[] = [];
  const nextSeen = new Set(seen).add(file);
  for (const entry of doc) {
    const eloc = locationOf(entry) ?? loc;
    if (!isObj(entry))
      fail('each play must be a mapping with at least "hosts"', eloc, 'start each play with "- hosts: ..." at the left margin');
    const imp = entry.import_playbook ?? entry['ansible.builtin.import_playbook'];

    if (imp !== undefined) {
      if (typeof imp !== 'string') fail('import_playbook takes a file name', eloc);
      const target = resolve(dirname(file), imp);
      plays.push(...loadPlaybookFile(target, opts, nextSeen, keyLocationOf(entry, 'import_playbook') ?? eloc));
      continue;
    }
    plays.push(loadPlay(entry, file, opts, eloc));
  }
  return plays;
}

/** A play given as data (ad-hoc commands build one); `file` names it in errors. */
export function loadPlayObject(obj: Record<string, unknown>, file: string, opts: LoadOptions): Play {
  return loadPlay(obj, file, opts, { file });
}

function loadPlay(obj: Obj, file: string, opts: LoadOptions, loc: SourceLocation): Play {
  for (const key of Object.keys(obj)) {
    const kloc = keyLocationOf(obj, key);
    if (!PLAY_KEYWORDS.has(key)) {
      const s = suggestion(key, PLAY_KEYWORDS);
      fail(
        `'${key}' is not a valid attribute for a Play`,
        kloc,
        s ? `did you mean '${s}'?` : 'see the list of play keywords in the README',
      );
    }
    if (UNSUPPORTED.has(key))
      fail(
        `the play keyword '${key}' is not supported by tsplay yet`,
        kloc,
        'remove it, or use include_tasks / import_tasks instead of roles',
      );
  }
  if (obj.hosts === undefined || obj.hosts === null || obj.hosts === '') {
    fail('the field "hosts" is required but was not set', loc, 'add "hosts: all" or a group name to the play');
  }
  if (Array.isArray(obj.hosts) && obj.hosts.length === 0) {
    fail('Hosts list cannot be empty. Please check your playbook', keyLocationOf(obj, 'hosts') ?? loc, 'name a group, a host or "all"');
  }
  const dir = dirname(file);
  const strategy = obj.strategy ?? 'linear';
  // a templated strategy is decided when the play starts
  if (strategy !== 'linear' && strategy !== 'free' && !(typeof strategy === 'string' && /{{|{%/.test(strategy))) {
    fail(`unknown strategy '${String(strategy)}'`, keyLocationOf(obj, 'strategy'), 'use linear or free');
  }
  const collect: RoleCollector = { roles: [], handlers: [], seen: new Set(), dynamicHandlers: false };
  const popts: LoadOptions = within(
    { ...opts, playbookDir: dir, collect, role: undefined, moduleDefaults: undefined },
    {
      module_defaults: readModuleDefaults(obj, loc, opts.registry),
    },
  );
  const section = (key: string): Node[] => {
    const v = obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v))
      fail(
        `${key} must be a list of tasks`,
        locationOf(v) ?? keyLocationOf(obj, key),
        `write each task as a list item: "- ${key === 'handlers' ? 'name: ...' : 'debug: ...'}"`,
      );
    return loadTaskList(v, file, popts, keyLocationOf(obj, key)!, false);
  };
  const roleNodes = loadPlayRoles(obj, popts);
  const roleNames = asList(obj.roles).map((r) => String(isObj(r) ? (r.role ?? r.name) : r));
  const handlersRaw = obj.handlers;
  let handlers: TaskNode[] = [];
  if (handlersRaw !== undefined && handlersRaw !== null) {
    if (!Array.isArray(handlersRaw))
      fail(
        'handlers must be a list of tasks',
        locationOf(handlersRaw) ?? keyLocationOf(obj, 'handlers'),
        'write each handler as a list item: "- name: restart x"',
      );
    handlers = flattenHandlers(loadTaskList(handlersRaw, file, popts, keyLocationOf(obj, 'handlers')!, true));
  }
  const pre_tasks = section('pre_tasks');
  const tasks = [...roleNodes, ...section('tasks')];
  const post_tasks = section('post_tasks');
  // the roles' handlers come first, as in Ansible
  handlers = [...collect.handlers, ...handlers];
  if (!collect.dynamicHandlers) checkNotify([...pre_tasks, ...tasks, ...post_tasks, ...handlers], handlers);
  for (const v of asList(obj.serial)) {
    const ok = (typeof v === 'number' && v >= 0) || (typeof v === 'string' && (/^\s*\d+(\.\d+)?%?\s*$/.test(v) || /{{|{%/.test(v)));
    if (!ok)
      fail(
        `invalid serial value '${String(v)}'`,
        keyLocationOf(obj, 'serial'),
        'use a number, a percentage or a list of them, e.g. serial: [1, "50%"]',
      );
  }
  const mfp = obj.max_fail_percentage;
  const hostsLocation = keyLocationOf(obj, 'hosts') ?? loc;
  const hosts = asStringList(obj.hosts, 'hosts', hostsLocation);
  checkSyntax(hosts, hostsLocation);
  try {
    checkHostPattern(hosts.filter((h) => !/{{|{%/.test(h)));
  } catch (e) {
    throw e instanceof UserError ? e.at(hostsLocation) : e;
  }
  return {
    ...readKeywords(obj, loc, opts.registry),
    name: obj.name === undefined || obj.name === null ? undefined : String(obj.name),
    hosts,
    hostsLocation,
    serialLocation: keyLocationOf(obj, 'serial'),
    gather_facts: obj.gather_facts ?? true,
    vars_files: asList(obj.vars_files).map((v, i) => {
      const ok = typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
      if (!ok)
        fail(
          'each vars_files entry must be a file name (or a list of file names: the first that exists)',
          itemLocationOf(obj.vars_files, i) ?? keyLocationOf(obj, 'vars_files'),
          'e.g. vars_files: [vars/common.yml, ["vars/{{ os }}.yml", vars/default.yml]]',
        );
      return Array.isArray(v) ? v.map(String) : String(v);
    }),
    pre_tasks,
    tasks,
    post_tasks,
    handlers,
    serial: asList(obj.serial),
    strategy: strategy as 'linear' | 'free',
    max_fail_percentage: mfp === undefined || mfp === null ? undefined : Number(String(mfp).replace('%', '')),
    force_handlers: obj.force_handlers === undefined ? undefined : Boolean(obj.force_handlers),
    order: obj.order === undefined ? undefined : String(obj.order),
    location: loc,
    dir,
    file,
    roles: collect.roles,
    roleNames,
    vars_prompt: loadVarsPrompt(obj),
    dynamicHandlers: collect.dynamicHandlers || undefined,
  };
}

// The play's roles: section, each entry a block (its keywords) around its dependencies and its tasks.
function loadPlayRoles(obj: Obj, opts: LoadOptions): Node[] {
  const list = obj.roles;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list))
    fail(
      'roles must be a list of role names or mappings',
      keyLocationOf(obj, 'roles'),
      'e.g. roles: [common, { role: ntp, ntp_server: 10.0.0.1 }]',
    );
  const nodes: Node[] = [];
  for (const [i, entry] of list.entries()) {
    const ref = roleRef(entry, itemLocationOf(list, i) ?? keyLocationOf(obj, 'roles')!, opts, obj.vars);
    const r = loadRole(ref, opts, { dedupe: true, from: {}, validate: true, stack: [] });
    if (!r) continue;
    opts.collect?.roles.push(r.info);
    nodes.push(...r.nodes);
  }
  return nodes;
}

/** A role as a `roles:` entry or a meta dependency names it. */
export interface RoleRef {
  name: string;
  params: Obj;
  keywords: Obj;
  vars: Obj;
  location: SourceLocation;
}

const ROLE_KEYWORDS = new Set(KEYWORDS_COMMON.filter((k) => k !== 'name' && k !== 'vars'));

function roleRef(entry: unknown, loc: SourceLocation, opts: LoadOptions, playVars?: unknown): RoleRef {
  const eloc = locationOf(entry) ?? loc;
  if (typeof entry === 'string' || typeof entry === 'number')
    return { name: templateRoleName(String(entry), eloc, opts, playVars), params: {}, keywords: {}, vars: {}, location: eloc };
  if (!isObj(entry)) fail('a role is a name or a mapping with "role:"', eloc, 'e.g. - role: ntp');
  const name = entry.role ?? entry.name;
  if (typeof name !== 'string' || name === '') fail('role definitions must contain a role name', eloc, 'e.g. - role: ntp');
  const params: Obj = {};
  for (const [k, v] of Object.entries(entry)) {
    if (k === 'role' || k === 'name' || k === 'vars') continue;
    if (UNSUPPORTED.has(k)) fail(`the role keyword '${k}' is not supported by tsplay yet`, keyLocationOf(entry, k));
    if (!ROLE_KEYWORDS.has(k)) params[k] = v;
  }
  const vars = entry.vars ?? {};
  if (!isObj(vars)) fail('vars must be a mapping of variable names to values', keyLocationOf(entry, 'vars') ?? eloc);
  checkExpressions(entry, eloc);
  // the entry's keywords (when, tags, become...) are read from the entry itself, where their lines are
  const keywords = entry;
  return { name: templateRoleName(name, eloc, opts, playVars), params, keywords, vars, location: eloc };
}

// A role name may use variables known when the playbook is read (extra vars and play vars).
function templateRoleName(name: string, loc: SourceLocation, opts: LoadOptions, playVars?: unknown): string {
  if (!/{{|{%/.test(name)) return name;
  const scope = { ...(isObj(playVars) ? playVars : {}), ...(opts.extraVars ?? {}) };
  let out: unknown;
  try {
    out = template(name, scope, loc);
  } catch (e) {
    throw e instanceof UserError ? e.at(loc) : e;
  }
  if (typeof out !== 'string' || /{{|{%/.test(out))
    fail(
      `the role name '${name}' uses a variable that is not known when the playbook is read`,
      loc,
      'use include_role for a role chosen at run time, or pass the variable with -e',
    );
  return out;
}

/**
 * Load a role into nodes: a block with the entry's keywords around the role's dependencies and a
 * block (marked with the role) holding the argument check and the tasks. Its handlers and those of
 * its dependencies go to `opts.collect`. Undefined when the role already runs in this play.
 */
export function loadRole(
  ref: RoleRef,
  opts: LoadOptions,
  o: { dedupe: boolean; from: EntryPoints; validate: boolean; stack: string[]; dependentOf?: string },
): LoadedRole | undefined {
  const playbookDir = opts.playbookDir ?? dirname(ref.location.file);
  const found = findRole(ref.name, playbookDir, opts.rolesPath ?? defaultRolesPath(), o.dependentOf, ref.location);
  const files = readRole(found, o.from, ref.location);
  const key = `${found.path}\u0000${JSON.stringify(ref.params)}\u0000${JSON.stringify(o.from)}`;
  const cached = roleCache.get(opts.collect ?? roleCache);
  if (o.dedupe && !files.allowDuplicates && opts.collect?.seen.has(key)) {
    const info = cached?.get(key);
    return info ? { info, nodes: [], handlers: [] } : undefined;
  }
  if (o.stack.includes(found.path))
    fail(
      `role ${found.name} depends on itself (${[...o.stack, found.path].map((p) => basename(p)).join(' -> ')})`,
      files.dependenciesLocation ?? ref.location,
    );
  opts.collect?.seen.add(key);
  const stack = [...o.stack, found.path];
  // dependencies first; the role sees their defaults and vars under its own
  const depNodes: Node[] = [];
  const deps: RoleInfo[] = [];
  for (const [i, d] of files.dependencies.entries()) {
    const dref = roleRef(d, itemLocationOf(files.dependencies, i) ?? files.dependenciesLocation ?? ref.location, opts);
    const r = loadRole(dref, opts, { dedupe: true, from: {}, validate: true, stack, dependentOf: found.path });
    if (!r) continue;
    deps.push(r.info);
    depNodes.push(...r.nodes);
  }
  const info: RoleInfo = {
    name: found.name,
    path: found.path,
    defaults: Object.assign({}, ...deps.map((d) => d.defaults), files.defaults),
    vars: Object.assign({}, ...deps.map((d) => d.vars), ref.vars, files.vars),
    params: ref.params,
  };
  let byKey = roleCache.get(opts.collect ?? roleCache);
  if (!byKey) roleCache.set(opts.collect ?? roleCache, (byKey = new Map()));
  byKey.set(key, info);
  const ropts: LoadOptions = within(
    { ...opts, role: info },
    { module_defaults: readModuleDefaults(ref.keywords, ref.location, opts.registry) },
  );
  const tasks = files.tasksFile ? loadTaskFile(files.tasksFile, ropts, ref.location, stack) : [];
  const entry = (o.from.tasks_from ?? 'main').replace(/\.(ya?ml|json)$/, '');
  const spec = files.argumentSpecs[entry];
  if (o.validate && spec) tasks.unshift(validationTask(info, entry, spec, ref.params));
  const roleBlock: BlockNode = {
    kind: 'block',
    when: [],
    tags: [],
    vars: {},
    environment: [],
    block: tasks,
    rescue: [],
    always: [],
    location: ref.location,
    role: info,
  };
  const outer: BlockNode = {
    kind: 'block',
    ...readKeywords(ref.keywords, ref.location, opts.registry),
    vars: {},
    block: [...depNodes, roleBlock],
    rescue: [],
    always: [],
    location: ref.location,
  };
  let handlers: TaskNode[] = [];
  if (files.handlersFile) {
    const doc = readYaml(files.handlersFile, ref.location);
    if (doc !== null && doc !== undefined) {
      if (!Array.isArray(doc))
        fail('a handlers file must be a list of handlers', locationOf(doc) ?? { file: files.handlersFile, line: 1, col: 1 });
      handlers = flattenHandlers(
        loadTaskList(doc, files.handlersFile, ropts, { file: files.handlersFile, line: 1, col: 1 }, true, [...stack, files.handlersFile]),
      );
      handlers = handlers.map((h) => ({ ...h, role: info, parents: [outer, roleBlock] }));
    }
  }
  opts.collect?.handlers.push(...handlers);
  return { info, nodes: [outer], handlers };
}

// Loaded role variables by play and key, for dependencies that are deduplicated.
const roleCache = new WeakMap<object, Map<string, RoleInfo>>();

// Ansible's argument check, the first task of a role whose meta/argument_specs.yml names the entry point.
function validationTask(info: RoleInfo, entry: string, spec: ArgumentSpec, params: Obj): TaskNode {
  return {
    kind: 'task',
    name: `Validating arguments against arg spec '${entry}'${spec.short_description ? ` - ${spec.short_description}` : ''}`,
    action: 'validate_argument_spec',
    args: {
      argument_spec: spec.options,
      provided_arguments: params,
      validate_args_context: { type: 'role', name: info.name, argument_spec_name: entry, path: info.path },
    },
    when: [],
    tags: ['always'],
    vars: {},
    environment: [],
    notify: [],
    listen: [],
    loop_control: { loop_var: 'item' },
    location: { file: join(info.path, 'meta', 'argument_specs.yml') },
    baseDir: info.path,
    role: info,
  };
}

// A notify that names no handler of the play is a typo: catch it before any host is touched.
function checkNotify(nodes: Node[], handlers: TaskNode[]): void {
  const known = new Set(handlers.flatMap(handlerNames));
  const visit = (n: Node): void => {
    if (n.kind === 'block') return [...n.block, ...n.rescue, ...n.always].forEach(visit);
    for (const name of n.notify) {
      if (/{{|{%/.test(name) || known.has(name)) continue;
      const s = suggestion(name, known);
      fail(
        `The requested handler '${name}' was not found in the play's handlers`,
        n.notifyLocation ?? n.location,
        s ? `did you mean '${s}'?` : 'add a handler with this name (or listen:) to the play',
      );
    }
    n.include?.preloaded?.forEach(visit);
  };
  nodes.forEach(visit);
}

/** The names a handler answers to: its name (also as "role : name" in a role) and its listen topics. */
export function handlerNames(h: TaskNode): string[] {
  const names = [h.name, ...h.listen].filter((n): n is string => n !== undefined);
  if (h.role && h.name !== undefined) names.push(`${h.role.name} : ${h.name}`);
  return names;
}

// Handlers may be grouped in blocks; they run as a flat list in definition order.
function flattenHandlers(nodes: Node[]): TaskNode[] {
  const out: TaskNode[] = [];
  for (const n of nodes) {
    if (n.kind === 'task') out.push({ ...n, isHandler: true });
    else out.push(...flattenHandlers([...n.block, ...n.rescue, ...n.always]));
  }
  return out;
}

/** Load a task file (import_tasks / include_tasks). */
export function loadTaskFile(
  file: string,
  opts: LoadOptions,
  from: SourceLocation | undefined,
  stack: string[] = [],
  handler = false,
): Node[] {
  if (stack.includes(file)) fail(`task file ${file} includes itself`, from);
  const doc = readYaml(file, from);
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) fail('a task file must be a list of tasks', locationOf(doc) ?? { file, line: 1, col: 1 });
  return loadTaskList(doc, file, opts, { file, line: 1, col: 1 }, handler, [...stack, file]);
}

function loadTaskList(
  list: unknown[],
  file: string,
  opts: LoadOptions,
  loc: SourceLocation,
  handler: boolean,
  stack: string[] = [file],
): Node[] {
  const out: Node[] = [];
  for (const [i, item] of list.entries()) {
    const iloc = locationOf(item) ?? itemLocationOf(list, i) ?? loc;
    if (!isObj(item))
      fail(
        'each task must be a mapping (a module name and its arguments)',
        iloc,
        typeof item === 'string' && /^\S+ /.test(item)
          ? `write "${item.split(' ')[0]}: ${item.split(' ').slice(1).join(' ')}" (a colon after the module name)`
          : 'write a task as "- module: arguments"',
      );
    out.push(...loadTask(item, file, opts, iloc, handler, stack));
  }
  return out;
}

function loadTask(obj: Obj, file: string, opts: LoadOptions, loc: SourceLocation, handler: boolean, stack: string[]): Node[] {
  if ('block' in obj) {
    for (const key of Object.keys(obj)) {
      if (!BLOCK_KEYWORDS.has(key)) {
        const s = suggestion(key, BLOCK_KEYWORDS);
        fail(
          `'${key}' is not a valid attribute for a Block`,
          keyLocationOf(obj, key),
          s ? `did you mean '${s}'?` : 'a block holds block, rescue, always and task keywords',
        );
      }
    }
    const keywords = readKeywords(obj, loc, opts.registry);
    const bopts = within(opts, keywords);
    const part = (key: string): Node[] => {
      const v = obj[key];
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v))
        fail(`${key} must be a list of tasks`, locationOf(v) ?? keyLocationOf(obj, key), 'write each task as a list item: "- debug: ..."');
      return loadTaskList(v, file, bopts, keyLocationOf(obj, key)!, handler, stack);
    };
    checkExpressions(obj, loc);
    return [
      {
        kind: 'block',
        ...keywords,
        name: obj.name === undefined ? undefined : String(obj.name),
        block: part('block'),
        rescue: part('rescue'),
        always: part('always'),
        location: loc,
      },
    ];
  }

  const candidates = Object.keys(obj).filter((k) => !TASK_KEYWORDS.has(k) && !k.startsWith('with_'));
  let action: string | undefined;
  let rawArgs: unknown;
  let actionLoc = loc;
  // action: / local_action: name the module in their value (`local_action: command echo hi`,
  // or a mapping with `module:`); local_action also means delegate_to: localhost
  let localAction = false;
  if ('action' in obj && 'local_action' in obj)
    fail('action and local_action are mutually exclusive', keyLocationOf(obj, 'local_action') ?? loc, 'keep one of them');
  for (const key of ['action', 'local_action'] as const) {
    if (!(key in obj)) continue;
    const a = obj[key];
    actionLoc = keyLocationOf(obj, key) ?? loc;
    if (isObj(a) && a.module !== undefined && a.module !== null) {
      action = String(a.module);
      rawArgs = Object.fromEntries(Object.entries(a).filter(([k]) => k !== 'module'));
    } else if (typeof a === 'string' && a.trim() !== '') {
      const m = /^(\S+)\s*([\s\S]*)$/.exec(a.trim())!;
      action = m[1];
      rawArgs = m[2];
    } else fail(`${key} needs a module name`, actionLoc, `e.g. ${key}: command echo hi, or ${key}: { module: copy, dest: ... }`);
    localAction = key === 'local_action';
  }
  const modules = candidates.filter(
    (k) =>
      opts.registry.has(k) || INCLUDE_ACTIONS.includes(k.replace(/^ansible\.(builtin|legacy)\./, '')) || ansibleOnlyModule(k) !== undefined,
  );
  const unknown = candidates.filter((k) => !modules.includes(k));
  if (modules.length + (action ? 1 : 0) > 1) {
    fail(`conflicting action statements: ${[...(action ? [action] : []), ...modules].join(', ')}`, loc, 'a task runs exactly one module');
  }
  if (modules.length === 1) {
    action = modules[0]!;
    rawArgs = obj[action];
    actionLoc = keyLocationOf(obj, action) ?? loc;
  }
  if (unknown.length > 0) {
    const key = unknown[0]!;
    const kloc = keyLocationOf(obj, key);
    if (action) {
      const s = suggestion(key, TASK_KEYWORDS);
      fail(`'${key}' is not a valid attribute for a Task`, kloc, s ? `did you mean '${s}'?` : 'check the spelling of the task keyword');
    }
    const mods = opts.registry.suggest(key);
    fail(
      `couldn't resolve module/action '${key}'. This often indicates a misspelling, missing collection, or incorrect module path.`,
      kloc,
      mods.length
        ? `did you mean ${mods.map((m) => `'${m}'`).join(' or ')}?`
        : 'run `tsplay doc --list` to see the modules, or add yours with -M / library/',
    );
  }
  if (!action) fail('no module/action detected in task', loc, 'add a module, e.g. "command: ..." or "debug: msg=..."');
  for (const key of Object.keys(obj)) {
    if (UNSUPPORTED.has(key)) fail(`the task keyword '${key}' is not supported by tsplay yet`, keyLocationOf(obj, key));
    if (key.startsWith('with_') && !LOOP_LOOKUPS.has(key.slice(5))) {
      fail(
        `unknown loop lookup '${key}'`,
        keyLocationOf(obj, key),
        `supported: ${[...LOOP_LOOKUPS].map((l) => `with_${l}`).join(', ')}, or loop:`,
      );
    }
  }
  // an imported handlers file (handlers: [import_tasks: handlers.yml]) brings named handlers
  if (handler && obj.name === undefined && obj.listen === undefined && !/(^|\.)import_tasks$/.test(action)) {
    fail('a handler needs a name (or listen) to be notified by', loc);
  }

  const short = action.replace(/^ansible\.(builtin|legacy)\./, '');
  const def = opts.registry.get(action)?.def;
  // Arguments: a mapping, k=v text, or free-form text (`command: ls -l chdir=/tmp`); `args:` merges in.
  let args: Obj;
  if (rawArgs === null || rawArgs === undefined) args = {};
  else if (isObj(rawArgs)) args = { ...rawArgs };
  else if (typeof rawArgs === 'string' || typeof rawArgs === 'number' || typeof rawArgs === 'boolean') {
    const text = String(rawArgs);
    const freeKeys =
      short === 'meta'
        ? new Set<string>()
        : short === 'include_tasks' || short === 'import_tasks'
          ? new Set(['file', 'apply'])
          : short === 'include_role' || short === 'import_role'
            ? new Set(ROLE_OPTIONS)
            : def?.freeForm
              ? new Set(Object.keys(def.schema.properties ?? {}).filter((k) => k !== def.freeForm))
              : undefined;
    const parsed = freeKeys ? parseKv(text, freeKeys) : parseKv(text);
    if (!freeKeys && parsed.free !== '') {
      fail(
        `cannot parse arguments of ${action}: '${parsed.free}' is not key=value`,
        actionLoc,
        `write the arguments as a mapping under ${action}:`,
      );
    }
    args = { ...parsed.args };
    if (parsed.free !== '') args._raw_params = parsed.free;
  } else fail(`the arguments of ${action} must be a mapping or key=value text`, actionLoc);
  if (obj.args !== undefined) {
    if (!isObj(obj.args)) fail('args must be a mapping', keyLocationOf(obj, 'args'), 'write one "name: value" per line under args:');
    args = { ...obj.args, ...args };
  }

  // loops: loop, with_<lookup>
  let loop: unknown;
  let loopKind: string | undefined;
  const withKey = Object.keys(obj).find((k) => k.startsWith('with_'));
  if (withKey && obj.loop !== undefined) fail('use either loop or with_*, not both', keyLocationOf(obj, withKey));
  if (withKey) {
    loop = obj[withKey];
    loopKind = withKey.slice(5);
  } else if (obj.loop !== undefined) {
    loop = obj.loop;
  }
  const lc = obj.loop_control;
  if (lc !== undefined && !isObj(lc)) fail('loop_control must be a mapping', keyLocationOf(obj, 'loop_control'));
  const lcObj = (lc ?? {}) as Obj;
  for (const k of Object.keys(lcObj)) {
    if (!['loop_var', 'index_var', 'label', 'pause', 'extended', 'extended_allitems', 'break_when'].includes(k)) {
      fail(`'${k}' is not a valid loop_control option`, keyLocationOf(lcObj, k), 'use loop_var, index_var, label, pause or extended');
    }
  }

  checkExpressions(obj, loc);
  const task: TaskNode = {
    kind: 'task',
    ...readKeywords(obj, loc, opts.registry),
    ...(localAction ? { delegate_to: 'localhost' } : {}),
    name: obj.name === undefined || obj.name === null ? undefined : String(obj.name),
    action,
    args,
    register: obj.register === undefined ? undefined : String(obj.register),
    notify: asStringList(obj.notify, 'notify', keyLocationOf(obj, 'notify')),
    notifyLocation: keyLocationOf(obj, 'notify'),
    listen: asStringList(obj.listen, 'listen', keyLocationOf(obj, 'listen')),
    changed_when: obj.changed_when,
    failed_when: obj.failed_when,
    loop,
    loopKind,
    loop_control: {
      loop_var: lcObj.loop_var === undefined ? 'item' : String(lcObj.loop_var),
      index_var: lcObj.index_var === undefined ? undefined : String(lcObj.index_var),
      label: lcObj.label,
      pause: lcObj.pause === undefined ? undefined : Number(lcObj.pause),
      extended: lcObj.extended === undefined ? undefined : Boolean(lcObj.extended),
    },
    until: obj.until,
    async: obj.async,
    poll: obj.poll,
    retries: obj.retries,
    delay: obj.delay,
    location: actionLoc,
    baseDir: dirname(file),
    role: opts.role,
  };
  // what the task includes or imports, and its own arguments, see its module_defaults too
  opts = within(opts, task);
  if (task.register !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(task.register)) {
    fail(`invalid variable name in register: '${task.register}'`, keyLocationOf(obj, 'register'), 'use letters, digits and underscores');
  }

  if (short === 'import_role' || short === 'include_role') return loadRoleTask(short, task, obj, args, opts, loc, actionLoc, stack);
  if (short === 'import_tasks' || short === 'include_tasks') {
    if (args.apply !== undefined) {
      if (short === 'import_tasks')
        fail(
          'Invalid options for import_tasks: apply',
          actionLoc,
          'apply works with include_tasks; with import_tasks, put the keywords on the import itself',
        );
      task.apply = applyKeywords(args.apply, actionLoc, opts);
    }
    const target = args.file ?? args._raw_params;
    if (typeof target !== 'string' || target === '') fail(`${short} needs a file name`, actionLoc);
    const path = isAbsolute(target) ? target : resolve(dirname(file), target);
    const templated = /{{|{%/.test(target);
    if (short === 'import_tasks') {
      if (templated)
        fail('import_tasks is static: its file name cannot use variables', actionLoc, 'use include_tasks for a file chosen at run time');
      if (task.loop !== undefined) fail('import_tasks cannot loop', actionLoc, 'use include_tasks with loop');
      const nodes = loadTaskFile(path, opts, actionLoc, stack, handler);
      // An import is a block whose keywords (when, tags, vars, become...) apply to every imported task.
      return [
        { kind: 'block', ...readKeywords(obj, loc, opts.registry), name: task.name, block: nodes, rescue: [], always: [], location: loc },
      ];
    }
    task.include = { file: target, ...(templated ? {} : deferred(() => loadTaskFile(path, opts, actionLoc, stack))) };
    return [task];
  }
  if (short === 'meta') {
    const what = String(args._raw_params ?? '');
    if (
      ![
        'flush_handlers',
        'end_play',
        'end_host',
        'noop',
        'clear_facts',
        'refresh_inventory',
        'end_batch',
        'clear_host_errors',
        'reset_connection',
      ].includes(what)
    ) {
      fail(
        `invalid meta action '${what}'`,
        actionLoc,
        'use flush_handlers, end_play, end_host, end_batch, clear_host_errors, reset_connection or noop',
      );
    }
    return [task];
  }

  // Arguments that hold no template can be fully checked now, before any host is touched;
  // unknown argument names are always caught now.
  for (const [k, v] of Object.entries(args)) checkSyntax(v, argLocation(k, rawArgs, obj.args) ?? actionLoc);
  if (def) {
    // the arguments module_defaults give the module count, as at run time (a templated entry
    // is known only then: the check is then on argument names alone)
    const defaults = moduleDefaultsFor(opts.moduleDefaults ?? [], def.name);
    const where = (arg: string) => argLocation(arg, rawArgs, obj.args);
    if (defaults === undefined) checkStaticArgs(def, args, actionLoc, where, true);
    else checkStaticArgs(def, { ...defaults, ...args }, actionLoc, where);
  }
  return [task];
}

// import_role: the role's blocks in place (static); include_role: loaded ahead of time when its
// name holds no variable, run when the task is reached.
function loadRoleTask(
  short: 'import_role' | 'include_role',
  task: TaskNode,
  obj: Obj,
  args: Obj,
  opts: LoadOptions,
  loc: SourceLocation,
  actionLoc: SourceLocation,
  stack: string[],
): Node[] {
  for (const k of Object.keys(args)) {
    if (!ROLE_OPTIONS.includes(k))
      fail(
        `Invalid options for ${short}: ${k}`,
        argLocation(k, obj[task.action], obj.args) ?? actionLoc,
        `${short} takes ${ROLE_OPTIONS.join(', ')}; pass variables with vars:`,
      );
  }
  const name = args.name;
  if (typeof name !== 'string' || name === '') fail(`'name' is a required field for ${short}`, actionLoc, `e.g. ${short}: { name: ntp }`);
  const from: EntryPoints = {};
  for (const k of ['tasks_from', 'vars_from', 'defaults_from', 'handlers_from'] as const) {
    if (args[k] !== undefined) from[k] = String(args[k]);
  }
  const validate =
    args.rolespec_validate === undefined || !['false', 'no', 'off', '0'].includes(String(args.rolespec_validate).toLowerCase());
  const ref: RoleRef = { name, params: {}, keywords: {}, vars: {}, location: actionLoc };
  const templated = /{{|{%/.test(name) || Object.values(from).some((v) => /{{|{%/.test(v!));
  if (short === 'import_role') {
    if (args.apply !== undefined) fail('Invalid options for import_role: apply', actionLoc, 'apply works with include_role');
    if (task.loop !== undefined) fail('import_role cannot loop', actionLoc, 'use include_role with loop');
    if (templated) ref.name = templateRoleName(name, actionLoc, opts);
    // its vars are also the role's vars, which the whole play sees (Ansible 2.14 without
    // private_role_vars), as for a roles: entry's vars
    ref.vars = readKeywords(obj, loc).vars;
    const r = loadRole(ref, opts, { dedupe: false, from, validate, stack });
    if (!r) return [];
    // imported roles' variables are the play's from the start, as roles: are
    opts.collect?.roles.push(r.info);
    return [
      { kind: 'block', ...readKeywords(obj, loc, opts.registry), name: task.name, block: r.nodes, rescue: [], always: [], location: loc },
    ];
  }
  if (args.apply !== undefined) task.apply = applyKeywords(args.apply, actionLoc, opts);
  task.includeRole = {
    name,
    from,
    ...(templated ? {} : deferred(() => loadRole(ref, opts, { dedupe: false, from, validate, stack }) ?? undefined)),
  };
  if (templated && opts.collect) opts.collect.dynamicHandlers = true;
  return [task];
}

// A dynamic include's content is checked at load time, but Ansible parses it only when the include
// runs: a role's setup-RedHat.yml with an unknown module must not stop a run on Debian hosts. So a
// load error is kept and raised by the runner if the include is reached.
function deferred<T>(load: () => T): { preloaded?: T; error?: UserError } {
  try {
    return { preloaded: load() };
  } catch (e) {
    if (e instanceof UserError) return { error: e };
    throw e;
  }
}

// include_tasks / include_role `apply:`: keywords for the included tasks.
function applyKeywords(apply: unknown, loc: SourceLocation, opts: LoadOptions): Keywords {
  if (!isObj(apply)) fail('apply must be a mapping of task keywords', loc, 'e.g. apply: { become: true, tags: [ntp] }');
  for (const k of Object.keys(apply)) {
    if (!KEYWORDS_COMMON.includes(k) || k === 'name')
      fail(
        `'${k}' cannot be applied to included tasks`,
        keyLocationOf(apply, k) ?? loc,
        'apply takes task keywords: when, tags, become, vars, environment...',
      );
  }
  checkExpressions(apply, loc);
  return readKeywords(apply, loc, opts.registry);
}

// Where an argument was written: under the module key, or under args:.
function argLocation(arg: string, ...sources: unknown[]): SourceLocation | undefined {
  for (const src of sources) {
    if (isObj(src) && arg in src) return keyLocationOf(src, arg);
  }
  return undefined;
}

function hasTemplate(v: unknown): boolean {
  if (typeof v === 'string') return /{{|{%/.test(v);
  if (Array.isArray(v)) return v.some(hasTemplate);
  if (isObj(v)) return Object.values(v).some(hasTemplate);
  return false;
}

function checkStaticArgs(
  def: NonNullable<ReturnType<ModuleLookup['get']>>['def'],
  args: Obj,
  loc: SourceLocation,
  where: (arg: string) => SourceLocation | undefined,
  namesOnly = false,
): void {
  const prepared = prepareArgs(def, args);
  if (namesOnly || hasTemplate(prepared)) {
    const names = Object.fromEntries(Object.keys(prepared).map((k) => [k, undefined]));
    const r = checkArgs(def, names);
    if (!r.ok && r.message.startsWith('Unsupported parameters'))
      throw new UserError('E_MODULE_ARGS', r.message, {
        location: (r.arg && where(r.arg)) || loc,
        hint: 'fix the argument name; `tsplay doc ' + def.name + '` lists them',
      });
    return;
  }
  const r = checkArgs(def, prepared);
  if (!r.ok)
    throw new UserError('E_MODULE_ARGS', r.message, {
      location: (r.arg && where(r.arg)) || loc,
      hint: '`tsplay doc ' + def.name + '` lists the arguments and their types',
    });
}
