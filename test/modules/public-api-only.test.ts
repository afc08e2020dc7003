// Built-in modules use exactly the public API that custom modules use (DESIGN.md, "Public API is
// small and pinned"): a file under modules/ imports the engine only through its public entry
// (engine/index.ts, what `import ... from 'tsplay'` gets), Node's builtins, and no other module's
// internals; the example custom modules in playbooks/library import 'tsplay' and Node only. So
// whatever a built-in does, a custom module can do.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

// A module built on another one, as Ansible's are: service is systemd under its other name, shell
// is command through a shell, template is copy of a rendered file, reboot waits as
// wait_for_connection does, package is apt on tsplay's (Debian) hosts, as Ansible's package hands
// its arguments to the host's manager module. modules/index.ts lists every module.
const MODULES_BUILT_ON_MODULES: Record<string, string[]> = {
  'service.ts': ['./systemd.js'],
  'shell.ts': ['./command.js'],
  'template.ts': ['./copy.js'],
  'reboot.ts': ['./wait_for_connection.js'],
  'package.ts': ['./apt.js'],
};

/** Every module specifier a TypeScript file imports or re-exports, static or dynamic. */
export function importsOf(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  for (const m of source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  for (const m of source.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(?:ts|mts|cts)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** The imports of `file` that break the rule, as "file: import". */
function violations(file: string, allowed: (specifier: string) => boolean): string[] {
  return importsOf(readFileSync(file, 'utf8'))
    .filter((s) => !s.startsWith('node:') && !allowed(s))
    .map((s) => `${relative(root, file)}: ${s}`);
}

describe('built-in modules use the public API only', () => {
  it('finds imports of every form', () => {
    const source = `import a from './a.js';\nimport type { B } from "../engine/b.js";\nexport { c } from '../c.js';\nimport './side.js';\nconst d = await import('../d.js');\nimport {\n  e,\n} from '../e.js';\n`;
    expect(importsOf(source)).toEqual(['./a.js', '../engine/b.js', '../c.js', '../e.js', './side.js', '../d.js']);
  });

  it('modules/** import the engine only through engine/index.ts, and no module internals', () => {
    const dir = join(root, 'modules');
    const files = tsFiles(dir);
    expect(files.length).toBeGreaterThan(20);
    const moduleFiles = new Set(
      readdirSync(dir)
        .filter((f) => f.endsWith('.ts'))
        .map((f) => `./${f.replace(/\.ts$/, '.js')}`),
    );
    const bad = files.flatMap((file) => {
      const name = relative(dir, file);
      return violations(file, (s) => {
        if (s === '../engine/index.js' && !name.includes('/')) return true;
        if (name === 'index.ts') return moduleFiles.has(s);
        return (MODULES_BUILT_ON_MODULES[name] ?? []).includes(s);
      });
    });
    expect(
      bad,
      "import from tsplay's public entry (../engine/index.js) instead; what a module needs and the entry lacks belongs in the engine's public toolkit",
    ).toEqual([]);
  });

  it("playbooks/library/* (the custom modules of the docs) import 'tsplay' and Node only", () => {
    const files = tsFiles(join(root, 'playbooks', 'library'));
    expect(files.length).toBeGreaterThan(0);
    expect(files.flatMap((file) => violations(file, (s) => s === 'tsplay'))).toEqual([]);
  });
});
