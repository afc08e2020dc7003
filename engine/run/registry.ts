// Where module names resolve: the built-in modules plus custom ones found in library paths.
// Built-ins are registered through exactly the same path as custom modules.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { register } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { distance, UserError } from '../errors.js';
import type { AnyModuleDefinition } from '../module.js';
import { importAtRunTime, ownPath, ownUrl } from '../paths.js';

/** A module known to the registry, with the file that defined it (for custom modules). */
export interface RegisteredModule {
  def: AnyModuleDefinition;
  file?: string;
  builtin: boolean;
}

const COLLECTION_PREFIXES = ['ansible.builtin.', 'ansible.legacy.', 'ansible.posix.', 'community.general.'];

export class ModuleRegistry {
  readonly #byName = new Map<string, RegisteredModule>();

  /** Add a module under its name and aliases; a clash is an error naming both files. */
  register(def: AnyModuleDefinition, opts: { file?: string; builtin?: boolean } = {}): void {
    const entry: RegisteredModule = { def, file: opts.file, builtin: opts.builtin ?? false };
    for (const name of [def.name, ...(def.aliases ?? [])]) {
      const existing = this.#byName.get(name);
      if (existing && existing.def !== def) {
        throw new UserError(
          'E_UNKNOWN_MODULE',
          `module name '${name}' is defined twice: ${existing.file ?? `built-in ${existing.def.name}`} and ${opts.file ?? 'a built-in'}`,
          { hint: 'rename one of the modules; custom modules may not reuse a built-in name' },
        );
      }
      this.#byName.set(name, entry);
    }
  }

  /** The module for a task key (`copy`, `ansible.builtin.copy`), or undefined. */
  get(name: string): RegisteredModule | undefined {
    const direct = this.#byName.get(name);
    if (direct) return direct;
    for (const prefix of COLLECTION_PREFIXES) {
      if (name.startsWith(prefix)) return this.#byName.get(name.slice(prefix.length));
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Every module once, sorted by name. */
  modules(): RegisteredModule[] {
    const seen = new Set<AnyModuleDefinition>();
    const out: RegisteredModule[] = [];
    for (const m of this.#byName.values()) {
      if (!seen.has(m.def)) {
        seen.add(m.def);
        out.push(m);
      }
    }
    return out.sort((a, b) => a.def.name.localeCompare(b.def.name));
  }

  /** Names close to `name`, for "did you mean" hints. */
  suggest(name: string): string[] {
    const short = name.replace(/^.*\./, '');
    return [...this.#byName.keys()]
      .filter((k) => !k.includes('.') && distance(k, short) <= Math.max(1, Math.floor(short.length / 4)))
      .sort();
  }

  /** Load every module file (.ts, .mts, .js, .mjs) in `dir` (Ansible's `library/`). */
  async loadDir(dir: string): Promise<void> {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const f of entries) {
      const file = resolve(join(dir, f));
      if (!/\.(m?[jt]s)$/.test(f) || f.endsWith('.d.ts') || /\.test\.[mc]?[jt]s$/.test(f) || !statSync(file).isFile()) continue;
      await this.loadFile(file);
    }
  }

  /** Load one module file; TypeScript files load without a build step. */
  async loadFile(file: string): Promise<void> {
    await installModuleHooks();
    let mod: { default?: AnyModuleDefinition };
    try {
      mod = await importAtRunTime<typeof mod>(pathToFileURL(file).href);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      // errors of the loader itself, not of the module's text: blame neither the user nor their file
      const loader = typeof code === 'string' && LOADER_ERRORS.has(code);
      throw new UserError('E_UNKNOWN_MODULE', `cannot load custom module ${file}: ${(e as Error).message.split('\n')[0]}`, {
        cause: e,
        hint: loader
          ? `Node ${process.version} could not load this file as a module (${code}): this is a problem of tsplay's, not of your module; please report it with the file's first lines`
          : 'fix the error in the module file (run it through tsc to see all errors)',
      });
    }
    const def = mod.default;
    if (!def || typeof def.plan !== 'function' || typeof def.gather !== 'function' || typeof def.name !== 'string' || !def.schema) {
      throw new UserError('E_UNKNOWN_MODULE', `${file} does not export a module as default`, {
        hint: "export default defineModule({ name, description, schema, gather, plan }) from 'tsplay'",
      });
    }
    const schema: unknown = def.schema;
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema) || (schema as { type?: unknown }).type !== 'object') {
      throw new UserError('E_UNKNOWN_MODULE', `${file}: the module's schema must be a JSON Schema of type 'object'`, {
        hint: "schema: { type: 'object', properties: { path: { type: 'string' } }, additionalProperties: false } (without properties: any arguments)",
      });
    }
    this.register(def, { file });
  }

  /** Modules that installed npm packages declare: package.json `"tsplay": { "modules": [...] }`. */
  async loadPackages(nodeModules: string): Promise<void> {
    let names: string[];
    try {
      names = readdirSync(nodeModules).sort();
    } catch {
      return;
    }
    const dirs = names.flatMap((n) => (n.startsWith('@') ? safeList(join(nodeModules, n)).map((s) => join(n, s)) : [n]));
    for (const d of dirs) {
      const pkgFile = join(nodeModules, d, 'package.json');
      let pkg: { tsplay?: { modules?: string[] } };
      try {
        pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
      } catch {
        continue;
      }
      for (const m of pkg.tsplay?.modules ?? []) await this.loadFile(resolve(nodeModules, d, m));
    }
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

const LOADER_ERRORS = new Set([
  'ERR_REQUIRE_CYCLE_MODULE',
  'ERR_REQUIRE_ESM',
  'ERR_REQUIRE_ASYNC_MODULE',
  'ERR_UNKNOWN_FILE_EXTENSION',
  'ERR_UNKNOWN_MODULE_FORMAT',
]);

let hooksInstalled: Promise<void> | undefined;

// Custom modules import from 'tsplay' and may be TypeScript: teach Node both, once, on first use.
function installModuleHooks(): Promise<void> {
  hooksInstalled ??= (async () => {
    const hooks = ownPath('load/module-hooks.js');
    if (!existsSync(hooks)) return; // running from the sources under vitest: its own loader handles both
    const tsx = await importAtRunTime<typeof import('tsx/esm/api')>('tsx/esm/api');
    tsx.register();
    // after tsx's, so that ours run first and see what tsx resolved (engine/load/module-hooks.ts)
    register(pathToFileURL(hooks), { data: { index: ownUrl('api-bridge.js').href } });
  })();
  return hooksInstalled;
}
