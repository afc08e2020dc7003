// The `tsplay` command (engine/tsplay.cts): the one-file build with V8's code cache, and the ES
// module program when the bundle is missing or older than the tsc output. Each test works on a
// copy of dist/ inside the project, so that the bundle's dependencies resolve as they do for users.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const VERSION = JSON.parse(readFileSync('package.json', 'utf8')).version as string;
const copies: string[] = [];

function copyOfDist(): string {
  const root = mkdtempSync(resolve('.launcher-test-'));
  copies.push(root);
  cpSync(resolve('dist'), join(root, 'dist'), { recursive: true, preserveTimestamps: true });
  cpSync(resolve('package.json'), join(root, 'package.json'));
  return join(root, 'dist', 'engine');
}

function tsplay(engine: string, ...args: string[]) {
  return spawnSync(process.execPath, [join(engine, 'tsplay.cjs'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
}

afterEach(() => {
  for (const c of copies.splice(0)) rmSync(c, { recursive: true, force: true });
});

describe('the tsplay command', () => {
  it("the build leaves a bundle and a code cache keyed by the Node version and the build's id", () => {
    const bundle = resolve('dist/engine/cli.bundle.cjs');
    const cache = readFileSync(`${bundle}.cache`);
    const id = /^[/][/] tsplay build ([0-9a-f-]{36})$/m.exec(readFileSync(bundle, 'utf8').slice(0, 300))?.[1];
    expect(id).toBeDefined();
    const key = `tsplay-code-cache ${process.version} ${process.arch} ${id}\n`;
    expect(cache.subarray(0, key.length).toString()).toBe(key);
    expect(cache.length).toBeGreaterThan(key.length + 100_000); // compiled code, not just the top level
  });

  it('the build leaves dist/engine/tsplay.cjs executable: it runs by its #! line, as npm link and the README run it', () => {
    const file = resolve('dist/engine/tsplay.cjs');
    expect(statSync(file).mode & 0o111).toBe(0o111);
    const r = spawnSync(file, ['--version'], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it('writes the cache when there is none, then reads it without writing it again', () => {
    const engine = copyOfDist();
    const cache = join(engine, 'cli.bundle.cjs.cache');
    rmSync(cache);
    const first = tsplay(engine, '--version');
    expect(first.stderr).toBe('');
    expect(first.stdout.trim()).toBe(VERSION);
    const written = readFileSync(cache);
    expect(written.toString('latin1', 0, 18)).toBe('tsplay-code-cache ');
    utimesSync(cache, new Date(1_000_000), new Date(1_000_000));
    const second = tsplay(engine, '--version');
    expect(second.stdout.trim()).toBe(VERSION);
    expect(statSync(cache).mtimeMs).toBe(1_000_000);
    expect(readFileSync(cache).equals(written)).toBe(true);
  });

  it('a cache V8 refuses (damaged, or another build) is replaced, and the run is unaffected', () => {
    const engine = copyOfDist();
    const cache = join(engine, 'cli.bundle.cjs.cache');
    const good = readFileSync(cache);
    const key = good.subarray(0, good.indexOf(10) + 1);
    writeFileSync(cache, Buffer.concat([key, Buffer.alloc(50_000, 7)]));
    const r = tsplay(engine, '--version');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(VERSION);
    const now = readFileSync(cache);
    expect(now.subarray(0, key.length).equals(key)).toBe(true);
    expect(now.subarray(key.length).equals(Buffer.alloc(50_000, 7))).toBe(false);

    writeFileSync(cache, Buffer.concat([Buffer.from('tsplay-code-cache v0.0.0 x 1 1\n'), good.subarray(key.length)]));
    expect(tsplay(engine, '--version').stdout.trim()).toBe(VERSION);
    expect(readFileSync(cache).subarray(0, key.length).equals(key)).toBe(true);
  });

  it('runs the ES module program when the bundle is older than dist/engine/cli.js, or missing', () => {
    const engine = copyOfDist();
    const bundle = join(engine, 'cli.bundle.cjs');
    writeFileSync(bundle, "throw new Error('the bundle ran');\n");
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(engine, 'cli.js'), past, past);
    const fresh = tsplay(engine, '--version');
    expect(fresh.stderr).toContain('the bundle ran'); // the control: a newer bundle is what runs
    expect(fresh.status).not.toBe(0);

    utimesSync(bundle, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    const stale = tsplay(engine, '--version');
    expect(stale.stderr).toBe('');
    expect(stale.stdout.trim()).toBe(VERSION);

    rmSync(bundle);
    const missing = tsplay(engine, '--version');
    expect(missing.stdout.trim()).toBe(VERSION);
    expect(existsSync(`${bundle}.cache`)).toBe(true); // left alone: it names a bundle that is gone
  });

  it('publishes under the same names as engine/index.ts (engine/api-bridge.ts)', async () => {
    const api = await import('../../engine/index.js');
    (globalThis as Record<symbol, unknown>)[Symbol.for('tsplay.api')] ??= api;
    const bridge = await import('../../engine/api-bridge.js');
    expect(Object.keys(bridge).sort()).toEqual(Object.keys(api).sort());
    expect(bridge.ShellCommand).toBe(api.ShellCommand);
  });
});
