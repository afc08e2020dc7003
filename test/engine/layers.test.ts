// The engine's layers (CONTRIBUTING.md, "Layers"): imports flow one way, from the command line
// down to the primitives, so that each layer can be read, tested and changed knowing only the
// layers below it:
//
//   build -> cli -> modules -> public entry -> report -> run -> load -> expr -> connection -> primitives
//
// A file may import files of its own layer and of any layer below it, never above. modules/ sees
// the engine only through its public entry (engine/index.ts, what `import ... from 'tsplay'`
// gets). lab/ is a product of its own beside the engine: it may use the engine's primitives, and
// the engine reaches it only through the `tsplay lab` command's entry (lab/cli.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/** The engine's layers, highest first; `holds` takes a path relative to the repository. */
const LAYERS: { name: string; holds: (file: string) => boolean }[] = [
  { name: 'build', holds: (f) => f.startsWith('engine/build/') },
  // the command line: `tsplay` and its subcommands (vault, schema)
  { name: 'cli', holds: (f) => ['engine/cli.ts', 'engine/tsplay.cts', 'engine/vault-cli.ts', 'engine/schema.ts'].includes(f) },
  { name: 'modules', holds: (f) => f.startsWith('modules/') },
  { name: 'public entry', holds: (f) => ['engine/index.ts', 'engine/api-bridge.ts'].includes(f) },
  { name: 'report', holds: (f) => f.startsWith('engine/report/') },
  { name: 'run', holds: (f) => f.startsWith('engine/run/') },
  { name: 'load', holds: (f) => f.startsWith('engine/load/') },
  { name: 'expr', holds: (f) => f.startsWith('engine/expr/') },
  { name: 'connection', holds: (f) => f.startsWith('engine/connection/') },
  // errors, sh, module, files, paths, redact, unsafe, file-cache, vault...: what every layer uses
  { name: 'primitives', holds: (f) => /^engine\/[^/]+\.c?ts$/.test(f) },
];
const PRIMITIVES = LAYERS.length - 1;

/** The one way into lab/ from the engine: the `tsplay lab` command, which loads the rest lazily. */
const LAB_ENTRY = { from: 'engine/cli.ts', to: 'lab/cli.ts' };

/**
 * Built-in modules whose imports still reach past the public entry, with those imports. The
 * toolkit branch moves what they need into the public API and empties this list; an entry that
 * is no longer needed fails the test, so that the list only ever shrinks.
 */
const MODULES_NOT_YET_ON_PUBLIC_API: Record<string, string[]> = {};

/** Every module specifier a file imports or re-exports: static, type-only, dynamic, require. */
export function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

function layerOf(file: string): number | undefined {
  const i = LAYERS.findIndex((l) => l.holds(file));
  return i < 0 ? undefined : i;
}

/**
 * Why `from` may not import `specifier`, or undefined when it may. `from` is relative to the
 * repository; `specifier` as written in the file.
 */
