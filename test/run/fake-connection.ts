// A scripted fake of the hosts a run talks to, for unit tests of the runner and the task executor:
// it opens a connection per host as the ConnectionPool asks (the pool's ConnectionOpener is the
// seam), answers each command from a script of matchers and canned replies, and records every
// command with its options, so a test can assert on exactly what was sent. It can make a host
// unreachable, drop a host's connection in the middle of the run, and answer slowly.
import { UnreachableError } from '../../engine/errors.js';
import type { ConnectionOpener } from '../../engine/connection/pool.js';
import type { Connection, ExecOptions, ExecResult } from '../../engine/module.js';
import type { ShellCommand } from '../../engine/sh.js';

/** One command as the engine sent it. */
export interface Call {
  /** 1, 2, ... in the order the commands were started, over all hosts. */
  seq: number;
  /** The host whose connection ran it (the delegate, for delegate_to). */
  host: string;
  /** The command text as the host's shell would run it, before become wrapping. */
  command: string;
  stdin?: string;
  /** become, with the password revealed (tests assert that the right one arrives). */
  become?: { user: string; password?: string };
  env?: Record<string, string>;
  /** The command holds a user's shell text (ShellCommand.inOwnShell): a /bin/sh of its own. */
  ownShell: boolean;
  timeoutMs?: number;
}

/** A canned answer; `delayMs` answers slowly (a timeout shorter than it gives rc 124). */
export interface Reply {
  rc?: number;
  stdout?: string;
  stderr?: string;
  delayMs?: number;
}

/** Which commands a rule answers: the exact text, a pattern, or a predicate. */
export type Matcher = string | RegExp | ((call: Call) => boolean);

/** Computes a reply; `undefined` passes the command on to the next rule. */
export type Handler = (call: Call) => Reply | undefined | Promise<Reply | undefined>;

interface Rule {
  match: Matcher;
  reply: Reply | Handler;
  host?: string;
  /** How many more commands the rule answers (Infinity: no limit). */
  left: number;
}

/** One step of a host's life: a connection was opened, failed to open, was reset or closed. */
export interface ConnectionEvent {
  host: string;
  event: 'open' | 'unreachable' | 'reset' | 'close';
}

/** The fake hosts: hand it to `new ConnectionPool(fake)`. */
export class FakeHosts implements ConnectionOpener {
  /** Every command, in the order it started. */
  readonly calls: Call[] = [];
  /** Commands no rule answered (they got rc 127). */
  readonly unexpected: Call[] = [];
  readonly events: ConnectionEvent[] = [];
  /** `start <host> <command>` and `end <host> <command>` lines, in the order they happened. */
  readonly timeline: string[] = [];
  /** The most commands running at the same time, over all hosts. */
  maxInFlight = 0;
  #inFlight = 0;
  readonly #rules: Rule[] = [];
  readonly #unreachable = new Map<string, string>();
  /** Hosts whose connection is lost after this many more commands. */
  readonly #dropAfter = new Map<string, number>();
  readonly #down = new Set<string>();

  /** Answer matching commands (of `host`, or of any host) with `reply`; `times` limits how often. */
  on(match: Matcher, reply: Reply | Handler, opts: { host?: string; times?: number } = {}): this {
    this.#rules.push({ match, reply, host: opts.host, left: opts.times ?? Infinity });
    return this;
  }

  /** A handler that sees every command no earlier rule answered. */
  handle(handler: Handler): this {
    return this.on(() => true, handler);
  }

  /** Opening a connection to `host` fails, as an SSH connect would. */
  unreachable(host: string, message = `Failed to connect to the host via ssh: ${host}: Connection refused`): this {
    this.#unreachable.set(host, message);
    return this;
  }

  /** `host` answers `commands` more commands, then its connection is lost for good (the next command fails). */
  dropAfter(host: string, commands: number): this {
    this.#dropAfter.set(host, commands);
    return this;
  }

  /** The command texts sent to `host` (or to every host), in order. */
  commands(host?: string): string[] {
    return this.calls.filter((c) => host === undefined || c.host === host).map((c) => c.command);
  }

  /** Hosts a connection was asked for, in order (a failed open included). */
  opened(): string[] {
    return this.events.filter((e) => e.event === 'open' || e.event === 'unreachable').map((e) => e.host);
  }

  async open(host: string): Promise<Connection> {
    const refused = this.#unreachable.get(host);
    if (refused !== undefined) {
      this.events.push({ host, event: 'unreachable' });
      throw new UnreachableError(refused);
    }
    this.events.push({ host, event: 'open' });
    return new FakeConnection(host, this);
  }

  /** @internal run one command of `host`'s connection. */
  async run(host: string, command: ShellCommand, opts: ExecOptions): Promise<ExecResult> {
    const call: Call = {
      seq: this.calls.length + 1,
      host,
      command: command.text,
      stdin: opts.stdin === undefined ? undefined : String(opts.stdin),
      become: opts.become ? { user: opts.become.user, password: opts.become.password?.reveal() } : undefined,
      env: opts.env,
      ownShell: command.ownShell,
      timeoutMs: opts.timeoutMs,
    };
    this.calls.push(call);
    if (this.#down.has(host)) throw new UnreachableError(`Failed to connect to the host via ssh: ${host}: Connection timed out`);
    const left = this.#dropAfter.get(host);
    if (left !== undefined) {
      if (left === 0) {
        this.#down.add(host);
        throw new UnreachableError(`connection to ${host} was lost while a command was running`);
      }
      this.#dropAfter.set(host, left - 1);
    }
    this.maxInFlight = Math.max(this.maxInFlight, ++this.#inFlight);
    this.timeline.push(`start ${host} ${call.command}`);
    try {
      const reply = await this.#reply(call);
      const delay = reply.delayMs ?? 0;
      if (opts.timeoutMs !== undefined && delay > opts.timeoutMs) {
        await sleep(opts.timeoutMs);
        return { rc: 124, stdout: '', stderr: `the command timed out after ${opts.timeoutMs} ms` };
      }
      if (delay > 0) await sleep(delay);
      return { rc: reply.rc ?? 0, stdout: reply.stdout ?? '', stderr: reply.stderr ?? '' };
    } finally {
      this.#inFlight--;
      this.timeline.push(`end ${host} ${call.command}`);
    }
  }

  async #reply(call: Call): Promise<Reply> {
    for (const rule of this.#rules) {
      if (rule.left <= 0 || (rule.host !== undefined && rule.host !== call.host) || !matches(rule.match, call)) continue;
      const reply = typeof rule.reply === 'function' ? await rule.reply(call) : rule.reply;
      if (reply === undefined) continue;
      rule.left--;
      return reply;
    }
    this.unexpected.push(call);
    return { rc: 127, stderr: `fake host ${call.host}: no reply scripted for: ${call.command}` };
  }
}

function matches(m: Matcher, call: Call): boolean {
  if (typeof m === 'string') return call.command === m;
  if (m instanceof RegExp) return m.test(call.command);
  return m(call);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One host's connection: every command goes to the FakeHosts that opened it. */
class FakeConnection implements Connection {
  constructor(
    readonly host: string,
    readonly hosts: FakeHosts,
  ) {}

  exec(command: ShellCommand, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.hosts.run(this.host, command, opts);
  }

  async reset(): Promise<void> {
    this.hosts.events.push({ host: this.host, event: 'reset' });
  }

  async close(): Promise<void> {
    this.hosts.events.push({ host: this.host, event: 'close' });
  }
}
