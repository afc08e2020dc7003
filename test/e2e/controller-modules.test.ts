// Modules that change what the controller knows, not the host (issue 16): group_by, add_host,
// include_vars, pause; and the keywords around them (a handlers file imported into handlers:, a
// templated become). Each playbook runs under tsplay and, where it is installed, under
// ansible-playbook 2.14: the outputs must be the same.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project } from './helpers.js';

const CLI = resolve('dist/engine/cli.js');

const FILES: Record<string, string> = {
  hosts: 'h ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n',
  'vars/one.yml': 'a: 1\nb: [x]\n',
  'vars/sub/two.yml': 'c: 3\n',
  'vars/three.json': '{"d": 4}\n',
  'vars/skip.txt': 'not vars\n',
  'handlers/main.yml': '- name: restart thing\n  debug: msg="handler from an imported file"\n',
};

const PLAY = `- hosts: h
  gather_facts: false
  vars: { use_become: false }
  handlers:
    - import_tasks: handlers/main.yml
  tasks:
    - group_by: key=grp_{{ inventory_hostname }} parents=top
      register: g
    - debug: var=g
    - add_host: name=newhost:2222 groups=added,other foo=bar ansible_connection=local
      register: ah
    - debug: var=ah
    - debug: msg="{{ groups['added'] }} {{ groups['top'] }} {{ hostvars['newhost'].foo }} {{ hostvars['newhost'].ansible_ssh_port }} {{ group_names }}"
    - include_vars: one.yml
      register: iv
    - debug: var=iv
    - include_vars:
        dir: vars
        name: allv
        ignore_unknown_extensions: true
      register: iv2
    - debug: var=iv2
    - debug: msg="{{ a }} {{ allv.c }}"
    - command: id -un
      become: "{{ use_become }}"
      become_user: nobody
      register: who
      changed_when: true
      notify: restart thing
    - debug: msg="{{ who.stdout }}"
    - pause: seconds=1
      register: p
    - debug: msg="{{ p.stdout }} {{ p.user_input }} {{ p.delta }}"
- hosts: added:top
  gather_facts: false
  tasks:
    - debug: msg="in {{ inventory_hostname }} {{ foo | default('-') }}"
`;

