// Runs one task on one host: variables, when, loop, templated arguments, then the module's
// gather -> plan -> (check mode stops here) -> apply, and changed_when / failed_when / until.
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { readVaultFile } from '../vault.js';
import { firstFound, sequenceItems } from '../expr/globals.js';
import { OMIT, evalCondition, evaluate, markUnsafe, renderTemplateText, template } from '../expr/index.js';
import { ModuleCrash, UnreachableError, UserError, formatLocation } from '../errors.js';
import {
  runChanges,
  type AsyncJob,
  type Change,
  type Connection,
  type ExecOptions,
  type AnyModuleDefinition,
  type FileDiff,
  type ModuleContext,
  type Plan,
} from '../module.js';
import { Secret as SecretClass, type Secret, type ShellCommand } from '../sh.js';
import { type Keywords, type Play, type RoleInfo, type TaskNode } from '../load/playbook.js';
import { checkArgs, prepareArgs } from '../load/args.js';
import { ansibleOnlyMessage, ansibleOnlyModule } from '../load/ansible-only.js';
import { loadVarsFile as readVarsFile } from '../load/vars-files.js';
import { guardedApply, type GuardIo, type GuardSettings } from './safe-network.js';
import type { Inventory } from '../load/inventory.js';
import type { ModuleRegistry, RegisteredModule } from './registry.js';
import type { ConnectionPool } from '../connection/pool.js';
import { HostState } from './host-state.js';
import type { HostTaskResult, Reporter } from './results.js';

/** Settings of the whole run that tasks read (from the command line). */
export interface RunSettings {
  check: boolean;
  diff: boolean;
  verbosity: number;
  forks: number;
  extraVars: Record<string, unknown>;
  become?: boolean;
  becomeUser?: string;
  becomePassword?: Secret;
  remoteUser?: string;
  connection?: string;
  tags: string[];
  skipTags: string[];
  /** Re-gather and re-plan after apply; a plan that still changes is reported as a bug. */
  verifyIdempotence: boolean;
  /** The most bytes kept of a command's stdout and of its stderr (TSPLAY_MAX_OUTPUT). */
  maxOutputBytes?: number;
  /** --force-handlers: notified handlers run on hosts that failed too (a play's force_handlers). */
  forceHandlers?: boolean;
}

/** What a task needs from the play it runs in. */
export interface PlayEnv {
  registry: ModuleRegistry;
  pool: ConnectionPool;
  reporter: Reporter;
  inventory: Inventory;
  settings: RunSettings;
  play: Play;
  /** play vars + vars_files, in that order. */
  playVars: Record<string, unknown>;
  hosts: Map<string, HostState>;
  /** Hosts of the play (all batches) and of the current batch. */
  playHostsAll: string[];
  batch: string[];
  /** Fires on Ctrl-C: running commands are killed. */
  signal?: AbortSignal;
  /** Roles whose defaults and vars the play's tasks see (the play's, then include_role public: true). */
  roles: RoleInfo[];
  /** The play's handlers, with those of roles included at run time. */
  handlers: TaskNode[];
}

/** The keyword chain of a task: play first, then enclosing blocks, then the task. */
export type Chain = readonly Keywords[];

