// pause: wait a while (or for Enter on a terminal), once for all hosts of the task.
import { defineModule, noop, planFailure } from '../engine/index.js';
import { createInterface } from 'node:readline';
import { openSync } from 'node:fs';
import { ReadStream } from 'node:tty';

interface Args {
  seconds?: number | string;
  minutes?: number | string;
  prompt?: string;
  echo: boolean;
}

interface State {
  start: Date;
  stop: Date;
  input: string;
  waited?: string;
  error?: string;
}

function stamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`;
}

// Enter on the controlling terminal (the prompt is already shown); none (CI, pipes): nothing
// to wait for
async function readLine(): Promise<string | undefined> {
  if (!process.stdin.isTTY) return undefined;
  let input: ReadStream;
  try {
    input = new ReadStream(openSync('/dev/tty', 'r'));
  } catch {
    return undefined;
  }
  const rl = createInterface({ input, output: process.stderr });
  try {
    return await new Promise<string>((res) => rl.question('', res));
  } finally {
    rl.close();
    input.destroy();
  }
}

export default defineModule<Args, State>({
  name: 'pause',
  aliases: ['ansible.builtin.pause'],
  description: 'Wait for seconds or minutes, or for Enter at a prompt on a terminal; runs once for all hosts of the task.',
  schema: {
    type: 'object',
    properties: {
      seconds: { type: ['number', 'string'], description: 'Seconds to wait.' },
      minutes: { type: ['number', 'string'], description: 'Minutes to wait.' },
      prompt: { type: 'string', description: 'Text to show while waiting for Enter (terminal only).' },
      echo: { type: 'boolean', default: true, description: 'Show what is typed at the prompt.' },
    },
    additionalProperties: false,
  },
  runsOnce: true,
  examples: `- pause:
    seconds: 30
- pause:
    prompt: Check the switch lights, then press Enter`,
  async gather(ctx, args) {
    const start = new Date();
    const fail = (error: string): State => ({ start, stop: start, input: '', error });
    if (args.minutes !== undefined && args.seconds !== undefined) return fail('parameters are mutually exclusive: minutes|seconds');
    // Ansible 2.14 reads both with Python's int(): a float is truncated, text must be an integer
    let secs: number | undefined;
    for (const key of ['minutes', 'seconds'] as const) {
      const v = args[key];
      if (v === undefined) continue;
      let n: number;
      if (typeof v === 'number') n = Math.trunc(v);
      else if (/^\s*[-+]?\d+\s*$/.test(v)) n = Number(v);
      else
        return fail(
          `argument '${key}' is of type <class 'str'> and we were unable to convert to int: invalid literal for int() with base 10: '${v}'`,
        );
      secs = key === 'minutes' ? n * 60 : n;
    }
    const hidden = args.echo ? '' : ' (output is hidden)';
    const prompt = `[${ctx.taskName ?? 'pause'}]\n${args.prompt ?? 'Press enter to continue, Ctrl+C to interrupt'}${hidden}:`;
    const show = (line: string) => (ctx.display ? ctx.display(line) : ctx.log(1, line));
    let input = '';
    if (secs !== undefined) {
      // at least a second, as Ansible's alarm
      secs = Math.max(secs, 1);
      show(`Pausing for ${secs} seconds${hidden}`);
      show("(ctrl+C then 'C' = continue early, ctrl+C then 'A' = abort)\r");
      if (args.prompt !== undefined) show(prompt);
      await new Promise((r) => setTimeout(r, secs! * 1000));
    } else {
      show(prompt);
      const line = await readLine();
      if (line === undefined) {
        const why = 'Not waiting for response to prompt as stdin is not interactive';
        if (ctx.warn) ctx.warn(why);
        else ctx.log(1, why);
      }
      input = line ?? '';
    }
    const stop = new Date();
    // Python prints the rounded float: 1.0, 0.02
    const pyFloat = (x: number) => (Number.isInteger(x) ? x.toFixed(1) : String(x));
    const waited =
      args.minutes !== undefined
        ? `Paused for ${pyFloat(Number(((stop.getTime() - start.getTime()) / 60000).toFixed(2)))} minutes`
        : `Paused for ${pyFloat(Number(((stop.getTime() - start.getTime()) / 1000).toFixed(2)))} seconds`;
    return { start, stop, input, waited };
  },
  plan(state, args) {
    if (state.error) return planFailure(state.error);
    return noop('paused', {
      delta: Math.round((state.stop.getTime() - state.start.getTime()) / 1000),
      echo: args.echo,
      rc: 0,
      start: stamp(state.start),
      stop: stamp(state.stop),
      stderr: '',
      stdout: state.waited,
      user_input: state.input,
    });
  },
});