function run(cmd: 'tsplay' | 'ansible', extra: string[] = []) {
  const dir = project({ ...FILES, 'site.yml': PLAY });
  const env = { ...process.env, NO_COLOR: '1', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_CONFIG: '' };
  const r =
    cmd === 'tsplay'
      ? spawnSync(process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env })
      : spawnSync('ansible-playbook', ['site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env });
  const out = r.stdout.split(dir).join('<dir>');
  return { code: r.status, out, err: r.stderr };
}

describe('group_by, add_host, include_vars, pause', () => {
  const t = run('tsplay');

  it('change the inventory and the variables for what follows', () => {
    expect(t.code, t.out + t.err).toBe(0);
    expect(t.out).toContain("\"msg\": \"['newhost'] ['h'] bar 2222 ['grp_h', 'top']\"");
    expect(t.out).toContain('"msg": "1 3"');
    expect(t.out).toContain('"msg": "root"'); // become: "{{ false }}" is false
    expect(t.out).toContain('"msg": "Paused for 1.0 seconds  1"');
    expect(t.out).toContain('ok: [newhost] => {\n    "msg": "in newhost bar"');
    expect(t.out).toContain('ok: [h] => {\n    "msg": "in h -"');
    expect(t.out).toContain('RUNNING HANDLER [restart thing]');
    expect(t.out).toMatch(/^h\s+: ok=16\s+changed=3 /m);
  });

  it('--check changes the inventory all the same (controller-side), as Ansible does', () => {
    const c = run('tsplay', ['--check']);
    expect(c.code, c.out + c.err).toBe(0);
    expect(c.out).toContain('ok: [newhost] => {\n    "msg": "in newhost bar"');
  });

  it.skipIf(!hasAnsible)('ansible-playbook prints the same, line for line (the pause times aside)', () => {
    const a = run('ansible');
    expect(a.code, a.out + a.err).toBe(0);
    const times = (s: string) => s.replace(/"(start|stop)": "[^"]+"/g, '"$1": "<time>"');
    expect(times(t.out)).toBe(times(a.out));
  });
});

describe('vars_prompt', () => {
  const PROMPT_PLAY = `- hosts: h
  gather_facts: false
  vars_prompt:
    - name: user_name
      prompt: Your name
      private: false
      default: nobody
    - name: secret
      prompt: A secret
      confirm: true
    - name: hashed
      prompt: A password
      encrypt: sha512_crypt
      salt: abcdefgh
    - name: given
      prompt: Given with -e
  tasks:
    - debug: msg="{{ user_name }} {{ secret }} {{ hashed }} {{ given }}"
`;

  async function ask(answers: string[], extra: string[] = []) {
    const { main } = await import('../../engine/cli.js');
    const dir = project({ hosts: 'h ansible_connection=local\n', 'site.yml': PROMPT_PLAY });
    let out = '';
    let err = '';
    const prompts: string[] = [];
    const code = await main(['run', 'site.yml', '-i', 'hosts', ...extra], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', ANSIBLE_CONFIG: '' },
      output: { out: (t) => (out += t), err: (t) => (err += t), isTTY: false },
      prompt: async (q) => {
        prompts.push(q);
        const a = answers.shift();
        if (a === undefined) throw new Error(`unexpected prompt ${q}`);
        return a;
      },
    });
    return { code, out, err, prompts };
  }

  it('asks before the run, takes the default for an empty answer, confirms, hashes, and skips what -e gives', async () => {
    const r = await ask(['', 's3', 'bad', 's3', 's3', 'pw'], ['-e', 'given=from-e']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.prompts).toEqual([
      'Your name [nobody]: ',
      'A secret: ',
      'confirm A secret: ',
      'A secret: ',
      'confirm A secret: ',
      'A password: ',
    ]);
    expect(r.err).toContain('***** VALUES ENTERED DO NOT MATCH ****');
    // sha512_crypt of "pw" with salt abcdefgh, as Python's passlib / crypt compute it
    expect(r.out).toContain(
      '"msg": "nobody s3 $6$abcdefgh$KQeXafAQAaOoKTevphVU215RvJdgzyfASRasIOuh12hO8u0r1bGW92ZnTmC9IjsiQ8VPiTXBiZF49dFL1U4wX/ from-e"',
    );
  });

  it('without a terminal, a prompt with no default stops the run before any host, saying how to pass it', () => {
    const dir = project({ hosts: 'h ansible_connection=local\n', 'site.yml': PROMPT_PLAY });
    const r = spawnSync(process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts'], {
      cwd: dir,
      encoding: 'utf8',
      input: '',
      env: { ...process.env, NO_COLOR: '1', ANSIBLE_CONFIG: '' },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("vars_prompt 'secret' needs an answer and there is no terminal to ask on");
    expect(r.stderr).toContain('site.yml:8:');
    expect(r.stdout).not.toContain('TASK [');
  });
});

describe('pause output', () => {
  // stdin is a pipe here, as in CI: a prompt is shown and not waited for, under both engines
  const PAUSE_PLAY = `- hosts: h
  gather_facts: false
  tasks:
    - name: with a prompt
      pause:
        prompt: give me
    - pause:
    - pause: seconds=0
      register: p
    - debug: msg="{{ p.stdout }} {{ p.delta }}"
    - name: seconds and a prompt, hidden input
      pause:
        seconds: 1
        prompt: look
        echo: false
    - pause: minutes=0.5
`;
  const shown = (out: string) =>
    out
      .split('\n')
      .filter((l) => /^(Pausing for|\(ctrl\+C|\[WARNING\]: Not waiting|\[[^\]]+\]$|give me|look|Press enter|fatal|ok: |\s+"msg")/.test(l))
      .map((l) => l.replace(/"Paused for 1\.0\d? seconds 1"/, '"Paused for 1.0 seconds 1"'));

  function pauseRun(cmd: 'tsplay' | 'ansible') {
    const dir = project({ hosts: FILES.hosts!, 'site.yml': PAUSE_PLAY });
    const env = { ...process.env, NO_COLOR: '1', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_CONFIG: '' };
    const r =
      cmd === 'tsplay'
        ? spawnSync(process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts'], { cwd: dir, encoding: 'utf8', env })
        : spawnSync('ansible-playbook', ['site.yml', '-i', 'hosts'], { cwd: dir, encoding: 'utf8', env });
    return { code: r.status, lines: shown(r.stdout + r.stderr) };
  }

  it('shows the prompt, Pausing for N seconds and how to interrupt; a duration must be an integer', () => {
    const t = pauseRun('tsplay');
    expect(t.code).toBe(2);
    expect(t.lines).toEqual([
      '[with a prompt]',
      'give me:',
      'ok: [h]',
      '[pause]',
      'Press enter to continue, Ctrl+C to interrupt:',
      'ok: [h]',
      'Pausing for 1 seconds',
      "(ctrl+C then 'C' = continue early, ctrl+C then 'A' = abort)\r",
      'ok: [h]',
      'ok: [h] => {',
      '    "msg": "Paused for 1.0 seconds 1"',
      'Pausing for 1 seconds (output is hidden)',
      "(ctrl+C then 'C' = continue early, ctrl+C then 'A' = abort)\r",
      '[seconds and a prompt, hidden input]',
      'look (output is hidden):',
      'ok: [h]',
      `fatal: [h]: FAILED! => {"changed": false, "msg": "argument 'minutes' is of type <class 'str'> and we were unable to convert to int: invalid literal for int() with base 10: '0.5'"}`,
      // (stderr, after stdout)
      '[WARNING]: Not waiting for response to prompt as stdin is not interactive',
      '[WARNING]: Not waiting for response to prompt as stdin is not interactive',
    ]);
  });

  it.skipIf(!hasAnsible)('ansible-playbook shows the same lines', () => {
    expect(pauseRun('tsplay').lines).toEqual(pauseRun('ansible').lines);
  });
});
