import { describe, expect, it } from 'vitest';
import { project, recap, tsplay } from './helpers.js';

const inv3 = `[web]\nweb1 ansible_connection=local\nweb2 ansible_connection=local\n[db]\ndb1 ansible_connection=local\n`;

async function play(yaml: string, args: string[] = [], files: Record<string, string> = {}) {
  const dir = project({ hosts: inv3, 'site.yml': yaml, ...files });
  return tsplay(dir, ['run', 'site.yml', '-i', 'hosts', ...args]);
}

describe('playbook features', () => {
  it('block / rescue / always, with rescued counted', async () => {
    const r = await play(`
- hosts: db1
  gather_facts: false
  tasks:
    - block:
        - command: /bin/false
        - debug: msg=skipped-by-failure
      rescue:
        - debug: msg=rescued
      always:
        - debug: msg=always
`);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('skipped-by-failure');
    expect(r.out).toContain('"msg": "rescued"');
    expect(r.out).toContain('"msg": "always"');
    expect(recap(r.out, 'db1')).toMatchObject({ failed: 0, rescued: 1 });
  });

  it('loops with loop, with_items, with_dict, loop_control, and registers results', async () => {
    const r = await play(`
- hosts: db1
  gather_facts: false
  tasks:
    - command: echo {{ item }}
      loop: [a, b]
      register: out
    - debug: msg="{{ out.results | map(attribute='stdout') | list }}"
    - debug: msg="{{ item.key }}={{ item.value }}"
      with_dict: { x: 1 }
    - debug: msg="{{ idx }}:{{ n }}"
      with_items: [[p, q]]
      loop_control: { loop_var: n, index_var: idx, label: "L{{ n }}" }
`);
    expect(r.code).toBe(0);
    expect(r.out).toContain('changed: [db1] => (item=a)');
    expect(r.out).toContain('"msg": [\n        "a",\n        "b"\n    ]');
    expect(r.out).toContain('"msg": "x=1"');
    expect(r.out).toContain('ok: [db1] => (item=Lp)');
    expect(r.out).toContain('"msg": "1:q"');
  });

  it('handlers run once, in definition order, by name or listen, only on notifying hosts', async () => {
    const r = await play(`
- hosts: all
  gather_facts: false
  tasks:
    - command: echo change
      when: inventory_hostname != 'web2'
      notify: [second, first]
    - command: echo change again
      when: inventory_hostname == 'db1'
      notify: topic
  handlers:
    - name: first
      debug: msg="first on {{ inventory_hostname }}"
    - name: second
      debug: msg=second
    - name: third
      debug: msg=third
      listen: topic
`);
    expect(r.code).toBe(0);
    const i1 = r.out.indexOf('RUNNING HANDLER [first]');
    const i2 = r.out.indexOf('RUNNING HANDLER [second]');
    const i3 = r.out.indexOf('RUNNING HANDLER [third]');
    expect(i1).toBeGreaterThan(0);
    expect(i2).toBeGreaterThan(i1);
    expect(i3).toBeGreaterThan(i2);
    expect(r.out).not.toContain('first on web2');
    expect(r.out.match(/RUNNING HANDLER \[first\]/g)).toHaveLength(1);
  });

  it('selects tasks by --tags and --skip-tags, with always and never', async () => {
    const yaml = `
- hosts: db1
  gather_facts: false
  tasks:
    - { debug: { msg: T-a }, tags: a }
    - { debug: { msg: T-b }, tags: [b] }
    - { debug: { msg: T-always }, tags: always }
    - { debug: { msg: T-never }, tags: never }
    - { debug: { msg: T-none } }
`;
    const onlyA = await play(yaml, ['--tags', 'a']);
    expect(onlyA.out).toContain('T-a');
    expect(onlyA.out).toContain('T-always');
    expect(onlyA.out).not.toContain('T-b');
    expect(onlyA.out).not.toContain('T-none');
    const all = await play(yaml);
    expect(all.out).not.toContain('T-never');
    expect(all.out).toContain('T-none');
    const skip = await play(yaml, ['--skip-tags', 'b,always']);
    expect(skip.out).not.toContain('T-b');
    expect(skip.out).not.toContain('T-always');
    const never = await play(yaml, ['-t', 'never']);
    expect(never.out).toContain('T-never');
  });

  it('changed_when, failed_when, ignore_errors, until/retries', async () => {
    const r = await play(`
- hosts: db1
  gather_facts: false
  tasks:
    - command: echo same
      changed_when: false
    - command: echo bad
      register: x
      failed_when: "'bad' in x.stdout"
      ignore_errors: true
    - shell: echo $(( $(cat {{ playbook_dir }}/n 2>/dev/null || echo 0) + 1 )) > {{ playbook_dir }}/n; cat {{ playbook_dir }}/n
      register: c
      until: c.stdout | int >= 3
      retries: 5
      delay: 0
`);
    expect(r.code).toBe(0);
    expect(r.out).toContain('...ignoring');
    // as ansible-playbook 2.14 prints it: the task's name (its action when unnamed)
    expect(r.out).toContain('FAILED - RETRYING: [db1]: shell (5 retries left).');
    // what ansible-playbook 2.14 prints for this play: an ignored failure counts as ok and ignored,
    // and as changed when its result says so (command's does)
    expect(recap(r.out, 'db1')).toMatchObject({ ok: 3, changed: 2, failed: 0, ignored: 1 });
  });

  it('include_tasks with vars and a loop; set_fact persists', async () => {
    const r = await play(
      `
- hosts: db1
  gather_facts: false
  tasks:
    - set_fact: { base: 10 }
    - include_tasks: inc.yml
      loop: [1, 2]
`,
      [],
      { 'inc.yml': `- debug: msg="n={{ base + item }}"\n` },
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/included: .*inc.yml for db1/);
    expect(r.out).toContain('"msg": "n=11"');
    expect(r.out).toContain('"msg": "n=12"');
  });

  it('check mode skips commands but creates= decides', async () => {
    const r = await play(
      `
- hosts: db1
  gather_facts: false
  tasks:
    - command: touch {{ playbook_dir }}/made
    - command: echo x
      args: { creates: / }
`,
      ['--check'],
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain('skipping: [db1]');
    expect(recap(r.out, 'db1')).toMatchObject({ ok: 1, changed: 0, skipped: 1 });
  });

  it('limit, extra vars (k=v, JSON, @file), serial and run_once', async () => {
    const r = await play(
      `
- hosts: all
  gather_facts: false
  serial: 1
  tasks:
    - debug: msg="{{ greeting }} {{ n }} {{ from_file }}"
    - debug: msg=once
      run_once: true
`,
      ['-l', 'web', '-e', 'greeting=hi', '-e', '{"n": 5}', '-e', '@vars.yml'],
      { 'vars.yml': 'from_file: yes-file\n' },
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain('"msg": "hi 5 yes-file"');
    expect(r.out).not.toContain('db1');
    // one PLAY banner per serial batch, as ansible-playbook prints it (test/e2e/flow-compare.test.ts)
    expect(r.out.match(/PLAY \[all\]/g)).toHaveLength(2);
    expect(r.out.match(/"msg": "once"/g)).toHaveLength(2); // serial: 1 gives one batch per host
  });

  it('no_log hides results, also in JSON events', async () => {
    const yaml = `
- hosts: db1
  gather_facts: false
  tasks:
    - command: echo s3cr3t
      no_log: true
`;
    const text = await play(yaml, ['-v']);
    expect(text.out).not.toContain('s3cr3t');
    expect(text.out).toContain('the output has been hidden');
    const json = await play(yaml, ['--output', 'json']);
    expect(json.out).not.toContain('s3cr3t');
    const events = json.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['play_start', 'task_start', 'host_result', 'recap']));
  });

  it('any_errors_fatal stops every host; meta end_host ends one', async () => {
    const r = await play(`
- hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - fail: msg=boom
      when: inventory_hostname == 'web1'
    - debug: msg=after
`);
    expect(r.code).toBe(2);
    expect(r.out).not.toContain('"msg": "after"');
    const e = await play(`
- hosts: web
  gather_facts: false
  tasks:
    - meta: end_host
      when: inventory_hostname == 'web1'
    - debug: msg="still {{ inventory_hostname }}"
`);
    expect(e.out).toContain('still web2');
    expect(e.out).not.toContain('still web1');
  });
});

