// The local connection: commands run with /bin/sh on the controller itself (`-c local`).
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import type { Connection, ExecOptions, ExecResult } from '../module.js';
import type { ShellCommand } from '../sh.js';
import { wrapBecome } from './become.js';

export class LocalConnection implements Connection {
  readonly #user = userInfo().username;
  constructor(readonly host: string) {}

  exec(command: ShellCommand, opts: ExecOptions = {}): Promise<ExecResult> {
    // Becoming the user we already are needs no sudo (and works where sudo is absent).
    const cmd =
      opts.become && opts.become.user !== this.#user ? wrapBecome(command, opts.become) : command;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', cmd.text], {
        env: { ...process.env, LC_ALL: 'C', ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer =
        opts.timeoutMs !== undefined
          ? setTimeout(() => {
              timedOut = true;
              try {
                process.kill(-child.pid!, 'SIGKILL');
              } catch {
                /* already gone */
              }
            }, opts.timeoutMs)
          : undefined;
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e) => {
        if (timer) clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({
          rc: timedOut ? 124 : code ?? (signal ? 128 + 9 : 1),
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        });
      });
      child.stdin.on('error', () => {
        /* the command may exit without reading its input */
      });
      child.stdin.end(opts.stdin ?? '');
    });
  }

  async close(): Promise<void> {}
}