export function crossing(from: string, specifier: string, allowed: readonly string[] = []): string | undefined {
  if (specifier.startsWith('node:') || allowed.includes(specifier)) return undefined;
  const what = `${from} imports '${specifier}'`;
  const isModule = from.startsWith('modules/');
  if (!specifier.startsWith('.')) {
    if (!isModule) return undefined; // a dependency from npm
    return specifier === 'tsplay' ? undefined : `${what}: a built-in module uses tsplay's public entry and Node's builtins only`;
  }
  const to = relative(root, resolve(root, dirname(from), specifier)).replace(/\.(c?)js$/, '.$1ts');
  if (isModule) {
    if (to.startsWith('modules/') || to === 'engine/index.ts') return undefined;
    return `${what} (${to}): a built-in module sees the engine only through its public entry, ../engine/index.js, as custom modules do`;
  }
  if (from.startsWith('lab/')) {
    if (to.startsWith('lab/') || layerOf(to) === PRIMITIVES) return undefined;
    return `${what} (${to}): lab/ may use the engine's primitives (engine/*.ts) only`;
  }
  const source = layerOf(from);
  if (source === undefined) return `${from} is in no layer: add its folder to LAYERS in test/engine/layers.test.ts`;
  if (to.startsWith('lab/')) {
    if (from === LAB_ENTRY.from && to === LAB_ENTRY.to) return undefined;
    return `${what} (${to}): the engine reaches lab/ only through ${LAB_ENTRY.to}, from ${LAB_ENTRY.from}`;
  }
  const target = layerOf(to);
  if (target === undefined) return `${what} (${to}): outside engine/, modules/ and lab/`;
  if (target >= source) return undefined;
  return (
    `${what} (${to}): ${LAYERS[source]!.name} may not import ${LAYERS[target]!.name}; imports flow ` +
    `${LAYERS.map((l) => l.name).join(' -> ')}: move the code to the lower layer, or have the higher one pass it in`
  );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(?:ts|mts|cts)$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

function crossings(files: string[]): string[] {
  return files.flatMap((file) => {
    const allowed = MODULES_NOT_YET_ON_PUBLIC_API[file] ?? [];
    return importsOf(readFileSync(join(root, file), 'utf8')).flatMap((s) => crossing(file, s, allowed) ?? []);
  });
}

describe('layers', () => {
  it('finds imports of every form', () => {
    const source = `import a from './a.js';\nimport type { B } from "../engine/b.js";\nexport { c } from '../c.js';\nimport './side.js';\nconst d = await import('../d.js');\nimport {\n  e,\n} from '../e.js';\n// import { f } from './f.js';\n`;
    expect(importsOf(source).sort()).toEqual(['../c.js', '../d.js', '../e.js', '../engine/b.js', './a.js', './side.js']);
  });

  it('names an import against the flow', () => {
    expect(crossing('engine/load/playbook.ts', '../run/args.js')).toMatch(
      /^engine\/load\/playbook\.ts imports '\.\.\/run\/args\.js' \(engine\/run\/args\.ts\): load may not import run/,
    );
    expect(crossing('engine/expr/filters.ts', '../load/vault.js')).toMatch(/expr may not import load/);
    expect(crossing('engine/connection/ssh.ts', '../expr/index.js')).toMatch(/connection may not import expr/);
    expect(crossing('engine/sh.ts', './connection/ssh.js')).toMatch(/primitives may not import connection/);
    expect(crossing('engine/run/task.ts', '../../modules/index.js')).toMatch(/run may not import modules/);
    expect(crossing('engine/run/task.ts', '../../lab/lab.js')).toMatch(/reaches lab\/ only through lab\/cli\.ts/);
    expect(crossing('engine/cli.ts', '../lab/lab.js')).toMatch(/reaches lab\/ only through/);
    expect(crossing('lab/network.ts', '../engine/run/runner.js')).toMatch(/lab\/ may use the engine's primitives/);
    expect(crossing('modules/copy.ts', '../engine/files.js')).toMatch(/only through its public entry/);
    expect(crossing('modules/copy.ts', 'diff')).toMatch(/public entry and Node's builtins only/);
    expect(crossing('engine/widgets/x.ts', '../errors.js')).toMatch(/is in no layer/);
    // and what the flow allows
    expect(crossing('engine/run/task.ts', '../load/playbook.js')).toBeUndefined();
    expect(crossing('engine/load/playbook.ts', '../expr/templar.js')).toBeUndefined();
    expect(crossing('engine/cli.ts', '../lab/cli.js')).toBeUndefined();
    expect(crossing('engine/cli.ts', '../modules/index.js')).toBeUndefined();
    expect(crossing('lab/network.ts', '../engine/sh.js')).toBeUndefined();
    expect(crossing('modules/shell.ts', './command.js')).toBeUndefined();
    expect(crossing('modules/shell.ts', 'tsplay')).toBeUndefined();
  });

  it('engine/** and lab/** import along the flow only', () => {
    const files = [...sourceFiles('engine'), ...sourceFiles('lab')];
    expect(files.length).toBeGreaterThan(60);
    expect(crossings(files)).toEqual([]);
  });

  it('modules/** import the engine through its public entry only', () => {
    const files = sourceFiles('modules');
    expect(files.length).toBeGreaterThan(20);
    expect(crossings(files)).toEqual([]);
  });

  it('MODULES_NOT_YET_ON_PUBLIC_API lists only imports still made', () => {
    const stale = Object.entries(MODULES_NOT_YET_ON_PUBLIC_API).flatMap(([file, specifiers]) => {
      let made: string[];
      try {
        made = importsOf(readFileSync(join(root, file), 'utf8'));
      } catch {
        made = [];
      }
      return specifiers.filter((s) => !made.includes(s)).map((s) => `${file}: '${s}' (remove it from MODULES_NOT_YET_ON_PUBLIC_API)`);
    });
    expect(stale).toEqual([]);
  });
});
