// Ansible's default output: banners, one line per host result, results as JSON with -v,
// unified diffs with --diff, and the PLAY RECAP in Ansible's exact column format.
import type { Ora } from 'ora';
import type { SourceLocation } from '../errors.js';
import { formatLocation } from '../errors.js';
import type { HostStats, HostTaskResult, Reporter } from '../run/results.js';
import { banner, colorEnabled, makeColorize, pyJson, pyRepr, unifiedDiff, type Colorize } from './format.js';
import { secretValues } from '../redact.js';

/**
 * Results printed as they are, secret values included: what `debug` shows on purpose (Ansible
 * prints a vaulted variable that is debugged). Everything else is redacted.
 */
export function printsOnPurpose(r: HostTaskResult): boolean {
  return r.result._ansible_verbose_always === true && !r.noLog && r.status !== 'failed';
}

export const NO_LOG_MESSAGE = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/** Where the default reporter writes; swapped in tests. */
export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY?: boolean;
}

export const processOutput: Output = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  isTTY: process.stdout.isTTY,
};

const DEBUG_ALLOWED_KEYS = new Set(['msg', 'exception', 'warnings', 'deprecations']);
const DEBUG_HIDDEN_KEYS = new Set(['changed', 'failed', 'skipped', 'invocation', 'skip_reason']);

/** Result keys never shown: internal ones and what the status line already says. */
function shownResult(r: HostTaskResult, isDebug = false): Record<string, unknown> {
  if (r.noLog) return { censored: NO_LOG_MESSAGE, changed: r.result.changed ?? false };
  const out: Record<string, unknown> = {};
  // debug-like results (verbose_always) show only what they were asked to, as Ansible's callback
  // does (_clean_results): msg alone (a loop's item and ansible_loop_var too are left out), or the
  // variable without changed/failed/skipped. Only debug's: assert shows changed with its msg
  const bare = r.result._ansible_verbose_always === true && isDebug && r.status !== 'failed';
  const msgOnly = bare && 'msg' in r.result;
  for (const [k, v] of Object.entries(r.result)) {
    // the status is the line's own word: Ansible's callbacks get results without failed/skipped
    if (k.startsWith('_ansible_') || k === 'diff' || k === 'failed' || k === 'skipped') continue;
    if (msgOnly && !DEBUG_ALLOWED_KEYS.has(k)) continue;
    if (bare && DEBUG_HIDDEN_KEYS.has(k)) continue;
    out[k] = v;
  }
  return out;
}

export class DefaultReporter implements Reporter {
  readonly #c: Colorize;
  #spinner?: Ora;
  #spinnerFactory?: (text: string) => Ora;

  constructor(
    readonly verbosity = 0,
    readonly output: Output = processOutput,
    opts: { color?: boolean; spinner?: (text: string) => Ora } = {},
  ) {
    this.#c = makeColorize(opts.color ?? colorEnabled({ isTTY: output.isTTY }));
    this.#spinnerFactory = opts.spinner;
  }

