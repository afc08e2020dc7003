// Drives the runner and the task executor in-process, without the CLI: plays and inventories are
// written to a temporary directory and read by the real loaders, commands go to FakeHosts, and a
// reporter records every event. Three small test modules over a key-value "host" (kv-get / kv-set
// / kv-cas commands, simulated by kvStore) exercise gather -> plan -> apply with real state.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConnectionPool } from '../../engine/connection/pool.js';
import { loadInventory, type Inventory } from '../../engine/load/inventory.js';
import { loadPlaybooks, type Play, type TaskNode } from '../../engine/load/playbook.js';
import { defineModule, noop, type AnyModuleDefinition } from '../../engine/module.js';
import { HostState } from '../../engine/run/host-state.js';
import { ModuleRegistry } from '../../engine/run/registry.js';
import type { HostStats, HostTaskResult, Reporter } from '../../engine/run/results.js';
import { runPlays, type RunSummary } from '../../engine/run/runner.js';
import { runTaskOnHost, type PlayEnv, type RunSettings } from '../../engine/run/task.js';
import { sh, shellSplit } from '../../engine/sh.js';
import { builtinModules } from '../../modules/index.js';
import { FakeHosts, type Handler } from './fake-connection.js';

interface KvArgs {
  key: string;
  value: string;
}

/** Sets a key on the host: gather `kv-get KEY`, apply `kv-set KEY VALUE`. */
export const kvModule = defineModule<KvArgs, string | undefined>({
  name: 'kv',
  description: 'Set a key of the fake key-value host.',
  schema: {
    type: 'object',
    properties: { key: { type: 'string' }, value: { type: 'string' } },
    required: ['key', 'value'],
    additionalProperties: false,
  },
  async gather(ctx, args) {
    const r = await ctx.run(sh`kv-get ${args.key}`);
    return r.rc === 0 ? r.stdout : undefined;
  },
  plan(current, args) {
    if (current === args.value) return noop(`${args.key} is already ${args.value}`, { key: args.key });
    return {
      changes: [
        {
          summary: `set ${args.key}`,
          commands: [{ cmd: sh`kv-set ${args.key} ${args.value}` }],
          diff: { before: current ?? '', after: args.value },
        },
      ],
      result: { key: args.key },
    };
  },
});

/** A buggy kv: its apply writes something else than its plan wants, so it never converges. */
export const kvTypoModule = defineModule<KvArgs, string | undefined>({
  ...kvModule,
  name: 'kv_typo',
  async apply(ctx, _changes, args) {
    await ctx.run(sh`kv-set ${args.key} ${args.value + 'x'}`);
  },
});

/** kv whose apply writes only if the key still holds what gather read (kv-cas), else reports stale. */
export const kvCasModule = defineModule<KvArgs, string | undefined>({
  ...kvModule,
  name: 'kv_cas',
  async apply(ctx, _changes, args, current) {
    const r = await ctx.run(sh`kv-cas ${args.key} ${current ?? ''} ${args.value}`);
    if (r.rc === 3) return { stale: true, failed: `${args.key} changed since it was read` };
    if (r.rc !== 0) return { failed: r.stderr };
  },
});

/** The built-in modules and the test modules. */
export function testRegistry(extra: AnyModuleDefinition[] = []): ModuleRegistry {
  const registry = new ModuleRegistry();
  for (const m of builtinModules) registry.register(m, { builtin: true });
  for (const m of [kvModule, kvTypoModule, kvCasModule, ...extra]) registry.register(m);
  return registry;
}

/**
 * The key-value hosts behind kv-get, kv-set and kv-cas (rc 3 when the key no longer holds the
 * expected value): `stores` holds each host's keys; a host without a store starts empty.
 */
