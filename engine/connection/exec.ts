// The one place where a command meets a process or SSH channel: stdin, output, timeout, and sudo
// with a password (written only after sudo's prompt is seen, Ansible's BECOME-SUCCESS marker
// telling whether sudo asked at all).
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import type { ExecOptions, ExecResult } from '../module.js';
import { sh, type ShellCommand } from '../sh.js';

/** A started command: its three streams, a way to kill it, and its exit. */
export interface Proc {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  kill(): void;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Wraps a command for become, and says what to watch for. */
export function becomeCommand(cmd: ShellCommand, opts: ExecOptions): { cmd: ShellCommand; prompt?: string; marker?: string } {
  if (!opts.become) return { cmd };
  const id = randomBytes(8).toString('hex');
  const marker = `BECOME-SUCCESS-${id}`;
  const inner = sh`echo ${marker}; ${cmd}`.text;
  if (opts.become.password === undefined) {
    return { cmd: sh`sudo -H -n -u ${opts.become.user} /bin/sh -c ${inner}`, marker };
  }
  const prompt = `[sudo via tsplay, key=${id}] password:`;
  return { cmd: sh`sudo -H -S -p ${prompt} -u ${opts.become.user} /bin/sh -c ${inner}`, prompt, marker };
}

/** What a command may print, per stream, unless the run sets otherwise (TSPLAY_MAX_OUTPUT). */
export const DEFAULT_MAX_OUTPUT_BYTES = 100_000_000;

/** `100M`, `2G`, `65536`: a size in bytes (K, M, G are powers of 1000, KiB, MiB, GiB of 1024). */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(|k|m|g|kb|mb|gb|kib|mib|gib)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = m[2]!.toLowerCase();
  const scale = unit.includes('i') ? 1024 ** ' kmg'.indexOf(unit[0]!) : 1000 ** Math.max(0, ' kmg'.indexOf(unit[0] ?? ' '));
  const n = Math.floor(Number(m[1]) * scale);
  return n > 0 ? n : undefined;
}

/** Drive a started process: feed stdin (after sudo's prompt and marker), collect output, enforce the timeout. */
export function drive(proc: Proc, opts: ExecOptions, wrap: { prompt?: string; marker?: string }): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    // Output is kept in memory, and a string holds at most about 512 MB: a command that prints
    // more than the limit is stopped, and fails saying so, instead of crashing the controller.
    const max = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const kept = { stdout: 0, stderr: 0 };
    let overflow: string | undefined;
    const keep = (stream: 'stdout' | 'stderr', into: Buffer[], d: Buffer) => {
      if (overflow) return;
      kept[stream] += d.length;
      if (kept[stream] > max) {
        overflow = `the command printed more than ${max} bytes on ${stream}, the most tsplay keeps (TSPLAY_MAX_OUTPUT): it was stopped. Send large output to a file on the host instead`;
        out.length = 0;
        err.length = 0;
        proc.kill();
        return;
      }
      into.push(d);
    };
    let errText = '';
    let outText = '';
    let becomeDone = !wrap.marker;
    let passwordSent = false;
    let failure: string | undefined;
    let timedOut = false;
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            proc.kill();
          }, opts.timeoutMs)
        : undefined;
    const onAbort = () => proc.kill();
    if (opts.signal?.aborted) proc.kill();
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const sendInput = () => {
      proc.stdin.on('error', () => undefined);
      proc.stdin.end(opts.stdin ?? '');
    };
    const afterMarker = () => {
      becomeDone = true;
      sendInput();
    };

    proc.stdout.on('data', (d: Buffer) => {
      if (becomeDone) {
        keep('stdout', out, d);
        return;
      }
      outText += d.toString('utf8');
      const i = outText.indexOf(wrap.marker! + '\n');
      if (i >= 0) {
        const rest = outText.slice(i + wrap.marker!.length + 1);
        if (rest) out.push(Buffer.from(rest));
        afterMarker();
      }
    });
    proc.stderr.on('data', (d: Buffer) => {
      if (becomeDone || !wrap.prompt) {
        keep('stderr', err, d);
        return;
      }
      errText += d.toString('utf8');
      const count = errText.split(wrap.prompt).length - 1;
      if (count === 1 && !passwordSent) {
        passwordSent = true;
        proc.stdin.write(opts.become!.password!.reveal() + '\n');
      } else if (count > 1) {
        failure = 'Incorrect sudo password';
        proc.kill();
      }
    });
    if (!wrap.marker) sendInput();
    else if (!wrap.prompt) {
      // sudo -n never reads stdin; the command's input goes after the marker.
    }
    proc.exited.then(
      (code) => {
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        const stderr = Buffer.concat(err).toString('utf8') + (becomeDone ? '' : errText.split(wrap.prompt ?? '\u0000').join(''));
        if (failure) {
          resolve({ rc: 1, stdout: '', stderr: failure });
          return;
        }
        if (overflow) {
          resolve({ rc: 1, stdout: '', stderr: overflow });
          return;
        }
        if (!becomeDone && wrap.marker) {
          const msg = /a password is required|a terminal is required/.test(stderr)
            ? 'Missing sudo password (use -K, --become-password-file or ansible_become_password)'
            : stderr.trim() || 'privilege escalation failed';
          resolve({ rc: code ?? 1, stdout: outText, stderr: msg });
          return;
        }
        resolve({
          rc: timedOut ? 124 : (code ?? 137),
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: timedOut ? stderr + `\ncommand timed out after ${opts.timeoutMs} ms` : stderr,
        });
      },
      (e) => {
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