  #line(text: string, onPurpose = false): void {
    this.#spinner?.clear();
    this.output.out((onPurpose ? text : secretValues.redact(text)) + '\n');
    this.#spinner?.render();
  }

  #stopSpinner(): void {
    this.#spinner?.stop();
    this.#spinner = undefined;
  }

  playbookStart(file: string): void {
    if (this.verbosity >= 1) this.#line('\n' + banner(`PLAYBOOK: ${file.split('/').pop()}`));
  }

  playStart(play: { name: string }): void {
    this.#stopSpinner();
    this.#line('\n' + banner(`PLAY [${play.name}]`));
  }

  noHostsMatched(): void {
    this.#line(this.#c('cyan', 'skipping: no hosts matched'));
  }

  // the action of the task whose results are printed: debug's are cleaned whatever changed_when says
  #debug = false;
  #taskName = '';

  taskStart(task: { name: string; action?: string; handler: boolean; location: SourceLocation; hosts: string[] }): void {
    this.#debug = /^(ansible\.(builtin|legacy)\.)?debug$/.test(task.action ?? '');
    this.#taskName = task.name;
    this.#stopSpinner();
    const kind = task.handler ? 'RUNNING HANDLER' : 'TASK';
    this.#line('\n' + banner(`${kind} [${task.name}]`));
    if (this.verbosity >= 2) this.#line(`task path: ${formatLocation(task.location)}`);
    if (this.#spinnerFactory) this.#spinner = this.#spinnerFactory(`${task.name} on ${task.hosts.length} host(s)`).start();
  }

  hostResult(r: HostTaskResult): void {
    const c = this.#c;
    const who = r.delegatedTo && r.delegatedTo !== r.host ? `[${r.host} -> ${r.delegatedTo}]` : `[${r.host}]`;
    const item = r.item !== undefined ? ` => (item=${pyRepr(r.noLog ? 'None' : r.item)})` : '';
    const verbose = this.verbosity >= 1 || r.result._ansible_verbose_always === true;
    const indent = r.result._ansible_verbose_always === true || this.verbosity > 2 ? 4 : undefined;
    const dump = (): string => pyJson(shownResult(r, this.#debug), indent);
    if (r.ignoringOnly) {
      if (r.ignored) this.#line(c('cyan', '...ignoring'));
      return;
    }
    if (r.retriesLeft !== undefined) {
      this.#line(c('red', `FAILED - RETRYING: ${who}: ${this.#taskName} (${r.retriesLeft} retries left).`));
      return;
    }
    for (const d of r.diffs ?? []) {
      if (r.noLog) continue;
      this.#line(colorDiff(unifiedDiff(d), c));
    }
    switch (r.status) {
      case 'ok':
      case 'changed': {
        const color = r.status === 'ok' ? 'green' : 'yellow';
        const word = r.status === 'ok' ? 'ok' : 'changed';
        const body = verbose ? ` => ${dump()}` : '';
        this.#line(c(color, `${word}: ${who}${item}${body}`), printsOnPurpose(r));
        break;
      }
      case 'skipped':
        this.#line(c('cyan', `skipping: ${who}${item}${this.verbosity >= 1 ? ` => ${dump()}` : ''}`));
        break;
      case 'failed':
        if (r.item !== undefined) this.#line(c('red', `failed: ${who} (item=${pyRepr(r.noLog ? 'None' : r.item)}) => ${dump()}`));
        else this.#line(c('red', `fatal: ${who}: FAILED! => ${dump()}`));
        // a loop's items say nothing of it: `...ignoring` follows the loop's own result
        if (r.ignored && r.item === undefined) this.#line(c('cyan', '...ignoring'));
        break;
      case 'unreachable':
        this.#line(c('bright red', `fatal: ${who}: UNREACHABLE! => ${dump()}`));
        if (r.ignored) this.#line(c('cyan', '...ignoring'));
        break;
    }
  }

  included(file: string, hosts: string[], item?: unknown): void {
    const label = item !== undefined ? ` => (item=${pyRepr(item)})` : '';
    this.#line(this.#c('cyan', `included: ${file} for ${hosts.join(', ')}${label}`));
  }

  warning(message: string): void {
    if (message === 'NO MORE HOSTS LEFT') {
      this.#line('\n' + banner('NO MORE HOSTS LEFT'));
      return;
    }
    this.#spinner?.clear();
    this.output.err(this.#c('bright purple', `[WARNING]: ${secretValues.redact(message)}`) + '\n');
  }

  verbose(level: number, message: string): void {
    if (this.verbosity >= level) this.#line(this.#c('blue', message));
  }

  display(message: string): void {
    this.#line(message);
  }

  recap(stats: Map<string, HostStats>): void {
    this.#stopSpinner();
    const c = this.#c;
    this.#line('\n' + banner('PLAY RECAP'));
    const hosts = [...stats.keys()].sort();
    for (const h of hosts) {
      const s = stats.get(h)!;
      const hostColor = s.failed || s.unreachable ? 'red' : s.changed ? 'yellow' : 'green';
      // Ansible pads the name to 26 columns (37 when coloured, counting the escape codes).
      const name = c(hostColor, h) + ' '.repeat(Math.max(0, 26 - h.length));
      const field = (lead: string, n: number, color: string) => {
        const text = `${lead}=${String(n).padEnd(4)}`;
        return n ? c(color, text) : text;
      };
      this.#line(
        `${name} : ${field('ok', s.ok, 'green')} ${field('changed', s.changed, 'yellow')} ${field('unreachable', s.unreachable, 'bright red')} ${field('failed', s.failed, 'red')} ${field('skipped', s.skipped, 'cyan')} ${field('rescued', s.rescued, 'magenta')} ${field('ignored', s.ignored, 'bright purple')}`,
      );
    }
    this.#line('');
  }

  close(): void {
    this.#stopSpinner();
  }
}

function colorDiff(text: string, c: Colorize): string {
  return text
    .split('\n')
    .map((l) =>
      l.startsWith('+') && !l.startsWith('+++')
        ? c('green', l)
        : l.startsWith('-') && !l.startsWith('---')
          ? c('red', l)
          : l.startsWith('@@')
            ? c('cyan', l)
            : l,
    )
    .join('\n');
}
