import { spawnSync } from 'node:child_process';
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
    const dir = project({ hosts: 'h ansible_connection=local\n', 'library/crashy.ts': crashing, 'site.yml': '- hosts: h\n  gather_facts: false\n  tasks:\n    - crashy:\n' });
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('module crashy raised boom in my module');
    expect(r.out).toContain(join(dir, 'library/crashy.ts'));
  });

  it('finds modules that installed npm packages declare in package.json', async () => {
    const dir = project({
      hosts: 'h ansible_connection=local\n',
      'node_modules/@acme/tsplay-hello/package.json': JSON.stringify({ name: '@acme/tsplay-hello', version: '1.0.0', tsplay: { modules: ['./hello.mjs'] } }),
      'node_modules/@acme/tsplay-hello/hello.mjs': crashing.replace("'crashy'", "'hello'").replace("throw new Error('boom in my module');", "return { changes: [], reason: 'hi', result: { msg: 'hello from a package' } };"),
      'site.yml': '- hosts: h\n  gather_facts: false\n  tasks:\n    - hello:\n      register: r\n    - debug: var=r.msg\n',
    });
    // through the built CLI: Node's own loader, as users run it (vitest does not transform node_modules)
    const r = spawnSync(process.execPath, [resolve('dist/engine/cli.js'), 'run', 'site.yml', '-i', 'hosts'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('"r.msg": "hello from a package"');
  });

  it('a name clash with a built-in is an error naming both', async () => {
    const dir = project({ hosts: 'h ansible_connection=local\n', 'library/ping.ts': crashing.replace("'crashy'", "'ping'"), 'site.yml': '- hosts: h\n  tasks: []\n' });
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/module name 'ping' is defined twice: built-in ping and .*library\/ping\.ts/);
  });
});
