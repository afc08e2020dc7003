// Ansible's semantics where tsplay differed silently (issue 17's first group), each compared with
// ansible-playbook itself where it is installed (CI installs ansible-core 2.14), and pinned to what
// that printed otherwise: the same playbook, on the local host, under both.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project } from './helpers.js';

const CLI = resolve('dist/engine/cli.js');

const PLAY = `- hosts: h
  gather_facts: false
  vars:
    raw: !unsafe '{{ lookup("pipe", "id") }}'
    uses_raw: "[{{ raw }}]"
  tasks:
    - set_fact: a="yes" b=no c=True d=text
    - set_fact:
        e: "yes"
        f: "{{ 'no' }}"
    - debug: msg="{{ [a, b, c, d, e, f] | map('type_debug') | list }}"
    - debug: msg="{{ item }}"
      with_sequence: start=1 end=12 stride=5 format=pangrams.%02x.txt
    - debug: msg="{{ item }}"
      with_sequence: 4:host%02d
    - command: "true"
      register: r1
    - command: "false"
      register: r1
      when: false
    - debug: msg="{{ r1.skipped }} {{ r1.skip_reason }} {{ r1.changed }}"
    - command: "false"
      ignore_errors: true
    - command: "true"
      register: r3
    - debug: msg="failed={{ r3.failed }}"
    - debug:
        msg: !unsafe '{{ not templated }}'
    - debug: msg="{{ uses_raw }}"
    - copy: dest={{ playbook_dir }}/esc.txt content='tab\\there\\nnext\\x41\\101\\\\end'
`;

const CHECK_PLAY = `- hosts: h
  gather_facts: false
  tasks:
    - shell: echo hi
      register: s
    - debug: msg="[{{ s.stdout }}] rc={{ s.rc }} lines={{ s.stdout_lines | length }} skipped={{ s.skipped }}"
`;

const RESCUE_PLAY = `- hosts: h
  gather_facts: false
  tasks:
    - block:
        - name: the failing one
          command: "false"
      rescue:
        - debug: msg="{{ ansible_failed_task.name }} {{ ansible_failed_result.rc }} {{ ansible_failed_result.msg }}"
        - debug: msg="{{ ansible_failed_task.action }}"
    - debug: msg="{{ ansible_failed_task.name | default('gone') }}"
    - debug: msg="{{ undefined_thing.x }}"
      ignore_errors: true
    - debug: msg="{{ item.key }}"
      with_dict: [1, 2]
      ignore_errors: true
    - debug: msg="{{ 1 }}"
      when: nope.attr
      ignore_errors: true
    - debug: msg=after
`;

interface Run {
  code: number | null;
  out: string;
  err: string;
  msgs: string[];
  statuses: string[];
  recap: string;
  dir: string;
}

