// Plays, batches, strategies, blocks and handlers. The linear strategy walks the task tree once
// for a set of hosts (so each TASK banner is followed by every host's line); free walks it per host.
import { existsSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import { isAbsolute, resolve } from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import { UserError } from '../errors.js';
import { evalCondition, isTemplate, template, toBool } from '../expr/index.js';
import { pyStr } from '../expr/python.js';
import { checkHostPattern } from '../load/patterns.js';
import { secretValues } from '../redact.js';
import type { Inventory } from '../load/inventory.js';
import {
  handlerNames,
  loadRole,
  loadTaskFile,
  type BlockNode,
  type Keywords,
  type LoadedRole,
  type Node,
  type Play,
  type RoleCollector,
  type RoleInfo,
  type TaskNode,
} from '../load/playbook.js';
import { loadVarsFile as readVarsFile } from '../load/vars-files.js';
import type { ConnectionPool } from '../connection/pool.js';
import { HostState } from './host-state.js';
import type { ModuleRegistry } from './registry.js';
import type { HostStats, HostTaskResult, Reporter } from './results.js';
import {
  buildScope,
  extendedLoop,
  lastDefined,
  loopItems,
  rolesOf,
  runTaskOnHost,
  warnLoopVar,
  type Chain,
  type PlayEnv,
  type RunSettings,
} from './task.js';

/** Everything a run needs, loaded and validated before any host is contacted. */
export interface RunRequest {
  plays: Play[];
  inventory: Inventory;
  registry: ModuleRegistry;
  settings: RunSettings;
  reporter: Reporter;
  pool: ConnectionPool;
  /** --limit patterns (intersected with each play's hosts). */
  limit?: string[];
  startAtTask?: string;
  /** Aborted by Ctrl-C: no new task starts. */
  signal?: AbortSignal;
  /** Where include_role looks for roles chosen at run time (the loader's roles path). */
  rolesPath?: string[];
}

/** The outcome of a run. */
export interface RunSummary {
  stats: Map<string, HostStats>;
  anyFailed: boolean;
  anyUnreachable: boolean;
  interrupted: boolean;
}

/** A keyword layer for tasks from include_tasks: the include's vars, per host (loop items differ). */
interface IncludeLayer extends Keywords {
  perHost?: Map<string, Record<string, unknown>>;
}

/** Hosts selected by a play's pattern and --limit, in the play's order. */
export function selectPlayHosts(inventory: Inventory, play: Play, limit?: string[], extraVars: Record<string, unknown> = {}): string[] {
  let hosts: string[] = inventory.select(playPatterns(play, extraVars));
  if (limit && limit.length) {
    const allowed = new Set(inventory.select(limit));
    hosts = hosts.filter((h) => allowed.has(h));
  }
  switch (play.order) {
    case 'reverse_inventory':
      return hosts.reverse();
    case 'sorted':
      return [...hosts].sort();
    case 'reverse_sorted':
      return [...hosts].sort().reverse();
    case 'shuffle':
      return [...hosts].sort(() => Math.random() - 0.5);
    default:
      return hosts;
  }
}

// `hosts: "{{ target }}"` is templated with the play's vars and extra vars, as Ansible does;
// an undefined variable there is an error of the playbook, not of a host.
function playPatterns(play: Play, extraVars: Record<string, unknown>): string[] {
  if (!play.hosts.some(isTemplate)) return play.hosts;
  const loc = play.hostsLocation ?? play.location;
  const v = template(play.hosts, { ...play.vars, ...extraVars, playbook_dir: play.dir }, loc);
  const out = (Array.isArray(v) ? v : [v])
    .flatMap((p) => (Array.isArray(p) ? p.map(String) : String(p).split(',')))
    .map((p) => p.trim())
    .filter(Boolean);
  try {
    checkHostPattern(out);
  } catch (e) {
    throw e instanceof UserError ? e.at(loc) : e;
  }
  return out;
}

/** Does a task with these tags run under --tags / --skip-tags (Ansible's rules, incl. always/never)? */
export function tagsSelected(taskTags: readonly string[], only: readonly string[], skip: readonly string[]): boolean {
  const tags = new Set(taskTags);
  if (skip.length) {
    if (skip.includes('all') && !(tags.has('always') && !skip.includes('always'))) return false;
    if (skip.includes('tagged') && tags.size > 0 && !(tags.has('always') && !skip.includes('always'))) return false;
    if (skip.includes('untagged') && tags.size === 0) return false;
    if ([...tags].some((t) => skip.includes(t))) return false;
  }
  const wanted = only.length ? only : ['all'];
  if (tags.has('always')) return true;
  if (tags.has('never') && !wanted.some((t) => tags.has(t) && t !== 'never') && !wanted.includes('never')) return false;
  if (wanted.includes('all')) return true;
  if (wanted.includes('tagged') && tags.size > 0) return true;
  if (wanted.includes('untagged') && tags.size === 0) return true;
  return [...tags].some((t) => wanted.includes(t));
}

function batches(hosts: string[], serial: unknown[], scope: Record<string, unknown>): string[][] {
  if (serial.length === 0) return [hosts];
  const sizes = serial.map((s) => {
    const v = String(template(s, scope));
    const n = v.endsWith('%') ? Math.max(1, Math.floor((hosts.length * Number(v.slice(0, -1))) / 100)) : Number(v);
    if (!Number.isFinite(n) || n < 0)
      throw new UserError('E_PLAYBOOK', `invalid serial value '${v}'`, { hint: 'use a number, a percentage or a list of them' });
    return n === 0 ? hosts.length : n;
  });
  const out: string[][] = [];
  let i = 0;
  let k = 0;
  while (i < hosts.length) {
    const size = sizes[Math.min(k, sizes.length - 1)]!;
    out.push(hosts.slice(i, i + size));
    i += size;
    k++;
  }
  return out;
}

const PASSWORD_VARS = [
  'ansible_password',
  'ansible_ssh_pass',
  'ansible_ssh_password',
  'ansible_become_password',
  'ansible_become_pass',
  'ansible_sudo_pass',
  'ansible_sudo_password',
];

// Read everything a run will need that can be read now (each play's hosts, their group_vars and
// host_vars, the vars_files whose names hold no variable), so that a bad file stops the run
// before the first play starts and no host is contacted.
function preflight(req: RunRequest): void {
  for (const play of req.plays) {
    for (const h of selectPlayHosts(req.inventory, play, req.limit, req.settings.extraVars)) {
      const vars = req.inventory.hostVars(h, play.dir);
      // passwords written in the inventory are secrets from the start, not only once used
      for (const k of PASSWORD_VARS) {
        const v = vars[k];
        if (typeof v === 'string' && !isTemplate(v)) secretValues.add(v);
      }
    }
    const scope = { ...play.vars, ...req.settings.extraVars, playbook_dir: play.dir };
    for (const vf of play.vars_files) {
      if (!(Array.isArray(vf) ? vf : [vf]).some(isTemplate)) loadVarsFile(vf, scope, play);
    }
  }
}

/** Runs plays in order and returns the recap. */
export async function runPlays(req: RunRequest): Promise<RunSummary> {
  preflight(req);
  const states = new Map<string, HostState>();
  const state = (h: string): HostState => {
    let s = states.get(h);
    if (!s) {
      s = new HostState(h);
      states.set(h, s);
    }
    return s;
  };
  let started = !req.startAtTask;
  let interrupted = false;
  let aborted = false;
  // every running command listens for Ctrl-C on the one signal: one per host at once is no leak
  if (req.signal) setMaxListeners(0, req.signal);

  try {
    for (const play of req.plays) {
      if (aborted || req.signal?.aborted) break;
      const selected = selectPlayHosts(req.inventory, play, req.limit, req.settings.extraVars);
      // a host's state (and recap line) starts with its batch: a batch that never ran shows none, as in Ansible
      for (const h of selected) if (states.has(h)) states.get(h)!.ended = false;
      const hosts = selected.filter((h) => !states.get(h)?.failed && !states.get(h)?.unreachable);
      const check = req.settings.check;
      req.reporter.playStart({ name: play.name ?? play.hosts.join(','), hosts, check });
      if (hosts.length === 0) {
        req.reporter.noHostsMatched();
        continue;
      }
      const baseScope = { ...req.settings.extraVars, playbook_dir: play.dir };
      const playVars: Record<string, unknown> = { ...play.vars };
      for (const vf of play.vars_files) {
        Object.assign(playVars, loadVarsFile(vf, { ...playVars, ...baseScope }, play));
      }
      let playBatches: string[][];
      try {
        playBatches = batches(hosts, play.serial, { ...playVars, ...baseScope });
      } catch (e) {
        throw e instanceof UserError ? e.at(play.serialLocation ?? play.location) : e;
      }
      for (const [i, batch] of playBatches.entries()) {
        // as ansible-playbook: each serial batch starts with the play's banner
        if (i > 0) req.reporter.playStart({ name: play.name ?? play.hosts.join(','), hosts: batch, check });
        const env: PlayEnv = {
          registry: req.registry,
          pool: req.pool,
          reporter: req.reporter,
          inventory: req.inventory,
          settings: req.settings,
          play,
          playVars,
          hosts: states,
          playHostsAll: hosts,
          batch,
          signal: req.signal,
          roles: [...play.roles],
          handlers: [...play.handlers],
        };
        const hostsLimit = pLimit(Math.max(1, req.settings.forks));
        const run = new PlayRun(
          env,
          req,
          hostsLimit,
          () => started,
          () => (started = true),
        );
        const batchStates = batch.map((h) => state(h));
        const playChain: Chain = [play];
        if (gatherFacts(play, batchStates[0]!, env)) await run.gatherFacts(batchStates);
        for (const section of [play.pre_tasks, play.tasks, play.post_tasks]) {
          if (run.stop) break;
          await run.nodes(section, batchStates, playChain);
          if (req.signal?.aborted) break;
          await run.flushHandlers(batchStates);
        }
        if (req.signal?.aborted) {
          interrupted = true;
          break;
        }
        // as Ansible: when every host of a batch failed or could not be reached, the playbook ends
        if (run.abortPlaybook || batchStates.every((h) => h.failed || h.unreachable)) {
          aborted = true;
          break;
        }
      }
      if (req.signal?.aborted) {
        interrupted = true;
        break;
      }
    }
  } finally {
    for (const [host, u] of await req.pool.usage())
      req.reporter.verbose(4, `<${host}> SSH: ${u.commands} commands, ${u.channels} channels opened`);
    await req.pool.closeAll();
  }
  const stats = new Map<string, HostStats>();
  // as Ansible's recap: a host that no task counted anything for has no line
  for (const [h, s] of states) if (Object.values(s.stats).some((n) => n > 0)) stats.set(h, s.stats);
  req.reporter.recap(stats);
  return {
    stats,
    // meta: clear_host_errors takes a host's earlier errors out of the exit code, as in Ansible
    anyFailed: [...states.values()].some((s) => s.stats.failed > s.clearedFailures),
    anyUnreachable: [...states.values()].some((s) => s.stats.unreachable > s.clearedUnreachable),
    interrupted,
  };
}

function gatherFacts(play: Play, first: HostState, env: PlayEnv): boolean {
  const v = template(play.gather_facts, buildScope(env, first, [play]));
  return typeof v === 'string' ? ['yes', 'true', 'on', '1'].includes(v.toLowerCase()) : Boolean(v);
}

function loadVarsFile(entry: string | string[], scope: Record<string, unknown>, play: Play): Record<string, unknown> {
  // A list means: the first of these files that exists (Ansible's vars_files fallback).
  const candidates = (Array.isArray(entry) ? entry : [entry]).map((p) => String(template(p, scope, play.location)));
  for (const c of candidates) {
    const path = isAbsolute(c) ? c : resolve(play.dir, c);
    try {
      return readVarsFile(path);
    } catch (e) {
      if (e instanceof UserError && e.code === 'E_FILE_NOT_FOUND' && candidates.length > 1) continue;
      throw e instanceof UserError ? e.at(play.location) : e;
    }
  }
  throw new UserError('E_FILE_NOT_FOUND', `none of the vars_files could be found: ${candidates.join(', ')}`, {
    location: play.location,
    hint: 'paths are relative to the playbook',
  });
}

class PlayRun {
  stop = false;
  abortPlaybook = false;
  readonly #perTask = pLimit(64);
  /** Hosts whose failure a rescue section will handle: not failed for any_errors_fatal and max_fail_percentage, as in Ansible. */
  readonly #toRescue = new Set<string>();
  constructor(
    readonly env: PlayEnv,
    readonly req: RunRequest,
    readonly hostsLimit: LimitFunction,
    readonly isStarted: () => boolean,
    readonly markStarted: () => void,
  ) {}

  #strategy?: 'linear' | 'free';
  /** Running handlers: tasks of a handler's include_tasks show RUNNING HANDLER banners too. */
  #inHandler = false;

  // a templated strategy (strategy: "{{ s | default('linear') }}") is decided once, with the play's variables
  get #free(): boolean {
    if (this.#strategy === undefined) {
      const raw = this.env.play.strategy as string;
      const v = /{{|{%/.test(raw)
        ? String(template(raw, { ...this.env.playVars, ...this.env.settings.extraVars }, this.env.play.location)).trim()
        : raw;
      if (v !== 'linear' && v !== 'free')
        throw new UserError('E_PLAYBOOK', `unknown strategy '${v}'`, { location: this.env.play.location, hint: 'use linear or free' });
      this.#strategy = v;
    }
    return this.#strategy === 'free';
  }

  async gatherFacts(hosts: HostState[]): Promise<void> {
    const task: TaskNode = {
      kind: 'task',
      name: 'Gathering Facts',
      action: 'setup',
      args: {},
      when: [],
      tags: ['always'],
      vars: {},
      environment: [],
      notify: [],
      listen: [],
      loop_control: { loop_var: 'item' },
      location: this.env.play.location,
      baseDir: this.env.play.dir,
    };
    await this.task(task, hosts, [this.env.play], { force: true });
  }

  /** Run a list of nodes on hosts; free strategy fans out per host here. */
  async nodes(nodes: Node[], hosts: HostState[], chain: Chain, rescuable = false): Promise<void> {
    if (this.#free && hosts.length > 1) {
      await settleAll(hosts.map((h) => this.hostsLimit(() => this.#walk(nodes, [h], chain, rescuable))));
      return;
    }
    await this.#walk(nodes, hosts, chain, rescuable);
  }

  async #walk(nodes: Node[], hosts: HostState[], chain: Chain, rescuable: boolean): Promise<void> {
    for (const node of nodes) {
      if (this.stop || this.req.signal?.aborted) return;
      const active = hosts.filter((h) => h.active);
      if (active.length === 0) {
        if (!rescuable) this.#noMoreHosts();
        return;
      }
      if (node.kind === 'block') await this.block(node, active, chain, rescuable);
      else await this.task(node, active, [...chain, node], { rescuable });
    }
  }

  #noMoreHostsShown = false;

  // Ansible 2.14 prints this banner when a play is cut short (any_errors_fatal, a failed run_once
  // task, max_fail_percentage: see #afterTask) and, in the free strategy, when every host is
  // unreachable; not when every host of a linear batch has merely failed.
  #noMoreHosts(): void {
    const batch = this.env.batch.map((n) => this.env.hosts.get(n)!);
    if (this.#noMoreHostsShown || !this.#free || !batch.every((h) => h.unreachable)) return;
    this.#noMoreHostsShown = true;
    this.env.reporter.warning('NO MORE HOSTS LEFT');
  }

  async block(block: BlockNode, hosts: HostState[], chain: Chain, rescuable: boolean): Promise<void> {
    const inner = [...chain, block];
    await this.#walk(block.block, hosts, inner, rescuable || block.rescue.length > 0);
    const failed = hosts.filter((h) => h.failed && !h.unreachable);
    if (block.rescue.length && failed.length) {
      for (const h of failed) {
        h.failed = false;
        this.#toRescue.delete(h.name);
        // as Ansible: a host is counted rescued when it enters the rescue, whether the rescue succeeds or not
        h.stats.rescued++;
        // as Ansible: set for the rescue, and left set afterwards
        if (h.lastFailure) {
          h.vars.ansible_failed_task = h.lastFailure.task;
          h.vars.ansible_failed_result = h.lastFailure.result;
        }
      }
      await this.#walk(block.rescue, failed, inner, rescuable);
    }
    if (block.always.length) {
      const always = hosts.filter((h) => !h.unreachable && !h.ended);
      const wereFailed = always.filter((h) => h.failed);
      for (const h of wereFailed) h.failed = false;
      await this.#walk(block.always, always, inner, rescuable);
      for (const h of wereFailed) h.failed = true;
    }
  }

  async task(
    task: TaskNode,
    hosts: HostState[],
    chain: Chain,
    opts: { rescuable?: boolean; handler?: boolean; force?: boolean } = {},
  ): Promise<void> {
    const short = task.action.replace(/^ansible\.(builtin|legacy)\./, '');
    if (!opts.force && !opts.handler) {
      if (!this.isStarted()) {
        const name = task.name ?? '';
        if (name !== this.req.startAtTask && !globMatch(this.req.startAtTask!, name)) return;
        this.markStarted();
      }
      const tags = chain.flatMap((k) => k.tags);
      if (!tagsSelected(tags, this.env.settings.tags, this.env.settings.skipTags) && short !== 'meta') return;
    }
    if (short === 'meta') return this.meta(task, hosts, chain);
    if (short === 'include_tasks' || short === 'include_role') return this.include(task, hosts, chain, opts.rescuable ?? false);

    const runOnce =
      this.env.registry.get(task.action)?.def.runsOnce === true ||
      (task.run_once !== undefined || lastDefined(chain, 'run_once') !== undefined
        ? Boolean(template(lastDefined(chain, 'run_once'), buildScope(this.env, hosts[0]!, chain)))
        : false);
    const targets = runOnce ? hosts.slice(0, 1) : hosts;
    this.env.reporter.taskStart({
      name: shownTaskName(this.env, task, targets[0], chain),
      action: task.action,
      handler: opts.handler ?? this.#inHandler,
      location: task.location,
      hosts: targets.map((h) => h.name),
    });
    const limit = this.#free ? this.#perTask : this.hostsLimit;
    const results = await settleAll(targets.map((h) => limit(() => runTaskOnHost(this.env, task, h, chain))));
    if (runOnce && results[0]) {
      // run_once: the one result stands for every host (register, notify).
      for (const h of hosts.slice(1)) {
        if (task.register) h.vars[task.register] = results[0].result;
        if (results[0].status === 'changed') for (const n of task.notify) h.notified.add(n);
      }
    }
    for (const r of results) {
      this.#count(r, opts.rescuable ?? false, chain);
      // what a rescue section sees as ansible_failed_task / ansible_failed_result
      if (r.status === 'failed' && !r.ignored)
        this.env.hosts.get(r.host)!.lastFailure = {
          task: { name: task.name ?? '', action: task.action, args: task.args },
          result: r.result,
        };
    }
    if (runOnce && results[0]?.status === 'failed' && !results[0].ignored) {
      for (const h of hosts) {
        h.failed = true;
        if (opts.rescuable) this.#toRescue.add(h.name);
      }
      // a failed run_once task is fatal, as any_errors_fatal is, in Ansible's linear strategy
      if (!opts.rescuable) {
        this.stop = true;
        this.abortPlaybook = true;
        this.#noMoreHostsShown = true;
        this.env.reporter.warning('NO MORE HOSTS LEFT');
      }
    }
    this.#afterTask(hosts, chain, results);
  }

  #count(r: HostTaskResult, rescuable: boolean, chain: Chain): void {
    const h = this.env.hosts.get(r.host)!;
    const s = h.stats;
    switch (r.status) {
      case 'ok':
        s.ok++;
        break;
      case 'changed':
        s.ok++;
        s.changed++;
        break;
      case 'skipped':
        s.skipped++;
        break;
      case 'failed':
        // as Ansible counts an ignored failure: ok and ignored, and changed when its result says so
        if (r.ignored) {
          s.ok++;
          s.ignored++;
          if (r.result.changed === true) s.changed++;
        } else {
          if (!rescuable) s.failed++;
          else this.#toRescue.add(r.host);
          h.failed = true;
        }
        break;
      case 'unreachable': {
        const scope = buildScope(this.env, h, chain);
        const ignore = lastDefined(chain, 'ignore_unreachable');
        if (ignore !== undefined && Boolean(template(ignore, scope))) {
          // as Ansible counts an ignored unreachable result: ok and ignored
          s.ok++;
          s.ignored++;
        } else {
          s.unreachable++;
          h.unreachable = true;
        }
        break;
      }
    }
  }

  #afterTask(hosts: HostState[], chain: Chain, results: HostTaskResult[]): void {
    const failedNow = results.filter(
      (r) => ((r.status === 'failed' && !r.ignored) || r.status === 'unreachable') && !this.#toRescue.has(r.host),
    );
    const play = this.env.play;
    const anyFatal = lastDefined(chain, 'any_errors_fatal');
    if (failedNow.length && anyFatal !== undefined && Boolean(anyFatal) && failedNow.some((r) => r.status === 'failed')) {
      this.stop = true;
      this.abortPlaybook = true;
      for (const h of hosts) if (h.active) h.ended = true;
      // every host of the batch now counts as failed: Ansible's banner
      this.#noMoreHostsShown = true;
      this.env.reporter.warning('NO MORE HOSTS LEFT');
      return;
    }
    if (play.max_fail_percentage !== undefined) {
      const batch = this.env.batch.length;
      const failed = this.env.batch.filter((n) => {
        const st = this.env.hosts.get(n)!;
        return (st.failed && !this.#toRescue.has(n)) || st.unreachable;
      }).length;
      if ((failed / batch) * 100 > play.max_fail_percentage) {
        this.stop = true;
        this.abortPlaybook = true;
        // ansible-core 2.14's linear strategy sends the banner twice here: once for the
        // percentage, once more as every host is now failed
        this.#noMoreHostsShown = true;
        this.env.reporter.warning('NO MORE HOSTS LEFT');
        this.env.reporter.warning('NO MORE HOSTS LEFT');
        return;
      }
    }
  }

  async meta(task: TaskNode, hosts: HostState[], chain: Chain): Promise<void> {
    const what = String(task.args._raw_params ?? '');
    const holds = (h: HostState): boolean => {
      const scope = buildScope(this.env, h, chain);
      return chain.every((k) => k.when.every((c) => evalCondition(c, scope, task.location)));
    };
    // As ansible-core 2.14's linear strategy: a meta task prints its banner each time it runs, once
    // per host for end_host, flush_handlers, noop and reset_connection, else once for the first
    // host; a false condition prints `skipping: [host]`, which the recap does not count.
    const banner = (): void =>
      this.env.reporter.taskStart({
        name: shownTaskName(this.env, task, hosts[0], chain),
        action: task.action,
        handler: false,
        location: task.location,
        hosts: hosts.map((h) => h.name),
      });
    const skipped = (h: HostState): void =>
      this.env.reporter.hostResult({
        host: h.name,
        status: 'skipped',
        result: { msg: what, skipped: true, skip_reason: `${what} conditional evaluated to False` },
      });
    const perHost = ['end_host', 'flush_handlers', 'noop', 'reset_connection'].includes(what);
    const applies: HostState[] = [];
    for (const h of perHost ? hosts : hosts.slice(0, 1)) {
      banner();
      if (holds(h)) applies.push(h);
      else skipped(h);
    }
    // a meta task that runs once acts on the batch when its first host's condition holds
    const batch = applies.length ? this.env.batch.map((n) => this.env.hosts.get(n)!) : [];
    switch (what) {
      case 'flush_handlers':
        await this.flushHandlers(applies);
        break;
      case 'end_play':
        for (const h of batch) h.ended = true;
        if (batch.length) this.stop = true;
        break;
      case 'end_batch':
        for (const h of batch) h.ended = true;
        break;
      case 'end_host':
        for (const h of applies) h.ended = true;
        break;
      case 'clear_host_errors':
        // the hosts' errors no longer count (later plays, the exit code), but a host that has
        // failed does not come back into this play, as in ansible-core 2.14
        for (const h of batch) {
          if (h.failed || h.unreachable) h.ended = true;
          h.failed = false;
          h.unreachable = false;
          h.clearedFailures = h.stats.failed;
          h.clearedUnreachable = h.stats.unreachable;
        }
        break;
      case 'clear_facts':
        for (const h of batch) {
          h.facts = {};
          h.factVarNames.clear();
        }
        break;
      case 'reset_connection':
        for (const h of applies) await this.env.pool.reset(h.name);
        break;
      default:
        break;
    }
  }

  async include(task: TaskNode, hosts: HostState[], chain: Chain, rescuable: boolean): Promise<void> {
    // Each host gets one include per loop item (or one); hosts that include the same file run it together.
    const groups = new Map<string, { file: string; hosts: HostState[]; vars: Map<string, Record<string, unknown>> }[]>();
    const order: string[] = [];
    const results: HostTaskResult[] = [];
    // one banner for the include, as Ansible prints it: "include_role : name" when unnamed
    const bannerName =
      task.includeRole && task.name === undefined
        ? taskName({ ...task, name: `${task.action} : ${task.includeRole.name}` })
        : shownTaskName(this.env, task, hosts[0], chain);
    this.env.reporter.taskStart({
      name: bannerName,
      action: task.action,
      handler: this.#inHandler,
      location: task.location,
      hosts: hosts.map((h) => h.name),
    });
    for (const h of hosts) {
      const r = await this.#includeInstances(task, h, chain);
      if (r.skipped) {
        results.push(r.skipped);
        continue;
      }
      r.instances.forEach((inst, i) => {
        const key = `${i}\u0000${inst.file}`;
        let list = groups.get(key);
        if (!list) {
          list = [{ file: inst.file, hosts: [], vars: new Map() }];
          groups.set(key, list);
          order.push(key);
        }
        list[0]!.hosts.push(h);
        list[0]!.vars.set(h.name, inst.vars);
      });
    }
    for (const r of results) this.#count(r, rescuable, chain);
    const roles = rolesOf(chain);
    // as ansible-playbook: every `included:` line of the task (one per loop item) comes first,
    // then the included tasks run, file by file
    const toRun: { nodes: Node[]; g: { hosts: HostState[]; vars: Map<string, Record<string, unknown>> } }[] = [];
    for (const key of order) {
      const g = groups.get(key)![0]!;
      let nodes: Node[];
      if (task.includeRole) {
        const loaded = this.#includedRole(task, g.file, roles);
        nodes = loaded.nodes;
        // as in Ansible, include_role prints no line per host and counts no ok
        if (toBool(template(task.args.public ?? false, buildScope(this.env, g.hosts[0]!, chain), task.location)))
          this.env.roles.push(loaded.info);
      } else {
        const path = isAbsolute(g.file) ? g.file : resolve(task.baseDir, g.file);
        // a missing file fails the hosts that include it, as Ansible does; a file checked at load
        // time that failed to load stops the run now that it is included
        if (!existsSync(path)) {
          for (const h of g.hosts) {
            const r: HostTaskResult = {
              host: h.name,
              status: 'failed',
              result: { failed: true, reason: `Could not find or access '${path}' on the Ansible Controller.` },
            };
            this.env.reporter.hostResult(r);
            this.#count(r, rescuable, chain);
          }
          continue;
        }
        if (task.include?.error && task.include.file === g.file) throw task.include.error;
        const first = g.vars.get(g.hosts[0]!.name);
        this.env.reporter.included(
          path,
          g.hosts.map((h) => h.name),
          task.loop !== undefined && first ? first[task.loop_control.loop_var] : undefined,
        );
        for (const h of g.hosts) h.stats.ok++;
        nodes =
          task.include?.preloaded && task.include.file === g.file
            ? task.include.preloaded
            : this.#collected((collect) =>
                loadTaskFile(
                  path,
                  {
                    registry: this.env.registry,
                    role: roles[roles.length - 1],
                    playbookDir: this.env.play.dir,
                    rolesPath: this.req.rolesPath,
                    collect,
                  },
                  task.location,
                ),
              );
      }
      toRun.push({ nodes, g });
    }
    for (const { nodes, g } of toRun) {
      // Keywords of a dynamic include apply to the include itself, not to the included tasks (they
      // inherit from the blocks around it); its vars (and loop item) reach the tasks as include
      // parameters, above set_fact as in Ansible, and apply: keywords apply to each of them.
      const perHost = new Map([...g.vars].map(([name, v]) => [name, { ...task.vars, ...v }]));
      const layer: IncludeLayer = { when: [], tags: [], vars: {}, environment: [], perHost };
      const inner: Keywords[] = task.apply ? [layer, task.apply] : [layer];
      await this.nodes(
        nodes,
        g.hosts.filter((h) => h.active),
        [...chain.slice(0, -1), ...inner],
        rescuable,
      );
    }
  }

  // Roles and handlers met at run time (include_role with a templated name, import_role in an
  // included file) join the play's once loaded.
  #collected<T>(load: (collect: RoleCollector) => T): T {
    const collect: RoleCollector = { roles: [], handlers: [], seen: new Set(), dynamicHandlers: true };
    const out = load(collect);
    this.env.roles.push(...collect.roles);
    for (const h of collect.handlers) if (!this.env.handlers.includes(h)) this.env.handlers.push(h);
    return out;
  }

  #includedRole(task: TaskNode, name: string, roles: RoleInfo[]): LoadedRole {
    const inc = task.includeRole!;
    if (inc.error && name === inc.name) throw inc.error;
    if (inc.preloaded && name === inc.name) {
      for (const h of inc.preloaded.handlers) if (!this.env.handlers.includes(h)) this.env.handlers.push(h);
      return inc.preloaded;
    }
    const validate =
      task.args.rolespec_validate === undefined || !['false', 'no', 'off', '0'].includes(String(task.args.rolespec_validate).toLowerCase());
    return this.#collected((collect) => {
      const opts = {
        registry: this.env.registry,
        playbookDir: this.env.play.dir,
        rolesPath: this.req.rolesPath,
        collect,
        role: roles[roles.length - 1],
      };
      const r = loadRole({ name, params: {}, keywords: {}, vars: {}, location: task.location }, opts, {
        dedupe: false,
        from: inc.from,
        validate,
        stack: [],
        dependentOf: roles[roles.length - 1]?.path,
      })!;
      // its variables are the play's only with public: true
      collect.roles = [];
      return r;
    });
  }

  async #includeInstances(
    task: TaskNode,
    h: HostState,
    chain: Chain,
  ): Promise<{ skipped?: HostTaskResult; instances: { file: string; vars: Record<string, unknown> }[] }> {
    const scope = buildScope(this.env, h, chain);
    const params = task.includeRole
      ? {}
      : Object.fromEntries(Object.entries(task.args).filter(([k]) => k !== 'file' && k !== '_raw_params' && k !== 'apply'));
    const fileRaw = task.includeRole ? task.includeRole.name : String(task.args.file ?? task.args._raw_params);
    const items: Array<Record<string, unknown> | undefined> = [];
    if (task.loop !== undefined) {
      let list: unknown[];
      if (task.loopKind !== undefined) list = loopItems(task, scope);
      else {
        const v = template(task.loop, scope, task.location);
        list = Array.isArray(v) ? v : [v];
      }
      warnLoopVar(this.env, task, scope);
      for (let i = 0; i < list.length; i++) {
        const lc = task.loop_control;
        const extra: Record<string, unknown> = { [lc.loop_var]: list[i], ansible_loop_var: lc.loop_var };
        if (lc.index_var) extra[lc.index_var] = i;
        // loop_control.extended reaches the included tasks too, as in Ansible
        if (lc.extended) {
          extra.ansible_loop = extendedLoop(list, i);
        }
        items.push(extra);
      }
    } else items.push(undefined);
    const instances: { file: string; vars: Record<string, unknown> }[] = [];
    for (const extra of items) {
      const s = extra ? { ...scope, ...extra } : scope;
      if (!chain.every((k) => k.when.every((c) => evalCondition(c, s, task.location)))) continue;
      instances.push({
        file: String(template(fileRaw, s, task.location)),
        vars: { ...(extra ?? {}), ...(template(params, s, task.location) as Record<string, unknown>) },
      });
    }
    if (instances.length === 0) {
      const r: HostTaskResult = {
        host: h.name,
        status: 'skipped',
        result: { changed: false, skipped: true, skip_reason: 'Conditional result was False' },
      };
      this.env.reporter.hostResult(r);
      return { skipped: r, instances };
    }
    return { instances };
  }

  /** Run notified handlers, in definition order, on the hosts that notified them. */
  async flushHandlers(hosts: HostState[]): Promise<void> {
    const play = this.env.play;
    const force = play.force_handlers ?? this.env.settings.forceHandlers ?? false;
    // A handler notified by a handler runs in the same pass when it is defined after it, as in
    // Ansible (the notification is seen by the handlers still to come); else in a next round.
    for (let round = 0; round < 10; round++) {
      const pending = new Map(hosts.map((h) => [h, new Set(h.notified)] as const));
      for (const h of hosts) h.notified.clear();
      const served = new Map(hosts.map((h) => [h, new Set<string>()] as const));
      let ran = false;
      // a name notifies the last handler defined with it (Ansible searches them in reverse);
      // a listen topic notifies every handler that listens to it
      const byName = new Map<string, TaskNode>();
      for (const hd of this.env.handlers) for (const n of handlerNames(hd).filter((x) => !hd.listen.includes(x))) byName.set(n, hd);
      for (const hd of this.env.handlers) {
        const names = handlerNames(hd).filter((n) => hd.listen.includes(n) || byName.get(n) === hd);
        const targets = hosts.filter(
          (h) => (h.active || (force && !h.unreachable)) && names.some((n) => pending.get(h)!.has(n) || h.notified.has(n)),
        );
        if (targets.length === 0) continue;
        ran = true;
        for (const h of targets) for (const n of names) if (h.notified.has(n)) served.get(h)!.add(n);
        this.#inHandler = true;
        try {
          await this.task(hd, targets, [play, ...(hd.parents ?? []), hd], { handler: true });
        } finally {
          this.#inHandler = false;
        }
      }
      for (const h of hosts) for (const n of served.get(h)!) h.notified.delete(n);
      if (!ran) break;
    }
  }
}

/** A task's name as the output shows it: "role : name" in a role, the action when unnamed. */
export function taskName(task: TaskNode, name = task.name ?? task.action): string {
  return task.role ? `${task.role.name} : ${name}` : name;
}

/**
 * The name the TASK banner shows: templated with the first host's variables, as Ansible's
 * strategies do; the name as written when it cannot be (a loop's `item`, an undefined variable).
 * --list-tasks, --start-at-task and notify use the name as written.
 */
export function shownTaskName(env: PlayEnv, task: TaskNode, host: HostState | undefined, chain: Chain): string {
  if (task.name === undefined || !host || !isTemplate(task.name)) return taskName(task);
  try {
    const v = template(task.name, buildScope(env, host, chain), task.location);
    return taskName(task, typeof v === 'string' ? v : pyStr(v));
  } catch {
    return taskName(task);
  }
}

/** --start-at-task matching: the exact name or a glob (* and ?). */
export function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(name);
}

// Promise.all, but a rejection is thrown only once every host's work has ended: an error on one
// host (an internal one) must not leave another host's command running while the connections
// close, which hung the run.
async function settleAll<T>(work: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
