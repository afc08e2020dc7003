// ssh-setup's last step (playbooks/tasks/sshd-no-password.yaml) run locally against a copy of
// this machine's sshd_config, with a handler that records the reload: the edit is validated with
// the real `sshd -t -f` before it replaces the file, so a file sshd would refuse is never
// installed; a drop-in that turns passwords back on is named. The lab test shows the rest
// (test/lab/ssh-setup.test.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { project, recap, tsplay } from './helpers.js';

const TASKS = resolve('playbooks/tasks/sshd-no-password.yaml');
const hasSshd = existsSync('/usr/sbin/sshd') && existsSync('/etc/ssh/sshd_config') && process.getuid?.() === 0;

const playbook = (dir: string) => `- hosts: all
  gather_facts: false
  vars:
    sshd_config_file: ${dir}/sshd_config
  tasks:
    - include_tasks: ${TASKS}
  handlers:
    - name: reload sshd
      shell: echo reloaded >> ${dir}/reloads
`;

/** A copy of this machine's sshd_config whose Include reads the test's own drop-in directory. */
function setup(extra = ''): { dir: string; original: string } {
  const dir = project({ hosts: 'h ansible_connection=local\n' });
  mkdirSync(join(dir, 'conf.d'));
  const original = readFileSync('/etc/ssh/sshd_config', 'utf8').replace(/^Include .*$/m, `Include ${dir}/conf.d/*.conf`) + extra;
  writeFileSync(join(dir, 'sshd_config'), original);
  writeFileSync(join(dir, 'site.yml'), playbook(dir));
  return { dir, original };
}

const effective = (file: string) =>
  execFileSync('/usr/sbin/sshd', ['-T', '-f', file], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /^(passwordauthentication|kbdinteractiveauthentication) /.test(l))
    .sort();

describe.skipIf(!hasSshd)('ssh-setup: password login off in sshd_config', () => {
  // `sshd -t` refuses to check a file without its privilege separation directory, which the ssh
  // service makes when it starts (a CI machine may never have started it).
  beforeAll(() => mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }));

  it('--check changes nothing; the run sets both lines, sshd -T says no, reloads once; a second run changes nothing', async () => {
    const { dir, original } = setup();
    const file = join(dir, 'sshd_config');
    expect(effective(file)).toContain('passwordauthentication yes');

    const check = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--check']);
    expect(check.code, check.out + check.err).toBe(0);
    expect(recap(check.out, 'h').failed).toBe(0);
    expect(recap(check.out, 'h').changed).toBeGreaterThan(0);
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(existsSync(join(dir, 'reloads'))).toBe(false);

    const first = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(first.code, first.out + first.err).toBe(0);
    expect(recap(first.out, 'h')).toMatchObject({ failed: 0 });
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines).toContain('PasswordAuthentication no');
    expect(lines).toContain('KbdInteractiveAuthentication no');
    expect(lines.filter((l) => /^#?\s*PasswordAuthentication\s/.test(l))).toEqual(['PasswordAuthentication no']);
    expect(effective(file)).toEqual(['kbdinteractiveauthentication no', 'passwordauthentication no']);
    expect(readFileSync(join(dir, 'reloads'), 'utf8')).toBe('reloaded\n');

    const second = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(second.code, second.out + second.err).toBe(0);
    expect(recap(second.out, 'h')).toMatchObject({ changed: 0, failed: 0 });
    expect(readFileSync(join(dir, 'reloads'), 'utf8')).toBe('reloaded\n');
  }, 60_000);

  it('a file sshd would refuse is not installed: the task fails, the old file stays byte for byte, no reload', async () => {
    const { dir, original } = setup('NoSuchSshdKeyword yes\n');
    const file = join(dir, 'sshd_config');
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(r.code).not.toBe(0);
    expect(recap(r.out, 'h').failed).toBe(1);
    expect(r.out + r.err).toMatch(/failed to validate|validat/i);
    expect(r.out + r.err).toContain('NoSuchSshdKeyword');
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(existsSync(join(dir, 'reloads'))).toBe(false);
    // nothing of the candidate left beside it
    expect(execFileSync('ls', ['-A', dir], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()).toEqual(
      ['conf.d', 'hosts', 'site.yml', 'sshd_config'].sort(),
    );
  }, 60_000);

  it('a drop-in that turns passwords back on is named, and sshd is not reloaded', async () => {
    const { dir } = setup();
    writeFileSync(join(dir, 'conf.d', '50-cloud.conf'), 'PasswordAuthentication yes\n');
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('would still accept passwords (passwordauthentication yes)');
    expect(r.out).toContain('sshd_config.d/*.conf');
    expect(existsSync(join(dir, 'reloads'))).toBe(false);
  }, 60_000);
});