function run(
  cmd: 'tsplay' | 'ansible',
  playbook: string,
  extra: string[] = [],
  files: Record<string, string> = {},
  setup?: (dir: string) => unknown,
): Run {
  const dir = project({
    hosts: 'h ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n',
    'site.yml': playbook,
    ...files,
  });
  setup?.(dir);
  const env = { ...process.env, NO_COLOR: '1', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'false' };
  const r =
    cmd === 'tsplay'
      ? spawnSync(process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env })
      : spawnSync('ansible-playbook', ['site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env });
  const lines = r.stdout.split('\n');
  return {
    code: r.status,
    out: r.stdout,
    err: r.stderr,
    msgs: lines.filter((l) => /^\s+"msg": /.test(l)).map((l) => l.trim()),
    statuses: lines
      .filter((l) => /^(ok|changed|skipping|fatal|failed): \[h\]/.test(l) || l === '...ignoring')
      .map((l) =>
        l
          .replace(/^(fatal: \[h\]: FAILED!).*$/, '$1')
          .replace(/ => \{.*$/, '')
          .replace(/ => $/, ''),
      ),
    recap:
      lines
        .find((l) => /^h\s+: ok=/.test(l))
        ?.replace(/\s+/g, ' ')
        .trim() ?? '',
    dir,
  };
}

describe('Ansible semantics that differed silently', () => {
  const t = run('tsplay', PLAY);

  it('set_fact makes yes/no/true/false booleans (2.14, without Jinja2 native types)', () => {
    expect(t.code).toBe(0);
    // a="yes" b=no c=True d=text, then e: "yes", f: "{{ 'no' }}"
    expect(t.out).toMatch(/"msg": \[\s+"bool",\s+"bool",\s+"bool",\s+"str",\s+"bool",\s+"bool"\s+\]/);
  });

  it('with_sequence formats with Python %-formatting (%02x), and the short form start-end/stride:format', () => {
    expect(t.msgs).toEqual(
      expect.arrayContaining([
        '"msg": "pangrams.01.txt"',
        '"msg": "pangrams.06.txt"',
        '"msg": "pangrams.0b.txt"',
        '"msg": "host01"',
        '"msg": "host04"',
      ]),
    );
  });

  it('a skipped task overwrites its register; a successful result has failed: false; !unsafe is not templated', () => {
    expect(t.msgs).toContain('"msg": "True Conditional result was False False"');
    expect(t.msgs).toContain('"msg": "failed=False"');
    expect(t.msgs).toContain('"msg": "{{ not templated }}"');
    expect(t.msgs).toContain('"msg": "[{{ lookup(\\"pipe\\", \\"id\\") }}]"');
  });

  it('an ignored failure counts as ok and ignored, and as changed for command', () => {
    expect(t.recap).toBe('h : ok=13 changed=4 unreachable=0 failed=0 skipped=1 rescued=0 ignored=1');
  });

  it("k=v values decode Python's escapes, as Ansible's parse_kv does", () => {
    expect(readFileSync(join(t.dir, 'esc.txt'), 'latin1')).toBe('tab\there\nnextA\\101\\end'); // 2.14 decodes no octal
  });

  it.skipIf(!hasAnsible)('ansible-playbook prints the same messages, statuses and recap, and writes the same file', () => {
    const a = run('ansible', PLAY);
    expect(a.code).toBe(0);
    expect(t.msgs).toEqual(a.msgs);
    expect(t.out).toContain(a.out.slice(a.out.indexOf('"msg": ['), a.out.indexOf(']', a.out.indexOf('"msg": [')) + 1));
    expect(t.statuses).toEqual(a.statuses);
    expect(t.recap).toBe(a.recap);
    expect(readFileSync(join(t.dir, 'esc.txt'))).toEqual(readFileSync(join(a.dir, 'esc.txt')));
  });

  it('rescue sees ansible_failed_task and ansible_failed_result; ignore_errors covers templating, loop and condition errors', () => {
    const r = run('tsplay', RESCUE_PLAY);
    expect(r.code).toBe(0);
    expect(r.msgs).toEqual([
      '"msg": "the failing one 1 non-zero return code"',
      '"msg": "command"',
      '"msg": "the failing one"',
      '"msg": "after"',
    ]);
    expect(r.statuses.filter((s) => s === '...ignoring')).toHaveLength(3);
    expect(r.recap).toBe('h : ok=7 changed=0 unreachable=0 failed=0 skipped=0 rescued=1 ignored=3');
    if (hasAnsible) {
      const a = run('ansible', RESCUE_PLAY);
      expect(r.msgs).toEqual(a.msgs);
      expect(r.statuses).toEqual(a.statuses);
      expect(r.recap).toBe(a.recap);
    }
  });

  it('an extended loop of include_tasks gives the included tasks ansible_loop; ansible_playbook_python is set', () => {
    const play = `- hosts: h
  gather_facts: false
  tasks:
    - include_tasks: inc.yml
      loop: [a, b]
      loop_control:
        extended: true
        index_var: idx
    - debug: msg="{{ ansible_playbook_python is string }} {{ ansible_version.major }}.{{ ansible_version.minor }}"
`;
    const files = { 'inc.yml': '- debug: msg="{{ item }} {{ ansible_loop.index }} {{ ansible_loop.last }} {{ idx }}"\n' };
    const r = run('tsplay', play, [], files);
    expect(r.msgs).toEqual(['"msg": "a 1 False 0"', '"msg": "b 2 True 1"', '"msg": "True 2.14"']);
    if (hasAnsible) expect(run('ansible', play, [], files).msgs).toEqual(r.msgs);
  });

  it('filters and tests Ansible and Jinja2 ship give what they give in ansible-playbook', () => {
    const exprs = [
      "{{ (playbook_dir ~ '/g/*.txt') | fileglob | map('basename') | sort }}",
      "{{ [{'n': 'a', 'v': 1}, {'n': 'b', 'v': 2}] | rekey_on_member('n') }}",
      "{{ 'a%20b+c%2Fd' | urldecode }}",
      "{{ 'C:/Users/pi/file.txt' | win_basename }} {{ 'C:/Users/pi/file.txt' | win_dirname }} {{ '//host/share/x' | win_splitdrive | list }} {{ 'C:/' | win_dirname }}",
      '{{ 1 | filesizeformat }} {{ 999 | filesizeformat }} {{ 1500 | filesizeformat }} {{ 3000000 | filesizeformat(true) }}',
      '{{ [1, 2, 3, 4, 5] | slice(3) | list }} {{ [1, 2, 3, 4] | slice(3, 0) | list }}',
      "{{ '<p>a  <b>bold</b>\\n text &amp; more</p>' | striptags }}",
      "{{ 'the quick brown fox jumps over the lazy dog' | wordwrap(10) }}",
      "{{ {'class': 'x y', 'id': 'a<b', 'skip': none} | xmlattr }}",
      "{{ 'J:' ~ ({'b': 1, 'a': '<tag> & q'} | tojson) }}",
      "{{ 'https://example.org/x' is url }} {{ 'mailto:pi@example.org' is url }} {{ 'urn:isbn:1' is urn }} {{ 'http://x' is uri(['https']) }} {{ 'x' is uri }}",
      "{{ (0.0 / 0.0 if false else 'x') is nan }} {{ (playbook_dir ~ '/dangling') is link_exists }} {{ (playbook_dir ~ '/dangling') is exists }} {{ '/' is mount }} {{ playbook_dir is mount }} {{ (playbook_dir ~ '/g/a.txt') is same_file(playbook_dir ~ '/g/a.txt') }}",
      "{{ [7] | random }} {{ 1 | random }} {{ ['x'] | shuffle }}",
      "{{ ('data' | vault('pw')).splitlines()[0] }} {{ 'data' | vault('pw', vaultid='lab') | unvault('pw', vaultid='lab') }} {{ 'data' | vault('pw') | unvault('pw') }}",
      "{{ 'secret' | password_hash('sha512', 'saltsalt') }} {{ 'secret' | password_hash('sha256', 'saltsalt', rounds=10000) }}",
      "D{{ (('2016-08-14 20:00:12' | to_datetime) - ('2015-12-25' | to_datetime('%Y-%m-%d'))).days }} {{ (('2016-08-14 20:00:12' | to_datetime) - ('2016-08-14 18:00:00' | to_datetime)).seconds }}",
      "{{ '2016-08-14 20:00:12' | to_datetime }} {{ ('2016-08-14 20:00:12' | to_datetime) - ('2016-08-16 21:30:00' | to_datetime) }} {{ ('14/08/2016 8:05 PM' | to_datetime('%d/%m/%Y %I:%M %p')).strftime('%Y %j %A %H') }}",
      "{{ ('2016-08-14 20:00:12' | to_datetime) > ('2016-08-13 20:00:12' | to_datetime) }} {{ ('2016-08-14 20:00:12' | to_datetime) == ('2016-08-14 20:00:12' | to_datetime) }} {{ ('Aug 3 99' | to_datetime('%b %d %y')).year }} {{ '2016-08-14 20:00:12' | to_datetime | type_debug }}",
      "{{ 'see https://example.org/x?a=1&b=2, or www.example.com. Mail pi@example.org (http://10.0.0.1:8080/p) <b>x</b> mailto:a@b.co foo.com bar.de' | urlize }}",
      "{{ 'go to http://example.org/a/very/long/path now' | urlize(10, true, target='_blank', rel='me') }} {{ 'ftp://x.org/y tel:123' | urlize(extra_schemes=['ftp://', 'tel:']) }}",
      "{{ 'secret' | password_hash('md5', 'saltsalt') }} {{ 'secret' | password_hash('md5_crypt', 'abc', rounds=2000) }} {{ 'secret' | password_hash('sha512', 'saltsalt', rounds=656000) }} {{ 'secret' | password_hash('sha512', 'saltsalt', rounds=5000) }} {{ 'x' | password_hash('md5') | length }}",
    ];
    const play = `- hosts: h\n  gather_facts: false\n  tasks:\n${exprs.map((e) => `    - debug:\n        msg: "${e.replace(/"/g, '\\"')}"\n`).join('')}`;
    const files = { 'g/a.txt': 'a', 'g/b.txt': 'b', 'g/c.log': 'c', 'g/d.txt/keep': 'dir, not a file' };
    const setup = (dir: string) => spawnSync('ln', ['-s', 'nowhere', join(dir, 'dangling')]);
    const r = run('tsplay', play, [], files, setup);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.msgs).toHaveLength(exprs.length);
    expect(r.msgs[0]).toBe('"msg": [');
    expect(r.msgs).toContain('"msg": "a b c/d"');
    if (hasAnsible) {
      const a = run('ansible', play, [], files, setup);
      expect(a.code, a.out).toBe(0);
      expect(r.out.slice(r.out.indexOf('TASK ['))).toBe(
        a.out.slice(a.out.indexOf('TASK ['), a.out.indexOf('PLAY RECAP')) + r.out.slice(r.out.indexOf('PLAY RECAP')),
      );
    }
  });

  it("template's Jinja2 options and the #jinja2: header write what Ansible writes", () => {
    const body = 'head {{ name }}\n    {% for i in items %}\n    item {{ i }}\n    {% endfor %}\n{# note #}\ntail é\n';
    const files = {
      'templates/t.j2': body,
      'templates/d.j2': 'x=[[ name ]] [% if true %]yes[% endif %] {{ not a var }}\n',
      'templates/h.j2': `#jinja2: lstrip_blocks: True, trim_blocks: False\n${body}`,
    };
    const cases: [string, string][] = [
      ['default', 'src: t.j2'],
      ['no-trim', 'src: t.j2\n        trim_blocks: false'],
      ['lstrip', 'src: t.j2\n        lstrip_blocks: true'],
      ['crlf', "src: t.j2\n        newline_sequence: '\\r\\n'"],
      [
        'delims',
        "src: d.j2\n        variable_start_string: '[['\n        variable_end_string: ']]'\n        block_start_string: '[%'\n        block_end_string: '%]'",
      ],
      ['header', 'src: h.j2'],
      ['latin1', 'src: t.j2\n        output_encoding: latin-1'],
    ];
    const play = `- hosts: h\n  gather_facts: false\n  vars:\n    name: pi\n    items: [1, 2]\n  tasks:\n${cases.map(([n, a]) => `    - template:\n        ${a}\n        dest: "{{ playbook_dir }}/out-${n}"\n`).join('')}`;
    const t = run('tsplay', play, [], files);
    expect(t.code, t.out + t.err).toBe(0);
    expect(readFileSync(join(t.dir, 'out-default'), 'utf8')).toBe('head pi\n        item 1\n        item 2\n    tail é\n');
    expect(readFileSync(join(t.dir, 'out-crlf'), 'utf8')).toContain('head pi\r\n');
    expect(readFileSync(join(t.dir, 'out-delims'), 'utf8')).toBe('x=pi yes {{ not a var }}\n');
    expect(readFileSync(join(t.dir, 'out-latin1')).includes(Buffer.from([0xe9]))).toBe(true);
    if (hasAnsible) {
      const a = run('ansible', play, [], files);
      expect(a.code, a.out).toBe(0);
      for (const [n] of cases) expect(readFileSync(join(t.dir, `out-${n}`)), n).toEqual(readFileSync(join(a.dir, `out-${n}`)));
    }
  });

  it('command expands ~ and $VARS of the environment in its words, as Ansible does; expand_argument_vars: false does not', () => {
    const play = `- hosts: h
  gather_facts: false
  tasks:
    - command: echo $HOME ~ ~root ~nosuchuser $NOPE_X \${HOME}x a$HOMEb "$HOME" \${A-B} ~/x 'it''s'
      register: r
    - debug: msg="{{ r.stdout }}"
    - command:
        argv: [echo, $HOME, '~']
        expand_argument_vars: false
      register: n
    - debug: msg="{{ n.stdout }}"
`;
    const t = run('tsplay', play);
    expect(t.code, t.out + t.err).toBe(0);
    const home = process.env.HOME ?? '/root';
    expect(t.msgs[0]).toBe(`"msg": "${home} ${home} /root ~nosuchuser $NOPE_X ${home}x a$HOMEb ${home} \${A-B} ${home}/x its"`); // 'it''s': two quoted words, one argument
    expect(t.msgs[1]).toBe('"msg": "$HOME ~"');
    if (hasAnsible) expect(run('ansible', play).msgs[0]).toBe(t.msgs[0]);
  });

  it('debug var= says VARIABLE IS NOT DEFINED! only for an undefined variable; a broken template fails the task', () => {
    const play = '- hosts: h\n  gather_facts: false\n  tasks:\n    - debug: var=y\n    - debug: var=x\n';
    const files = { 'group_vars/all.yml': 'x: "{{ a b }}"\ny: "{{ nope }}"\n' };
    const t = run('tsplay', play, [], files);
    expect(t.out).toContain('"y": "VARIABLE IS NOT DEFINED!"');
    expect(t.statuses).toEqual(['ok: [h]', 'fatal: [h]: FAILED!']);
    expect(t.recap).toBe('h : ok=1 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0');
    if (hasAnsible) {
      const a = run('ansible', play, [], files);
      expect(t.statuses).toEqual(a.statuses);
      expect(t.recap).toBe(a.recap);
    }
  });

  it("in check mode a shell task's skipped result still has empty output fields", () => {
    const c = run('tsplay', CHECK_PLAY, ['--check']);
    expect(c.code).toBe(0);
    expect(c.msgs).toEqual(['"msg": "[] rc=0 lines=0 skipped=True"']);
    if (hasAnsible) expect(run('ansible', CHECK_PLAY, ['--check']).msgs).toEqual(c.msgs);
  });

  it('a rendered string that spells a Python list, dict or boolean becomes one; a string filter at the end keeps text', () => {
    const play = `- hosts: h
  gather_facts: false
  vars: { a: 1, b: two, d: { k: v }, t: "True" }
  tasks:
    - debug: msg="{{ x is string }} {{ x }}"
      loop_control: { loop_var: x }
      loop:
        - "[{{ a }}, '{{ b }}']"
        - "{'k': '{{ b }}'}"
        - "{{ d | to_json }}"
        - "{{ t }}"
        - "[{{ a }}, {{ b }}]"
        - "  [{{ a }}]"
        - "{{ '[' }}1, 2]"
    - debug: msg="{{ item }}"
      loop: "[{{ a }}, 2]"
`;
    const t = run('tsplay', play);
    expect(t.code, t.out + t.err).toBe(0);
    expect(t.msgs).toEqual([
      `"msg": "False [1, 'two']"`,
      `"msg": "False {'k': 'two'}"`,
      '"msg": "True {\\"k\\": \\"v\\"}"',
      '"msg": "False True"',
      '"msg": "True [1, two]"',
      '"msg": "True   [1]"',
      '"msg": "False [1, 2]"',
      '"msg": 1',
      '"msg": 2',
    ]);
    if (hasAnsible) expect(run('ansible', play).msgs).toEqual(t.msgs);
  });

  it("a loop's items say failed: false, the loop's own result has no failed key", () => {
    const play = `- hosts: h
  gather_facts: false
  tasks:
    - command: echo {{ item }}
      loop: [1]
      register: r
    - debug: msg="{{ r.results[0].failed | default('absent') }} {{ r.failed | default('absent') }} {{ r is failed }}"
`;
    const t = run('tsplay', play);
    expect(t.msgs).toEqual(['"msg": "False absent False"']);
    if (hasAnsible) expect(run('ansible', play).msgs).toEqual(t.msgs);
  });
  it('*args and **kwargs in calls, filters and lookups spread as in Jinja2; * and ** stay operators', () => {
    const exprs = [
      "{{ '%s-%s' | format(*items) }} {{ {} | combine(*ds) }}",
      "{{ dict(**x) }} {{ dict(c=3, **x) }} {{ dict(x, **{'z': 1}) }}",
      "{{ lookup('items', *items) }} {{ query('items', *items, wantlist=true) }}",
      "{{ range(*l) | list }} {{ range(1, *[4]) | list }} {{ 'abc' | replace(*['b', 'X']) }} {{ [3, 1] | max(*[]) }}",
      "{{ 2 * 3 }} {{ 2 ** 3 ** 2 }} {{ l | length * 2 }} {{ (2 * 3) ** 2 }} {{ 'ab' * 2 }} {{ [1] * 2 }}",
      "{{ 'a,b' | split(*[',']) }} {{ x | dict2items(**{'key_name': 'k'}) }}",
    ];
    const play = `- hosts: h
  gather_facts: false
  vars:
    items: ['a', 'b']
    ds: [{a: 1}, {b: 2, a: 3}]
    x: {a: 1, b: 2}
    l: [2, 7, 2]
  tasks:
${exprs.map((e) => `    - debug:\n        msg: "${e}"\n`).join('')}`;
    const t = run('tsplay', play);
    expect(t.code, t.out + t.err).toBe(0);
    expect(t.msgs).toEqual([
      '"msg": "a-b {\'a\': 3, \'b\': 2}"',
      "\"msg\": \"{'a': 1, 'b': 2} {'c': 3, 'a': 1, 'b': 2} {'a': 1, 'b': 2, 'z': 1}\"",
      '"msg": "a,b [\'a\', \'b\']"',
      '"msg": "[2, 4, 6] [1, 2, 3] aXc 3"',
      '"msg": "6 64 6 36 abab [1, 1]"',
      "\"msg\": \"['a', 'b'] [{'k': 'a', 'value': 1}, {'k': 'b', 'value': 2}]\"",
    ]);
    if (hasAnsible) expect(run('ansible', play).msgs).toEqual(t.msgs);
  });
  it('copy of a directory src: dir/ copies what it holds, dir itself; local_follow, directory_mode, idempotent, --check', () => {
    const play = `- hosts: h
  gather_facts: false
  vars:
    out: "{{ playbook_dir }}/out"
  tasks:
    - copy: src=src/ dest={{ out }}/contents/ mode=0640 directory_mode=0750
      register: r1
    - copy: src=src dest={{ out }}/itself local_follow=false
      register: r2
    - copy: src=src/sub dest={{ out }}/two
      register: r3
    - copy: src=one/ dest={{ out }}/single
      register: r4
    - debug:
        msg: "{{ [r1, r2, r3, r4] | map('dict2items') | map('selectattr', 'key', 'in', ['changed', 'dest', 'src', 'checksum', 'mode', 'size']) | map('items2dict') | list }}"
`;
    const setup = (dir: string) => {
      for (const d of ['src/sub/deep', 'src/empty', 'one']) mkdirSync(join(dir, d), { recursive: true });
      for (const [f, text] of Object.entries({ 'src/a.txt': 'a', 'src/sub/b.txt': 'b', 'src/sub/deep/c.txt': 'c', 'one/only': 'x' }))
        writeFileSync(join(dir, f), text);
      symlinkSync('a.txt', join(dir, 'src/link.txt'));
      symlinkSync('sub', join(dir, 'src/linkdir'));
    };
    const tree = (dir: string) =>
      spawnSync('find', ['.', '-printf', '%p %M %l\\n'], { cwd: join(dir, 'out'), encoding: 'utf8' })
        .stdout.split('\n')
        .sort();
    const check = run('tsplay', play, ['--check'], {}, setup);
    expect(check.code, check.out + check.err).toBe(0);
    expect(check.recap).toContain('changed=4');
    expect(existsSync(join(check.dir, 'out'))).toBe(false);
    const t = run('tsplay', play, [], {}, setup);
    expect(t.code, t.out + t.err).toBe(0);
    expect(t.recap).toContain('changed=4');
    const got = tree(t.dir);
    expect(got).toContain('./contents drwxr-x--- ');
    expect(got).toContain('./contents/link.txt -rw-r----- ');
    expect(got).toContain('./contents/linkdir/deep/c.txt -rw-r----- ');
    expect(got).toContain('./itself/src/link.txt lrwxrwxrwx a.txt');
    expect(got).toContain('./itself/src/empty drwxr-xr-x ');
    expect(got).toContain('./two/sub/deep/c.txt -rw-r--r-- ');
    expect(readFileSync(join(t.dir, 'out/contents/linkdir/deep/c.txt'), 'utf8')).toBe('c');
    expect(readFileSync(join(t.dir, 'out/single/only'), 'utf8')).toBe('x');
    const second = spawnSync(process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts'], { cwd: t.dir, encoding: 'utf8' });
    expect(second.stdout).toMatch(/ok=5 +changed=0 /);
    expect(tree(t.dir)).toEqual(got);
    if (hasAnsible) {
      const a = run('ansible', play, [], {}, setup);
      expect(a.msgs).toEqual(t.msgs);
      expect(tree(a.dir)).toEqual(got);
    }
  });
});