export function lastDefined<K extends keyof Keywords>(chain: Chain, key: K): Keywords[K] | undefined {
  for (let i = chain.length - 1; i >= 0; i--) {
    const v = chain[i]![key];
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

/** Facts as variables: ansible_facts.x is also ansible_x at top level. */
function factVars(host: HostState): Record<string, unknown> {
  const out: Record<string, unknown> = { ansible_facts: host.facts };
  for (const [k, v] of Object.entries(host.facts)) out[host.factVarNames.get(k) ?? (k.startsWith('ansible_') ? k : `ansible_${k}`)] = v;
  return out;
}

// A module's facts join ansible_facts without their ansible_ prefix (Ansible's namespace_facts),
// and the top-level variables under the names the module returned (INJECT_FACTS_AS_VARS); tsplay's
// setup returns its facts unprefixed, as they appear in ansible_facts.
function mergeFacts(host: HostState, facts: Record<string, unknown>, fromSetup: boolean): void {
  for (const [k, v] of Object.entries(facts)) {
    const key = k.startsWith('ansible_') && k !== 'ansible_local' ? k.slice('ansible_'.length) : k;
    host.facts[key] = v;
    if (fromSetup || k.startsWith('ansible_')) host.factVarNames.delete(key);
    else host.factVarNames.set(key, k);
  }
}

/** The variables every expression of this task on this host sees, with Ansible's precedence. */
export function buildScope(env: PlayEnv, host: HostState, chain: Chain): Record<string, unknown> {
  const inv = env.inventory.hostVars(host.name, env.play.dir);
  // roles: the play's defaults lowest, the task's own role's above them; role vars above play vars
  const roles = rolesOf(chain);
  const scope: Record<string, unknown> = {};
  for (const r of env.roles) Object.assign(scope, r.defaults);
  for (const r of roles) Object.assign(scope, r.defaults);
  Object.assign(scope, inv, factVars(host), env.playVars);
  for (const r of env.roles) Object.assign(scope, r.vars);
  for (const r of roles) Object.assign(scope, r.vars);
  const includeParams: Record<string, unknown>[] = [];
  for (let i = 1; i < chain.length; i++) {
    const layer = chain[i]! as Keywords & { perHost?: Map<string, Record<string, unknown>> };
    Object.assign(scope, layer.vars);
    const p = layer.perHost?.get(host.name);
    if (p) includeParams.push(p);
  }
  // set_fact and registered results, then role parameters and include parameters above them
  Object.assign(scope, host.vars);
  for (const r of roles) Object.assign(scope, r.params);
  Object.assign(scope, ...includeParams, env.settings.extraVars, magicVars(env, host), roleMagicVars(env, roles));
  scope.ansible_search_path = searchPath(chain, roles);
  return scope;
}

// Ansible's ansible_search_path: the roles' directories, innermost first, then the task file's.
function searchPath(chain: Chain, roles: RoleInfo[]): string[] {
  const out = roles.map((r) => r.path).reverse();
  const task = chain[chain.length - 1] as { kind?: string; baseDir?: string } | undefined;
  if (task?.kind === 'task' && task.baseDir && !out.includes(task.baseDir)) out.push(task.baseDir);
  return out;
}

/** The roles a task is inside, outermost first. */
export function rolesOf(chain: Chain): RoleInfo[] {
  const out: RoleInfo[] = [];
  for (const k of chain) {
    const r = (k as { role?: RoleInfo; kind?: string }).role;
    if (r && (k as { kind?: string }).kind === 'block' && out[out.length - 1] !== r) out.push(r);
  }
  const task = chain[chain.length - 1] as { role?: RoleInfo; kind?: string } | undefined;
  if (task?.kind === 'task' && task.role && out[out.length - 1] !== task.role) out.push(task.role);
  return out;
}

function roleMagicVars(env: PlayEnv, roles: RoleInfo[]): Record<string, unknown> {
  const all = [...new Set(env.roles.map((r) => r.name))];
  const out: Record<string, unknown> = {
    ansible_play_role_names: env.play.roleNames,
    ansible_role_names: all,
    role_names: env.play.roleNames,
  };
  const inner = roles[roles.length - 1];
  if (inner) {
    out.role_name = inner.name;
    out.role_path = inner.path;
    out.ansible_role_name = inner.name;
    // set only inside a role that another role included or imported, as in Ansible
    if (roles.length > 1) {
      out.ansible_parent_role_names = roles
        .slice(0, -1)
        .reverse()
        .map((r) => r.name);
      out.ansible_parent_role_paths = roles
        .slice(0, -1)
        .reverse()
        .map((r) => r.path);
    }
  }
  return out;
}

function magicVars(env: PlayEnv, host: HostState): Record<string, unknown> {
  const invHost = env.inventory.hosts.get(host.name);
  const invFile = invHost?.location?.file;
  return {
    inventory_hostname: host.name,
    inventory_hostname_short: host.name.split('.')[0],
    group_names: env.inventory.hosts.has(host.name) ? env.inventory.groupNames(host.name) : [],
    groups: env.inventory.groupsVar(),
    hostvars: hostvarsProxy(env),
    ansible_play_hosts: env.batch.filter((h) => env.hosts.get(h)?.active),
    ansible_play_batch: env.batch.filter((h) => env.hosts.get(h)?.active),
    ansible_play_hosts_all: env.playHostsAll,
    play_hosts: env.batch.filter((h) => env.hosts.get(h)?.active),
    ansible_play_name: env.play.name ?? env.play.hosts.join(','),
    ansible_check_mode: env.settings.check,
    ansible_diff_mode: env.settings.diff,
    ansible_verbosity: env.settings.verbosity,
    ansible_forks: env.settings.forks,
    ansible_run_tags: env.settings.tags.length ? env.settings.tags : ['all'],
    ansible_skip_tags: env.settings.skipTags,
    // the ansible-core whose behaviour tsplay follows (docs/ansible-compatibility.md)
    ansible_version: { full: '2.14.18', major: 2, minor: 14, revision: 18, string: '2.14.18' },
    ansible_playbook_python: playbookPython(),
    tsplay_version: '0.1.0',
    playbook_dir: env.play.dir,
    inventory_dir: invFile ? dirname(invFile) : null,
    inventory_file: invFile ?? null,
    omit: OMIT,
    ansible_managed: 'Ansible managed',
  };
}

let python: string | undefined;

// Ansible's ansible_playbook_python is the Python that runs ansible-playbook; tsplay runs none, so
// it is the controller's python3 (playbooks use it as localhost's ansible_python_interpreter).
function playbookPython(): string {
  python ??= ['/usr/bin/python3', '/usr/local/bin/python3', '/bin/python3'].find((p) => existsSync(p)) ?? '/usr/bin/python3';
  return python;
}

// hostvars['node1'].x: each host's inventory vars, facts and set_fact/register vars, computed on access.
function hostvarsProxy(env: PlayEnv): Record<string, unknown> {
  const names = () => [...env.inventory.hosts.keys()];
  const forHost = (name: string): Record<string, unknown> | undefined => {
    if (!env.inventory.hosts.has(name) && !env.hosts.has(name)) return undefined;
    const st = env.hosts.get(name);
    return {
      ...env.inventory.hostVars(name, env.play.dir),
      ...(st ? factVars(st) : {}),
      ...(st?.vars ?? {}),
      // -e values are every host's, in hostvars too (play vars and role vars are not)
      ...env.settings.extraVars,
      inventory_hostname: name,
      inventory_hostname_short: name.split('.')[0],
      group_names: env.inventory.hosts.has(name) ? env.inventory.groupNames(name) : [],
    };
  };
  return new Proxy({} as Record<string, unknown>, {
    get: (_t, p) => (typeof p === 'string' ? forHost(p) : undefined),
    has: (_t, p) => typeof p === 'string' && forHost(p) !== undefined,
    ownKeys: () => names(),
    getOwnPropertyDescriptor: (_t, p) =>
      typeof p === 'string' && env.inventory.hosts.has(p) ? { enumerable: true, configurable: true, value: forHost(p) } : undefined,
  });
}

function truthy(v: unknown): boolean {
  if (typeof v === 'string') return !['', 'false', 'no', 'off', '0', 'n', 'f'].includes(v.trim().toLowerCase());
  return Boolean(v);
}

/** A keyword value that may be a template or a bool (ignore_errors: "{{ x }}"). */
function boolKeyword(v: unknown, scope: Record<string, unknown>, task: TaskNode): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  return truthy(template(v, scope, task.location));
}

function removeOmitted(v: unknown): unknown {
  // as Ansible: omitted keys of mappings go, at any depth; a list keeps the placeholder
  if (Array.isArray(v)) return v.map(removeOmitted);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== OMIT) out[k] = removeOmitted(x);
    return out;
  }
  return v;
}

