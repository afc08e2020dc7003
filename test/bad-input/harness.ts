// Runs a bad-input case: writes its project to a temporary directory and runs the CLI in-process
// with a connection opener that records every attempt (and runs on the controller).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { main } from '../../engine/cli.js';
import { LocalConnection } from '../../engine/connection/local.js';
import { HOSTS_INI, type BadInputCase } from './corpus.js';

export interface CaseRun {
  dir: string;
  code: number;
  out: string;
  err: string;
  /** Hosts a connection was opened to. */
  contacted: string[];
}

export function materialize(c: BadInputCase): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-bad-'));
  const files: Record<string, string> = { 'hosts.ini': HOSTS_INI, ...c.files };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

export async function runCase(c: BadInputCase): Promise<CaseRun> {
  const dir = materialize(c);
  const contacted: string[] = [];
  let out = '';
  let err = '';
  const code = await main(c.args ?? ['run', 'site.yml', '-i', 'hosts.ini'], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' },
    output: { out: (t) => (out += t), err: (t) => (err += t), isTTY: false },
    opener: {
      async open(host) {
        contacted.push(host);
        return new LocalConnection(host);
      },
    },
    prompt: async () => {
      throw new Error('no prompt expected');
    },
  });
  return { dir, code, out, err, contacted };
}
