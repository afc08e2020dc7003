// The local connection: commands run with /bin/sh on the controller itself (`-c local`).
import { spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import type { Connection, ExecOptions, ExecResult } from '../module.js';
import type { ShellCommand } from '../sh.js';
import { becomeCommand, drive } from './exec.js';

export class LocalConnection implements Connection {
  readonly #user = userInfo().username;
  constructor(readonly host: string) {}

  exec(command: ShellCommand, opts: ExecOptions = {}): Promise<ExecResult> {
    // Becoming the user we already are needs no sudo (and works where sudo is absent).
    const o = opts.become && opts.become.user === this.#user ? { ...opts, become: undefined } : opts;
    const wrap = becomeCommand(command, o);
    const child = spawn('/bin/sh', ['-c', wrap.cmd.text], {
      env: { ...process.env, LC_ALL: 'C', ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    });
    return drive(
      {
        stdin: child.stdin,
        stdout: child.stdout,
        stderr: child.stderr,
        kill: () => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            /* already gone */
          }
        },
        exited,
      },
      o,
      wrap,
    );
  }

  async close(): Promise<void> {}
}
