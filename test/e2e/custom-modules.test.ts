import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, tsplay } from './helpers.js';

const crashing = `
import { defineModule } from 'tsplay';
export default defineModule({
  name: 'crashy',
  description: 'throws',
  schema: { type: 'object', properties: {}, additionalProperties: false },
  async gather() { return null; },
  plan() { throw new Error('boom in my module'); },
});
`;

describe('custom modules', () => {
  it("an exception in a custom module fails the task with a stack into the user's file", async () => {
    const dir = project({
      hosts: 'h ansible_connection=local\n',
      'library/crashy.ts': crashing,
      'site.yml': '- hosts: h\n  gather_facts: false\n  tasks:\n    - crashy:\n',
    });
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('module crashy raised boom in my module');
    expect(r.out).toContain(join(dir, 'library/crashy.ts'));
  });

  it('a schema without properties takes any arguments; a schema that is not an object is a clear error', async () => {
    const anyArgs = crashing
      .replace("'crashy'", "'anyargs'")
      .replace("{ type: 'object', properties: {}, additionalProperties: false }", "{ type: 'object' }")
      .replace("throw new Error('boom in my module');", "return { changes: [], reason: 'nothing', result: { got: args } };")
      .replace('plan() {', 'plan(_current: unknown, args: Record<string, unknown>) {');
    const files = {
      hosts: 'h ansible_connection=local\n',
      'library/anyargs.ts': anyArgs,
      'site.yml':
        '- hosts: h\n  gather_facts: false\n  tasks:\n    - anyargs: { a: 1, b: two }\n      register: r\n    - debug: var=r.got\n',
    };
    const ok = await tsplay(project(files), ['run', 'site.yml', '-i', 'hosts']);
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/"r\.got": \{\s+"a": 1,\s+"b": "two"\s+\}/);
    const doc = await tsplay(project(files), ['doc', '-M', 'library', 'anyargs']);
    expect(doc.code).toBe(0);
    const bad = await tsplay(project({ ...files, 'library/anyargs.ts': anyArgs.replace("{ type: 'object' }", "{ type: 'string' }") }), [
      'run',
      'site.yml',
      '-i',
      'hosts',
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/anyargs\.ts: the module's schema must be a JSON Schema of type 'object'/);
    expect(bad.err).not.toMatch(/bug in tsplay/);
  });

  it('finds modules that installed npm packages declare in package.json', async () => {
    const dir = project({
      hosts: 'h ansible_connection=local\n',
      'node_modules/@acme/tsplay-hello/package.json': JSON.stringify({
        name: '@acme/tsplay-hello',
        version: '1.0.0',
        tsplay: { modules: ['./hello.mjs'] },
      }),
      'node_modules/@acme/tsplay-hello/hello.mjs': crashing
        .replace("'crashy'", "'hello'")
        .replace("throw new Error('boom in my module');", "return { changes: [], reason: 'hi', result: { msg: 'hello from a package' } };"),
      'site.yml': '- hosts: h\n  gather_facts: false\n  tasks:\n    - hello:\n      register: r\n    - debug: var=r.msg\n',
    });
    // through the built CLI: Node's own loader, as users run it (vitest does not transform node_modules)
    const r = spawnSync(process.execPath, [resolve('dist/engine/cli.js'), 'run', 'site.yml', '-i', 'hosts'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('"r.msg": "hello from a package"');
  });

  // A custom module gets the running engine's own API objects (engine/api-bridge.ts): the `tsplay`
  // command is one bundled file with its own copy of every class, and the engine tells a
  // UserError (a clean task failure) from a crash with instanceof.
  const sharing = `
import { defineModule, sh, UserError } from 'tsplay';
export default defineModule({
  name: 'shared',
  description: 'refuses a word, or writes it',
  schema: { type: 'object', properties: { word: { type: 'string' }, dest: { type: 'string' } }, required: ['word', 'dest'], additionalProperties: false },
  async gather() { return null; },
  plan(current, args) {
    if (args.word === 'no') throw new UserError('E_MODULE_ARGS', 'shared refuses no', { hint: 'say yes' });
    return { changes: [{ summary: 'write', commands: [{ cmd: sh\`printf %s \${args.word} > \${args.dest}\` }] }], alwaysChanges: true };
  },
});
`;
  it.each(['tsplay.cjs', 'cli.js'])("through dist/engine/%s, a custom module shares the engine's classes", (entry) => {
    const dir = project({
      hosts: 'h ansible_connection=local\n',
      'library/shared.ts': sharing,
      'site.yml': `- hosts: h\n  gather_facts: false\n  tasks:\n    - shared: { word: "no", dest: out }\n      ignore_errors: true\n    - shared: { word: "yes it is", dest: "{{ playbook_dir }}/out" }\n`,
    });
    const r = spawnSync(process.execPath, [resolve('dist/engine', entry), 'run', 'site.yml', '-i', 'hosts'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('"msg": "shared refuses no');
    expect(r.stdout).not.toContain('raised');
    // the ignored failure counts as ok and ignored, as in Ansible
    expect(r.stdout).toMatch(/h\s+: ok=2\s+changed=1\s+unreachable=0\s+failed=0\s+skipped=0\s+rescued=0\s+ignored=1/);
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('yes it is');
  });

  // How a module file is loaded must not depend on what lies above the project: each case puts a
  // package.json at the project's root (the nearest one is all Node looks at), so that a stray
  // package.json in /tmp cannot make a case pass (it did: CI ran green on a machine that had one,
  // and a fresh clone failed with "Cannot require() ES Module ... in a cycle" on Node 20.19+).
  const writer = (name: string, ts: boolean, helperExt: string) => `
import { defineModule, sh } from 'tsplay';
import { suffix } from './helpers/suffix.${helperExt}';
await Promise.resolve(); // top-level await: an ES module, not one turned into CommonJS
export default defineModule({
  name: '${name}',
  description: 'writes a word',
  schema: { type: 'object', properties: { word: { type: 'string' }, dest: { type: 'string' } }, required: ['word', 'dest'], additionalProperties: false },
  async gather() { return null; },
  plan(current${ts ? ': unknown' : ''}, args${ts ? ': { word: string; dest: string }' : ''}) {
    return { changes: [{ summary: 'write', commands: [{ cmd: sh\`printf %s \${args.word + suffix(import.meta.url)} > \${args.dest}\` }] }], alwaysChanges: true };
  },
});
`;
  const cases: [string, string | undefined, string][] = [
    ['.ts, package.json without "type"', '{}', 'ts'],
    ['.ts, package.json "type": "commonjs"', '{"type":"commonjs"}', 'ts'],
    ['.ts, package.json "type": "module"', '{"type":"module"}', 'ts'],
    ['.js, package.json without "type"', '{}', 'js'],
    ['.mjs, package.json "type": "commonjs"', '{"type":"commonjs"}', 'mjs'],
    ['.mts, package.json without "type"', '{}', 'mts'],
  ];
  describe.each(['tsplay.cjs', 'cli.js'])('through dist/engine/%s', (entry) => {
    it.each(cases)('an ES module custom module loads: %s', (_label, pkg, ext) => {
      const ts = ext.includes('t');
      const dir = project({
        'package.json': pkg!,
        hosts: 'h ansible_connection=local\n',
        [`library/writer.${ext}`]: writer('writer', ts, ext === 'mjs' ? 'mjs' : 'js'),
        [`library/helpers/suffix.${ext === 'mjs' ? 'mjs' : ts ? 'ts' : 'js'}`]: `export function suffix(url${ts ? ': string' : ''}) { return url.endsWith('.${ext}') ? '!' : '?'; }\n`,
        'site.yml': '- hosts: h\n  gather_facts: false\n  tasks:\n    - writer: { word: "yes", dest: "{{ playbook_dir }}/out" }\n',
      });
      const r = spawnSync(process.execPath, [resolve('dist/engine', entry), 'run', 'site.yml', '-i', 'hosts'], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('yes!');
    });

    it('a CommonJS .js custom module (module.exports) still loads as CommonJS', () => {
      const dir = project({
        'package.json': '{}',
        hosts: 'h ansible_connection=local\n',
        'library/cjs.js': `const path = require('node:path');\nmodule.exports = { name: 'cjs', description: 'no-op', schema: { type: 'object', properties: {}, additionalProperties: false }, async gather() { return null; }, plan() { return { changes: [], reason: path.basename(__filename) }; } };\n`,
        'site.yml': '- hosts: h\n  gather_facts: false\n  tasks:\n    - cjs:\n',
      });
      const r = spawnSync(process.execPath, [resolve('dist/engine', entry), 'run', 'site.yml', '-i', 'hosts'], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/h\s+: ok=1\s+changed=0/);
    });
  });

  it('a name clash with a built-in is an error naming both', async () => {
    const dir = project({
      hosts: 'h ansible_connection=local\n',
      'library/ping.ts': crashing.replace("'crashy'", "'ping'"),
      'site.yml': '- hosts: h\n  tasks: []\n',
    });
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/module name 'ping' is defined twice: built-in ping and .*library\/ping\.ts/);
  });
});