describe('errors: clear, located, before any host is touched', () => {
  it('an undefined variable names the variable and the task location', async () => {
    const r = await play(`
- hosts: db1
  gather_facts: false
  tasks:
    - name: uses undefined
      debug: msg="{{ nope }}"
`);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/'nope' is undefined/);
    expect(r.out).toMatch(/site\.yml:6/);
  });

  it('a malformed playbook exits 4 with file:line:col and no stack', async () => {
    const r = await play(`- hosts: all\n  tasks:\n    - debug: msg=x\n     bad: indent\n`);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/^ERROR! .*site\.yml:\d+:\d+: YAML syntax error/);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.out).toBe('');
  });

  it('bad options exit 5', async () => {
    const dir = project({ hosts: inv3, 'site.yml': '- hosts: all\n  tasks: []\n' });
    expect((await tsplay(dir, ['run', 'site.yml', '--forks', 'x'])).code).toBe(5);
    expect((await tsplay(dir, ['run', 'site.yml', '--no-such-flag'])).code).toBe(5);
  });

  it('--syntax-check, --list-hosts, --list-tasks, --list-tags', async () => {
    const dir = project({ hosts: inv3, 'site.yml': '- name: P\n  hosts: web\n  tasks:\n    - name: t1\n      ping:\n      tags: [x]\n' });
    expect((await tsplay(dir, ['run', 'site.yml', '--syntax-check'])).out).toContain('playbook: site.yml');
    const hosts = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--list-hosts']);
    expect(hosts.out).toContain('hosts (2):\n      web1\n      web2');
    const tasks = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--list-tasks']);
    expect(tasks.out).toContain('t1\tTAGS: [x]');
    const tags = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--list-tags']);
    expect(tags.out).toContain('TASK TAGS: [x]');
  });
});