export function kvStore(stores: Map<string, Map<string, string>> = new Map()): {
  handler: Handler;
  stores: Map<string, Map<string, string>>;
} {
  const storeOf = (host: string) => {
    let s = stores.get(host);
    if (!s) stores.set(host, (s = new Map()));
    return s;
  };
  const handler: Handler = (call) => {
    const [verb, key, a, b] = shellSplit(call.command);
    const store = storeOf(call.host);
    switch (verb) {
      case 'kv-get':
        return store.has(key!) ? { stdout: store.get(key!) } : { rc: 1 };
      case 'kv-set':
        store.set(key!, a!);
        return { rc: 0 };
      case 'kv-cas':
        if ((store.get(key!) ?? '') !== a) return { rc: 3, stderr: 'stale' };
        store.set(key!, b!);
        return { rc: 0 };
      default:
        return undefined;
    }
  };
  return { handler, stores };
}

/** What the reporter was told, in order. */
export type ReportEvent =
  | { kind: 'play'; name: string; hosts: string[]; check: boolean }
  | { kind: 'noHosts' }
  | { kind: 'task'; name: string; handler: boolean; hosts: string[] }
  | { kind: 'result'; result: HostTaskResult }
  | { kind: 'included'; file: string; hosts: string[] }
  | { kind: 'warning'; message: string }
  | { kind: 'recap'; stats: Map<string, HostStats> };

/** A reporter that keeps every event. */
export class RecordingReporter implements Reporter {
  readonly events: ReportEvent[] = [];
  playbookStart(): void {}
  playStart(play: { name: string; hosts: string[]; check: boolean }): void {
    this.events.push({ kind: 'play', ...play });
  }
  noHostsMatched(): void {
    this.events.push({ kind: 'noHosts' });
  }
  taskStart(task: { name: string; handler: boolean; hosts: string[] }): void {
    this.events.push({ kind: 'task', name: task.name, handler: task.handler, hosts: task.hosts });
  }
  hostResult(r: HostTaskResult): void {
    this.events.push({ kind: 'result', result: r });
  }
  included(file: string, hosts: string[]): void {
    this.events.push({ kind: 'included', file, hosts });
  }
  warning(message: string): void {
    this.events.push({ kind: 'warning', message });
  }
  display(): void {}
  verbose(): void {}
  recap(stats: Map<string, HostStats>): void {
    this.events.push({ kind: 'recap', stats });
  }
  close(): void {}

  /** Compact lines: `TASK name`, `HANDLER name`, `host: status` (`host: status (item)` in loops). */
  lines(): string[] {
    return this.events.flatMap((e): string[] => {
      if (e.kind === 'task') return [`${e.handler ? 'HANDLER' : 'TASK'} ${e.name}`];
      if (e.kind === 'result') {
        const r = e.result;
        const item = r.item !== undefined ? ` (${String(r.item)})` : '';
        return [`${r.host}: ${r.status}${r.ignored ? ' ignored' : ''}${r.retriesLeft !== undefined ? ' retrying' : ''}${item}`];
      }
      if (e.kind === 'play') return [`PLAY ${e.name}`];
      if (e.kind === 'warning') return [`WARNING ${e.message}`];
      return [];
    });
  }

  /** The results of the task named `name` (the last task of that name), by host. */
  results(name: string): Map<string, HostTaskResult> {
    const out = new Map<string, HostTaskResult>();
    let inTask = false;
    for (const e of this.events) {
      if (e.kind === 'task') {
        inTask = e.name === name;
        if (inTask) out.clear();
      } else if (e.kind === 'result' && inTask && e.result.item === undefined) out.set(e.result.host, e.result);
    }
    return out;
  }
}

/** A temporary directory with these files. */
export function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-run-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Settings as the CLI gives them without options, with idempotence verification on (as in tests). */
export function settings(over: Partial<RunSettings> = {}): RunSettings {
  return { check: false, diff: false, verbosity: 0, forks: 5, extraVars: {}, tags: [], skipTags: [], verifyIdempotence: true, ...over };
}

