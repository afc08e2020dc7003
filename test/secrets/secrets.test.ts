// Secrets never printed: no_log results, become and connection passwords (and, in vault.test.ts,
// vault values) are absent from the output at every -v level, with --diff, in JSON events and in
// error messages. Each run greps everything tsplay wrote for the secret.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { project, recap, tsplay } from '../e2e/helpers.js';
import {
  createSshLab,
  knownHostsLine,
  sshdAvailable,
  TEST_SUDO_PASSWORD,
  USER_PASS,
  type SshLab,
  type SshServer,
} from '../integration/sshd.js';
import { NO_LOG_MESSAGE } from '../../engine/report/default.js';

const VERBOSITY = [[], ['-v'], ['-vv'], ['-vvv'], ['-vvvv']];
const MODES = [[], ['--diff'], ['--output', 'json'], ['--diff', '--output', 'json'], ['--check', '--diff']];

const TOKEN = 'S3cr3t-nolog-9f2e';

// Every way a no_log task can fail or succeed while handling the secret.
const noLogPlaybook = (dir: string) => `- hosts: local
  gather_facts: false
  vars:
    api_token: ${TOKEN}
  tasks:
    - name: command with the token
      command: echo {{ api_token }}
      register: echoed
      no_log: true
    - name: shell that fails with the token in its output
      shell: echo {{ api_token }}; echo {{ api_token }} >&2; exit 3
      no_log: true
      ignore_errors: true
    - name: copy content with the token (diff)
      copy:
        content: "{{ api_token }}\\n"
        dest: ${dir}/copied.txt
      no_log: true
    - name: template with the token (diff)
      template:
        src: t.j2
        dest: ${dir}/templated.txt
      no_log: true
    - name: lineinfile with the token (diff)
      lineinfile:
        path: ${dir}/lines.txt
        line: "token={{ api_token }}"
        create: true
      no_log: true
    - name: fail with the token in the message
      fail:
        msg: "token is {{ api_token }}"
      no_log: true
      ignore_errors: true
    - name: loop over the token
      debug:
        msg: "{{ item }}"
      loop: ["{{ api_token }}", other]
      no_log: true
    - name: bad argument value holding the token
      file:
        path: ${dir}/x
        state: "{{ api_token }}"
      no_log: true
      ignore_errors: true
    - name: until retries echoing the token
      command: echo {{ api_token }}
      register: r
      until: r.rc == 1
      retries: 2
      delay: 0
      no_log: true
      ignore_errors: true
    - name: assert that fails showing the token
      assert:
        that: api_token == 'other'
        fail_msg: "expected other, got {{ api_token }}"
      no_log: true
      ignore_errors: true
`;

describe('no_log: true', () => {
  for (const v of VERBOSITY) {
    for (const mode of MODES) {
      it(`hides every result ${[...v, ...mode].join(' ') || '(default output)'}`, async () => {
        const dir = project({ hosts: 'local ansible_connection=local\n', 't.j2': 'tok={{ api_token }}\n' });
        writeFileSync(join(dir, 'site.yml'), noLogPlaybook(dir));
        const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', ...v, ...mode]);
        expect(r.code, r.out + r.err).toBe(0);
        expect(r.out + r.err).not.toContain(TOKEN);
        expect(r.out + r.err).toContain(NO_LOG_MESSAGE);
        if (mode.includes('json')) {
          const events = r.out
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as Record<string, unknown>);
          const results = events.filter((e) => e.event === 'host_result');
          expect(results.length).toBeGreaterThanOrEqual(10);
          for (const e of results) expect(e.result).toMatchObject({ censored: NO_LOG_MESSAGE });
        } else {
          expect(recap(r.out, 'local')).toMatchObject({ failed: 0 });
        }
      });
    }
  }

  it('the same playbook without no_log does print the token (the test can see a leak)', async () => {
    const dir = project({ hosts: 'local ansible_connection=local\n', 't.j2': 'tok={{ api_token }}\n' });
    writeFileSync(join(dir, 'site.yml'), noLogPlaybook(dir).replace(/\n +no_log: true/g, ''));
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '-vvv', '--diff']);
    expect(r.out).toContain(TOKEN);
  });
});

