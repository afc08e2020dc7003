// The module contract (see DESIGN.md): gather reads the host, plan is pure and returns the
// changes as data, apply runs them. Check mode is the engine stopping after plan, so no module
// ever reads a check-mode flag.
import type { ShellCommand, Secret } from './sh.js';

/** What a command printed and how it ended. A non-zero rc is data, not an exception. */
export interface ExecResult {
  rc: number;
  stdout: string;
  stderr: string;
}

/** Privilege escalation for one command; applied in one place by the connection. */
export interface BecomeOptions {
  method: 'sudo';
  user: string;
  password?: Secret;
}

export interface ExecOptions {
  /** Bytes written to the command's standard input, then closed. */
  stdin?: string | Buffer;
  /** Environment variables set for the command. */
  env?: Record<string, string>;
  /** Run as another user (sudo). */
  become?: BecomeOptions;
  /** Kill the command after this many milliseconds (rc 124). */
  timeoutMs?: number;
  /** Kill the command when this fires (Ctrl-C). */
  signal?: AbortSignal;
  /**
   * The most bytes of stdout, and of stderr, kept of the command's output (default
   * DEFAULT_MAX_OUTPUT_BYTES): past it the command is stopped and fails, saying so.
   */
  maxOutputBytes?: number;
}

/** How the engine reaches a host. `ssh` and `local` implement it. */
export interface Connection {
  /** The inventory name of the host. */
  readonly host: string;
  /** Run one command with the host's POSIX shell. */
  exec(command: ShellCommand, opts?: ExecOptions): Promise<ExecResult>;
  /** Close the connection; idempotent. */
  close(): Promise<void>;
  /**
   * Drop the transport under the connection (an SSH client shared with other hosts included), so
   * the next command opens a new one: meta reset_connection, reboot, wait_for_connection.
   * Without it, the pool falls back to `close`.
   */
  reset?(): Promise<void>;
  /**
   * Open a new connection to the host (through the same jump hosts), run a trivial command and
   * close it: proves that the host can still be reached after a network change. Without it
   * (the local connection) there is nothing to prove.
   */
  probeNew?(timeoutMs: number): Promise<void>;
}

/** A command as data: what to run and what to feed it. */
export interface PlannedCommand {
  cmd: ShellCommand;
  stdin?: string | Buffer;
}

/** A before/after view of one changed object, printed by --diff as a unified diff. */
export interface FileDiff {
  before: string;
  after: string;
  beforeHeader?: string;
  afterHeader?: string;
}

/** One change a module will make, described before it is made. */
export interface Change {
  /** One human line: "add rule to nat/POSTROUTING", "write /etc/dnsmasq.conf". */
  summary: string;
  /** The commands that make the change, in order. */
  commands: PlannedCommand[];
  /** Optional before/after text for --diff. */
  diff?: FileDiff;
}

/** The outcome of plan(): changes to make, or none with a reason. */
export interface Plan {
  /** Empty means converged: nothing to do. */
  changes: Change[];
  /** Why nothing is needed (for a converged plan), shown with -v. */
  reason?: string;
  /** Fields merged into the task result (msg, path, ansible_facts, ...). */
  result?: Record<string, unknown>;
  /** The module cannot do what was asked; the task fails with this message. */
  failed?: string;
  /**
   * Set when the changes' outcome can only be known by running them (command, shell): check
   * mode then reports the task as skipped with this message instead of changed.
   */
  outcomeUnknown?: string;
  /**
   * The change is wanted on every run (touch with the current time): the engine does not
   * re-plan after apply to check idempotence.
   */
  alwaysChanges?: boolean;
  /**
   * The changes run, but the task reports ok, not changed: Ansible's module counts them as no
   * change (systemd's daemon_reload), and playbooks rely on that (handlers, changed_when).
   */
  unreported?: boolean;
  /**
   * What this plan's changes make true on the host beyond its own target, for the plans after
   * it in a check run, which cannot gather it (nothing was applied): keys are the module's own
   * (`iptables-ensure:/etc/iptables/rules.v4`), values what later plans read from `predicted`.
   * Tasks that share state (a rule set saved by whichever task changes it first) then predict
   * what the real run does. A real run ignores it: every task gathers the truth.
   */
  publishes?: Record<string, unknown>;
}

