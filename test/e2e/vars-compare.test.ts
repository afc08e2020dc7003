// Variables and lookups compared with ansible-playbook 2.14 itself (issue 17): the same playbook on
// the local host under both, and the printed values must be the same. Each case also pins what
// both print, so that a change on both sides is seen.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project } from './helpers.js';

const CLI = resolve('dist/engine/cli.js');
const HOST = 'h ansible_connection=local ansible_python_interpreter=/usr/bin/python3';

interface Run {
  code: number | null;
  out: string;
  /** The "msg" lines, loop item and fatal/failed lines, the project directory written as <dir>. */
  lines: string[];
}

// Is line i part of a printed "msg" (a value over several lines too)?
function inMsg(lines: string[], i: number): boolean {
  for (let j = i; j >= 0; j--) {
    if (/^\s{4}"msg": /.test(lines[j]!)) return true;
    if (!/^\s{5,}\S|^\s{4}[\]}]/.test(lines[j]!)) return false;
  }
  return false;
}

function run(cmd: 'tsplay' | 'ansible', files: Record<string, string>, extra: string[] = []): Run {
  const dir = project({ hosts: `${HOST}\n`, ...files });
  const env = {
    ...process.env,
    NO_COLOR: '1',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_LOCALHOST_WARNING: 'false',
    ANSIBLE_CONFIG: '',
    TSPLAY_TEST_VAR: 'from env',
  };
  const r =
    cmd === 'tsplay'
      ? spawnSync(process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env })
      : spawnSync('ansible-playbook', ['site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env });
  const out = r.stdout + r.stderr;
  return {
    code: r.status,
    out,
    lines: out
      .split('\n')
      .filter((l, i, all) => /^(fatal|failed): |^(ok|changed|skipping): \[h\] => \(item=/.test(l) || inMsg(all, i))
      .map((l) => l.trim().split(dir).join('<dir>')),
  };
}

/** Run under both; the lines must be the same, and are returned. */
function compare(files: Record<string, string>, extra: string[] = []): string[] {
  const t = run('tsplay', files, extra);
  const a = run('ansible', files, extra);
  expect(a.code, a.out).toBe(0);
  expect(t.code, t.out).toBe(0);
  expect(t.lines, `tsplay:\n${t.out}\nansible:\n${a.out}`).toEqual(a.lines);
  return t.lines;
}

// Variable precedence: source number r (lowest first) sets v<r> .. v15 to its name, so v<k> prints
// the source that wins among the first k+1: in the right order, every source prints once.
const SOURCES = [
  'role_defaults',
  'inv_all',
  'inv_group',
  'gv_all',
  'gv_group',
  'inv_host',
  'hv_host',
  'play_vars',
  'vars_files',
  'role_vars',
  'block_vars',
  'task_vars',
  'include_vars',
  'set_fact',
  'role_params',
  'extra',
] as const;
const vname = (k: number) => `v${String(k).padStart(2, '0')}`;
function from(source: (typeof SOURCES)[number]): Record<string, string> {
  const r = SOURCES.indexOf(source);
  return Object.fromEntries(SOURCES.slice(r).map((_, i) => [vname(r + i), source]));
}
const yaml = (vars: Record<string, string>, indent: string) =>
  Object.entries(vars)
    .map(([k, v]) => `${indent}${k}: ${v}\n`)
    .join('');
const ini = (vars: Record<string, string>) =>
  Object.entries(vars)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
const SHOW = `{{ [${SOURCES.map((_, k) => vname(k)).join(',')}] | join(' ') }}`;

const PRECEDENCE = {
  hosts: `[g]\n${HOST} ${ini(from('inv_host')).replace(/\n/g, ' ')}\n[all:vars]\n${ini(from('inv_all'))}\n[g:vars]\n${ini(from('inv_group'))}\n`,
  'group_vars/all.yml': yaml(from('gv_all'), ''),
  'group_vars/g.yml': yaml(from('gv_group'), ''),
  'host_vars/h.yml': yaml(from('hv_host'), ''),
  'vf.yml': yaml(from('vars_files'), ''),
  'iv.yml': yaml(from('include_vars'), ''),
  'extra.json': JSON.stringify(from('extra')),
  'roles/r/defaults/main.yml': yaml(from('role_defaults'), ''),
  'roles/r/vars/main.yml': yaml(from('role_vars'), ''),
  'roles/r/tasks/main.yml': `- debug:
    msg: "role: ${SHOW}"
- block:
    - debug:
        msg: "task: ${SHOW}"
      vars:
${yaml(from('task_vars'), '        ')}
    - debug:
        msg: "block: ${SHOW}"
  vars:
${yaml(from('block_vars'), '    ')}
`,
  'site.yml': `- hosts: g
  gather_facts: false
  vars:
${yaml(from('play_vars'), '    ')}
  vars_files: [vf.yml]
  pre_tasks:
    - debug:
        msg: "pre: ${SHOW}"
    - include_vars: iv.yml
    - debug:
        msg: "after include_vars: ${SHOW}"
    - set_fact:
${yaml(from('set_fact'), '        ')}
    - debug:
        msg: "after set_fact: ${SHOW}"
  roles:
    - role: r
${yaml(from('role_params'), '      ')}
  tasks:
    - debug:
        msg: "play: ${SHOW}"
    - include_role:
        name: r
      vars:
        v14: incl_vars
        v15: incl_vars
`,
};

const INCLUDES = {
  'roles/r/tasks/main.yml': '- debug:\n    msg: "role {{ a }} {{ b }}"\n',
  't.yml': '- debug:\n    msg: "tasks {{ a }} {{ b }}"\n',
  'site.yml': `- hosts: h
  gather_facts: false
  vars:
    - a: list1
      b: list1
    - b: list2
  tasks:
    - debug:
        msg: "{{ a }} {{ b }}"
    - set_fact:
        a: sf
        b: sf
    - include_tasks: t.yml
      vars: { a: inc_tasks_vars }
    - import_tasks: t.yml
      vars: { a: imp_tasks_vars }
    - include_role: { name: r }
      vars: { a: inc_role_vars }
    - import_role: { name: r }
      vars: { a: imp_role_vars }
    - debug:
        msg: "loop {{ a }} {{ item }}"
      loop: [x]
      vars: { a: task_vars }
    - debug:
        msg: "loop_var {{ a }}"
      loop: [loopv]
      loop_control: { loop_var: a }
    - include_tasks: t.yml
      loop: [li]
      loop_control: { loop_var: c }
      vars: { a: "v{{ c }}" }
    - block:
        - include_role: { name: r }
          vars: { a: inner }
      vars: { a: blockv, b: blockv }
`,
};

const ROLE_VARS = {
  'roles/r/tasks/main.yml': '- debug:\n    msg: "role {{ a }} {{ b }}"\n',
  'roles/r/vars/main.yml': 'b: rolefile\n',
  'site.yml': `- hosts: h
  gather_facts: false
  vars: { a: play, b: play }
  pre_tasks:
    - debug:
        msg: "pre {{ a }} {{ b }}"
  roles:
    - role: r
      vars: { b: rolevars }
  tasks:
    - import_role: { name: r }
      vars: { a: imp_role_vars }
    - debug:
        msg: "{{ a }} {{ b }}"
- hosts: h
  gather_facts: false
  tasks:
    - debug:
        msg: "{{ a | default('-') }} {{ b | default('-') }}"
`,
};

const LOOKUPS = {
  'files/a.txt': 'alpha\n\n',
  'files/b.txt': 'beta',
  'c.txt': 'top\n',
  'u.txt': '{{ x }}',
  'lines.txt': 'line1\nline2\n',
  'templates/t.j2': 'x={{ x }}\n',
  'site.yml': `- hosts: h
  gather_facts: false
  vars:
    x: 1
    users:
      - name: u1
        keys: [k1, k2]
      - name: u2
        keys: [k3]
    d: { k1: 1, k2: two }
  tasks:
    - debug: msg="{{ lookup('file', 'a.txt') }}|{{ lookup('file', 'a.txt', 'b.txt') }}|{{ lookup('file', 'c.txt') }}"
    - debug: msg="{{ lookup('file', 'a.txt', rstrip=false) }}"
    - debug: msg="{{ query('file', 'a.txt', 'b.txt') }}"
    - debug: msg="{{ lookup('fileglob', '*.txt') }}"
    - debug: msg="{{ query('fileglob', '*.txt') | sort }}"
    - debug: msg="{{ query('fileglob', 'files/*.txt', '*.nomatch') | sort }}"
    - debug: msg="{{ lookup('fileglob', '*.nomatch') }}|{{ query('fileglob', '*.nomatch') }}"
    - debug: msg="{{ lookup('pipe', 'echo hi; echo there') }}"
    - debug: msg="{{ query('pipe', 'echo a', 'echo b') }}"
    - debug: msg="{{ lookup('lines', 'cat lines.txt') }}"
    - debug: msg="{{ query('lines', 'cat lines.txt', 'echo z') }}"
    - debug: msg="{{ lookup('env', 'TSPLAY_TEST_VAR') }}|{{ lookup('env', 'TSPLAY_NOPE') }}|{{ lookup('env', 'TSPLAY_NOPE', default='dflt') }}"
    - debug: msg="{{ query('env', 'TSPLAY_TEST_VAR', 'TSPLAY_NOPE') }}"
    - debug: msg="{{ lookup('template', 't.j2') }}|{{ lookup('template', 't.j2', template_vars=dict(x=2)) }}"
    - debug: msg="{{ lookup('vars', 'x') }}|{{ lookup('vars', 'x', 'd') }}|{{ lookup('vars', 'nope', default='dv') }}"
    - debug: msg="{{ query('vars', 'x', 'd') }}"
    - debug: msg="{{ lookup('first_found', ['nope.txt', 'a.txt']) | basename }}"
    - debug: msg="{{ lookup('first_found', ['nope.txt'], errors='ignore') }}|{{ query('first_found', ['nope.txt'], skip=True) }}"
    - debug: msg="{{ lookup('items', [1, 2], [3]) }}|{{ query('items', [1, [2]], 3) }}|{{ lookup('items', ['a', 'b']) }}"
    - debug: msg="{{ lookup('items', []) }}|{{ query('items', []) }}|{{ lookup('list', []) }}"
    - debug: msg="{{ lookup('dict', d) }}|{{ query('dict', d) }}"
    - debug: msg="{{ lookup('subelements', users, 'keys') }}"
    - debug: msg="{{ query('subelements', users, 'keys') | map(attribute='1') | list }}"
    - debug: msg="{{ lookup('sequence', 'start=1 end=3') }}|{{ query('sequence', 'count=2 start=5 format=n%02x') }}|{{ lookup('sequence', '4-6/2') }}"
    - debug: msg="{{ lookup('items', [1, 2], wantlist=True) }}|{{ lookup('file', 'a.txt', wantlist=True) }}"
    - debug: msg="{{ lookup('env', 'TSPLAY_TEST_VAR', wantlist=True) }}"
    - debug: msg="{{ lookup('indexed_items', ['a', 'b']) }}|{{ lookup('together', [1, 2], ['a']) }}|{{ lookup('nested', [1, 2], ['a']) }}"
    - debug: msg="{{ item | basename }}"
      with_fileglob: ['*.txt']
    - debug: msg="{{ item }}"
      with_fileglob: 'files/*.txt'
    - debug: msg="{{ item }}"
      with_lines: cat lines.txt
    - debug: msg="{{ item }}"
      with_lines: [cat lines.txt, echo 3]
    - debug: msg="{{ item.0.name }} {{ item.1 }} {{ item.0 }}"
      with_subelements: ["{{ users }}", keys]
    - debug: msg="{{ item }}"
      with_pipe: echo piped
    - debug: msg="{{ item }}"
      with_env: [TSPLAY_TEST_VAR]
    - debug: msg="{{ item }}"
      with_fileglob: '*.nomatch'
    - name: what a lookup reads is not templated again
      debug: msg="{{ lookup('file', 'u.txt') }}|{{ lookup('pipe', 'cat u.txt') }}"
    - debug: msg="{{ query('varnames', '^user') }}|{{ lookup('varnames', '^[dx]$') }}"
`,
};

const MAGIC = {
  hosts: `[web]\nh ansible_connection=local ansible_python_interpreter=/usr/bin/python3 hv=1\nh2 ansible_connection=local ansible_python_interpreter=/usr/bin/python3 hv=2\n[db]\nh\n`,
  'site.yml': `- hosts: all
  gather_facts: false
  tasks:
    - debug: msg="{{ inventory_hostname }} {{ inventory_hostname_short }} {{ group_names }} {{ groups }} {{ play_hosts }} {{ ansible_play_batch }} {{ ansible_play_hosts }} {{ ansible_play_hosts_all }}"
      when: inventory_hostname == 'h'
    - debug: msg="{{ hostvars['h2'].hv }} {{ hostvars['h'].hv }} {{ hostvars.h2.inventory_hostname }} {{ hostvars.h2.group_names }}"
      when: inventory_hostname == 'h'
    - set_fact: { sf: "{{ inventory_hostname }}-fact" }
    - debug: msg="{{ hostvars['h2'].sf }} {{ groups['web'] | map('extract', hostvars, 'hv') | list }}"
      when: inventory_hostname == 'h'
    - debug: msg="{{ lookup('vars', 'hv') }} {{ vars['hv'] }} {{ vars.sf }}"
      when: inventory_hostname == 'h'
    - debug: msg="{{ nothing | default(omit) }}"
      when: inventory_hostname == 'h'
    - debug:
        msg: "{{ nothing | default(omit) }}"
        verbosity: "{{ nothing | default(omit) }}"
      when: inventory_hostname == 'h'
    - copy: { content: "x", dest: "{{ playbook_dir }}/o.txt", mode: "{{ nothing | default(omit) }}" }
      register: r
      when: inventory_hostname == 'h'
    - debug: msg="{{ r.mode }} {{ r.changed }}"
      when: inventory_hostname == 'h'
    - set_fact:
        o: "{{ nothing | default(omit) }}"
        d: { a: "{{ omit }}", b: 1 }
        l: ["{{ omit }}", 2]
      when: inventory_hostname == 'h'
    - debug: msg="{{ o | default('no o') }} {{ d }} {{ l | length }} {{ l[0] is string }} {{ l[1] }}"
      when: inventory_hostname == 'h'
    - debug: msg="{{ undefined_x | mandatory('custom message for x') }}"
      when: inventory_hostname == 'h'
      ignore_errors: true
    - debug: msg="{{ undefined_x | mandatory }}"
      when: inventory_hostname == 'h'
      ignore_errors: true
    - debug: msg="{{ 1 | mandatory('not shown') }}"
      when: inventory_hostname == 'h'
- hosts: web[1]
  gather_facts: false
  tasks:
    - debug: msg="{{ play_hosts }} {{ ansible_play_batch }} {{ hostvars['h'].sf }}"
`,
};

describe.skipIf(!hasAnsible)('lookups compared with ansible-playbook', () => {
  it('gives the same values under lookup, query and with_<lookup>', () => {
    const lines = compare(LOOKUPS);
    // what they are (a few; the list above is compared whole)
    expect(lines).toContain('"msg": "from env||dflt"');
    expect(lines).toContain('"msg": "[]|[]"');
    expect(lines).toContain('"msg": "hi\\nthere"');
    expect(lines).toContain('"msg": "line1,line2"');
    expect(lines).toContain('"msg": "x=1\\n|x=2\\n"');
    expect(lines).toContain('"msg": "1,2,3|[\'n05\', \'n06\']|4,6"');
    expect(lines).toContain('"msg": "[]|[]|[]"');
    expect(lines).toContain('"msg": "{{ x }}|{{ x }}"');
    expect(lines).toContain('"msg": "[\'users\']|x,d"');
    expect(lines).toContain("ok: [h] => (item=[{'name': 'u1'}, 'k2']) => {");
    expect(lines.filter((l) => l.startsWith('ok: [h] => (item=line'))).toHaveLength(4);
  }, 120_000);
});

describe.skipIf(!hasAnsible)('variables compared with ansible-playbook', () => {
  it('takes each variable from the source Ansible ranks highest', () => {
    const lines = compare(PRECEDENCE, ['-e', '@extra.json']);
    // the sources up to vars_files always win their own variable
    const low = 'role_defaults inv_all inv_group gv_all gv_group inv_host hv_host play_vars vars_files';
    expect(lines).toEqual([
      `"msg": "pre: ${low} role_vars role_vars role_vars role_vars role_vars role_vars extra"`,
      `"msg": "after include_vars: ${low} role_vars role_vars role_vars include_vars include_vars include_vars extra"`,
      `"msg": "after set_fact: ${low} role_vars role_vars role_vars include_vars set_fact set_fact extra"`,
      `"msg": "role: ${low} role_vars role_vars role_vars include_vars set_fact role_params extra"`,
      `"msg": "task: ${low} role_vars block_vars task_vars include_vars set_fact role_params extra"`,
      `"msg": "block: ${low} role_vars block_vars block_vars include_vars set_fact role_params extra"`,
      `"msg": "play: ${low} role_vars role_vars role_vars include_vars set_fact set_fact extra"`,
      // include_role's vars rank above set_fact, as role parameters do
      `"msg": "role: ${low} role_vars role_vars role_vars include_vars set_fact incl_vars extra"`,
      `"msg": "task: ${low} role_vars block_vars task_vars include_vars set_fact incl_vars extra"`,
      `"msg": "block: ${low} role_vars block_vars block_vars include_vars set_fact incl_vars extra"`,
    ]);
  }, 120_000);

  it('gives include_tasks and include_role vars precedence over set_fact, import vars not', () => {
    expect(compare(INCLUDES)).toEqual([
      '"msg": "imp_role_vars list2"',
      '"msg": "tasks inc_tasks_vars sf"',
      '"msg": "tasks sf sf"',
      '"msg": "role inc_role_vars sf"',
      '"msg": "role sf sf"',
      'ok: [h] => (item=x) => {',
      '"msg": "loop sf x"',
      'ok: [h] => (item=loopv) => {',
      '"msg": "loop_var loopv"',
      '"msg": "tasks vli sf"',
      '"msg": "role inner sf"',
    ]);
  }, 120_000);

  it('warns of a loop variable already in use, as Ansible does', () => {
    const files = {
      't.yml': '- debug: msg={{ b }}\n',
      'site.yml': `- hosts: h
  gather_facts: false
  vars: { b: 1 }
  tasks:
    - debug: msg={{ item }}
      loop: [x]
      vars: { item: task_item }
    - name: named
      debug: msg={{ item }}
      loop: [y]
    - include_tasks: t.yml
      loop: [li]
      loop_control: { loop_var: b }
`,
    };
    // Ansible wraps a warning at the terminal's width: compare the words
    const warnings = (r: Run) =>
      [...r.out.replace(/\s+/g, ' ').matchAll(/\[WARNING\]: (TASK: .*?unexpected behavior\.)/g)].map((m) => m[1]);
    const t = run('tsplay', files);
    const a = run('ansible', files);
    expect(t.lines).toEqual(a.lines);
    expect(warnings(t)).toEqual(warnings(a));
    expect(warnings(t).map((w) => w!.slice(0, 50))).toEqual([
      "TASK: debug: The loop variable 'item' is already i",
      "TASK: include_tasks: The loop variable 'b' is alre",
    ]);
  }, 120_000);

  it("makes import_role's vars the role's vars, seen by the whole play", () => {
    expect(compare(ROLE_VARS)).toEqual([
      '"msg": "pre imp_role_vars rolefile"',
      '"msg": "role imp_role_vars rolefile"',
      '"msg": "role imp_role_vars rolefile"',
      '"msg": "imp_role_vars rolefile"',
      '"msg": "- -"',
    ]);
  }, 120_000);

  it('gives the same magic variables, vars, omit and mandatory messages', () => {
    const lines = compare(MAGIC);
    expect(lines).toEqual([
      `"msg": "h h ['db', 'web'] {'all': ['h', 'h2'], 'ungrouped': [], 'web': ['h', 'h2'], 'db': ['h']} ['h', 'h2'] ['h', 'h2'] ['h', 'h2'] ['h', 'h2']"`,
      `"msg": "2 1 h2 ['web']"`,
      `"msg": "h2-fact [1, 2]"`,
      `"msg": "1 1 h-fact"`,
      `"msg": "Hello world!"`,
      `"msg": "Hello world!"`,
      `"msg": "0644 True"`,
      // omit leaves a mapping, not a list
      `"msg": "no o {'b': 1} 2 True 2"`,
      // mandatory('msg') fails with the message alone
      'fatal: [h]: FAILED! => {"msg": "custom message for x"}',
      `fatal: [h]: FAILED! => {"msg": "Mandatory variable 'undefined_x'  not defined."}`,
      `"msg": "1"`,
      `"msg": "['h2'] ['h2'] h-fact"`,
    ]);
  }, 120_000);
});
