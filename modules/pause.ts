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

// Enter on the controlling terminal; none (CI, pipes): nothing to wait for
async function readLine(prompt: string): Promise<string | undefined> {
  let input: ReadStream;
  try {
    input = new ReadStream(openSync('/dev/tty', 'r'));
  } catch {
    return undefined;
  }
  const rl = createInterface({ input, output: process.stderr });
  try {
    return await new Promise<string>((res) => rl.question(`${prompt}:\n`, res));
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
    const secs = args.seconds !== undefined ? Number(args.seconds) : args.minutes !== undefined ? Number(args.minutes) * 60 : undefined;
    if (secs !== undefined && !Number.isFinite(secs))
      return {
        start,
        stop: start,
        input: '',
        error: `non-integer value given for prompt duration:\n${String(args.seconds ?? args.minutes)}`,
      };
    let input = '';
    if (secs !== undefined) {
      ctx.log(1, `Pausing for ${secs} seconds`);
      await new Promise((r) => setTimeout(r, secs * 1000));
    } else {
      const line = await readLine(args.prompt ?? '[pause]\nPress enter to continue, Ctrl+C to interrupt');
      if (line === undefined) ctx.log(1, 'Not waiting for response to prompt as there is no terminal');
      input = line ?? '';
    }
    const stop = new Date();
    // Python prints the rounded float: 1.0, 0.02
    const pyFloat = (x: number) => (Number.isInteger(x) ? x.toFixed(1) : String(x));
    const waited =
      args.minutes !== undefined && args.seconds === undefined
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
