// Result and event types shared by the runner and the reporters.
import type { FileDiff } from '../module.js';
import type { SourceLocation } from '../errors.js';

/** What happened to one host on one task (or one loop item). */
export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

/** One host's outcome for a task, as reported and registered. */
export interface HostTaskResult {
  host: string;
  status: HostStatus;
  /** The result dict as Ansible shapes it (changed, failed, msg, rc, stdout, results, ...). */
  result: Record<string, unknown>;
  /** The failure was ignored (ignore_errors / ignore_unreachable). */
  ignored?: boolean;
  /** For a loop item: its label. */
  item?: unknown;
  /** The host the task actually ran on (delegate_to). */
  delegatedTo?: string;
  /** The result must not be printed (no_log). */
  noLog?: boolean;
  /** Diffs to print (diff mode). */
  diffs?: FileDiff[];
  /** A loop's own result, told only so that `...ignoring` follows its items (nothing else is shown). */
  ignoringOnly?: boolean;
  /** The task is being retried (until): attempts left. */
  retriesLeft?: number;
}

/** Recap counters for one host, as in Ansible's PLAY RECAP. */
export interface HostStats {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export function emptyStats(): HostStats {
  return { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
}

/** What reporters are told, in order. */
export interface Reporter {
  playbookStart(file: string): void;
  playStart(play: { name: string; hosts: string[]; check: boolean }): void;
  noHostsMatched(): void;
  taskStart(task: { name: string; action: string; handler: boolean; location: SourceLocation; hosts: string[] }): void;
  hostResult(r: HostTaskResult): void;
  /** include_tasks loaded a file for these hosts. */
  included(file: string, hosts: string[], item?: unknown): void;
  warning(message: string): void;
  /** A line shown at the default verbosity, as Ansible's display (ASYNC OK, Pausing for...). */
  display(message: string): void;
  /** A line of -v output. */
  verbose(level: number, message: string): void;
  recap(stats: Map<string, HostStats>): void;
  /** Before exit: flush and stop spinners. */
  close(): void;
}
