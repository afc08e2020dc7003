// Secrets typed at a real terminal: -K for sudo and the passphrase of an encrypted key,
// answered through a pseudo-terminal made by script(1).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { project } from '../e2e/helpers.js';
import { createSshLab, knownHostsLine, sshdAvailable, TEST_SUDO_PASSWORD, USER_PASS, type SshLab, type SshServer } from './sshd.js';

const CLI = resolve('dist/engine/tsplay.cjs');
const run = (sshdAvailable() && existsSync('/usr/bin/script')) || process.env.CI ? describe : describe.skip;

/** Run the CLI on a pseudo-terminal, typing `answers` (one per prompt) as they are asked. */
function onTerminal(cwd: string, args: string[], answers: string[]): Promise<{ code: number; out: string }> {
  const command = ['node', CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd, env: { ...process.env, NO_COLOR: '1', CI: '' } });
  let out = '';
  const pending = [...answers];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (pending.length && /(password|passphrase)[^\n]*: $/i.test(out.trimEnd() + ' ')) child.stdin.write(pending.shift() + '\r');
  });
  return new Promise((res) => child.on('close', (code) => res({ code: code ?? -1, out })));
}

run('secrets typed at a terminal', () => {
  let lab: SshLab;
  let server: SshServer;
  beforeAll(async () => {
    lab = createSshLab();
    server = await lab.start();
    writeFileSync(lab.knownHosts, knownHostsLine(server) + '\n');
  });
  afterAll(async () => lab?.stop());

  it('-K asks for the sudo password, and it never shows', async () => {
    const dir = project({
      hosts: `h ansible_host=127.0.0.1 ansible_port=${server.port} ansible_user=${USER_PASS} ansible_ssh_private_key_file=${lab.clientKey} ansible_ssh_common_args='-o UserKnownHostsFile=${lab.knownHosts}'\n`,
      'site.yml':
        '- hosts: h\n  gather_facts: false\n  become: true\n  tasks:\n    - command: id -u\n      register: r\n    - debug: var=r.stdout\n',
    });
    const r = await onTerminal(dir, ['run', 'site.yml', '-i', 'hosts', '-K'], [TEST_SUDO_PASSWORD]);
    expect(r.out).toContain('BECOME password:');
    expect(r.out).toContain('"r.stdout": "0"');
    expect(r.out).not.toContain(TEST_SUDO_PASSWORD);
    expect(r.code).toBe(0);
  });

  it('--ask-vault-pass asks for the vault password, and tsplay vault asks twice for a new one', async () => {
    const dir = project({ hosts: 'h ansible_connection=local\n' });
    const enc = await onTerminal(
      dir,
      ['vault', 'encrypt_string', '--ask-vault-pass', '--name', 'token', 'tty-S3cret-0a'],
      ['tty vault pw', 'tty vault pw'],
    );
    expect(enc.code).toBe(0);
    expect(enc.out).toContain('New Vault password:');
    expect(enc.out).toContain('Confirm New Vault password:');
    const yaml =
      enc.out
        .replace(/\r/g, '')
        .split('\n')
        .filter((l) => /^token: !vault \|$|^ {10}\S/.test(l))
        .join('\n') + '\n';
    writeFileSync(join(dir, 'vars.yml'), yaml);
    writeFileSync(
      join(dir, 'site.yml'),
      "- hosts: h\n  gather_facts: false\n  vars_files: [vars.yml]\n  tasks:\n    - assert:\n        that: token == 'tty-S3cret-0a'\n",
    );
    const r = await onTerminal(dir, ['run', 'site.yml', '-i', 'hosts', '--ask-vault-pass'], ['tty vault pw']);
    expect(r.out).toContain('Vault password:');
    expect(r.out).not.toContain('tty vault pw');
    expect(r.out).toMatch(/h\s+: ok=1/);
    expect(r.code).toBe(0);
  });

  it('on a terminal that reports no width, runs without the spinner instead of hanging', () => {
    const dir = project({
      hosts: 'h ansible_connection=local\n',
      'site.yml': '- hosts: h\n  gather_facts: false\n  tasks:\n    - command: echo one\n    - command: echo two\n',
    });
    const started = Date.now();
    const r = spawnSync('script', ['-qfec', `stty cols 0 rows 0; node '${CLI}' run site.yml -i hosts`, '/dev/null'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, CI: '' },
    });
    expect(r.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.stdout).toMatch(/h\s+: ok=2\s+changed=2/);
  });

  it('asks for the passphrase of an encrypted key', async () => {
    const key = join(lab.dir, 'id_encrypted');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'open sesame', '-f', key]);
    const authorized = join(lab.dir, 'authorized_keys', USER_PASS);
    writeFileSync(authorized, readFileSync(authorized, 'utf8') + readFileSync(key + '.pub', 'utf8'));
    const dir = project({
      hosts: `h ansible_host=127.0.0.1 ansible_port=${server.port} ansible_user=${USER_PASS} ansible_ssh_private_key_file=${key} ansible_ssh_common_args='-o UserKnownHostsFile=${lab.knownHosts}'\n`,
    });
    const r = await onTerminal(dir, ['adhoc', 'h', '-i', 'hosts', '-m', 'ping'], ['open sesame']);
    expect(r.out).toContain(`Enter passphrase for key '${key}':`);
    expect(r.out).toContain('h | SUCCESS =>');
    expect(r.code).toBe(0);
  });
});
