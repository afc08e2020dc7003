// command: run a program with its arguments, no shell (pipes and redirections are plain words).
import { defineModule, planFailure, quote, raw, sh, shellSplit, type ModuleContext, type ShellCommand } from '../engine/index.js';
import type { Change, Plan } from '../engine/index.js';

/** Arguments shared by command and shell. */
export interface CommandArgs {
  cmd?: string;
  argv?: string[];
  chdir?: string;
  creates?: string;
  removes?: string;
  stdin?: string;
  stdin_add_newline: boolean;
  strip_empty_ends: boolean;
  executable?: string;
  expand_argument_vars?: boolean;
}

/** What gather found about creates= / removes=. */
export interface CommandState {
  createsExists?: boolean;
  removesExists?: boolean;
}

export const commandProperties = {
  cmd: { type: 'string', description: 'The command to run (also the free-form text).' },
  chdir: { type: 'string', description: 'Change into this directory before running.' },
  creates: { type: 'string', description: 'A path; when it already exists, the command is not run.' },
  removes: { type: 'string', description: 'A path; when it does not exist, the command is not run.' },
  stdin: { type: 'string', description: 'Text fed to the command on standard input.' },
  stdin_add_newline: { type: 'boolean', default: true, description: 'Append a newline to stdin.' },
  strip_empty_ends: { type: 'boolean', default: true, description: 'Strip trailing newlines from stdout and stderr.' },
} as const;

/** One remote command that answers creates= and removes= (0 round trips when neither is set). */
export async function gatherPaths(ctx: ModuleContext, args: CommandArgs): Promise<CommandState> {
  const paths = [args.creates, args.removes].filter((p): p is string => p !== undefined);
  if (paths.length === 0) return {};
  const cd = args.chdir ? sh`cd ${args.chdir} 2>/dev/null; ` : sh``;
  const r = await ctx.run(sh`${cd}for p in ${paths}; do if [ -e "$p" ]; then echo yes; else echo no; fi; done`);
  const answers = r.stdout.trim().split('\n');
  const state: CommandState = {};
  let i = 0;
  if (args.creates !== undefined) state.createsExists = answers[i++] === 'yes';
  if (args.removes !== undefined) state.removesExists = answers[i] === 'yes';
  return state;
}

/** The plan of command and shell: run, unless creates/removes say it is not needed. */
export function planCommand(state: CommandState, args: CommandArgs, display: unknown, what: string): Plan {
  if (state.createsExists) {
    return {
      changes: [],
      reason: `'${args.creates}' exists`,
      result: {
        cmd: display,
        rc: 0,
        stdout: `skipped, since ${args.creates} exists`,
        stderr: '',
        msg: `Did not run command since '${args.creates}' exists`,
      },
    };
  }
  if (state.removesExists === false) {
    return {
      changes: [],
      reason: `'${args.removes}' does not exist`,
      result: {
        cmd: display,
        rc: 0,
        stdout: `skipped, since ${args.removes} does not exist`,
        stderr: '',
        msg: `Did not run command since '${args.removes}' does not exist`,
      },
    };
  }
  return {
    changes: [{ summary: `run ${what}`, commands: [] }],
    outcomeUnknown: 'Command would have run if not in check mode',
    // Ansible's check-mode result of command and shell: the output fields are there, empty (a
    // later `when: out.stdout == ''` must not fail in --check); a real run fills them
    result: { cmd: display, rc: 0, stdout: '', stderr: '', stdout_lines: [], stderr_lines: [], start: null, end: null, delta: null },
  };
}

function strip(s: string, yes: boolean): string {
  return yes ? s.replace(/[\r\n]+$/, '') : s;
}

