// Run the CLI in-process against a temporary project directory, with -c local.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { main } from '../../engine/cli.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** A temporary directory with the given files (paths relative to it). */
export function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-e2e-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Run `tsplay ARGS` in `cwd` and capture its output and exit code. */
export async function tsplay(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await main(args, {
    cwd,
    env: { ...process.env, NO_COLOR: '1', TSPLAY_VERIFY_IDEMPOTENCE: '1', ...env },
    output: { out: (t) => (out += t), err: (t) => (err += t), isTTY: false },
  });
  return { code, out, err };
}

/** The PLAY RECAP line of a host, parsed. */
export function recap(out: string, host: string): Record<string, number> {
  const line = out.split('\n').find((l) => l.startsWith(host + ' ') && l.includes(' : ok='));
  if (!line) throw new Error(`no recap line for ${host} in:\n${out}`);
  return Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
}
