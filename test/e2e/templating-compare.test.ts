// Templating details compared with ansible-playbook itself: backslashes in the string literals of a
// template string (Ansible doubles them inside {{ }} of playbook data, not in {% %}, conditions or
// template files), and what hostvars holds.
import { describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { runAnsible, runTsplay } from './compare.js';

const files = { 't.j2': "{{ 'f\\tg' }}|{% set s = 'h\\ti' %}{{ s }}" };

const PLAY = String.raw`- hosts: h
  gather_facts: false
  vars:
    x: "a\nb"
    dotted: 'v1.2.3'
  tasks:
    - name: a literal's \n inside an expression of a single-quoted YAML scalar is a backslash and an n
      debug:
        msg: '{{ x.split(''\n'') }}'
    - name: the same literal in a condition is a newline
      debug:
        msg: split
      when: x.split('\n') | length == 2
    - name: a YAML double-quoted \\t reaches Jinja as \t, kept as written
      debug:
        msg: "{{ 'a\\tb' }}"
    - name: inside a statement a literal's escapes are decoded
      debug:
        msg: "{% set s = 'c\\td' %}{{ s }}"
    - name: a regex written with two backslashes keeps both
      debug:
        msg: '{{ dotted | regex_replace(''\\.'', ''-'') }} {{ dotted | regex_replace(''\.'', ''-'') }}'
    - name: a k=v tab is decoded before templating
      debug: msg={{ 'e\tf' }}
    - name: a template file's literals are decoded
      debug:
        msg: "{{ lookup('template', 't.j2') }}"
    - name: hostvars holds -e values, not play vars
      debug:
        msg: "{{ hostvars['h'].ev | default('none') }} {{ hostvars['h'].dotted | default('no play vars') }}"
`;

const TYPES = String.raw`- hosts: h
  gather_facts: false
  vars:
    base: [1, 2]
    more: '{{ base + [3] }}'
    count: '{{ more | length }}'
    nothing: null
    x: 0
    prefix: '{{ 1 + 1 }}'
  tasks:
    - set_fact:
        a: "{{ 1 + 1 }}"
        b: "{{ count }}"
        c: "{{ nothing }}"
        d: "{{ x | mandatory }}"
        e: "{{ lookup('file', 'absent.txt', errors='ignore') }}"
        f: "{{ lookup('vars', 'pre' ~ 'fix') }}"
        g: "{{ x }}"
        i: "{{ 2.5 }}"
        j: "{{ none }}"
        k: "{{ more }}"
        l: "{{ x > 1 }}"
        m: null
    - debug:
        msg: "{{ [a, b, c, d, e, f, g, i, j, k, l, m] | map('type_debug') | list | join(' ') }}"
    - debug:
        msg: "[{{ a }}] [{{ c }}] [{{ e }}] [{{ i }}] [{{ j }}] [{{ k }}] [x{{ nothing }}y]"
`;

describe.skipIf(!hasAnsible)('templating compared with ansible-playbook', () => {
  it('renders every expression but a lone variable to text, as 2.14 does (types and values)', async () => {
    const t = await runTsplay({}, TYPES);
    const a = runAnsible({}, TYPES);
    expect(a.code, a.out).toBe(0);
    expect(t.code, t.out).toBe(0);
    // ansible's lookup result is AnsibleUnsafeText, a str to everything but type_debug
    expect(t.msgs).toEqual(a.msgs.map((m) => m.replace('AnsibleUnsafeText', 'str')));
    expect(t.msgs).toEqual([
      '"msg": "str str NoneType str str str int str str list bool NoneType"',
      '"msg": "[2] [] [] [2.5] [] [[1, 2, 3]] [xy]"',
    ]);
  }, 120_000);

  it('gives the same messages', async () => {
    const t = await runTsplay(files, PLAY, ['-e', 'ev=E']);
    const a = runAnsible(files, PLAY, ['-e', 'ev=E']);
    expect(a.code, a.out).toBe(0);
    expect(t.code, t.out).toBe(0);
    expect(t.msgs).toEqual(a.msgs);
    // and what they are, so that a change on both sides is seen
    expect(t.msgs).toEqual([
      '"msg": [',
      '"msg": "split"',
      '"msg": "a\\\\tb"',
      '"msg": "c\\td"',
      '"msg": "v1.2.3 v1-2-3"',
      '"msg": "e\\tf"',
      '"msg": "f\\tg|h\\ti"',
      '"msg": "E no play vars"',
    ]);
  }, 120_000);

  it("templates task names with the first host's variables, as the TASK banners show them", async () => {
    const play = String.raw`- hosts: h
  gather_facts: false
  vars:
    profile: cluster
    n: 3
  tasks:
    - name: The profile {{ profile }} here, {{ n + 1 }} times
      debug: msg=one
    - name: Item {{ item }} is not known yet
      debug: msg={{ item }}
      loop: [a]
    - name: An {{ undefined_var }} keeps the name as written
      debug: msg=two
    - name: "{{ profile | upper }}"
      debug: msg=three
`;
    const banners = (out: string) => out.split('\n').filter((l) => l.startsWith('TASK ['));
    const t = await runTsplay({}, play);
    const a = runAnsible({}, play);
    expect(a.code, a.out).toBe(0);
    expect(t.code, t.out).toBe(0);
    expect(banners(t.out)).toEqual(banners(a.out));
    expect(banners(t.out).map((l) => l.replace(/ \*+$/, ''))).toEqual([
      'TASK [The profile cluster here, 4 times]',
      'TASK [Item {{ item }} is not known yet]',
      'TASK [An {{ undefined_var }} keeps the name as written]',
      'TASK [CLUSTER]',
    ]);
  }, 120_000);

  it('draws the same seeded random values as Python, so cron minutes spread by host stay put', async () => {
    const play = String.raw`- hosts: h
  gather_facts: false
  tasks:
    - debug:
        msg: "{{ 60 | random(seed=inventory_hostname) }} {{ 60 | random(seed='node1') }} {{ 100 | random(10, 7, seed=42) }} {{ ['a', 'b', 'c'] | random(seed='x') }}"
    - debug:
        msg: "{{ range(10) | shuffle(seed='s') | join(',') }} {{ [1, 2] | shuffle(seed=0) | length }}"
`;
    const t = await runTsplay({}, play);
    const a = runAnsible({}, play);
    expect(a.code, a.out).toBe(0);
    expect(t.code, t.out).toBe(0);
    expect(t.msgs).toEqual(a.msgs);
    expect(t.msgs[1]).toBe('"msg": "3,2,1,4,8,0,6,5,9,7 2"');
  }, 120_000);
});
