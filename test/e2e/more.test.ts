import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, recap, tsplay } from './helpers.js';

const inv = `[web]\nweb1 ansible_connection=local\nweb2 ansible_connection=local\n[db]\ndb1 ansible_connection=local\n`;

async function play(yaml: string, args: string[] = [], files: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}) {
  const dir = project({ hosts: inv, 'site.yml': yaml, ...files });
  return { dir, ...(await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', ...args], env)) };
}

describe('more playbook features', () => {
  it('set_fact in a loop sees the facts its earlier items set; a multi-line shell script keeps its lines', async () => {
    const r = await play(`
- hosts: web1
  gather_facts: false
  tasks:
    - set_fact:
        acc: "{{ acc | default([]) + [item] }}"
      loop: [1, 2, 3]
    - shell: |
        for i in a b; do
          echo "line $i"
        done
      register: out
    - assert:
        that:
          - acc == [1, 2, 3]
          - out.stdout_lines == ['line a', 'line b']
`);
    expect(r.code, r.out).toBe(0);
  });
  it('strategy free runs every host through its tasks', async () => {
    const r = await play(`
- hosts: all
  gather_facts: false
  strategy: free
  tasks:
    - command: echo {{ inventory_hostname }}
      register: o
    - debug: msg="done {{ o.stdout }}"
`);
    expect(r.code).toBe(0);
    for (const h of ['web1', 'web2', 'db1']) expect(r.out).toContain(`"msg": "done ${h}"`);
  });

  it("delegate_to runs on another host with the task host's variables", async () => {
    const r = await play(`
- hosts: web
  gather_facts: false
  tasks:
    - shell: echo {{ inventory_hostname }} >> {{ playbook_dir }}/delegated
      delegate_to: localhost
`);
    expect(r.code).toBe(0);
    expect(r.out).toContain('changed: [web1 -> localhost]');
    expect(readFileSync(join(r.dir, 'delegated'), 'utf8').split('\n').filter(Boolean).sort()).toEqual(['web1', 'web2']);
  });

  it('environment reaches the command; --start-at-task skips earlier tasks', async () => {
    const yaml = `
- hosts: db1
  gather_facts: false
  environment:
    GREETING: hello
  tasks:
    - name: first
      debug: msg=one
    - name: second
      shell: echo $GREETING-$EXTRA
      environment: { EXTRA: there }
      register: e
    - debug: var=e.stdout
`;
    const r = await play(yaml);
    expect(r.out).toContain('"e.stdout": "hello-there"');
    const s = await play(yaml, ['--start-at-task', 'second']);
    expect(s.out).not.toContain('TASK [first]');
    expect(s.out).toContain('TASK [second]');
  });

  it('max_fail_percentage ends the play when too many hosts fail', async () => {
    const r = await play(`
- hosts: all
  gather_facts: false
  max_fail_percentage: 30
  tasks:
    - fail: msg=no
      when: inventory_hostname == 'web1'
    - debug: msg=later
`);
    expect(r.code).toBe(2);
    expect(r.out).not.toContain('"msg": "later"');
  });

  it('gathers facts by default and uses them in conditions', async () => {
    const r = await play(`
- hosts: db1
  tasks:
    - debug: msg="{{ ansible_facts.system }} {{ ansible_system }}"
    - debug: msg=linux
      when: ansible_system == 'Linux'
`);
    expect(r.code).toBe(0);
    expect(r.out).toContain('TASK [Gathering Facts]');
    expect(r.out).toContain('"msg": "Linux Linux"');
    expect(r.out).toContain('"msg": "linux"');
  });

  it('registered output is data: braces in stdout are not templated', async () => {
    const r = await play(`
- hosts: db1
  gather_facts: false
  tasks:
    - command: echo "{{ '{{' }} nope }}"
      register: o
    - debug: msg="{{ o.stdout }}"
`);
    expect(r.code).toBe(0);
    expect(r.out).toContain('"msg": "{{ nope }}"');
  });

  it('loads custom modules from library/ beside the playbook, with check mode for free', async () => {
    const module = `
import { defineModule, noop, sh } from '${join(process.cwd(), 'engine/index.ts').replace(/\\/g, '/')}';
export default defineModule({
  name: 'marker',
  description: 'ensure a marker file exists',
  schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'], additionalProperties: false },
  async gather(ctx, args) { return (await ctx.run(sh\`test -e \${args.path}\`)).rc === 0; },
  plan(exists, args) {
    return exists ? noop('marker exists') : { changes: [{ summary: 'create ' + args.path, commands: [{ cmd: sh\`touch \${args.path}\` }] }] };
  },
});
`;
    const yaml = `
- hosts: db1
  gather_facts: false
  tasks:
    - marker: path={{ playbook_dir }}/m
`;
    const dir = project({
      hosts: inv,
      'site.yml': yaml,
      'library/marker.mjs': module.replace(/engine\/index\.ts/, 'dist/engine/index.js'),
    });
    const check = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--check']);
    expect(check.code).toBe(0);
    expect(existsSync(join(dir, 'm'))).toBe(false);
    expect(recap(check.out, 'db1').changed).toBe(1);
    const first = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(existsSync(join(dir, 'm'))).toBe(true);
    expect(recap(first.out, 'db1').changed).toBe(1);
    const second = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(recap(second.out, 'db1').changed).toBe(0);
    writeFileSync(join(dir, 'site.yml'), yaml.replace('path=', 'pth='));
    const wrong = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(wrong.code).toBe(4);
    expect(wrong.err).toContain('Unsupported parameters for (marker) module: pth. Supported parameters include: path.');
  });

  it('a vars_files list takes the first file that exists', async () => {
    const r = await play(
      `
- hosts: db1
  gather_facts: false
  vars_files:
    - [ "vars/{{ flavour | default('none') }}.yml", vars/default.yml ]
  tasks:
    - debug: msg="{{ color }}"
`,
      [],
      { 'vars/default.yml': 'color: grey\n' },
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain('"msg": "grey"');
  });
});