/** In a check run, what earlier tasks' plans on the host said they make true (Plan.publishes). */
export type Predicted = ReadonlyMap<string, unknown>;

/** What apply() may add to the result; a `failed` message fails the task. */
export interface ApplyOutcome {
  result?: Record<string, unknown>;
  failed?: string;
  /**
   * The file changed on the host since gather read it (another run edited it): nothing was
   * written, and the engine gathers, plans and applies again (a few times, then fails).
   */
  stale?: boolean;
}

/** A read-only probe: a command and a parser for its output. */
export interface FactDefinition<T, A = void> {
  name: string;
  command(args: A): ShellCommand;
  process(output: ExecResult, args: A): T;
}

/** The template module's Jinja2 options, with Ansible's names. */
export interface TemplateOptions {
  trim_blocks?: boolean;
  lstrip_blocks?: boolean;
  newline_sequence?: string;
  block_start_string?: string;
  block_end_string?: string;
  variable_start_string?: string;
  variable_end_string?: string;
  comment_start_string?: string;
  comment_end_string?: string;
}

/** What gather() and apply() get: the host, its variables, and ways to run commands. */
export interface ModuleContext {
  /** inventory_hostname */
  readonly host: string;
  /** The task's variables (host vars, play vars, facts, ...), already templated on access. */
  readonly vars: Readonly<Record<string, unknown>>;
  /** Directory of the playbook that holds the task. */
  readonly playbookDir: string;
  /** The task's name as the output shows it (`role : name`; the action when unnamed). */
  readonly taskName?: string;
  /**
   * Run a command on the host (with the task's become and environment). The connection decides how:
   * a command that runs shell text a user wrote says so with ShellCommand.inOwnShell.
   */
  run(cmd: ShellCommand, opts?: { stdin?: string | Buffer; timeoutMs?: number }): Promise<ExecResult>;
  /** Run a fact's command on the host and parse its output. */
  fact<T, A>(fact: FactDefinition<T, A>, args: A): Promise<T>;
  /** Find a controller-side file as Ansible does (role/playbook `files/` or `templates/`, then as given). */
  findFile(kind: 'files' | 'templates' | 'vars', path: string): string;
  /** Read a YAML or JSON vars file on the controller (vault-encrypted files and values decrypted). */
  readVars(path: string): Record<string, unknown>;
  /** A background job an async task (`async:` with `poll: 0`) started on this host, by its id. */
  asyncJob?(jid: string): AsyncJob | undefined;
  /**
   * Render a controller-side template file (.j2 with Jinja2 semantics, .ejs with ejs) with the
   * task's vars; `j2` holds the template module's Jinja2 options (trim_blocks, lstrip_blocks,
   * newline_sequence, the delimiters), Ansible's defaults when unset.
   */
  renderTemplate(path: string, extraVars?: Record<string, unknown>, j2?: TemplateOptions): string;
  /** Evaluate a Jinja2 expression with the task's variables (as `debug: var=` does). */
  evaluate(expression: string): unknown;
  /** How many -v were given (0..4): for modules whose output depends on it, like debug. */
  readonly verbosity: number;
  /** Print a line at -v level `level` (1..4). */
  log(level: number, message: string): void;
  /** Print a line at the default verbosity, as Ansible's display does (pause's `Pausing for 5 seconds`). */
  display?(message: string): void;
  /** Print a `[WARNING]:` line. */
  warn?(message: string): void;
  /**
   * Drop the host's connection so the next `run` opens a new one (reboot, wait_for_connection).
   * Optional: contexts without it (tests, custom runners) keep using the connection they have.
   */
  reconnect?(): Promise<void>;
}