/** A loaded playbook and inventory (`hosts.ini`), from text. */
export interface Loaded {
  dir: string;
  plays: Play[];
  inventory: Inventory;
  registry: ModuleRegistry;
}

/** Load `site.yml` (and any other files) with the real loaders; `inventory` is an INI text. */
export function load(playbook: string, inventory: string, files: Record<string, string> = {}, registry = testRegistry()): Loaded {
  const dir = project({ 'site.yml': playbook, 'hosts.ini': inventory, ...files });
  return { dir, plays: loadPlaybooks([join(dir, 'site.yml')], { registry }), inventory: loadInventory([join(dir, 'hosts.ini')]), registry };
}

/** What a run did. */
export interface Run {
  summary: RunSummary;
  reporter: RecordingReporter;
  fake: FakeHosts;
  /** The recap counters of a host. */
  stats(host: string): HostStats;
}

/** Run a playbook (YAML text) against an inventory (INI text) on `fake`, through runPlays. */
export async function runPlaybook(
  playbook: string,
  opts: {
    inventory?: string;
    fake?: FakeHosts;
    settings?: Partial<RunSettings>;
    limit?: string[];
    files?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<Run> {
  const loaded = load(playbook, opts.inventory ?? 'h1\nh2\nh3\n', opts.files);
  const fake = opts.fake ?? new FakeHosts();
  const reporter = new RecordingReporter();
  const summary = await runPlays({
    plays: loaded.plays,
    inventory: loaded.inventory,
    registry: loaded.registry,
    settings: settings(opts.settings),
    reporter,
    pool: new ConnectionPool(fake),
    limit: opts.limit,
    signal: opts.signal,
  });
  return {
    summary,
    reporter,
    fake,
    stats(host) {
      const s = summary.stats.get(host);
      if (!s) throw new Error(`no stats for ${host}: ${[...summary.stats.keys()].join(', ')}`);
      return s;
    },
  };
}

/** The task executor's inputs for the first play of `playbook`, on the hosts of `inventory`. */
export interface TaskBench {
  env: PlayEnv;
  fake: FakeHosts;
  reporter: RecordingReporter;
  play: Play;
  /** The play's tasks by name. */
  task(name: string): TaskNode;
  host(name: string): HostState;
  /** Run the task named `name` on `host` (default h1), as the runner does for a top-level task. */
  run(name: string, host?: string): Promise<HostTaskResult>;
}

/** A PlayEnv for calling runTaskOnHost directly, as the runner builds it for one batch. */
export function taskBench(
  playbook: string,
  opts: { inventory?: string; fake?: FakeHosts; settings?: Partial<RunSettings>; modules?: AnyModuleDefinition[] } = {},
): TaskBench {
  const loaded = load(playbook, opts.inventory ?? 'h1\nh2\n', {}, testRegistry(opts.modules));
  const play = loaded.plays[0]!;
  const fake = opts.fake ?? new FakeHosts();
  const reporter = new RecordingReporter();
  const names = [...loaded.inventory.hosts.keys()];
  const hosts = new Map(names.map((n) => [n, new HostState(n)] as const));
  const env: PlayEnv = {
    registry: loaded.registry,
    pool: new ConnectionPool(fake),
    reporter,
    inventory: loaded.inventory,
    settings: settings(opts.settings),
    play,
    playVars: { ...play.vars },
    hosts,
    playHostsAll: names,
    batch: names,
    roles: [...play.roles],
    handlers: [...play.handlers],
  };
  return {
    env,
    fake,
    reporter,
    play,
    task(name) {
      const t = play.tasks.find((n): n is TaskNode => n.kind === 'task' && n.name === name);
      if (!t) throw new Error(`no task named ${name}`);
      return t;
    },
    host(name) {
      return hosts.get(name)!;
    },
    run(name, host = 'h1') {
      const task = this.task(name);
      return runTaskOnHost(env, task, hosts.get(host)!, [play, task]);
    },
  };
}
