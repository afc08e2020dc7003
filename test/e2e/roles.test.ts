// Roles (issue 16): roles:, dependencies, include_role / import_role, role variables and their
// precedence, role handlers, role-relative files, argument_specs, ansible.cfg's roles_path.
// Each playbook runs on the local host under tsplay and, where it is installed (CI installs
// ansible-core 2.14), under ansible-playbook: the whole output must be the same.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project } from './helpers.js';

const CLI = resolve('dist/engine/cli.js');

const ROLES: Record<string, string> = {
  hosts: 'h ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n',
  'group_vars/all.yml': 'inv_var: from-inventory\nd_over: inventory-beats-defaults\n',
  // web: defaults, vars, a dependency with a parameter, handlers, a template, argument specs
  'roles/web/defaults/main.yml': 'd: web-default\nd_over: web-default\nweb_port: 8080\nweb_items: [a, b]\n',
  'roles/web/vars/main.yml': 'v: web-var\n',
  'roles/web/meta/main.yml': 'dependencies:\n  - role: base\n    base_msg: from-web\n',
  'roles/web/meta/argument_specs.yml': `argument_specs:
  main:
    short_description: The web role
    options:
      web_port: { type: int, required: true }
      web_mode: { type: str, choices: [plain, tls] }
      web_items: { type: list, elements: str }
  extra:
    options:
      extra_needed: { type: str, required: true }
`,
  'roles/web/tasks/main.yml': `- name: show the variables
  debug: msg="d={{ d }} d_over={{ d_over }} v={{ v }} port={{ web_port }} inv={{ inv_var }} base={{ base_default }} role={{ role_name }}"
- template: src=page.j2 dest={{ out }}/page-{{ web_port }}.txt
  notify: restart web
- copy: src=static.txt dest={{ out }}/static.txt
- debug: var=ansible_parent_role_names
`,
  'roles/web/tasks/extra.yml': '- debug: msg="extra {{ extra_needed }} v={{ v }}"\n',
  'roles/web/vars/other.yml': 'v: other-var\n',
  'roles/web/handlers/main.yml': '- name: restart web\n  debug: msg="handler of {{ role_name }} port={{ web_port }}"\n',
  'roles/web/templates/page.j2': 'page of {{ role_name }} on {{ web_port }} ({{ d }})\n',
  'roles/web/files/static.txt': 'static from the role\n',
  // base: a dependency of web, run once however often it is named
  'roles/base/defaults/main.yml': 'base_default: bd\n',
  'roles/base/tasks/main.yml': '- debug: msg="base {{ base_msg | default(\'none\') }} {{ role_name }}"\n',
  // twice: allow_duplicates
  'roles/twice/meta/main.yml': 'allow_duplicates: true\n',
  'roles/twice/tasks/main.yml': '- debug: msg="twice {{ n | default(0) }}"\n',
  // pub: include_role with public
  'roles/pub/defaults/main.yml': 'pub_default: pd\n',
  'roles/pub/tasks/main.yml': '- debug: msg="pub {{ item | default(\'-\') }}"\n',
  // from the roles path of ansible.cfg
  'elsewhere/pathrole/tasks/main.yml': '- debug: msg="found through roles_path"\n',
  'ansible.cfg': '[defaults]\nroles_path = elsewhere ; a comment\n',
};

const PLAY = `- hosts: h
  gather_facts: false
  strategy: "{{ chosen_strategy | default('linear') }}"
  vars:
    - out: "{{ playbook_dir }}/out"
    - d: play-var
  pre_tasks:
    - file: path={{ out }} state=directory
      tags: always
  roles:
    - role: web
      web_port: 81
      tags: [webtag]
    - base
    - role: twice
      n: 1
    - role: twice
      n: 1
    - pathrole
  tasks:
    - debug: msg="after roles d={{ d }} v={{ v }} base_default={{ base_default }}"
    - import_role:
        name: web
        tasks_from: extra
        vars_from: other
      vars:
        extra_needed: yes-given
    - include_role:
        name: pub
      loop: [1, 2]
    - debug: msg="{{ pub_default | default('pub is private') }}"
    - include_role:
        name: pub
        public: true
        apply:
          tags: [x]
    - debug: msg="{{ pub_default }}"
    - name: a named include
      include_role:
        name: "{{ 'base' }}"
    - debug: msg="notify by role name"
      changed_when: true
      notify: "web : restart web"
`;

const FAILING = `- hosts: h
  gather_facts: false
  tasks:
    - block:
        - include_role:
            name: web
            tasks_from: extra
      rescue:
        - debug: msg="{{ ansible_failed_result.msg }}"
    - include_role:
        name: web
      vars:
        web_port: 80
        web_mode: other
        web_items: [1, 2]
        out: /nonexistent
      ignore_errors: true
    - debug: msg="not reached, ignore_errors on include_role is the include's own"
`;

interface Run {
  code: number | null;
  out: string;
  err: string;
  dir: string;
}