/** A task started in the background (`async:` with `poll: 0`): async_status reports on it. */
export interface AsyncJob {
  jid: string;
  /** The module's result so far (its plan's), then the final one. */
  result: Record<string, unknown>;
  finished: boolean;
  failed?: string;
  started: Date;
  ended?: Date;
  /** The apply under way; settles when the job is done. */
  done: Promise<void>;
}

/** A JSON Schema object for a module's arguments (validated by ajv at the boundary). */
export type ArgsSchema = Record<string, unknown> & { type: 'object'; properties?: Record<string, unknown> };

/**
 * Any module, whatever its argument and state types: what a registry or a list of modules holds.
 * (`unknown` cannot stand in: `network` takes the module's own Args, and function parameters are
 * contravariant.)
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type AnyModuleDefinition = ModuleDefinition<any, any>;

/** A module: a name, a schema for its arguments, and the gather / plan / apply steps. */
export interface ModuleDefinition<Args = Record<string, unknown>, State = unknown> {
  /** The module's name as used in playbooks: `lineinfile`. */
  name: string;
  /** Other names that reach it: `ansible.builtin.lineinfile`, `systemd_service`. */
  aliases?: string[];
  /** One paragraph shown by `tsplay doc`. */
  description: string;
  /** JSON Schema of the arguments; unknown keys are rejected, defaults are filled in. */
  schema: ArgsSchema;
  /** The argument that takes the free-form text (`command: ls -l` -> `cmd`). */
  freeForm?: string;
  /** YAML examples shown by `tsplay doc`. */
  examples?: string;
  /**
   * false for modules whose plan always changes (command, shell): the engine then does not
   * re-plan after apply to check idempotence.
   */
  idempotent?: boolean;
  /**
   * The module changes how its host is reached (addresses, routes, firewall, forwarding): the
   * engine applies its changes under a rollback armed on the host, kept only when a new SSH
   * connection still works afterwards. A task's `safe_network` keyword overrides it.
   */
  network?: boolean | ((args: Args) => boolean);
  /**
   * The task runs once for all hosts of the batch, on the first (Ansible's BYPASS_HOST_LOOP:
   * add_host, pause), and its result stands for every host, as with run_once.
   */
  runsOnce?: boolean;
  /** Read-only: probe the host and return its current state. */
  gather(ctx: ModuleContext, args: Args): Promise<State>;
  /**
   * Pure and synchronous: the changes that bring `current` to what `args` ask for. `predicted`
   * (check runs only; empty otherwise) holds what earlier tasks' plans published.
   */
  plan(current: State, args: Args, predicted?: Predicted): Plan;
  /** Make the planned changes; default: run every command in order, stop at the first failure. */
  apply?(ctx: ModuleContext, changes: Change[], args: Args, current: State): Promise<ApplyOutcome | void>;
}

/** Identity function that exists for type inference of a module definition. */
export function defineModule<Args, State>(def: ModuleDefinition<Args, State>): ModuleDefinition<Args, State> {
  return def;
}

/** Identity function that exists for type inference of a fact definition. */
export function defineFact<T, A = void>(def: FactDefinition<T, A>): FactDefinition<T, A> {
  return def;
}

/**
 * A converged plan: nothing to do on the host, and why. A result with `changed: true` reports a
 * change made on the controller only (add_host, group_by change the inventory), in check mode too.
 */
export function noop(reason: string, result?: Record<string, unknown>): Plan {
  return { changes: [], reason, result };
}

/** A failed plan: the module cannot do what was asked. */
export function planFailure(message: string, result?: Record<string, unknown>): Plan {
  return { changes: [], failed: message, result };
}

/** Run planned commands in order; the default apply. */
export async function runChanges(ctx: ModuleContext, changes: Change[]): Promise<ApplyOutcome> {
  for (const change of changes) {
    for (const c of change.commands) {
      const r = await ctx.run(c.cmd, { stdin: c.stdin });
      if (r.rc !== 0) {
        return {
          failed: `${change.summary}: command failed (rc=${r.rc}): ${(r.stderr || r.stdout).trim()}`,
          result: { rc: r.rc, stdout: r.stdout, stderr: r.stderr },
        };
      }
    }
  }
  return {};
}
