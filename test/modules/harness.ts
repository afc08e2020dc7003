import { expect } from 'vitest';
// A ModuleContext over the local connection, for running file modules against real temp
// directories: every remote command is counted, controller files are found in a fixtures
// directory, and templates are "rendered" by reading them (the real renderer lives in engine/expr).
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { LocalConnection } from '../../engine/connection/local.js';
import type { ApplyOutcome, ModuleContext, AnyModuleDefinition, ModuleDefinition, Plan } from '../../engine/module.js';
import { runChanges } from '../../engine/module.js';
import { checkArgs } from '../../engine/load/args.js';
import type { ShellCommand } from '../../engine/sh.js';

/** A context over localhost that records the commands it runs. */
export interface Harness {
  ctx: ModuleContext;
  /** Every command run so far, in order. */
  commands: ShellCommand[];
}

/** A context over `new LocalConnection('localhost')`; controller files are looked up in `filesDir`. */
export function harness(filesDir: string, vars: Record<string, unknown> = {}): Harness {
  const connection = new LocalConnection('localhost');
  const commands: ShellCommand[] = [];
  const ctx: ModuleContext = {
    host: 'localhost',
    vars,
    playbookDir: filesDir,
    verbosity: 0,
    run(cmd, opts = {}) {
      commands.push(cmd);
      return connection.exec(cmd, opts);
    },
    async fact(fact, args) {
      const cmd = fact.command(args);
      commands.push(cmd);
      return fact.process(await connection.exec(cmd), args);
    },
    findFile(kind, path) {
      if (isAbsolute(path)) return path;
      for (const candidate of [join(filesDir, kind, path), join(filesDir, path)]) if (existsSync(candidate)) return candidate;
      throw new Error(`Could not find or access '${path}'`);
    },
    renderTemplate: (path) => readFileSync(path, 'utf8'),
    evaluate: () => undefined,
    log: () => undefined,
  };
  return { ctx, commands };
}

/** Arguments as the engine hands them to a module: aliases renamed, defaults filled, validated. */
export function completeArgs<A>(module: ModuleDefinition<A, unknown>, raw: Record<string, unknown>): A {
  const checked = checkArgs(module as AnyModuleDefinition, raw);
  if (!checked.ok) throw new Error(checked.message);
  return checked.args as A;
}

/** What one gather + plan (+ apply) did, and how many remote commands each step cost. */
export interface RunOutcome<S> {
  current: S;
  plan: Plan;
  outcome?: ApplyOutcome;
  gatherCommands: number;
  applyCommands: number;
}

/** gather, plan, and (unless `check`) apply, as the engine does. */
export async function runModule<A, S>(
  h: Harness,
  module: ModuleDefinition<A, S>,
  raw: Record<string, unknown>,
  opts: { check?: boolean } = {},
): Promise<RunOutcome<S>> {
  const args = completeArgs(module as ModuleDefinition<A, unknown>, raw);
  const before = h.commands.length;
  const current = await module.gather(h.ctx, args);
  const gatherCommands = h.commands.length - before;
  const plan = module.plan(current, args);
  if (opts.check || plan.failed || plan.changes.length === 0) return { current, plan, gatherCommands, applyCommands: 0 };
  const start = h.commands.length;
  const outcome = (await (module.apply ? module.apply(h.ctx, plan.changes, args, current) : runChanges(h.ctx, plan.changes))) ?? {};
  return { current, plan, outcome, gatherCommands, applyCommands: h.commands.length - start };
}

/** What a plan fixture expects: a failure, a no-op, these changes, this file content, this result. */
export interface PlanExpectation {
  expect: { noop?: true; changes?: { summary: string }[]; after?: string; failed?: string };
  result?: Record<string, unknown>;
}

/** Check a plan against a fixture case's expectation (shared by every plan-fixture table). */
export function expectPlan(plan: Plan, c: PlanExpectation): void {
  if (c.expect.failed !== undefined) {
    expect(plan.failed, JSON.stringify(plan.changes.map((x) => x.summary))).toBeDefined();
    expect(plan.failed).toContain(c.expect.failed);
  } else {
    expect(plan.failed).toBeUndefined();
    if (c.expect.noop) {
      expect(plan.changes.map((x) => x.summary)).toEqual([]);
      expect(plan.reason).toBeTruthy();
    }
    if (c.expect.changes) expect(plan.changes.map((x) => ({ summary: x.summary }))).toEqual(c.expect.changes);
    if (c.expect.after !== undefined) expect(plan.changes.find((x) => x.diff)?.diff?.after).toBe(c.expect.after);
  }
  if (c.result) expect(plan.result).toMatchObject(c.result);
}
