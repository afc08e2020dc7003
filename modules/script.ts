// script: run a controller-side script on the host, as ansible.builtin.script does: the file
// (found in files/, vault-decrypted unless decrypt is false) goes to a private temporary
// directory on the host through the command's standard input, runs there with the rest of the
// command line (read by the host's shell, as Ansible does), and is removed, all in one round trip.
// creates/removes skip it; check mode skips it unless one of them is given.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { defineModule, noop, planFailure, probeAll, raw, readVaultFile, sh, shellSplit, type Plan } from '../engine/index.js';

/** script's arguments, complete after validation. */
export interface ScriptArgs {
  cmd: string;
  chdir?: string;
  creates?: string;
  removes?: string;
  executable?: string;
  decrypt: boolean;
}

/** What the gather found: the creates/removes paths and the script itself. */
export interface ScriptState {
  createsExists?: boolean;
  removesExists?: boolean;
  /** The controller file (undefined when creates/removes skip the task before it is looked up). */
  script?: { path: string; content: Buffer };
}

/** The script (its first word, unquoted) and the rest of the line as written. */
export function splitScriptLine(line: string): { script: string; rest: string } {
  const text = line.trim();
  let quote: string | null = null;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '\\') i++;
    else if (/\s/.test(c)) break;
  }
  return { script: shellSplit(text.slice(0, i))[0] ?? '', rest: text.slice(i).trim() };
}

/** The plan of script: skip it, refuse it, or run it. Pure. */
export function planScript(state: ScriptState, args: ScriptArgs): Plan {
  if (state.createsExists)
    return noop(`'${args.creates}' exists`, {
      skipped: true,
      changed: false,
      failed: false,
      msg: `${args.creates} exists, matching creates option`,
    });
  if (state.removesExists === false)
    return noop(`'${args.removes}' does not exist`, {
      skipped: true,
      changed: false,
      failed: false,
      msg: `${args.removes} does not exist, matching removes option`,
    });
  if (args.chdir !== undefined && !args.chdir.startsWith('/'))
    return planFailure(`chdir ${args.chdir} must be an absolute path for a Unix-aware remote node`);
  const { script } = splitScriptLine(args.cmd);
  if (!script) return planFailure('no script given: script: PATH [ARGS...] (or cmd:)');
  return {
    changes: [{ summary: `run the script ${script}`, commands: [] }],
    // Ansible's skipped result of check mode says failed: false too
    result: { failed: false },
    // as Ansible: with creates/removes, check mode predicts a change; without, it cannot say
    ...(args.creates === undefined && args.removes === undefined ? { outcomeUnknown: 'Check mode is not supported for this task.' } : {}),
  };
}

function lines(s: string): string[] {
  return s === '' ? [] : s.replace(/\r?\n$/, '').split(/\r?\n/);
}

export default defineModule<ScriptArgs, ScriptState>({
  name: 'script',
  aliases: ['ansible.builtin.script'],
  description:
    "Run a script from the controller on the host: `script: files/x.sh arg1 arg2` (the arguments are read by the host's shell). The file is found in files/ as copy finds it, decrypted when vault-encrypted (unless decrypt: false), sent through standard input to a private temporary directory, run (with `executable`, in `chdir`) and removed, in one round trip. The result is the command's: rc, stdout, stderr and their _lines. creates/removes skip it; check mode skips it unless one of them is given.",
  freeForm: 'cmd',
  idempotent: false,
  schema: {
    type: 'object',
    properties: {
      cmd: { type: 'string', description: 'The controller path of the script followed by its arguments (also the free-form text).' },
      chdir: { type: 'string', description: 'An absolute directory on the host to run it in.' },
      creates: { type: 'string', description: 'A path on the host; when it exists, the script is not run.' },
      removes: { type: 'string', description: 'A path on the host; when it does not exist, the script is not run.' },
      executable: {
        type: 'string',
        description: 'The program that runs the script (python3, /bin/bash); default: the script itself (its #! line).',
      },
      decrypt: { type: 'boolean', default: true, description: "Decrypt a vault-encrypted script with the run's vault secrets." },
    },
    required: ['cmd'],
    additionalProperties: false,
  },
  examples: `- name: Tune the SD card once
  script: files/tune-sd.sh --quiet
  args:
    creates: /etc/tsplay-sd-tuned

- name: A Python script
  script: report.py
  args:
    executable: python3`,
  async gather(ctx, args) {
    const state: ScriptState = {};
    const probes: Record<string, ReturnType<typeof sh>> = {};
    if (args.creates !== undefined) probes.creates = sh`[ -e ${args.creates} ]`;
    if (args.removes !== undefined) probes.removes = sh`[ -e ${args.removes} ]`;
    if (Object.keys(probes).length) {
      const r = await probeAll(ctx, probes);
      if (args.creates !== undefined) state.createsExists = r.creates?.rc === 0;
      if (args.removes !== undefined) state.removesExists = r.removes?.rc === 0;
      if (state.createsExists || state.removesExists === false) return state;
    }
    const { script } = splitScriptLine(args.cmd);
    if (!script) return state;
    const path = ctx.findFile('files', script);
    const plain = args.decrypt ? readVaultFile(path) : undefined;
    state.script = { path, content: plain !== undefined ? Buffer.from(plain, 'utf8') : readFileSync(path) };
    return state;
  },
  plan: planScript,
  async apply(ctx, _changes, args, state) {
    const { rest } = splitScriptLine(args.cmd);
    const name = posix.basename(state.script!.path);
    const file = raw(`"$__tsplay_d"/${sh`${name}`.text}`);
    const run = sh`${args.executable !== undefined ? raw(args.executable + ' ') : raw('')}${file}${raw(rest ? ' ' + rest : '')}`;
    const inDir = args.chdir !== undefined ? sh`cd ${args.chdir} && ${run}` : run;
    const r = await ctx.run(
      sh`__tsplay_d=$(mktemp -d "\${TMPDIR:-/tmp}/tsplay-script.XXXXXXXX") || exit 1
if cat > ${file} && chmod 700 ${file}; then ( ${inDir}
); __tsplay_rc=$?; else __tsplay_rc=1; fi
rm -rf "$__tsplay_d"; exit $__tsplay_rc`.inOwnShell(),
      { stdin: state.script!.content },
    );
    const result = {
      rc: r.rc,
      stdout: r.stdout,
      stderr: r.stderr,
      stdout_lines: lines(r.stdout),
      stderr_lines: lines(r.stderr),
      changed: true,
    };
    return r.rc === 0 ? { result } : { result, failed: 'non-zero return code' };
  },
});
