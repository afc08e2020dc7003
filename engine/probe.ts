// Several read-only probes in one round trip: a gather that needs the output of a few commands
// (a rule check, a listing, a file) runs them as ONE remote command and gets each one's exit code
// and output back by name. Public (engine/index.ts), the way every built-in gathers.
//
// The wire format, one line per probe, printed by the host's shell in the probes' order:
//   __tsplay_probe__ <name> <base64 of the output> <exit code>
// The output goes straight from the probe into base64 (no shell variable, which would lose NUL
// bytes and trailing newlines), so whatever a probe prints, markers included, cannot be mistaken
// for a line of the format; a probe that did not finish (the connection dropped) has no exit code
// and is left out.
import type { ModuleContext } from './module.js';
import { joinCommands, raw, sh, type ShellCommand } from './sh.js';

const MARK = '__tsplay_probe__';

/** One probe's outcome. A non-zero rc is data, not an error. */
export interface ProbeResult {
  /** The probe's exit code. */
  rc: number;
  /** What it printed (as UTF-8 text), in full: trailing newlines kept. */
  out: string;
  /** The same output as bytes, for output that is not text. */
  bytes: Buffer;
}

/**
 * A probe: a command whose standard output and error are both its output (in the order written),
 * or `{ cmd, stderr: 'pass' }` for one whose standard error is not (it goes to the whole
 * command's standard error, as an ExecResult's `stderr`).
 */
export type Probe = ShellCommand | { cmd: ShellCommand; stderr: 'pass' };

/** Options of probeAll and probeAllCommand. */
export interface ProbeOptions {
  /**
   * Shell run first, in the shell that runs the probes: the variables and functions it defines
   * are every probe's (a device name they all need, say). What it prints on stdout is dropped.
   */
  setup?: ShellCommand;
}

/** What the probes returned, by name; a probe that did not finish is missing. */
export type ProbeResults<K extends string> = { [name in K]?: ProbeResult };

/**
 * The one remote command that runs `probes` in order, each in a subshell of its own (its `exit`,
 * `cd` and variables stay its own), with no standard input; read its output with parseProbeAll.
 * Probe names are words of letters, digits, `_`, `.` and `-`. The host needs `base64` (coreutils).
 */
export function probeAllCommand(probes: Record<string, Probe>, opts: ProbeOptions = {}): ShellCommand {
  const steps: ShellCommand[] = [];
  if (opts.setup)
    steps.push(sh`{ ${opts.setup}
} >/dev/null`);
  for (const [name, probe] of Object.entries(probes)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name))
      throw new Error(`probeAll: probe names are words of letters, digits, _ . and -: ${JSON.stringify(name)}`);
    const cmd = probe instanceof Object && 'stderr' in probe ? probe.cmd : (probe as ShellCommand);
    const merge = !(probe instanceof Object && 'stderr' in probe);
    // the probe's output goes to base64 and on to the real stdout (3); its exit code comes back
    // through the command substitution (4); the probe itself holds neither descriptor
    steps.push(
      sh`printf '%s %s ' ${MARK} ${name}; r=$( { { (${cmd}
)${raw(merge ? ' 2>&1' : '')} 3>&- 4>&-; echo "$?" >&4; } | base64 -w0 >&3; } 4>&1 ); printf ' %s\\n' "$r"`,
    );
  }
  return sh`{ ${joinCommands(steps, '\n')}
} 3>&1 </dev/null`;
}

/** The results in the output of probeAllCommand, by name. */
export function parseProbeAll<K extends string = string>(stdout: string): ProbeResults<K> {
  const results: Record<string, ProbeResult> = {};
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(MARK + ' ')) continue;
    const [name, b64, rc] = line.slice(MARK.length + 1).split(' ');
    if (name === undefined || b64 === undefined || rc === undefined || !/^\d+$/.test(rc)) continue;
    const bytes = Buffer.from(b64, 'base64');
    results[name] = { rc: Number(rc), out: bytes.toString('utf8'), bytes };
  }
  return results as ProbeResults<K>;
}

/**
 * Run named probes on the host in ONE remote command and return each one's exit code and output
 * (see probeAllCommand): `const { check, rules } = await probeAll(ctx, { check: sh\`iptables -C
 * ...\`, rules: sh\`iptables -S\` })`. A probe that did not finish is missing from the result.
 */
export async function probeAll<K extends string>(
  ctx: Pick<ModuleContext, 'run'>,
  probes: Record<K, Probe>,
  opts: ProbeOptions = {},
): Promise<ProbeResults<K>> {
  const r = await ctx.run(probeAllCommand(probes, opts));
  return parseProbeAll<K>(r.stdout);
}
