// Task keywords compared with ansible-playbook 2.14 itself: module_defaults, local_action and
// delegate_facts. Each playbook runs under both on two local-connection hosts; the lines that say
// what ran (test/e2e/compare-flow.ts) must be the same, and the files the tasks made must have
// the modes module_defaults gave them.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareFlow as compare, runFlow as run } from './compare-flow.js';
import { hasAnsible } from '../ansible.js';

const PLAY = `- hosts: all\n  gather_facts: false\n`;

describe('module_defaults compared with ansible-playbook', () => {
  it('play, block and task levels: the closest entry for a module replaces the outer one; values are templated', () => {
    const t = compare(
      `${PLAY}  vars:
    perm: '0640'
    fd: {mode: '0604'}
  module_defaults:
    - file: {mode: "{{ perm }}"}
    - ansible.builtin.debug: {msg: "default for {{ inventory_hostname }}"}
  tasks:
    - file: path={{ playbook_dir }}/a-{{ inventory_hostname }} state=touch
      register: r
    - debug: msg="{{ r.mode }}"
    - debug:
    - block:
        - file: path={{ playbook_dir }}/b-{{ inventory_hostname }} state=touch
          register: r
        - debug: msg="{{ r.mode }}"
        - debug:
      module_defaults:
        ansible.builtin.file: {state: touch}
        debug: {msg: block default}
    - name: an entry given as a template
      file: path={{ playbook_dir }}/c-{{ inventory_hostname }} state=touch
      module_defaults:
        file: "{{ fd }}"
      register: r
    - debug: msg="{{ r.mode }}"
    - name: the task's own arguments win
      file: path={{ playbook_dir }}/d-{{ inventory_hostname }} state=touch mode=0611
      register: r
    - debug: msg="{{ r.mode }}"
`,
      [
        'ok: [h1] "msg": "0640"',
        'ok: [h1] "msg": "default for h1"',
        // the block's `ansible.builtin.file` entry replaced the play's `file` one: no mode
        'ok: [h1] "msg": "0644"',
        'ok: [h1] "msg": "block default"',
        'ok: [h1] "msg": "0604"',
        'ok: [h1] "msg": "0611"',
        'h1 : ok=10 changed=4 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0',
        'rc=0',
      ],
    );
    expect(t.code).toBe(0);
  });

  it('an undefined variable in any module entry fails the task; an unknown module is refused before the run', () => {
    const undef = `${PLAY}  tasks:
    - command: "true"
      module_defaults:
        copy: {mode: "{{ nope }}"}
      ignore_errors: true
    - debug: msg=after
`;
    // the message up to the variable's name (the framing after it is each engine's own)
    const lines = (out: string[]) => out.map((l) => l.replace(/(is undefined).*$/, '$1'));
    const u = run('tsplay', undef, {}, []);
    expect(lines(u.lines)).toContain(
      `fatal: [h1]: FAILED! msg="The field 'module_defaults' has an invalid value, which includes an undefined variable. The error was: 'nope' is undefined`,
    );
    expect(u.lines).toContain('h1 : ok=2 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=1');
    if (hasAnsible) expect(lines(u.lines)).toEqual(lines(run('ansible', undef, {}, []).lines));
    const bad = `${PLAY}  module_defaults:\n    nosuchmodule: {a: 1}\n  tasks:\n    - debug: msg=hi\n`;
    const t = run('tsplay', bad, {}, []);
    expect(t.code).toBe(4);
    expect(t.out).toMatch(/site\.yml:4:5: Could not resolve action nosuchmodule in module_defaults/);
    expect(t.out).not.toMatch(/TASK \[/);
    if (hasAnsible) {
      const a = run('ansible', bad, {}, []);
      expect(a.code).toBe(4);
      expect(a.out).toMatch(/Could not resolve action ansible\.legacy\.nosuchmodule in module_defaults/);
    }
    // a whole entry given as one template is refused by both
    const templated = `${PLAY}  vars: {md: {file: {}}}\n  module_defaults: "{{ md }}"\n  tasks:\n    - debug: msg=hi\n`;
    const tt = run('tsplay', templated, {}, []);
    expect(tt.code).toBe(4);
    expect(tt.out).toMatch(/only the values may be templates/);
    if (hasAnsible) expect(run('ansible', templated, {}, []).code).toBe(4);
  });

  it('module_defaults give a required argument: the task is valid, as in Ansible', () => {
    compare(
      `${PLAY}  module_defaults:
    ansible.builtin.file: {path: "{{ playbook_dir }}/req-{{ inventory_hostname }}", state: touch}
  tasks:
    - file:
      register: r
    - debug: msg="{{ r.state }}"
`,
      ['changed: [h1]', 'ok: [h1] "msg": "file"', 'rc=0'],
    );
  });
});

describe('local_action and delegate_facts compared with ansible-playbook', () => {
  it('local_action as text and as a mapping runs on localhost, for each host', () => {
    compare(
      `${PLAY}  tasks:
    - local_action: command echo hi {{ inventory_hostname }}
      register: la
    - debug: msg="{{ la.stdout }}"
    - local_action:
        module: debug
        msg: "local {{ inventory_hostname }}"
`,
      ['changed: [h1 -> localhost]', 'ok: [h1] "msg": "hi h1"', 'ok: [h1 -> localhost] "msg": "local h1"', 'rc=0'],
    );
  });

  it('delegate_facts: the delegated host gets the facts; without it, the host itself does', () => {
    compare(
      `- hosts: h1
  gather_facts: false
  tasks:
    - set_fact: {to_h2: 1}
      delegate_to: h2
      delegate_facts: true
    - set_fact: {kept: 1}
      delegate_to: h2
    - debug: msg="h2 {{ hostvars['h2'].to_h2 | default('none') }} {{ hostvars['h2'].kept | default('none') }}; h1 {{ to_h2 | default('none') }} {{ kept | default('none') }}"
    - setup: {gather_subset: [min]}
      delegate_to: h2
      delegate_facts: true
    - debug: msg="{{ hostvars['h2'].ansible_facts.system | default('none') }} {{ ansible_facts.system | default('none') }}"
`,
      ['ok: [h1 -> h2]', 'ok: [h1] "msg": "h2 1 none; h1 none 1"', 'ok: [h1] "msg": "Linux none"', 'rc=0'],
    );
  });

  it('action and local_action together are refused before the run', () => {
    const both = `${PLAY}  tasks:\n    - action: debug msg=a\n      local_action: debug msg=b\n`;
    const t = run('tsplay', both, {}, []);
    expect(t.code).toBe(4);
    expect(t.out).toMatch(/site\.yml:5:7: action and local_action are mutually exclusive/);
    if (hasAnsible) expect(run('ansible', both, {}, []).out).toMatch(/action and local_action are mutually exclusive/);
  });
});

// what module_defaults gave the files is on the disk too (compare ran both engines in
// directories of their own: check one made by tsplay)
describe('module_defaults on the disk', () => {
  it('the mode comes from the play', () => {
    const t = run(
      'tsplay',
      `${PLAY}  module_defaults: {file: {mode: '0600'}}\n  tasks:\n    - file: path={{ playbook_dir }}/m-{{ inventory_hostname }} state=touch\n    - debug: msg="{{ playbook_dir }}"\n`,
      {},
      [],
    );
    expect(t.code).toBe(0);
    const dir = /"msg": "([^"]+)"/.exec(t.out)![1]!;
    expect(statSync(join(dir, 'm-h1')).mode & 0o777).toBe(0o600);
  });
});