/** Run the command and shape Ansible's result (rc, stdout, stdout_lines, start, end, delta). */
export async function runCommand(
  ctx: ModuleContext,
  command: ShellCommand,
  args: CommandArgs,
  display: unknown,
): Promise<{ result: Record<string, unknown>; failed?: string }> {
  const full = args.chdir ? sh`cd ${args.chdir} || exit 1; ${command}` : command;
  const start = new Date();
  const stdin = args.stdin !== undefined ? args.stdin + (args.stdin_add_newline ? '\n' : '') : undefined;
  // the user's text gets a /bin/sh of its own, as Ansible's command and shell give it
  const r = await ctx.run(full.inOwnShell(), { stdin });
  const end = new Date();
  const stdout = strip(r.stdout, args.strip_empty_ends);
  const stderr = strip(r.stderr, args.strip_empty_ends);
  const result = {
    cmd: display,
    rc: r.rc,
    stdout,
    stderr,
    stdout_lines: stdout === '' ? [] : stdout.split('\n'),
    stderr_lines: stderr === '' ? [] : stderr.split('\n'),
    start: timestamp(start),
    end: timestamp(end),
    delta: delta(end.getTime() - start.getTime()),
    msg: r.rc === 0 ? '' : 'non-zero return code',
  };
  // a command that ran reports changed, also when it failed (changed_when may say otherwise)
  return r.rc === 0 ? { result } : { result: { ...result, changed: true }, failed: 'non-zero return code' };
}

function timestamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`;
}

function delta(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.${String((ms % 1000) * 1000).padStart(6, '0')}`;
}

export default defineModule<CommandArgs, CommandState>({
  name: 'command',
  aliases: ['ansible.builtin.command'],
  description:
    'Run a command on the host, without a shell: arguments are split like a shell would, but variables, pipes and redirections are not interpreted (use shell for those). Always reports changed unless creates/removes or changed_when decide; skipped in check mode unless creates/removes decide.',
  freeForm: 'cmd',
  idempotent: false,
  schema: {
    type: 'object',
    properties: {
      ...commandProperties,
      argv: { type: 'array', items: { type: 'string' }, description: 'The command as a list of words (instead of cmd).' },
      expand_argument_vars: {
        type: 'boolean',
        default: true,
        description:
          'Expand a leading ~ and $NAME / ${NAME} of the environment in each word, as Python does on the host (unset ones stay as written); false passes the words as written.',
      },
    },
    mutuallyExclusive: [['cmd', 'argv']],
    requiredOneOf: [['cmd', 'argv']],
    additionalProperties: false,
  },
  examples: `- name: Show memory
  command: free -h

- name: Create the database once
  command: /usr/local/bin/initdb /srv/db
  args:
    creates: /srv/db/PG_VERSION`,
  gather: gatherPaths,
  plan(state, args) {
    let argv: string[];
    try {
      argv = argvOf(args);
    } catch (e) {
      // Ansible's shlex error: the task fails on this host; the run goes on
      if (!(e instanceof SyntaxError)) throw e;
      return planFailure(
        `No closing quotation in the command: ${args.cmd} (a quote inside a variable's value? use \`{{ v | quote }}\`, or argv:)`,
      );
    }
    return planCommand(state, args, argv, 'command');
  },
  async apply(ctx, _changes: Change[], args) {
    const argv = argvOf(args);
    return runCommand(ctx, argvCommand(argv, args.expand_argument_vars !== false), args, argv);
  },
});

/**
 * The words as one command, each quoted; with `expand`, as Ansible's command module runs them
 * (Python's expanduser and expandvars on each word, on the host): a leading `~` or `~user`, and
 * `$NAME` / `${NAME}` of the environment; a variable that is not set stays as written.
 */
export function argvCommand(argv: string[], expand: boolean): ShellCommand {
  if (!expand || !argv.some((w) => w.includes('$') || w.startsWith('~'))) return sh`${argv}`;
  const fallbacks: string[] = [];
  const words = argv.map((w) => {
    let out = '';
    let rest = w;
    const tilde = /^~([A-Za-z0-9._-]*)(?=\/|$)/.exec(w);
    if (tilde) {
      out += tilde[0]; // unquoted: the shell expands it, or leaves an unknown user's as written
      rest = w.slice(tilde[0].length);
    }
    let last = 0;
    for (const m of rest.matchAll(/\$(\w+|\{(\w+)\})/g)) {
      if (m.index! > last) out += quote(rest.slice(last, m.index));
      fallbacks.push(m[0]);
      out += `"\${${m[2] ?? m[1]}-$__tsplay_w${fallbacks.length}}"`;
      last = m.index! + m[0].length;
    }
    if (last < rest.length) out += quote(rest.slice(last));
    return out || "''";
  });
  const assigns = fallbacks.map((f, i) => `__tsplay_w${i + 1}=${quote(f)}; `).join('');
  return sh`${raw(assigns + words.join(' '))}`;
}

function argvOf(args: CommandArgs): string[] {
  return args.argv ?? shellSplit(args.cmd ?? '');
}
