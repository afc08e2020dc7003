// Ad-hoc output, as Ansible's `minimal` callback prints it: one block per host.
import type { HostStats, HostTaskResult, Reporter } from '../run/results.js';
import { colorEnabled, makeColorize, pyJson, type Colorize } from './format.js';
import { NO_LOG_MESSAGE, printsOnPurpose, processOutput, type Output } from './default.js';
import { secretValues } from '../redact.js';

const COMMAND_MODULES = new Set(['command', 'shell', 'raw', 'script', 'ansible.builtin.command', 'ansible.builtin.shell']);

export class AdhocReporter implements Reporter {
  readonly #c: Colorize;
  constructor(
    readonly module: string,
    readonly verbosity = 0,
    readonly output: Output = processOutput,
  ) {
    this.#c = makeColorize(colorEnabled({ isTTY: output.isTTY }));
  }

  playbookStart(): void {}
  playStart(): void {}
  noHostsMatched(): void {
    this.output.err(this.#c('bright purple', '[WARNING]: No hosts matched, nothing to do') + '\n');
  }
  taskStart(): void {}
  included(): void {}

  hostResult(r: HostTaskResult): void {
    if (r.ignoringOnly) return;
    if (r.retriesLeft !== undefined) return;
    const raw = printsOnPurpose(r);
    const out = (t: string) => this.output.out(raw ? t : secretValues.redact(t));
    const c = this.#c;
    const res: Record<string, unknown> = r.noLog
      ? { censored: NO_LOG_MESSAGE, changed: r.result.changed ?? false }
      : Object.fromEntries(Object.entries(r.result).filter(([k]) => !k.startsWith('_ansible_')));
    if (r.status === 'unreachable') {
      out(c('bright red', `${r.host} | UNREACHABLE! => ${pyJson(res, 4)}`) + '\n');
      return;
    }
    const failed = r.status === 'failed';
    const state = failed ? 'FAILED' : r.status === 'changed' ? 'CHANGED' : r.status === 'skipped' ? 'SKIPPED' : 'SUCCESS';
    const color = failed ? 'red' : r.status === 'changed' ? 'yellow' : r.status === 'skipped' ? 'cyan' : 'green';
    if (COMMAND_MODULES.has(this.module) && 'rc' in res && !r.noLog) {
      const text = [res.stdout, res.stderr].filter((x) => typeof x === 'string' && x !== '').join('\n');
      out(c(color, `${r.host} | ${state} | rc=${String(res.rc)} >>\n${text}`) + '\n');
      return;
    }
    out(c(color, `${r.host} | ${failed ? 'FAILED!' : state} => ${pyJson(res, 4)}`) + '\n');
  }

  warning(message: string): void {
    if (message === 'NO MORE HOSTS LEFT') return;
    this.output.err(this.#c('bright purple', `[WARNING]: ${secretValues.redact(message)}`) + '\n');
  }
  display(message: string): void {
    this.output.out(secretValues.redact(message) + '\n');
  }
  verbose(level: number, message: string): void {
    if (this.verbosity >= level) this.output.out(secretValues.redact(this.#c('blue', message)) + '\n');
  }
  recap(_stats: Map<string, HostStats>): void {}
  close(): void {}
}