// with_first_found: an undefined variable in a candidate skips that candidate, as in Ansible.
function firstFoundItems(task: TaskNode, scope: Record<string, unknown>): unknown[] {
  const raw = Array.isArray(task.loop) ? task.loop : [task.loop];
  const terms = raw.flatMap((t) => {
    try {
      return [template(t, scope, task.location)];
    } catch (e) {
      if (e instanceof UserError && e.code === 'E_UNDEFINED') return [];
      throw e;
    }
  });
  // the task's action picks the subdirectory searched first, as Ansible's task executor does
  const subdir = ['template', 'var', 'file'].find((d) => task.action.includes(d)) ?? 'file';
  const playbookDir = scope.playbook_dir;
  try {
    return firstFound(
      terms,
      {},
      {
        searchPath: (scope.ansible_search_path as string[] | undefined) ?? [],
        playbookDir: typeof playbookDir === 'string' ? playbookDir : task.baseDir,
        subdir: `${subdir}s`,
      },
    );
  } catch (e) {
    throw e instanceof UserError ? e.at(task.location) : e;
  }
}

/** Ansible's warning for a loop variable that is already a variable of the task (`item` in vars:). */
export function warnLoopVar(env: PlayEnv, task: TaskNode, scope: Record<string, unknown>): void {
  const name = task.loop_control.loop_var;
  if (!Object.prototype.hasOwnProperty.call(scope, name)) return;
  const label = task.role ? `${task.role.name} : ${task.name ?? task.action}` : (task.name ?? task.action);
  env.reporter.warning(
    `TASK: ${label}: The loop variable '${name}' is already in use. You should set the \`loop_var\` value in the \`loop_control\` option for the task to something else to avoid variable collisions and unexpected behavior.`,
  );
}

/** The loop's items: `loop:` as given, `with_<lookup>` as Ansible's lookups shape them. */
export function loopItems(task: TaskNode, scope: Record<string, unknown>): unknown[] {
  if (task.loopKind === 'first_found') return firstFoundItems(task, scope);
  let v = template(task.loop, scope, task.location);
  if (typeof v === 'string' && task.loopKind !== 'sequence') {
    // `with_items: "{{ list }}"` rendered to text, or a bare variable name (old Ansible style)
    v = task.loopKind === 'items' || task.loopKind === 'list' ? [v] : v;
  }
  switch (task.loopKind) {
    case undefined:
      if (!Array.isArray(v)) {
        throw new UserError(
          'E_PLAYBOOK',
          `Invalid data passed to 'loop', it requires a list, got this instead: ${typeof v === 'string' ? v : JSON.stringify(v)}.`,
          {
            location: task.location,
            hint: 'Hint: If you passed a list/elements of a list/a dict, use \'loop: "{{ x | dict2items }}"\' for dicts',
          },
        );
      }
      return v;
    case 'items':
      return (Array.isArray(v) ? v : [v]).flatMap((x) => (Array.isArray(x) ? x : [x]));
    case 'list':
      return Array.isArray(v) ? v : [v];
    case 'indexed_items':
      return (Array.isArray(v) ? v : [v]).map((x, i) => [i, x]);
    case 'dict':
      if (!v || typeof v !== 'object' || Array.isArray(v)) {
        throw new UserError('E_PLAYBOOK', 'with_dict expects a dict', { location: task.location });
      }
      return Object.entries(v).map(([key, value]) => ({ key, value }));
    case 'together': {
      const lists = (Array.isArray(v) ? v : [v]) as unknown[][];
      const n = Math.max(0, ...lists.map((l) => l.length));
      return Array.from({ length: n }, (_, i) => lists.map((l) => l[i] ?? null));
    }
    case 'nested': {
      const lists = (Array.isArray(v) ? v : [v]) as unknown[][];
      return lists.reduce<unknown[][]>((acc, l) => acc.flatMap((a) => l.map((x) => [...a, x])), [[]]);
    }
    case 'sequence':
      return sequenceItems(String(v), task.location);
    default: {
      // any other with_<name> is the lookup plugin's list, as query('<name>', *terms) gives it
      const terms = Array.isArray(v) ? v : [v];
      const items = evaluate(
        'query(__tsplay_lookup, *__tsplay_terms)',
        { ...scope, __tsplay_lookup: task.loopKind, __tsplay_terms: terms },
        task.location,
      );
      return items as unknown[];
    }
  }
}

/** The outcome of running a task on a host, before it is reported. */
interface Outcome {
  status: HostTaskResult['status'];
  result: Record<string, unknown>;
  diffs: FileDiff[];
}

/** Runs `task` on `host` and reports each result; returns the aggregated result. */
/** `ansible_loop` of item i (loop_control.extended): no previtem on the first, no nextitem on the last. */
export function extendedLoop(items: unknown[], i: number): Record<string, unknown> {
  const loop: Record<string, unknown> = {
    index: i + 1,
    index0: i,
    first: i === 0,
    last: i === items.length - 1,
    length: items.length,
    revindex: items.length - i,
    revindex0: items.length - i - 1,
    allitems: items,
  };
  if (i > 0) loop.previtem = items[i - 1];
  if (i < items.length - 1) loop.nextitem = items[i + 1];
  return loop;
}

