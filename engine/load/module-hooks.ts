// Node module hooks for custom modules, registered after tsx's (so they run first, around it):
// - `import ... from 'tsplay'` resolves to this tsplay, wherever the user's module file lives (a
//   playbook's library/ is usually outside any node_modules);
// - a custom module written as an ES module loads as one. On Node 20.19 and later (require() of ES
//   modules on by default), tsx hands a `.ts` or `.js` file with import/export syntax whose
//   package.json sets no "type" (or none at all, as in a playbook's library/) to the CommonJS
//   loader, which fails with "Cannot require() ES Module ... in a cycle". Node itself loads such
//   a `.js` file as an ES module (syntax detection), and TypeScript modules are written as ES
//   modules: so a `.ts` file is one unless it is `.cts`, and a `.js` file is one where Node would
//   detect it (explicit "type": "commonjs" wins, as in Node). test/e2e/custom-modules.test.ts
//   covers each case through the built CLI.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

interface ResolveContext {
  parentURL?: string;
}
interface Resolved {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<Resolved>;

let indexUrl = '';

/** Receives the URL of engine/api-bridge.js (the running engine's API) from register(). */
export function initialize(data: { index: string }): void {
  indexUrl = data.index;
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<Resolved> {
  if (specifier === 'tsplay' && indexUrl) return { url: indexUrl, shortCircuit: true };
  const r = await next(specifier, context);
  if (r.format === 'module' || !r.url.startsWith('file:')) return r;
  const file = fileURLToPath(r.url);
  return isEsModule(file) ? { ...r, format: 'module' } : r;
}

/** Whether a user's file outside node_modules is an ES module that the chain would load as CommonJS. */
export function isEsModule(file: string): boolean {
  if (file.includes('/node_modules/')) return false; // packages: Node's and tsx's own rules
  const ts = /\.[jt]sx?$/.exec(file)?.[0];
  if (!ts) return false; // .mjs/.mts are ES modules anyway, .cjs/.cts and the rest CommonJS or data
  if (ts.startsWith('.t')) return true;
  if (packageType(dirname(file)) !== undefined) return false;
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return false; // the loader reports it
  }
  return hasModuleSyntax(source);
}

const types = new Map<string, string | undefined>();

/** The "type" of the nearest package.json above `dir`, if it sets one. */
function packageType(dir: string): string | undefined {
  if (types.has(dir)) return types.get(dir);
  let type: string | undefined;
  let pkg: string | undefined;
  try {
    pkg = readFileSync(join(dir, 'package.json'), 'utf8');
  } catch {
    const up = dirname(dir);
    type = up === dir ? undefined : packageType(up);
  }
  if (pkg !== undefined) {
    try {
      const t = (JSON.parse(pkg) as { type?: unknown }).type;
      type = typeof t === 'string' ? t : undefined;
    } catch {
      type = undefined;
    }
  }
  types.set(dir, type);
  return type;
}

// Node's own test (containsModuleSyntax): the text does not compile as CommonJS, for a reason
// that only ES module syntax gives.
function hasModuleSyntax(source: string): boolean {
  try {
    new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`);
    return false;
  } catch (e) {
    return /import statement outside a module|Unexpected token 'export'|import\.meta|await is only valid/.test(
      String((e as Error).message),
    );
  }
}
