import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlaybooks, type TaskNode } from '../../engine/load/playbook.js';
import { ModuleRegistry } from '../../engine/run/registry.js';
import { UserError } from '../../engine/errors.js';
import { builtinModules } from '../../modules/index.js';

const registry = new ModuleRegistry();
for (const m of builtinModules) registry.register(m, { builtin: true });

function write(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-pb-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function load(text: string, extra: Record<string, string> = {}) {
  const dir = write({ 'site.yml': text, ...extra });
  return { dir, plays: loadPlaybooks([join(dir, 'site.yml')], { registry }) };
}

function loadError(text: string, extra: Record<string, string> = {}): UserError {
  try {
    load(text, extra);
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('playbook loader', () => {
  it('reads plays, tasks, free-form and k=v arguments, YAML 1.1 booleans', () => {
    const { plays } = load(`
- name: Setup
  hosts: gateway:nodes
  become: yes
  gather_facts: no
  tasks:
    - name: list
      command: ls -l /tmp chdir=/var
    - shell: echo hi | wc -c
    - ansible.builtin.debug: msg="hello world"
    - debug:
        var: x
      when: x is defined
      tags: [a, b]
`);
    expect(plays).toHaveLength(1);
    const p = plays[0]!;
    expect(p.hosts).toEqual(['gateway:nodes']);
    expect(p.become).toBe(true);
    expect(p.gather_facts).toBe(false);
    const [t1, t2, t3, t4] = p.tasks as TaskNode[];
    expect(t1!.args).toEqual({ _raw_params: 'ls -l /tmp', chdir: '/var' });
    expect(t2!.args).toEqual({ _raw_params: 'echo hi | wc -c' });
    expect(t3!.action).toBe('ansible.builtin.debug');
    expect(t3!.args).toEqual({ msg: 'hello world' });
    expect(t4!.when).toEqual(['x is defined']);
    expect(t4!.tags).toEqual(['a', 'b']);
    expect(t1!.location).toMatchObject({ line: 8, col: 7 }); // the module key
  });

  it('refuses an unknown module with file:line:col and a suggestion', () => {
    const e = loadError(`
- hosts: all
  tasks:
    - name: typo
      comand: ls
`);
    expect(e.message).toMatch(/couldn't resolve module\/action 'comand'/);
    expect(e.location).toMatchObject({ line: 5, col: 7 });
    expect(e.hint).toMatch(/command/);
  });

  it('refuses an unknown task keyword next to a module', () => {
    const e = loadError(`
- hosts: all
  tasks:
    - command: ls
      notfy: restart
`);
    expect(e.message).toBe("'notfy' is not a valid attribute for a Task");
    expect(e.hint).toMatch(/notify/);
  });

  it('refuses unknown module arguments before anything runs (Ansible message)', () => {
    const e = loadError(`
- hosts: all
  tasks:
    - debug:
        mgs: hi
`);
    expect(e.code).toBe('E_MODULE_ARGS');
    expect(e.message).toMatch(/^Unsupported parameters for \(debug\) module: mgs\. Supported parameters include: msg, var, verbosity\.$/);
    expect(e.location).toMatchObject({ line: 5, col: 9 }); // the unknown argument itself
  });

  it('catches unknown argument names even when values are templated', () => {
    const e = loadError(`
- hosts: all
  tasks:
    - debug:
        mgs: "{{ x }}"
`);
    expect(e.message).toMatch(/Unsupported parameters for \(debug\) module: mgs/);
  });

  it('refuses duplicate keys and tabs', () => {
    expect(loadError(`- hosts: all\n  hosts: web\n`).message).toMatch(/YAML syntax error/);
    const tab = loadError(`- hosts: all\n  tasks:\n\t- ping:\n`);
    expect(tab.message).toMatch(/YAML syntax error/);
    expect(tab.location?.line).toBe(3);
  });

  it('refuses a notify that names no handler', () => {
    const e = loadError(`
- hosts: all
  tasks:
    - command: "true"
      notify: restart dnsmaq
  handlers:
    - name: restart dnsmasq
      debug: msg=x
`);
    expect(e.message).toMatch(/handler 'restart dnsmaq' was not found/);
    expect(e.hint).toMatch(/restart dnsmasq/);
  });

  it('imports tasks statically with keywords applied, and preloads static includes', () => {
    const { plays } = load(
      `
- hosts: all
  tasks:
    - import_tasks: tasks/a.yml
      tags: t
      when: go
    - include_tasks: tasks/b.yml
`,
      { 'tasks/a.yml': '- debug: msg=a\n', 'tasks/b.yml': '- debug: msg=b\n' },
    );
    const [imp, inc] = plays[0]!.tasks;
    expect(imp!.kind).toBe('block');
    expect(imp!.tags).toEqual(['t']);
    expect(imp!.when).toEqual(['go']);
    expect(inc!.kind === 'task' && inc!.include?.preloaded?.length).toBe(1);
  });

  it('keeps the load error of a dynamic include for run time; an import still fails at load', () => {
    const files = {
      'tasks/redhat.yml': '- name: on RedHat\n  nosuchmod: name=x\n',
      'roles/r/tasks/main.yml': '- nosuchmod: {}\n',
    };
    const { plays } = load(
      `
- hosts: all
  tasks:
    - include_tasks: tasks/redhat.yml
      when: false
    - include_role: { name: r }
      when: false
`,
      files,
    );
    const [inc, role] = plays[0]!.tasks as TaskNode[];
    expect(inc!.include?.preloaded).toBeUndefined();
    expect(inc!.include?.error?.format()).toMatch(/redhat\.yml:2:3: couldn't resolve module\/action 'nosuchmod'/);
    expect(role!.includeRole?.error?.format()).toMatch(/roles\/r\/tasks\/main\.yml:1:3: couldn't resolve module\/action 'nosuchmod'/);
    const e = loadError('- hosts: all\n  tasks:\n    - import_tasks: tasks/redhat.yml\n      when: false\n', files);
    expect(e.message).toMatch(/couldn't resolve module\/action 'nosuchmod'/);
    expect(e.location?.line).toBe(2);
    expect(loadError('- hosts: all\n  roles: [r]\n', files).message).toMatch(/'nosuchmod'/);
  });

  it('refuses a missing imported file with the importing line', () => {
    const e = loadError(`
- hosts: all
  tasks:
    - import_tasks: nope.yml
`);
    expect(e.code).toBe('E_FILE_NOT_FOUND');
    expect(e.location?.line).toBe(4);
  });

  it('follows import_playbook', () => {
    const { plays } = load(`- import_playbook: other.yml\n- hosts: b\n  tasks: []\n`, { 'other.yml': '- hosts: a\n  tasks: []\n' });
    expect(plays.map((p) => p.hosts[0])).toEqual(['a', 'b']);
  });

  it('requires hosts, and says which play keyword is wrong', () => {
    expect(loadError('- tasks: []\n').message).toMatch(/"hosts" is required/);
    const e = loadError('- hosts: all\n  task:\n    - ping:\n');
    expect(e.message).toBe("'task' is not a valid attribute for a Play");
    expect(e.hint).toMatch(/tasks/);
  });

  it('refuses two modules in one task', () => {
    expect(loadError('- hosts: all\n  tasks:\n    - ping:\n      debug: msg=x\n').message).toMatch(
      /conflicting action statements: ping, debug/,
    );
  });
});