export async function runTaskOnHost(env: PlayEnv, task: TaskNode, host: HostState, chain: Chain): Promise<HostTaskResult> {
  const scope = buildScope(env, host, chain);
  const noLog = isNoLog(chain, scope, task);
  const delegate = lastDefined(chain, 'delegate_to');
  let delegatedTo: string | undefined;
  try {
    delegatedTo =
      delegate !== undefined && !/{{/.test(delegate)
        ? delegate
        : delegate !== undefined
          ? String(template(delegate, scope, task.location))
          : undefined;
  } catch {
    delegatedTo = undefined;
  }
  const report = (r: Omit<HostTaskResult, 'host' | 'noLog'>, allItemsSkipped = false): HostTaskResult => {
    // skipped before it ran (when, no items), a task was never delegated: `skipping: [h]`, as Ansible
    const before =
      r.status === 'skipped' && (allItemsSkipped || r.result.skip_reason !== undefined || r.result.skipped_reason !== undefined);
    const full: HostTaskResult = { host: host.name, noLog, delegatedTo: before ? undefined : delegatedTo, ...r };
    env.reporter.hostResult(full);
    return full;
  };
  try {
    if (task.loop === undefined) {
      if (!evalWhen(chain, scope, task)) {
        // a skipped task still registers its (skipped) result: a later `when: r is changed` must
        // not act on an earlier run's result, as in Ansible
        return finish(
          env,
          task,
          host,
          report({
            status: 'skipped',
            result: { changed: false, skipped: true, skip_reason: 'Conditional result was False', false_condition: describeWhen(chain) },
          }),
        );
      }
      const o = await runOnce(env, task, host, chain, scope);
      return finish(
        env,
        task,
        host,
        report({
          status: o.status,
          result: o.result,
          diffs: o.diffs,
          ignored:
            (o.status === 'failed' && isIgnored(chain, scope, task, 'ignore_errors')) ||
            (o.status === 'unreachable' && isIgnored(chain, scope, task, 'ignore_unreachable')),
        }),
      );
    }
    let items: unknown[];
    try {
      items = loopItems(task, scope);
    } catch (e) {
      // An undefined loop is an error only if the task would run: Ansible checks `when` first
      // (without an item), and a false one skips the task.
      if (!(e instanceof UserError && e.code === 'E_UNDEFINED') || whenWithoutItem(chain, scope, task) !== false) throw e;
      return finish(
        env,
        task,
        host,
        report({
          status: 'skipped',
          result: { changed: false, skipped: true, skip_reason: 'Conditional result was False', false_condition: describeWhen(chain) },
        }),
      );
    }
    if (items.length === 0) {
      return finish(
        env,
        task,
        host,
        report({ status: 'skipped', result: { changed: false, skipped: true, skipped_reason: 'No items in the list', results: [] } }),
      );
    }
    const results: Record<string, unknown>[] = [];
    let anyChanged = false;
    let anyFailed = false;
    let allSkipped = true;
    let anyUnreachable = false;
    const lc = task.loop_control;
    warnLoopVar(env, task, scope);
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      // set_fact in a loop sees what its earlier items set (`x: "{{ x | default([]) + [item] }}"`)
      const base = i > 0 && (task.action === 'set_fact' || task.action.endsWith('.set_fact')) ? buildScope(env, host, chain) : scope;
      const itemScope: Record<string, unknown> = { ...base, [lc.loop_var]: item, ansible_loop_var: lc.loop_var };
      if (lc.index_var) itemScope[lc.index_var] = i;
      if (lc.extended) {
        itemScope.ansible_loop = extendedLoop(items, i);
      }
      const label = lc.label !== undefined ? template(lc.label, itemScope, task.location) : item;
      let o: Outcome;
      if (!evalWhen(chain, itemScope, task)) {
        o = {
          status: 'skipped',
          result: { changed: false, skipped: true, skip_reason: 'Conditional result was False', false_condition: describeWhen(chain) },
          diffs: [],
        };
      } else {
        o = await runOnce(env, task, host, chain, itemScope);
      }
      const r: Record<string, unknown> = {
        ...o.result,
        [lc.loop_var]: item,
        ansible_loop_var: lc.loop_var,
        ...(lc.index_var ? { [lc.index_var]: i } : {}),
      };
      // each item that ran and did not fail says failed: false (the loop's own result does not)
      if ((o.status === 'ok' || o.status === 'changed') && !('failed' in r)) r.failed = false;
      results.push(r);
      anyChanged ||= o.status === 'changed';
      anyFailed ||= o.status === 'failed';
      anyUnreachable ||= o.status === 'unreachable';
      if (o.status !== 'skipped') allSkipped = false;
      report({
        status: o.status,
        result: r,
        item: label,
        diffs: o.diffs,
        ignored:
          (o.status === 'failed' && isIgnored(chain, scope, task, 'ignore_errors')) ||
          (o.status === 'unreachable' && isIgnored(chain, scope, task, 'ignore_unreachable')),
      });
      if (o.status === 'unreachable') break;
      if (lc.pause) await new Promise((res) => setTimeout(res, lc.pause! * 1000));
    }
    const status: HostTaskResult['status'] = anyUnreachable
      ? 'unreachable'
      : anyFailed
        ? 'failed'
        : anyChanged
          ? 'changed'
          : allSkipped
            ? 'skipped'
            : 'ok';
    const result: Record<string, unknown> = {
      changed: anyChanged,
      results,
      msg: anyFailed ? 'One or more items failed' : allSkipped ? 'All items skipped' : 'All items completed',
    };
    if (anyFailed) result.failed = true;
    if (allSkipped) result.skipped = true;
    // A loop's overall line is not printed (Ansible prints only the items), except when every item
    // was skipped: ansible-playbook then also prints the task's own `skipping: [host]` line
    const overall: HostTaskResult = {
      host: host.name,
      status,
      result,
      ignored: anyFailed && isIgnored(chain, scope, task, 'ignore_errors'),
    };
    // and when no_log hides the items: the censored loop result has no `results` to go through,
    // so Ansible's callback prints it as a line of its own
    if (allSkipped || noLog) return finish(env, task, host, report(overall, allSkipped));
    // Ansible prints `...ignoring` once, after the items, for an ignored failed loop
    if (overall.ignored) report({ ...overall, ignoringOnly: true });
    return finish(env, task, host, overall);
  } catch (e) {
    if (e instanceof UserError) {
      // a templating, loop or condition error fails the task where Ansible records it, and
      // ignore_errors applies to it as to any failure
      let ignored: boolean;
      try {
        ignored = isIgnored(chain, scope, task, 'ignore_errors');
      } catch {
        ignored = false;
      }
      return finish(
        env,
        task,
        host,
        report({
          status: 'failed',
          // a filter's own error (mandatory) is the message alone, as Ansible shows it
          result: e.alone ? { failed: true, msg: e.message } : { failed: true, changed: false, msg: taskErrorMessage(e, task) },
          ignored,
        }),
      );
    }
    throw e;
  }
}

// no_log: a value that cannot be read as a boolean hides the output too (the safe side).
function isNoLog(chain: Chain, scope: Record<string, unknown>, task: TaskNode): boolean {
  try {
    return boolKeyword(lastDefined(chain, 'no_log'), scope, task) ?? false;
  } catch {
    return true;
  }
}

function taskErrorMessage(e: UserError, task: TaskNode): string {
  const where = formatLocation(e.location ?? task.location);
  const hint = e.hint ? ` (${e.hint})` : '';
  return `${e.message}${hint}. The error appears to be in '${where}'`;
}

function isIgnored(chain: Chain, scope: Record<string, unknown>, task: TaskNode, key: 'ignore_errors' | 'ignore_unreachable'): boolean {
  return boolKeyword(lastDefined(chain, key), scope, task) ?? false;
}

function describeWhen(chain: Chain): string {
  return chain
    .flatMap((k) => k.when)
    .map(String)
    .join(' and ');
}

// `when` of a loop whose items cannot be known; undefined when it cannot be decided either.
function whenWithoutItem(chain: Chain, scope: Record<string, unknown>, task: TaskNode): boolean | undefined {
  try {
    return evalWhen(chain, scope, task);
  } catch {
    return undefined;
  }
}

function evalWhen(chain: Chain, scope: Record<string, unknown>, task: TaskNode): boolean {
  for (const k of chain) {
    for (const cond of k.when) {
      if (!evalCondition(cond, scope, task.location)) return false;
    }
  }
  return true;
}

/** register and notify, after the task's result on the host is known. */
function finish(env: PlayEnv, task: TaskNode, host: HostState, r: HostTaskResult): HostTaskResult {
  // as Ansible's task executor: a result that ran and says nothing of failing has failed: false
  // (a loop's overall result has none: Ansible sets it only on the items' way to failing)
  if ((r.status === 'ok' || r.status === 'changed') && !('failed' in r.result) && task.loop === undefined) r.result.failed = false;
  // Registered output is data: a `{{` in a command's stdout must never be rendered as a template.
  if (task.register && r.status !== 'unreachable') host.vars[task.register] = markUnsafe(r.result);
  if (r.status === 'changed' || (r.status !== 'failed' && r.result.changed === true)) {
    for (const n of task.notify) host.notified.add(n);
  }
  return r;
}

/** One module run with this scope (one loop item, or the task without a loop). */
async function runOnce(env: PlayEnv, task: TaskNode, host: HostState, chain: Chain, scope: Record<string, unknown>): Promise<Outcome> {
  const retries = task.until !== undefined ? Number(template(task.retries ?? 3, scope, task.location)) : 0;
  const delay = Number(template(task.delay ?? 5, scope, task.location));
  let attempt = 0;
  for (;;) {
    attempt++;
    const o = await runModule(env, task, host, chain, scope);
    if (task.until === undefined || o.status === 'unreachable') return o;
    const untilScope = task.register ? { ...scope, [task.register]: o.result } : { ...scope, ...o.result };
    let done = false;
    try {
      done = evalCondition(task.until, untilScope, task.location);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
    }
    o.result.attempts = attempt;
    if (done) {
      if (o.status === 'failed' && o.result.failed !== true) o.status = o.result.changed ? 'changed' : 'ok';
      return o;
    }
    // ansible-core 2.14: `retries: 0` (or less) is one attempt whose result stands as it is; after
    // the last of retries + 1 attempts the task fails and `attempts` says retries (2.14's count)
    if (retries <= 0) return o;
    if (attempt > retries) {
      o.status = 'failed';
      o.result.failed = true;
      o.result.attempts = retries;
      o.result.msg ??= 'Retries exceeded';
      return o;
    }
    env.reporter.hostResult({
      host: host.name,
      status: 'failed',
      result: o.result,
      retriesLeft: retries - attempt + 1,
      noLog: isNoLog(chain, scope, task),
    });
    await new Promise((res) => setTimeout(res, delay * 1000));
  }
}

async function runModule(env: PlayEnv, task: TaskNode, host: HostState, chain: Chain, scope: Record<string, unknown>): Promise<Outcome> {
  const entry = env.registry.get(task.action);
  // a module for other systems (dnf, ...) loaded; run here, it fails the host
  if (!entry && ansibleOnlyModule(task.action))
    return { status: 'failed', result: { failed: true, changed: false, msg: ansibleOnlyMessage(task.action) }, diffs: [] };
  if (!entry) throw new UserError('E_UNKNOWN_MODULE', `couldn't resolve module/action '${task.action}'`, { location: task.location });
  const def = entry.def;
  const defaults = taskModuleDefaults(chain, def.name, scope, task);
  // defaults come templated; the task's own arguments win over them
  const rendered = removeOmitted({ ...defaults, ...(template(prepareArgs(def, task.args), scope, task.location) as object) }) as Record<
    string,
    unknown
  >;
  const checked = checkArgs(def, rendered);
  if (!checked.ok) {
    const e = new UserError('E_MODULE_ARGS', checked.message, {
      location: task.location,
      hint: `\`tsplay doc ${def.name}\` lists the arguments and their types`,
    });
    return { status: 'failed', result: { failed: true, changed: false, msg: taskErrorMessage(e, task) }, diffs: [] };
  }
  const args = checked.args;
  const check = boolKeyword(lastDefined(chain, 'check_mode'), scope, task) ?? env.settings.check;
  const diffMode = boolKeyword(lastDefined(chain, 'diff'), scope, task) ?? env.settings.diff;

  const delegate = lastDefined(chain, 'delegate_to');
  const target = delegate !== undefined ? String(template(delegate, scope, task.location)) : host.name;
  // async: the apply may take this many seconds; poll: 0 runs it in the background
  const asyncSecs = task.async !== undefined ? Number(template(task.async, scope, task.location)) : undefined;
  const poll = asyncSecs !== undefined ? Number(template(task.poll ?? 15, scope, task.location)) : undefined;
  const ctx = moduleContext(env, task, host, chain, scope, target, asyncSecs !== undefined && asyncSecs > 0 ? asyncSecs * 1000 : undefined);

  let result: Record<string, unknown>;
  let status: Outcome['status'];
  let diffs: FileDiff[];
  try {
    // gather, plan, apply; again when the apply found the file changed since gather read it
    for (let attempt = 1; ; attempt++) {
      const current = await callModule(entry, () => def.gather(ctx, args));
      const plan = (await callModule(entry, async () => def.plan(current, args, check ? host.predicted : EMPTY_PREDICTED))) as Plan;
      result = { ...(plan.result ?? {}) };
      if (plan.failed) {
        return applyConditions(env, task, scope, {
          status: 'failed',
          result: { changed: false, ...result, failed: true, msg: plan.failed },
          diffs: [],
        });
      }
      diffs = plan.changes.flatMap((c) => (c.diff ? [c.diff] : []));
      if (plan.changes.length === 0) {
        const controllerChange = result.changed === true;
        status = result.skipped === true ? 'skipped' : controllerChange ? 'changed' : 'ok';
        result.changed = controllerChange;
        if (plan.reason && env.settings.verbosity >= 2) ctx.log(2, plan.reason);
      } else if (check) {
        if (plan.outcomeUnknown) {
          status = 'skipped';
          // the module itself skipped (Ansible's command in check mode): a module result, so failed: false
          result = { ...result, changed: false, failed: false, skipped: true, msg: plan.outcomeUnknown };
        } else {
          status = plan.unreported ? 'ok' : 'changed';
          result.changed = !plan.unreported;
          for (const [k, v] of Object.entries(plan.publishes ?? {})) host.predicted.set(k, v);
        }
      } else {
        const doApply = async () =>
          (await callModule(entry, async () =>
            def.apply ? def.apply(ctx, plan.changes, args, current) : runChanges(ctx, plan.changes),
          )) ?? {};
        const guard = networkGuard(def, args, chain, scope, task);
        const jid = asyncSecs !== undefined ? `j${String(Math.random()).slice(2, 14)}.${process.pid}` : undefined;
        const jobKeys = jid ? { ansible_job_id: jid, results_file: `~/.ansible_async/${jid}`, started: 1 } : {};
        if (jid && poll === 0) {
          // fire and forget: the apply goes on while the play does; async_status reports on it
          const job: AsyncJob = { jid, result: { ...result }, finished: false, started: new Date(), done: Promise.resolve() };
          job.done = (guard ? guardedApply(guardIo(env, ctx, target), guard, doApply) : doApply())
            .then(
              (o) => {
                Object.assign(job.result, o.result ?? {});
                job.failed = o.failed;
              },
              (e: unknown) => {
                job.failed = e instanceof Error ? e.message : String(e);
              },
            )
            .finally(() => {
              job.finished = true;
              job.ended = new Date();
            });
          host.jobs.set(jid, job);
          return applyConditions(env, task, scope, { status: 'changed', result: { ...jobKeys, changed: true, finished: 0 }, diffs: [] });
        }
        const started = Date.now();
        // async with poll: an ASYNC POLL line at each poll the job is still running at, and
        // ASYNC OK / FAILED at its end, as Ansible prints them. Ansible's check at a poll is an
        // async_status run that takes a moment: a job that ends within GRACE_MS of a poll is
        // not reported as still running, as there.
        let running = true;
        let polls = 0;
        const pollLine = () => {
          polls++;
          env.reporter.display(`ASYNC POLL on ${host.name}: jid=${jid} started=1 finished=0`);
        };
        const polling =
          jid && poll! > 0
            ? setInterval(
                () =>
                  setTimeout(() => {
                    if (running) pollLine();
                  }, ASYNC_POLL_GRACE_MS),
                poll! * 1000,
              )
            : undefined;
        let outcome: Awaited<ReturnType<typeof doApply>>;
        try {
          outcome = guard ? await guardedApply(guardIo(env, ctx, target), guard, doApply) : await doApply();
        } finally {
          running = false;
          clearInterval(polling);
        }
        if (jid) {
          // out of time: Ansible has polled at each interval of the time limit, all unfinished
          if (outcome.failed && poll! > 0 && Date.now() - started >= asyncSecs! * 1000 - 100)
            while (polls < Math.floor(asyncSecs! / poll!)) pollLine();
          env.reporter.display(`ASYNC ${outcome.failed ? 'FAILED' : 'OK'} on ${host.name}: jid=${jid}`);
        }
        if (jid) {
          if (outcome.failed && Date.now() - started >= asyncSecs! * 1000 - 100) {
            const msg = `async task did not complete within the requested time - ${asyncSecs}s`;
            return applyConditions(env, task, scope, {
              status: 'failed',
              result: { async_result: { ...jobKeys, finished: 0 }, changed: false, failed: true, msg },
              diffs: [],
            });
          }
          Object.assign(result, jobKeys, { finished: 1 });
        }
        if (outcome.stale) {
          // another run changed the file since gather read it: plan again from what is there now
          if (attempt < STALE_ATTEMPTS) {
            // two runs that edit the same file in step would collide again: wait a random while
            await new Promise((r) => setTimeout(r, Math.random() * 100 * attempt));
            continue;
          }
          return applyConditions(env, task, scope, {
            status: 'failed',
            result: {
              changed: false,
              ...result,
              failed: true,
              msg: `${outcome.failed ?? 'the file changed on the host since it was read'}, ${STALE_ATTEMPTS} times in a row (another run keeps editing it?): nothing was written`,
            },
            diffs: [],
          });
        }
        Object.assign(result, outcome.result ?? {});
        if ('unreachable' in outcome && outcome.unreachable) {
          return { status: 'unreachable', result: { unreachable: true, changed: false, msg: outcome.failed }, diffs: [] };
        }
        if (outcome.failed) {
          return applyConditions(env, task, scope, {
            status: 'failed',
            result: { changed: false, ...result, failed: true, msg: outcome.failed },
            diffs: [],
          });
        }
        status = plan.unreported ? 'ok' : 'changed';
        result.changed = !plan.unreported;
        if (env.settings.verifyIdempotence && def.idempotent !== false && !plan.alwaysChanges) {
          const again = await callModule(entry, () => def.gather(ctx, args));
          const replan = (await callModule(entry, async () => def.plan(again, args))) as Plan;
          if (replan.changes.length > 0 || replan.failed) {
            return {
              status: 'failed',
              result: {
                ...result,
                failed: true,
                msg: `module ${def.name} is not idempotent: after apply it still plans: ${replan.failed ?? replan.changes.map((c: Change) => c.summary).join('; ')} (this is a bug in the module)`,
              },
              diffs,
            };
          }
        }
      }
      break;
    }
  } catch (e) {
    if (e instanceof UnreachableError) {
      return { status: 'unreachable', result: { unreachable: true, changed: false, msg: e.message }, diffs: [] };
    }
    if (e instanceof UserError) {
      return { status: 'failed', result: { failed: true, changed: false, msg: taskErrorMessage(e, task) }, diffs: [] };
    }
    if (e instanceof ModuleCrash) {
      return {
        status: 'failed',
        result: { failed: true, changed: false, msg: e.message, exception: (e.cause as Error)?.stack ?? String(e.cause) },
        diffs: [],
      };
    }
    throw e;
  }
  const short = task.action.replace(/^ansible\.(builtin|legacy)\./, '');
  // delegate_facts: the facts are the delegated host's, as Ansible's strategy sets them
  let factHost = host;
  if (delegate !== undefined && target !== host.name && boolKeyword(lastDefined(chain, 'delegate_facts'), scope, task)) {
    factHost = env.hosts.get(target) ?? new HostState(target);
    env.hosts.set(target, factHost);
  }
  if (short === 'set_fact' || short === 'include_vars') {
    Object.assign(factHost.vars, result.ansible_facts as Record<string, unknown>);
  } else if (result.ansible_facts && typeof result.ansible_facts === 'object') {
    mergeFacts(factHost, result.ansible_facts as Record<string, unknown>, short === 'setup' || short === 'gather_facts');
  }
  // the inventory changes a result asks for (group_by, add_host), as Ansible's strategy applies them
  if (typeof result.add_group === 'string') {
    env.inventory.addMembership(host.name, result.add_group, { parents: (result.parent_groups as string[] | undefined) ?? ['all'] });
  }
  const add = result.add_host as { host_name?: string; groups?: string[]; host_vars?: Record<string, unknown> } | undefined;
  if (add && typeof add.host_name === 'string') {
    const groups = add.groups?.length ? add.groups : ['ungrouped'];
    for (const g of groups) env.inventory.addMembership(add.host_name, g, { vars: add.host_vars });
  }
  if (diffMode && diffs.length) result.diff = diffs.length === 1 ? diffs[0] : diffs;
  return applyConditions(env, task, scope, { status, result, diffs: diffMode ? diffs : [] });
}

// module_defaults of the play, blocks and task for this module. As Ansible does, the merged
// defaults of every module are templated with the task's variables (an undefined variable in
// any of them fails the task).
function taskModuleDefaults(chain: Chain, module: string, scope: Record<string, unknown>, task: TaskNode): Record<string, unknown> {
  const all = chain.flatMap((k) => k.module_defaults ?? []);
  if (all.length === 0) return {};
  let rendered: Record<string, unknown>;
  try {
    rendered = template(Object.assign({}, ...all), scope, task.location) as Record<string, unknown>;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    const what = / is undefined/.test(e.message) ? ', which includes an undefined variable' : '';
    throw new UserError(e.code, `The field 'module_defaults' has an invalid value${what}. The error was: ${e.message}`, {
      location: e.location ?? task.location,
      hint: e.hint,
    });
  }
  const v = rendered[module];
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw new UserError('E_PLAYBOOK', `module_defaults: the entry of ${module} must be a mapping of arguments, not ${JSON.stringify(v)}`, {
      location: task.location,
    });
  return v as Record<string, unknown>;
}

const EMPTY_PREDICTED: ReadonlyMap<string, unknown> = new Map();

/** How long after a poll an async job must still run to be printed as ASYNC POLL. */
const ASYNC_POLL_GRACE_MS = 250;

/** How many times a task plans again when another run keeps changing the file it edits. */
const STALE_ATTEMPTS = 10;

// A module's exception fails the task on that host, as in Ansible, and the run goes on: a custom
// module's shows its own stack; a built-in's is a tsplay bug, and says so.
async function callModule<T>(entry: RegisteredModule, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof UnreachableError || e instanceof UserError) throw e;
    throw new ModuleCrash(entry.def.name, entry.file, e, entry.builtin);
  }
}

