// Where tsplay's own files are. Computed from this file, which sits directly in engine/ in the
// sources and in dist/, as does the one-file build of the CLI (dist/engine/cli.bundle.cjs, see
// engine/build/bundle.ts), where every module's import.meta.url is the bundle's own. Files that
// need a path of their own install ask here instead of reading import.meta.url themselves.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** engine/ (sources) or dist/engine/ (build). */
export const ENGINE_DIR = dirname(fileURLToPath(import.meta.url));

/** A file of tsplay's, relative to engine/ (e.g. `load/module-hooks.js`). */
export function ownPath(rel: string): string {
  return join(ENGINE_DIR, rel);
}

export function ownUrl(rel: string): URL {
  return pathToFileURL(ownPath(rel));
}

/** require() as seen from engine/: for CommonJS dependencies loaded on first use. */
export const ownRequire = createRequire(join(ENGINE_DIR, 'paths.js'));

/** package.json: one level up from dist/engine/ would be dist/, so look for it. */
export function packageJsonPath(): string {
  const up = join(ENGINE_DIR, '..', 'package.json');
  return existsSync(up) ? up : join(ENGINE_DIR, '..', '..', 'package.json');
}

const LENT_IMPORT = Symbol.for('tsplay.import');

/**
 * import() for what loads at run time: ES-module-only dependencies on first use, custom modules.
 * Code that V8 restored from its code cache (the `tsplay` command, engine/tsplay.cts) has no
 * loader for import() of its own, so that launcher lends its own import() here.
 */
export function importAtRunTime<T = unknown>(specifier: string): Promise<T> {
  const lent = (globalThis as Record<symbol, unknown>)[LENT_IMPORT] as ((s: string) => Promise<T>) | undefined;
  return lent ? lent(specifier) : (import(specifier) as Promise<T>);
}