function run(cmd: 'tsplay' | 'ansible', playbook: string, extra: string[] = []): Run {
  const dir = project({ ...ROLES, 'site.yml': playbook });
  const env = {
    ...process.env,
    NO_COLOR: '1',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_LOCALHOST_WARNING: 'false',
    ANSIBLE_CONFIG: '',
    TSPLAY_VERIFY_IDEMPOTENCE: '1',
  };
  const r =
    cmd === 'tsplay'
      ? spawnSync(process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env })
      : spawnSync('ansible-playbook', ['site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env });
  // the project's own directory differs between the two runs
  return { code: r.status, out: r.stdout.split(dir).join('<dir>'), err: r.stderr.split(dir).join('<dir>'), dir };
}

const msgs = (out: string) =>
  out
    .split('\n')
    .filter((l) => /^\s+"msg": /.test(l))
    .map((l) => l.trim().slice(8, -1));
const banners = (out: string) =>
  out
    .split('\n')
    .filter((l) => /^(TASK|RUNNING HANDLER) \[/.test(l))
    .map((l) => l.replace(/ \*+$/, ''));

describe('roles', () => {
  const t = run('tsplay', PLAY);

  it('runs roles with their defaults, vars, parameters, dependencies and handlers', () => {
    expect(t.code, t.out + t.err).toBe(0);
    expect(msgs(t.out)).toEqual([
      'base from-web base',
      'd=play-var d_over=inventory-beats-defaults v=web-var port=81 inv=from-inventory base=bd role=web',
      'base none base',
      'twice 1',
      'twice 1',
      'found through roles_path',
      // the imported web (vars_from: other) is the play's last role: its vars win, as in Ansible
      'after roles d=play-var v=other-var base_default=bd',
      'extra yes-given v=other-var',
      'pub 1',
      'pub 2',
      'pub is private',
      'pub -',
      'pd',
      'base none base',
      'notify by role name',
      // two roles define "restart web": the name notifies the last one defined, as in Ansible
      'handler of web port=8080',
    ]);
    expect(readFileSync(join(t.dir, 'out/page-81.txt'), 'utf8')).toBe('page of web on 81 (play-var)\n');
    expect(readFileSync(join(t.dir, 'out/static.txt'), 'utf8')).toBe('static from the role\n');
  });

  it('names role tasks "role : task" and include_role tasks as Ansible does', () => {
    expect(banners(t.out)).toEqual(
      expect.arrayContaining([
        "TASK [web : Validating arguments against arg spec 'main' - The web role]",
        'TASK [web : show the variables]',
        'TASK [web : template]',
        'TASK [include_role : pub]',
        'TASK [a named include]',
        'RUNNING HANDLER [web : restart web]',
      ]),
    );
    expect(t.out).toContain('"ansible_parent_role_names": "VARIABLE IS NOT DEFINED!"');
  });

  it('a second run changes nothing', () => {
    const again = spawnSync(process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts'], {
      cwd: t.dir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', ANSIBLE_CONFIG: '' },
    });
    expect(again.stdout).toMatch(/^h\s+: ok=\d+\s+changed=1 /m); // only the task with changed_when: true
  });

  it.skipIf(!hasAnsible)('ansible-playbook prints the same output, line for line', () => {
    const a = run('ansible', PLAY);
    expect(a.code, a.out + a.err).toBe(0);
    expect(t.out).toBe(a.out);
  });

  it('--tags selects a role by its tags; the argument check always runs', () => {
    const r = run('tsplay', PLAY, ['--tags', 'webtag']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(banners(r.out)).toEqual([
      'TASK [file]',
      'TASK [base : debug]',
      "TASK [web : Validating arguments against arg spec 'main' - The web role]",
      'TASK [web : show the variables]',
      'TASK [web : template]',
      'TASK [web : copy]',
      'TASK [web : debug]',
      "TASK [web : Validating arguments against arg spec 'extra']",
      'RUNNING HANDLER [web : restart web]',
    ]);
    if (hasAnsible) expect(r.out).toBe(run('ansible', PLAY, ['--tags', 'webtag']).out);
  });

  it("argument_specs: a missing, unconvertible or unchosen value fails the role's first task", () => {
    const r = run('tsplay', FAILING);
    expect(r.code, r.out + r.err).toBe(2);
    expect(msgs(r.out)).toContain('Validation of arguments failed:\\nmissing required arguments: extra_needed');
    expect(r.out).toContain('value of web_mode must be one of: plain, tls, got: other');
    expect(r.out).not.toContain('not reached');
    if (hasAnsible) expect(r.out).toBe(run('ansible', FAILING).out);
  });

  it('a role that is nowhere is refused before any host, with the places searched', () => {
    const r = run('tsplay', '- hosts: h\n  roles: [nosuch]\n');
    expect(r.code).toBe(4);
    expect(r.err).toContain("the role 'nosuch' was not found in <dir>/roles:<dir>/elsewhere:<dir>");
    expect(r.err).toContain('site.yml:2:');
  });
});

const INCLUDE_KEYWORDS = `- hosts: h
  gather_facts: false
  vars: { x: 1 }
  tasks:
    - include_tasks: inc.yml
      when: x == 1
      ignore_errors: true
    - debug: msg=end
`;

describe('dynamic includes', () => {
  it("keywords of include_tasks are the include's own: the included tasks do not inherit them", () => {
    const files = { 'inc.yml': '- set_fact: x=2\n- debug: msg="x={{ x }}"\n- fail: msg=boom\n- debug: msg=after-fail\n' };
    const dir = project({ ...ROLES, ...files, 'site.yml': INCLUDE_KEYWORDS });
    const r = spawnSync(process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', ANSIBLE_CONFIG: '' },
    });
    expect(r.status).toBe(2);
    expect(msgs(r.stdout)).toEqual(['x=2']);
    expect(r.stdout).toContain('"msg": "boom"');
    expect(r.stdout).toContain('TASK [include_tasks]');
    expect(r.stdout).not.toContain('NO MORE HOSTS LEFT');
    if (hasAnsible) {
      const a = spawnSync('ansible-playbook', ['site.yml', '-i', 'hosts'], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_CONFIG: '' },
      });
      expect(r.stdout).toBe(a.stdout);
    }
  });
});