/** changed_when / failed_when, evaluated with the result available under the register name. */
function applyConditions(env: PlayEnv, task: TaskNode, scope: Record<string, unknown>, o: Outcome): Outcome {
  if (task.changed_when === undefined && task.failed_when === undefined) return o;
  if (o.status === 'skipped' || o.status === 'unreachable') return o;
  const s = { ...scope, ...o.result, ...(task.register ? { [task.register]: o.result } : {}) };
  if (task.changed_when !== undefined) {
    const changed = evalCondition(task.changed_when, s, task.location);
    o.result.changed = changed;
    if (o.status !== 'failed') o.status = changed ? 'changed' : 'ok';
  }
  if (task.failed_when !== undefined) {
    const failed = evalCondition(task.failed_when, s, task.location);
    o.result.failed_when_result = failed;
    o.result.failed = failed;
    o.status = failed ? 'failed' : o.result.changed ? 'changed' : 'ok';
  }
  return o;
}

function moduleContext(
  env: PlayEnv,
  task: TaskNode,
  host: HostState,
  chain: Chain,
  scope: Record<string, unknown>,
  target: string,
  asyncMs?: number,
): ModuleContext & { connection(): Promise<Connection> } {
  const targetVars = target === host.name ? scope : { ...env.inventory.hostVars(target, env.play.dir), inventory_hostname: target };
  const connVars = (): Record<string, unknown> => {
    const v: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(targetVars)) if (k.startsWith('ansible_')) v[k] = x;
    const implicitLocal = (target === 'localhost' || target === '127.0.0.1') && !env.inventory.hosts.has(target);
    if (implicitLocal) v.ansible_connection = 'local';
    if (env.settings.connection && !implicitLocal) v.ansible_connection = env.settings.connection;
    v.ansible_connection ??= 'ssh';
    const user = lastDefined(chain, 'remote_user') ?? env.settings.remoteUser;
    if (user && v.ansible_user === undefined) v.ansible_user = user;
    return template(v, scope, task.location) as Record<string, unknown>;
  };
  const becomeOn = boolKeyword(lastDefined(chain, 'become') ?? scope.ansible_become ?? env.settings.become, scope, task) ?? false;
  const becomeUser = String(
    template(lastDefined(chain, 'become_user') ?? scope.ansible_become_user ?? env.settings.becomeUser ?? 'root', scope, task.location),
  );
  const becomePassword = (): Secret | undefined => {
    const v = scope.ansible_become_password ?? scope.ansible_become_pass ?? scope.ansible_sudo_pass;
    if (v === undefined || v === null) return env.settings.becomePassword;
    return v instanceof SecretClass ? v : new SecretClass(String(template(v, scope, task.location)));
  };
  const environment: Record<string, string> = {};
  for (const e of chain.flatMap((k) => k.environment)) {
    const rendered = template(e, scope, task.location);
    if (rendered && typeof rendered === 'object') {
      for (const [k, v] of Object.entries(rendered)) environment[k] = String(v);
    }
  }
  const noLog = isNoLog(chain, scope, task);
  const timeout = lastDefined(chain, 'timeout');
  const timeoutMs = asyncMs ?? (timeout !== undefined ? Number(template(timeout, scope, task.location)) * 1000 : undefined);
  const run = async (cmd: ShellCommand, opts: { stdin?: string | Buffer; timeoutMs?: number } = {}) => {
    const conn = await env.pool.get(target, connVars);
    const exec: ExecOptions = {
      stdin: opts.stdin,
      timeoutMs: opts.timeoutMs ?? timeoutMs,
      signal: env.signal,
      maxOutputBytes: env.settings.maxOutputBytes,
    };
    if (Object.keys(environment).length) exec.env = environment;
    if (becomeOn) exec.become = { method: 'sudo', user: becomeUser, password: becomePassword() };
    // a no_log task's commands carry its arguments: Ansible's -vvv shows none of them either
    env.reporter.verbose(3, `<${target}> EXEC ${noLog ? '(command hidden: no_log: true)' : cmd.display}`);
    return conn.exec(cmd, exec);
  };
  return {
    host: host.name,
    vars: scope,
    playbookDir: env.play.dir,
    taskName: task.role ? `${task.role.name} : ${task.name ?? task.action}` : (task.name ?? task.action),
    verbosity: env.settings.verbosity,
    run,
    fact: async (fact, args) => fact.process(await run(fact.command(args)), args),
    findFile: (kind, path) => findFile(task, env.play.dir, kind, path, rolesOf(chain)),
    readVars: (path) => readVarsFile(path),
    asyncJob: (jid) => host.jobs.get(jid),
    renderTemplate: (path, extra, j2) => {
      // a vault-encrypted template is decrypted with the run's vault secrets, as Ansible does
      const text = readVaultFile(path) ?? readFileSync(path, 'utf8');
      const vars = {
        ...scope,
        template_path: path,
        template_fullpath: path,
        template_basename: basename(path),
        template_host: target,
        ...(extra ?? {}),
      };
      return renderTemplateText(text, vars, { file: path, kind: path.endsWith('.ejs') ? 'ejs' : 'j2', j2 });
    },
    evaluate: (expression) => evaluate(expression, scope, task.location),
    log: (level, message) => env.reporter.verbose(level, `<${target}> ${message}`),
    display: (message) => env.reporter.display(message),
    warn: (message) => env.reporter.warning(message),
    reconnect: () => env.pool.reset(target),
    connection: () => env.pool.get(target, connVars),
  };
}