describe('passwords in the inventory', () => {
  it('are masked wherever a task prints them, before any connection uses them', async () => {
    const dir = project({
      hosts: "local ansible_connection=local ansible_become_password='inv-become-Pw77' ansible_password=inv-conn-Pw88\n",
      'site.yml':
        '- hosts: local\n  gather_facts: false\n  tasks:\n    - fail:\n        msg: "{{ ansible_become_password }} {{ ansible_password }}"\n      ignore_errors: true\n    - command: echo {{ ansible_password }}\n',
    });
    for (const extra of [['-vvvv'], ['--output', 'json']]) {
      const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', ...extra]);
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.out + r.err).not.toMatch(/inv-become-Pw77|inv-conn-Pw88/);
      expect(r.out).toContain('******** ********');
    }
  });
});

const run = sshdAvailable() || process.env.CI ? describe : describe.skip;

run('become and connection passwords over SSH', () => {
  let lab: SshLab;
  let server: SshServer;
  let inventory: (password: string) => string;

  beforeAll(async () => {
    lab = createSshLab();
    server = await lab.start();
    writeFileSync(lab.knownHosts, knownHostsLine(server) + '\n');
    // no key: the connection authenticates with the password
    inventory = (password) =>
      `node ansible_host=127.0.0.1 ansible_port=${server.port} ansible_user=${USER_PASS} ansible_password='${password}' ansible_ssh_common_args='-o UserKnownHostsFile=${lab.knownHosts}'\n`;
  });
  afterAll(async () => lab?.stop());

  const playbook = `- hosts: node
  gather_facts: false
  become: true
  tasks:
    - command: id -u
      register: r
    - copy:
        content: "written as root\\n"
        dest: /tmp/tsplay-secrets-${process.pid}.txt
    - shell: echo failing; exit 1
      ignore_errors: true
`;

  for (const v of VERBOSITY) {
    for (const mode of [[], ['--diff'], ['--output', 'json']]) {
      it(`never prints them ${[...v, ...mode].join(' ') || '(default output)'}`, async () => {
        const dir = project({ hosts: inventory(TEST_SUDO_PASSWORD), pw: TEST_SUDO_PASSWORD + '\n', 'site.yml': playbook });
        const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--become-password-file', 'pw', ...v, ...mode]);
        expect(r.code, r.out + r.err).toBe(0);
        expect(r.out + r.err).not.toContain(TEST_SUDO_PASSWORD);
        expect(r.out + r.err).not.toContain('horse');
        expect(r.out).toMatch(mode.includes('json') ? /"stdout":"0"/ : /changed: \[node\]/);
      });
    }
  }

  it('a wrong become password is reported without the password', async () => {
    const wrong = 'wrong-become-7731';
    const dir = project({ hosts: inventory(TEST_SUDO_PASSWORD), pw: wrong + '\n', 'site.yml': playbook });
    for (const extra of [['-vvvv'], ['--output', 'json']]) {
      const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--become-password-file', 'pw', ...extra]);
      expect(r.code).toBe(2);
      expect(r.out).toMatch(/Incorrect sudo password/);
      expect(r.out + r.err).not.toContain(wrong);
      expect(r.out + r.err).not.toContain(TEST_SUDO_PASSWORD);
    }
  });

  it('a wrong connection password is reported without the password', async () => {
    const wrong = 'wrong-conn-5520';
    const dir = project({ hosts: inventory(wrong), 'site.yml': playbook });
    for (const extra of [['-vvvv'], ['--output', 'json']]) {
      const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', ...extra]);
      expect(r.code).toBe(4);
      expect(r.out).toMatch(/UNREACHABLE|unreachable/);
      expect(r.out + r.err).not.toContain(wrong);
    }
  });

  it('a connection password from --connection-password-file is not printed', async () => {
    const dir = project({
      hosts: inventory(TEST_SUDO_PASSWORD).replace(/ ansible_password='[^']*'/, ''),
      cpw: TEST_SUDO_PASSWORD + '\n',
      pw: TEST_SUDO_PASSWORD + '\n',
      'site.yml': playbook,
    });
    const r = await tsplay(dir, [
      'run',
      'site.yml',
      '-i',
      'hosts',
      '--connection-password-file',
      'cpw',
      '--become-password-file',
      'pw',
      '-vvvv',
      '--diff',
    ]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out + r.err).not.toContain(TEST_SUDO_PASSWORD);
  });
});
