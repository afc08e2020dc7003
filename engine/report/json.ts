// `--output json`: one JSON object per line (NDJSON) for CI; no_log results are censored.
import type { SourceLocation } from '../errors.js';
import type { HostStats, HostTaskResult, Reporter } from '../run/results.js';
import { NO_LOG_MESSAGE, printsOnPurpose } from './default.js';
import { secretValues } from '../redact.js';

export class JsonReporter implements Reporter {
  constructor(readonly write: (line: string) => void = (l) => process.stdout.write(l)) {}

  #emit(event: string, data: Record<string, unknown>, onPurpose = false): void {
    const line = JSON.stringify({ event, time: new Date().toISOString(), ...data });
    this.write((onPurpose ? line : secretValues.redact(line)) + '\n');
  }

  playbookStart(file: string): void {
    this.#emit('playbook_start', { file });
  }
  playStart(play: { name: string; hosts: string[]; check: boolean }): void {
    this.#emit('play_start', play);
  }
  noHostsMatched(): void {
    this.#emit('no_hosts_matched', {});
  }
  taskStart(task: { name: string; action: string; handler: boolean; location: SourceLocation; hosts: string[] }): void {
    this.#emit('task_start', task as unknown as Record<string, unknown>);
  }
  hostResult(r: HostTaskResult): void {
    if (r.ignoringOnly) return;
    const result = r.noLog ? { censored: NO_LOG_MESSAGE, changed: r.result.changed ?? false } : r.result;
    this.#emit(
      'host_result',
      {
        host: r.host,
        status: r.status,
        ignored: r.ignored ?? false,
        ...(r.item !== undefined ? { item: r.noLog ? null : r.item } : {}),
        ...(r.retriesLeft !== undefined ? { retries_left: r.retriesLeft } : {}),
        result,
      },
      printsOnPurpose(r),
    );
  }
  included(file: string, hosts: string[], item?: unknown): void {
    this.#emit('included', item === undefined ? { file, hosts } : { file, hosts, item });
  }
  warning(message: string): void {
    this.#emit('warning', { message });
  }
  // the JSON stream carries results, not the lines shown beside them
  display(): void {}
  verbose(): void {}
  recap(stats: Map<string, HostStats>): void {
    this.#emit('recap', { hosts: Object.fromEntries(stats) });
  }
  close(): void {}
}
