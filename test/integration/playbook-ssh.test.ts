import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { project, recap, tsplay } from '../e2e/helpers.js';
import {
  createSshLab,
  freePort,
  knownHostsLine,
  sshdAvailable,
  TEST_SUDO_PASSWORD,
  USER_NOPASS,
  USER_PASS,
  type SshLab,
  type SshServer,
} from './sshd.js';

const run = sshdAvailable() || process.env.CI ? describe : describe.skip;

run('playbooks and ad-hoc commands over SSH', () => {
  let lab: SshLab;
  let servers: SshServer[];
  let inventory: string;

  beforeAll(async () => {
    lab = createSshLab();
    servers = [await lab.start(), await lab.start(), await lab.start()];
    writeFileSync(lab.knownHosts, servers.map(knownHostsLine).join('\n') + '\n');
    const down = await freePort();
    inventory = [
      '[nodes]',
      ...servers.map((s, i) => `node${i + 1} ansible_host=127.0.0.1 ansible_port=${s.port}`),
      '[broken]',
      `dead ansible_host=127.0.0.1 ansible_port=${down}`,
      '[all:vars]',
      `ansible_user=${USER_NOPASS}`,
      `ansible_ssh_private_key_file=${lab.clientKey}`,
      `ansible_ssh_common_args='-o UserKnownHostsFile=${lab.knownHosts}'`,
    ].join('\n');
  });
  afterAll(async () => lab?.stop());

  it("a quote in a variable used by command: fails that task on each host with Ansible's message; ignore_errors holds; no hang", async () => {
    const dir = project({
      hosts: inventory,
      'site.yml': `
- hosts: nodes
  gather_facts: false
  vars:
    v: "it\\"s"
  tasks:
    - command: echo "{{ v }}"
      ignore_errors: true
    - command: echo {{ v | quote }}
      register: quoted
    - debug: var=quoted.stdout
    - command: echo "{{ v }}"
    - debug: msg=not reached
`,
    });
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(r.err).not.toMatch(/internal error|please report/);
    expect(r.code, r.out + r.err).toBe(2);
    for (const n of ['node1', 'node2', 'node3']) {
      expect(r.out).toMatch(
        new RegExp(`fatal: \\[${n}\\]: FAILED! => \\{[^}]*No closing quotation in the command: echo \\\\"it\\\\"s\\\\"`),
      );
      expect(recap(r.out, n)).toMatchObject({ failed: 1, ignored: 1 });
    }
    expect(r.out).toContain('"quoted.stdout": "it\\"s"');
    expect(r.out).not.toContain('not reached');
  }, 60_000);

  it('a command that prints without end is stopped at the output limit and fails that task; the run goes on, with a recap', async () => {
    const dir = project({
      hosts: inventory,
      'site.yml': `
- hosts: nodes
  gather_facts: false
  tasks:
    - shell: "{{ 'yes' if inventory_hostname == 'node1' else 'echo small' }}"
      register: out
    - debug: msg=after
`,
    });
    // with the default limit (100 MB): `yes` never ends, and over 512 MB the controller crashed
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(r.err).not.toMatch(/internal error|ERR_STRING_TOO_LONG/);
    expect(r.code, r.out.slice(-3000) + r.err).toBe(2);
    expect(r.out).toMatch(
      /fatal: \[node1\]: FAILED! => \{[^}]*the command printed more than 100000000 bytes on stdout, the most tsplay keeps \(TSPLAY_MAX_OUTPUT\): it was stopped/,
    );
    expect(recap(r.out, 'node1')).toMatchObject({ failed: 1 });
    for (const n of ['node2', 'node3']) expect(recap(r.out, n)).toMatchObject({ ok: 2, failed: 0 });
    // a limit of the run's own, and a bad one refused before any host is contacted
    const small = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '-l', 'node2'], { TSPLAY_MAX_OUTPUT: '4' });
    expect(small.out).toMatch(/more than 4 bytes on stdout/);
    const bad = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts'], { TSPLAY_MAX_OUTPUT: 'lots' });
    expect(bad.code).toBe(5);
    expect(bad.err).toContain("TSPLAY_MAX_OUTPUT must be a size in bytes, got 'lots'");
    expect(bad.out).not.toContain('TASK [');
  }, 120_000);

  it('copy over a file whose group the user may not set succeeds, as in Ansible; a group that is asked for must be set', async () => {
    const where = `/tmp/tsplay-chgrp-${process.pid}`;
    execFileSync('install', ['-d', '-o', USER_NOPASS, '-m', '0755', where]);
    writeFileSync(`${where}/conf`, 'old\n');
    execFileSync('chown', [`${USER_NOPASS}:daemon`, `${where}/conf`]);
    const dir = project({
      hosts: inventory,
      'site.yml': `
- hosts: node1
  gather_facts: false
  tasks:
    - copy: { content: "new\\n", dest: ${where}/conf }
    - copy: { content: "newer\\n", dest: ${where}/conf, group: daemon }
`,
    });
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(r.out).toMatch(/TASK \[copy\][^\n]*\nchanged: \[node1\]/);
    expect(r.out).toMatch(/fatal: \[node1\]: FAILED! => .*chgrp/);
    expect(readFileSync(`${where}/conf`, 'utf8')).toBe('new\n');
    expect(readdirSync(where)).toEqual(['conf']);
  });

  it('runs a playbook on several hosts in parallel, with become, idempotently', async () => {
    const dir = project({
      hosts: inventory,
      'site.yml': `
- hosts: nodes
  gather_facts: true
  tasks:
    - name: who am I
      command: id -un
      register: me
      changed_when: false
    - assert:
        that:
          - me.stdout == '${USER_NOPASS}'
          - ansible_facts.user_id == '${USER_NOPASS}'
    - name: root-owned file
      become: true
      copy:
        content: "node {{ inventory_hostname }}\\n"
        dest: "/tmp/tsplay-it-{{ inventory_hostname }}-${process.pid}"
        mode: "0640"
`,
    });
    const first = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    for (const n of ['node1', 'node2', 'node3']) {
      expect(recap(first.out, n)).toMatchObject({ changed: 1, failed: 0, unreachable: 0 });
      expect(readFileSync(`/tmp/tsplay-it-${n}-${process.pid}`, 'utf8')).toBe(`node ${n}\n`);
    }
    const second = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(second.code).toBe(0);
    for (const n of ['node1', 'node2', 'node3']) expect(recap(second.out, n)).toMatchObject({ changed: 0, failed: 0 });
  });

  it('marks a host that is down unreachable, the others go on, exit code 4', async () => {
    const dir = project({
      hosts: inventory,
      'site.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n    - debug: msg=after\n',
    });
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(r.code).toBe(4);
    expect(r.out).toMatch(/fatal: \[dead\]: UNREACHABLE! => \{.*Connection refused/);
    expect(recap(r.out, 'dead')).toMatchObject({ unreachable: 1, ok: 0 });
    expect(recap(r.out, 'node2')).toMatchObject({ ok: 2, unreachable: 0 });
  });

  it('becomes root with a sudo password from --become-password-file, never printing it', async () => {
    const dir = project({
      hosts: inventory.replace(`ansible_user=${USER_NOPASS}`, `ansible_user=${USER_PASS}`),
      pw: TEST_SUDO_PASSWORD + '\n',
      'site.yml':
        '- hosts: node1\n  gather_facts: false\n  become: true\n  tasks:\n    - command: id -u\n      register: r\n    - debug: var=r.stdout\n',
    });
    const ok = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--become-password-file', 'pw', '-vvv']);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('"r.stdout": "0"');
    expect(ok.out + ok.err).not.toContain(TEST_SUDO_PASSWORD);
    writeFileSync(join(dir, 'pw'), 'wrong\n');
    const bad = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--become-password-file', 'pw']);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/Incorrect sudo password/);
  });

  it("ad-hoc: ping and a command, with Ansible's one-line output", async () => {
    const dir = project({ hosts: inventory });
    const ping = await tsplay(dir, ['adhoc', 'nodes', '-i', 'hosts', '-m', 'ping']);
    expect(ping.code).toBe(0);
    expect(ping.out).toContain('node1 | SUCCESS => {\n    "changed": false,\n    "ping": "pong"\n}');
    const cmd = await tsplay(dir, ['adhoc', 'node2', '-i', 'hosts', '-a', 'echo hello']);
    expect(cmd.code).toBe(0);
    expect(cmd.out).toContain('node2 | CHANGED | rc=0 >>\nhello');
    const fail = await tsplay(dir, ['adhoc', 'node3', '-i', 'hosts', '-m', 'shell', '-a', 'echo oops >&2; exit 3']);
    expect(fail.code).toBe(2);
    expect(fail.out).toContain('node3 | FAILED | rc=3 >>\noops');
  });
});
