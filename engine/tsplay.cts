#!/usr/bin/env node
// The `tsplay` command. It runs the one-file build of the CLI (dist/engine/cli.bundle.cjs, made by
// engine/build/bundle.ts) with V8's code cache, so that a run starts without parsing or compiling
// most of tsplay again; Node 20 has no compile cache of its own (module.enableCompileCache came in
// Node 22). The cache is a file beside the bundle, written at build time and again whenever V8
// refuses it (another Node version); it is keyed by the Node version and by the build's id, which
// the bundle's first lines carry, because V8 itself checks little more than the source's length. Without the bundle, or
// when dist/engine/cli.js is newer (a tsc-only build since), it runs dist/engine/cli.js: the same
// program as ES modules, only slower to start.
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import vm from 'node:vm';

const BUNDLE = join(__dirname, 'cli.bundle.cjs');
const CACHE = `${BUNDLE}.cache`;

interface Cli {
  runAsProcess(): void;
}

function load(): Cli | undefined {
  let source: string;
  let key: string;
  try {
    const st = statSync(BUNDLE);
    // a tsc-only build after the bundle was made: the bundle is stale, run the new code instead
    if (statSync(join(__dirname, 'cli.js')).mtimeMs > st.mtimeMs) return undefined;
    source = readFileSync(BUNDLE, 'utf8');
    key = `tsplay-code-cache ${process.version} ${process.arch} ${/tsplay build ([0-9a-f-]+)/.exec(source.slice(0, 300))?.[1]}\n`;
  } catch {
    return undefined;
  }
  let cachedData: Buffer | undefined;
  try {
    const buf = readFileSync(CACHE);
    if (buf.subarray(0, key.length).toString() === key) cachedData = buf.subarray(key.length);
  } catch {
    // no cache yet: this run writes one
  }
  const wrapped = Module.wrap(source.startsWith('#!') ? `//${source.slice(2)}` : source);
  const script = new vm.Script(wrapped, {
    filename: BUNDLE,
    cachedData,
  });
  if (!cachedData || script.cachedDataRejected) {
    // at exit, so that the cache holds the functions this run compiled, not only the top level
    process.once('exit', () => {
      const tmp = `${CACHE}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, Buffer.concat([Buffer.from(key), script.createCachedData()]));
        renameSync(tmp, CACHE);
      } catch {
        rmSync(tmp, { force: true }); // a read-only install runs without the cache
      }
    });
  }
  const mod = new Module(BUNDLE, module);
  mod.filename = BUNDLE;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(__dirname);
  const fn = script.runInThisContext() as (...args: unknown[]) => void;
  fn.call(mod.exports, mod.exports, Module.createRequire(BUNDLE), mod, BUNDLE, __dirname);
  mod.loaded = true;
  return mod.exports as Cli;
}

// import() inside code restored from V8's cache has no loader; the bundle borrows this file's
// (engine/paths.ts, importAtRunTime). Specifiers resolve from dist/engine/, as the bundle's would.
(globalThis as Record<symbol, unknown>)[Symbol.for('tsplay.import')] = (specifier: string) => import(specifier);

const cli = load();
if (cli) cli.runAsProcess();
else void import('./cli.js').then((m: Cli) => m.runAsProcess());