/** The rollback guard's settings when this task's change must be proven not to cut the host off. */
function networkGuard(
  def: AnyModuleDefinition,
  args: Record<string, unknown>,
  chain: Chain,
  scope: Record<string, unknown>,
  task: TaskNode,
): GuardSettings | undefined {
  const asked = boolKeyword(lastDefined(chain, 'safe_network'), scope, task);
  const byModule = typeof def.network === 'function' ? def.network(args) : def.network === true;
  if (!(asked ?? byModule)) return undefined;
  const t = lastDefined(chain, 'rollback_timeout');
  const rollbackTimeout = t === undefined ? 60 : Number(template(t, scope, task.location));
  if (!Number.isFinite(rollbackTimeout) || rollbackTimeout < 5) {
    throw new UserError('E_PLAYBOOK', `rollback_timeout must be a number of seconds, at least 5 (got ${JSON.stringify(t)})`, {
      location: task.location,
    });
  }
  return { rollbackTimeout };
}

function guardIo(env: PlayEnv, ctx: ModuleContext & { connection(): Promise<Connection> }, target: string): GuardIo {
  return {
    run: (cmd, opts) => ctx.run(cmd, opts),
    probeNewConnection: async (ms) => {
      const conn = await ctx.connection();
      if (conn.probeNew) await conn.probeNew(ms);
    },
    reset: () => env.pool.reset(target),
    log: (m) => ctx.log(1, m),
  };
}

/** Ansible's search for a controller file: beside the task file and the playbook, in `kind/` first. */
function findFile(task: TaskNode, playbookDir: string, kind: 'files' | 'templates' | 'vars', path: string, roles: RoleInfo[] = []): string {
  if (isAbsolute(path)) return path;
  // in a role: the role's kind/ and its own directory first, then the roles it is inside
  const roleDirs = [...roles].reverse().map((r) => r.path);
  const dirs = [...roleDirs, task.baseDir, playbookDir].filter((d, i, all) => all.indexOf(d) === i);
  const candidates = dirs.flatMap((d) => [resolve(d, kind, path), resolve(d, path)]);
  for (const c of candidates) if (existsSync(c)) return c;
  throw new UserError('E_FILE_NOT_FOUND', `Could not find or access '${path}'`, {
    location: task.location,
    hint: `searched ${candidates.join(', ')}; put it in ${kind}/ beside the playbook or the task file, or give an absolute path`,
  });
}
