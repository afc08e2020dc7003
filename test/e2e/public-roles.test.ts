// The engine gaps that stopped public Ansible roles (issue 16), each compared with ansible-playbook
// where it is installed: the same playbook, on the local host, under both.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project } from './helpers.js';

const CLI = resolve('dist/engine/cli.js');

interface Run {
  code: number | null;
  out: string;
  err: string;
  msgs: string[];
  recap: string;
}

function run(cmd: 'tsplay' | 'ansible', files: Record<string, string>, extra: string[] = []): Run {
  const dir = project({ hosts: 'h ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n', ...files });
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
    recap:
      lines
        .find((l) => /^h\s+: ok=/.test(l))
        ?.replace(/\s+/g, ' ')
        .trim() ?? '',
  };
}

// Both engines, when Ansible is there.
function both(files: Record<string, string>, extra: string[] = []): { t: Run; a?: Run } {
  return { t: run('tsplay', files, extra), a: hasAnsible ? run('ansible', files, extra) : undefined };
}

describe('dynamic includes are parsed only when they run', () => {
  const files = {
    'redhat.yml': '- name: on RedHat\n  nosuchmod: name=x\n',
    'roles/r/tasks/main.yml': '- name: in role\n  nosuchmod: {}\n',
  };
  const skipped = `- hosts: h
  gather_facts: false
  tasks:
    - include_tasks: redhat.yml
      when: false
    - include_role: { name: r }
      when: false
    - debug: msg=after
`;

  it('an include_tasks / include_role never reached on a file with an unknown module runs fine', () => {
    const { t, a } = both({ ...files, 'site.yml': skipped });
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    expect(t.msgs).toEqual(['"msg": "after"']);
    expect(t.recap).toBe('h : ok=1 changed=0 unreachable=0 failed=0 skipped=2 rescued=0 ignored=0');
    if (a) {
      expect(a.code).toBe(0);
      expect(t.msgs).toEqual(a.msgs);
      expect(t.recap).toBe(a.recap);
    }
  });

  it('included for real, it stops the run with the file:line:col of the unknown module, as ansible does', () => {
    const { t, a } = both({
      ...files,
      'site.yml': skipped.replace(/\n {6}when: false/g, '').replace('{ name: r }', '{ name: r }\n      when: false'),
    });
    expect(t.code).toBe(4);
    expect(t.err).toMatch(/redhat\.yml:2:3: couldn't resolve module\/action 'nosuchmod'/);
    expect(t.out).not.toContain('after');
    if (a) {
      expect(a.code).toBe(4);
      expect(a.err).toMatch(/couldn't resolve module\/action 'nosuchmod'/);
      expect(a.out).not.toContain('after');
    }
  });

  it('the same holds for include_role', () => {
    const { t, a } = both({
      ...files,
      'site.yml': skipped.replace(/\n {6}when: false/g, '').replace('redhat.yml', 'redhat.yml\n      when: false'),
    });
    expect(t.code).toBe(4);
    expect(t.err).toMatch(/roles\/r\/tasks\/main\.yml:2:3: couldn't resolve module\/action 'nosuchmod'/);
    if (a) {
      expect(a.code).toBe(4);
      expect(a.err).toMatch(/couldn't resolve module\/action 'nosuchmod'/);
    }
  });

  it('a missing include file: skipped is fine; reached, it fails the host (not the run), as in ansible', () => {
    const { t, a } = both({
      'site.yml': `- hosts: h
  gather_facts: false
  tasks:
    - include_tasks: missing.yml
      when: false
    - include_tasks: missing.yml
    - debug: msg=after
`,
    });
    expect(t.code).toBe(2);
    expect(t.out).toMatch(
      /fatal: \[h\]: FAILED! => \{"reason": "Could not find or access '.*\/missing\.yml' on the Ansible Controller\."\}/,
    );
    expect(t.recap).toBe('h : ok=0 changed=0 unreachable=0 failed=1 skipped=1 rescued=0 ignored=0');
    if (a) {
      expect(a.code).toBe(2);
      const strip = (out: string) => out.replace(/\/tmp\/tsplay-e2e-\w+/g, 'DIR');
      expect(strip(t.out)).toBe(strip(a.out));
    }
  });

  it('import_tasks of such a file is still refused before any host is touched', () => {
    const { t, a } = both({ ...files, 'site.yml': skipped.replace('include_tasks', 'import_tasks') });
    expect(t.code).toBe(4);
    expect(t.out).toBe('');
    expect(t.err).toMatch(/redhat\.yml:2:3: couldn't resolve module\/action 'nosuchmod'/);
    if (a) {
      expect(a.code).toBe(4);
      expect(a.out).not.toContain('PLAY [');
    }
  });
});

describe('first_found', () => {
  const files = {
    'site.yml': '- hosts: h\n  gather_facts: false\n  vars: { os: Linux }\n  roles: [r]\n',
    'roles/r/tasks/main.yml': `- include_vars: "{{ item }}"
  with_first_found:
    - "{{ nope }}.yml"
    - "{{ os }}-x.yml"
    - "{{ os }}.yml"
- debug: msg="{{ from_vars }}"
- include_tasks: "{{ item }}"
  with_first_found:
    - "os/{{ os }}-missing.yml"
    - "os/default.yml"
- debug:
    msg: "{{ lookup('first_found', {'files': ['a.txt', 'b.txt'], 'paths': ['sub']}) | relpath(role_path) }} {{ lookup('first_found', 'zz', 'b.txt', skip=true) | relpath(role_path) }}"
- debug:
    msg: "{{ query('first_found', {'files': 'q1.txt,b.txt', 'skip': true}) | map('relpath', role_path) | list }} {{ query('first_found', {'files': 'none', 'skip': true}) }}"
- debug: msg="{{ lookup('first_found', 'x.txt', files=['b.txt']) | relpath(role_path) }}"
`,
    'roles/r/vars/Linux.yml': 'from_vars: linux-vars\n',
    'roles/r/tasks/os/default.yml': '- debug: msg=default-os\n',
    'roles/r/files/sub/b.txt': 'b\n',
    'roles/r/files/b.txt': 'b\n',
  };

  it('with_first_found feeds include_vars (vars/) and include_tasks (the task dir); dict terms bring files, paths, skip', () => {
    const { t, a } = both(files);
    expect(t.err).toBe('');
    expect(t.msgs).toEqual([
      '"msg": "linux-vars"',
      '"msg": "default-os"',
      '"msg": "files/sub/b.txt files/b.txt"',
      '"msg": "[\'files/b.txt\'] []"',
      '"msg": "files/b.txt"',
    ]);
    if (a) {
      expect(t.msgs).toEqual(a.msgs);
      expect(t.recap).toBe(a.recap);
    }
  });

  it('no candidate found and no skip fails the task', () => {
    const { t, a } = both({
      'site.yml': '- hosts: h\n  gather_facts: false\n  tasks:\n    - debug: msg={{ item }}\n      with_first_found: [nope.yml]\n',
    });
    expect(t.code).toBe(2);
    expect(t.out).toMatch(/fatal: \[h\]: FAILED!.*No file was found when using first_found/);
    if (a) {
      expect(a.code).toBe(2);
      expect(a.out).toMatch(/fatal: \[h\]: FAILED!.*No file was found when using first_found/);
    }
  });
});

describe('conditional expressions', () => {
  it('chained a if c else b if d else e, and a if c without else, print as in ansible', () => {
    const { t, a } = both({
      'site.yml': `- hosts: h
  gather_facts: false
  vars: {x: 3}
  tasks:
    - debug: msg="{{ 'a' if x == 1 else 'b' if x == 2 else 'c' }}"
    - debug: msg="[{{ 'a' if x == 1 }}]"
    - debug: msg="{{ ('a' if x == 1) is defined }} {{ ('a' if x == 1) | default('dflt') }}"
`,
    });
    expect(t.err).toBe('');
    expect(t.msgs).toEqual(['"msg": "c"', '"msg": []', '"msg": "False dflt"']);
    if (a) expect(t.msgs).toEqual(a.msgs);
  });
});

describe('Jinja2 and Ansible tests', () => {
  it('true, false, filter, test and the Ansible aliases answer as in ansible', () => {
    const { t, a } = both({
      'site.yml': `- hosts: h
  gather_facts: false
  vars: {x: false, y: 0, z: true}
  tasks:
    - debug: msg="{{ [x is false, x is true, y is false, z is true, 'yes' is true, u is false, x is not false] }}"
    - debug: msg="{{ ['upper' is filter, 'defined' is test, 'match' is test, 'ansible.builtin.to_json' is filter] }}"
    - debug: msg="{{ [[1] is issubset([1, 2]), [1, 2] is issuperset([2]), (0.0 / 1) is isnan, '/' is is_mount] }}"
`,
    });
    expect(t.err).toBe('');
    expect(t.out).toMatch(/"msg": \[\s+true,\s+false,\s+false,\s+true,\s+false,\s+false,\s+false\s+\]/);
    expect(t.out).toMatch(/"msg": \[\s+true,\s+true,\s+true,\s+true\s+\]/);
    if (a) {
      expect(a.code).toBe(0);
      const blocks = (r: Run) => r.out.match(/"msg": \[[^\]]*\]/g);
      expect(blocks(t)).toEqual(blocks(a));
    }
  });
});

describe('facts as top-level variables', () => {
  it('service_facts gives services (no ansible_ prefix); a module returning ansible_x gives ansible_facts.x', () => {
    const { t, a } = both({
      'site.yml': `- hosts: h
  gather_facts: false
  tasks:
    - service_facts:
    - debug: msg="{{ [services is mapping, ansible_services is defined, ansible_facts.services is mapping, (services | length) == (ansible_facts.services | length)] }}"
    - hostname: name="{{ ansible_facts.hostname | default('tsplay-check') }}"
      check_mode: true
    - debug: msg="{{ [ansible_hostname is defined, ansible_facts.hostname is defined, ansible_facts.ansible_hostname is defined] }}"
`,
    });
    expect(t.err).toBe('');
    const blocks = (r: Run) => r.out.match(/"msg": \[[^\]]*\]/g)?.map((b) => b.replace(/\s+/g, ' '));
    expect(blocks(t)).toEqual(['"msg": [ true, false, true, true ]', '"msg": [ true, true, false ]']);
    if (a) expect(blocks(t)).toEqual(blocks(a));
  });
});

describe('python facts', () => {
  it('setup gathers ansible_facts.python and ansible_python_version from the host python3, as ansible reports them', () => {
    const { t, a } = both({
      'site.yml': `- hosts: h
  tasks:
    - debug: msg="{{ ansible_facts.python | to_json }} {{ ansible_python_version }} {{ ansible_python.version.major }}"
`,
    });
    expect(t.err).toBe('');
    expect(t.msgs[0]).toMatch(/\\"version\\": \{\\"major\\": 3, .*\\"has_sslcontext\\": true, \\"type\\": \\"cpython\\"\} 3\.\d+\.\d+ 3"$/);
    if (a) expect(t.msgs).toEqual(a.msgs);
  });
});

describe('--list-tasks and --list-tags', () => {
  const files = {
    'roles/r/tasks/main.yml': '- name: role task\n  debug: msg=r\n  tags: [rt]\n- include_tasks: inner.yml\n- import_tasks: inner.yml\n',
    'roles/r/tasks/inner.yml': '- name: inner task\n  debug: msg=i\n',
    'imp.yml': '- name: imported\n  debug: msg=imp\n- debug: msg=unnamed\n',
    'inc.yml': '- name: included\n  debug: msg=inc\n',
    'site.yml': `- name: the play
  hosts: h
  tags: [p]
  pre_tasks:
    - name: pre
      debug: msg=pre
  roles:
    - r
  tasks:
    - import_tasks: imp.yml
      tags: [it]
    - include_tasks: inc.yml
    - name: named include
      include_tasks: inc.yml
    - include_role: { name: r }
    - import_role: { name: r }
    - block:
        - name: in block
          debug: msg=b
  post_tasks:
    - name: post
      debug: msg=post
`,
  };

  it('lists role tasks as "role : name", includes as themselves, imports expanded, tags sorted', () => {
    const t = run('tsplay', files, ['--list-tasks']);
    expect(t.code).toBe(0);
    expect(t.out).toBe(`
playbook: site.yml

  play #1 (h): the play\tTAGS: [p]
    tasks:
      pre\tTAGS: [p]
      r : role task\tTAGS: [p, rt]
      include_tasks\tTAGS: [p]
      r : inner task\tTAGS: [p]
      imported\tTAGS: [it, p]
      debug\tTAGS: [it, p]
      include_tasks\tTAGS: [p]
      named include\tTAGS: [p]
      include_role\tTAGS: [p]
      r : role task\tTAGS: [p, rt]
      include_tasks\tTAGS: [p]
      r : inner task\tTAGS: [p]
      in block\tTAGS: [p]
      post\tTAGS: [p]
`);
    if (hasAnsible) expect(t.out).toBe(run('ansible', files, ['--list-tasks']).out);
  });

  it.skipIf(!hasAnsible)('--list-tags prints what ansible-playbook prints', () => {
    expect(run('tsplay', files, ['--list-tags']).out).toBe(run('ansible', files, ['--list-tags']).out);
  });
});

// ansible.utils and python3-netaddr come with Debian's full `ansible` package, not with ansible-core.
const hasIpwrap =
  hasAnsible &&
  existsSync('/usr/lib/python3/dist-packages/ansible_collections/ansible/utils') &&
  spawnSync('/usr/bin/python3', ['-c', 'import netaddr'], { stdio: 'ignore' }).status === 0;

describe('ansible.utils.ipwrap', () => {
  it.skipIf(!hasIpwrap)('wraps as ansible.utils does', () => {
    const { t, a } = both({
      'site.yml': `- hosts: h
  gather_facts: false
  tasks:
    - debug: msg="{{ ['2001:DB8::1', '2001:db8::1/64', '192.168.001.1', 'example.com', '::ffff:1.2.3.4', '::1.2.3.4', '0:0:1:0:0:0:0:1', '1.2.3.4/08', 5] | ansible.utils.ipwrap }}"
`,
    });
    expect(t.err).toBe('');
    const blocks = (r: Run) => r.out.match(/"msg": \[[^\]]*\]/g);
    expect(blocks(t)).toEqual(blocks(a!));
  });
});

// geerlingguy.docker removes `docker_obsolete_packages`, which users empty to keep docker.io.
describe('package lists', () => {
  it('apt and package with name: [] are ok, changing nothing, as in ansible', () => {
    const { t, a } = both({
      'site.yml': `- hosts: h
  gather_facts: false
  tasks:
    - apt: {name: [], state: absent}
    - package: {name: [], state: present}
`,
    });
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    expect(t.recap).toBe('h : ok=2 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0');
    if (a) expect(t.recap).toBe(a.recap);
  });
});

// geerlingguy.security installs fail2ban with `enablerepo: epel` in a task for RedHat only.
describe('package arguments of other managers', () => {
  it('load, are skipped with their task, and fail as apt refuses them when the task runs, as in ansible', () => {
    const { t, a } = both({
      'site.yml': `- hosts: h
  gather_facts: false
  tasks:
    - package: {name: fail2ban, state: present, enablerepo: epel}
      when: false
    - package: {name: tsplay-no-such-package, state: absent, enablerepo: epel}
`,
    });
    expect(t.err).toBe('');
    expect(t.code).toBe(2);
    expect(t.out).toContain('"msg": "Unsupported parameters for (ansible.legacy.apt) module: enablerepo. Supported parameters include: ');
    expect(t.recap).toBe('h : ok=0 changed=0 unreachable=0 failed=1 skipped=1 rescued=0 ignored=0');
    if (a) {
      expect(t.recap).toBe(a.recap);
      expect(a.out).toContain('"msg": "Unsupported parameters for (ansible.legacy.apt) module: enablerepo. Supported parameters include: ');
    }
  });
});

// Roles carry tasks for RedHat, SUSE, Arch in their main task files, skipped on Debian.
describe('modules for other systems', () => {
  it('load; skipped, they are skipped; run, they fail the host, not the run, as in ansible', () => {
    const { t, a } = both({
      'site.yml': `- hosts: h
  gather_facts: false
  tasks:
    - ansible.builtin.dnf: {name: kernel-modules-extra}
      when: false
    - community.general.zypper: {name: x}
      when: false
    - ansible.builtin.rpm_key: {key: /nonexistent/tsplay.asc, state: absent}
      ignore_errors: true
    - debug: msg=after
`,
    });
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    expect(t.out).toContain("tsplay has no module 'ansible.builtin.rpm_key'");
    expect(t.msgs).toContain('"msg": "after"');
    expect(t.recap).toBe('h : ok=2 changed=0 unreachable=0 failed=0 skipped=2 rescued=0 ignored=1');
    if (a) expect(t.recap).toBe(a.recap);
  });
});

describe('loops that are skipped', () => {
  it("every item skipped ends with one 'skipping: [h]'; an undefined loop with a false when is skipped, as in ansible", () => {
    const { t, a } = both({
      'site.yml': `- hosts: h
  gather_facts: false
  tasks:
    - debug: msg={{ item }}
      loop: [1, 2]
      when: false
    - debug: msg={{ item }}
      loop: "{{ nosuchvar }}"
      when: false
    - debug: msg={{ item }}
      loop: "{{ nosuchvar }}"
      ignore_errors: true
`,
    });
    expect(t.err).toBe('');
    const lines = (r: Run) =>
      r.out
        .split('\n')
        .filter((l) => /^(skipping|ok|fatal|\.\.\.ignoring)/.test(l))
        .map((l) => l.trim().replace(/ =>.*/, ''));
    expect(lines(t)).toEqual(['skipping: [h]', 'skipping: [h]', 'skipping: [h]', 'skipping: [h]', 'fatal: [h]: FAILED!', '...ignoring']);
    expect(t.out).toContain("'nosuchvar' is undefined");
    expect(t.recap).toBe('h : ok=1 changed=0 unreachable=0 failed=0 skipped=2 rescued=0 ignored=1');
    if (a) {
      expect(lines(t)).toEqual(lines(a));
      expect(t.recap).toBe(a.recap);
    }
  });

  it('a task skipped by when is not shown as delegated; an all-skipped loop says so, as in ansible', () => {
    const { t, a } = both({
      'site.yml': `- hosts: h
  gather_facts: false
  tasks:
    - debug: msg=x
      delegate_to: localhost
      when: false
    - debug: msg={{ item }}
      loop: [1]
      delegate_to: localhost
      when: false
      register: r
    - debug: msg={{ r.msg }}
`,
    });
    expect(t.err).toBe('');
    const skips = (r: Run) => r.out.split('\n').filter((l) => l.startsWith('skipping'));
    expect(skips(t)).toEqual(['skipping: [h]', 'skipping: [h] => (item=1)', 'skipping: [h]']);
    expect(t.msgs).toEqual(['"msg": "All items skipped"']);
    if (a) {
      expect(skips(t)).toEqual(skips(a).map((l) => l.trimEnd()));
      expect(t.msgs).toEqual(a.msgs);
    }
  });
});

describe('assert output', () => {
  it('a passing assert prints changed and its msg, as in ansible', () => {
    const { t, a } = both({
      'site.yml': `- hosts: h
  gather_facts: false
  tasks:
    - assert: {that: [1 == 1]}
    - debug: msg=x
`,
    });
    expect(t.err).toBe('');
    const block = (r: Run) =>
      r.out
        .split('TASK [assert]')[1]!
        .split('TASK [debug]')[0]!
        .replace(/^ \*+\n/, '');
    expect(block(t)).toBe('ok: [h] => {\n    "changed": false,\n    "msg": "All assertions passed"\n}\n\n');
    if (a) expect(block(t)).toBe(block(a));
  });
});

describe('from_yaml', () => {
  it('passes an undefined value through, as in ansible', () => {
    const { t, a } = both({
      'site.yml': `- hosts: h
  gather_facts: false
  tasks:
    - debug: msg="{{ (nosuch | from_yaml) is defined }} {{ nosuch | from_yaml_all | default('d') }}"
`,
    });
    expect(t.err).toBe('');
    expect(t.msgs).toEqual(['"msg": "False d"']);
    if (a) expect(t.msgs).toEqual(a.msgs);
  });
});
