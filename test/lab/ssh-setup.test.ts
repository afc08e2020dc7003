// playbooks/ssh-setup.yaml on a booted lab: gateway + 2 nodes, fresh. The nodes are put on the
// cluster switch by hand (addresses, as lab.test.ts does; dhcp-setup is not what is tested here),
// so they are reached through the gateway. A new controller key is made for the test and the
// SSH configuration goes to a temporary file. What is checked is real: logins with that key
// (through the jump host for the nodes, with the written file), the methods each sshd offers a
// client that has not authenticated yet, `sshd -T`, sshd's reloads (SIGHUP in its journal), the
// files on the hosts; not tsplay's report alone. A key that does not log in keeps password login.
// Needs root on Linux; runs only with TSPLAY_LAB_TESTS=1, under `flock /tmp/tsplay-lab.lock`.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExec, labLeftovers, labUp, type LabInfo } from '../../lab/lab.js';
import { project, recap, tsplay } from '../e2e/helpers.js';

const enabled = process.env.TSPLAY_LAB_TESTS === '1';
const PLAYBOOK = resolve('playbooks/ssh-setup.yaml');
const HOSTS = ['gateway', 'node1', 'node2'];
const ADDRESS: Record<string, string> = { gateway: '10.213.0.10', node1: '10.213.1.11', node2: '10.213.1.12' };

async function sh(host: string, script: string): Promise<string> {
  return (await labExec(host, ['sh', '-c', script], { timeoutMs: 60_000 })).stdout;
}

/** Run a command on the controller; its exit code and output, never a rejection. */
async function cmd(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(file, args, { timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 255, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

/**
 * What sshd on HOST offers a client that has not authenticated yet ("publickey,password"), asked
 * from inside the gateway (it reaches every host) by a client that tries no method.
 */
async function offered(host: string): Promise<string> {
  const addr = host === 'gateway' ? '127.0.0.1' : ADDRESS[host]!;
  const out = await sh(
    'gateway',
    `ssh -v -o BatchMode=yes -o PreferredAuthentications=none -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null ` +
      `-o ConnectTimeout=10 pi@${addr} true 2>&1 | sed -n 's/.*Authentications that can continue: //p' | tail -n 1`,
  );
  return out.trim();
}

/** sshd's effective password settings on HOST. */
const effective = (host: string) => sh(host, "sshd -T | grep -E '^(passwordauthentication|kbdinteractiveauthentication) ' | sort");

/** Everything the playbook could touch on a host, and how many times sshd was reloaded. */
async function hostState(host: string): Promise<Record<string, string>> {
  return {
    keys: await sh(host, 'cat /home/pi/.ssh/authorized_keys; stat -c "%a %U" /home/pi/.ssh /home/pi/.ssh/authorized_keys'),
    sshd_config: await sh(host, 'md5sum /etc/ssh/sshd_config; ls -l --time-style=+%s /etc/ssh'),
    shadow: await sh(host, 'grep "^pi:" /etc/shadow'),
    reloads: await sh(host, "journalctl -u ssh --no-pager | grep -c 'Received SIGHUP' || true"),
    sshdPid: await sh(host, 'systemctl show -p MainPID --value ssh'),
  };
}

describe.skipIf(!enabled)('ssh-setup on the lab', () => {
  let lab: LabInfo;
  let dir: string;
  let cfg: string;
  let pub: string;
  const timings: Record<string, number> = {};

  const play = async (label: string, extra: string[] = []) => {
    const t = Date.now();
    const r = await tsplay(dir, ['run', PLAYBOOK, '-i', lab.inventory, '-e', '@settings.yml', ...extra]);
    timings[label] = Date.now() - t;
    return r;
  };
  const everything = async () => {
    const s: Record<string, unknown> = { config: existsSync(cfg) ? readFileSync(cfg, 'utf8') : '(none)' };
    for (const h of HOSTS) s[h] = await hostState(h);
    return s;
  };
  /** `ssh -F <the written file> HOST hostname` with the test's key only (IdentitiesOnly in the file). */
  const loginWithConfig = (host: string, file = cfg) =>
    cmd('ssh', ['-F', file, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', host, 'hostname']);
  /** The test's key alone, straight to the gateway (no config of ours). */
  const keyLoginGateway = () =>
    cmd('ssh', [
      '-F',
      '/dev/null',
      '-i',
      join(dir, 'id_ed25519'),
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${lab.knownHosts}`,
      `pi@${ADDRESS.gateway}`,
      'hostname',
    ]);

  beforeAll(async () => {
    await labDown();
    lab = await labUp({ nodes: 2 }, () => {});
    dir = project({});
    cfg = join(dir, 'ssh_config');
    await cmd('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tsplay-ssh-setup-test', '-f', join(dir, 'id_ed25519')]);
    await cmd('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'not-installed', '-f', join(dir, 'other')]);
    pub = readFileSync(join(dir, 'id_ed25519.pub'), 'utf8').trim();
    writeFileSync(
      join(dir, 'settings.yml'),
      `ssh_public_key_file: ${dir}/id_ed25519.pub\nssh_config_path: ${cfg}\nssh_config_options:\n  UserKnownHostsFile: ${lab.knownHosts}\n`,
    );
    // the cluster switch, by hand (what dhcp-setup gives them)
    await sh('gateway', 'ip addr replace 10.213.1.1/24 dev eth0 && ip link set eth0 up');
    for (const n of ['node1', 'node2']) await sh(n, `ip addr replace ${ADDRESS[n]}/24 dev eth0 && ip link set eth0 up`);
  }, 10 * 60_000);

  afterAll(async () => {
    process.stderr.write(`ssh-setup timings (ms): ${JSON.stringify(timings)}\n`);
    await labDown();
  }, 120_000);

  it('before: the new key does not log in, and every sshd offers passwords', async () => {
    expect((await keyLoginGateway()).code).not.toBe(0);
    for (const h of HOSTS) {
      expect(await offered(h)).toBe('publickey,password');
      expect(await effective(h)).toBe('kbdinteractiveauthentication no\npasswordauthentication yes\n');
    }
  }, 60_000);

  it('--check shows what it would change and touches nothing', async () => {
    const before = await everything();
    const r = await play('check-fresh', ['--check', '--diff']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(recap(r.out, 'localhost')).toMatchObject({ changed: 1, failed: 0 });
    // the key, the sshd_config edit, the reload it would notify
    for (const h of HOSTS) expect(recap(r.out, h)).toMatchObject({ changed: 3, failed: 0 });
    expect(r.out).toContain('+  ProxyJump gateway');
    expect(r.out).toContain('+PasswordAuthentication no');
    expect(await everything()).toEqual(before);
    expect(existsSync(cfg)).toBe(false);
  }, 120_000);

  it('a key that does not log in keeps password login on: sshd untouched on every host', async () => {
    const before = await everything();
    const wrongCfg = join(dir, 'ssh_config.wrong');
    // the config names a private key whose public half is not the one installed
    const r = await play('wrong-key', ['-e', `ssh_private_key_file=${dir}/other`, '-e', `ssh_config_path=${wrongCfg}`]);
    expect(r.code).not.toBe(0);
    for (const h of HOSTS) {
      expect(recap(r.out, h)).toMatchObject({ changed: 1, failed: 1 });
      expect(r.out).toContain(`${h}: logging in with the key alone failed`);
      expect(await offered(h)).toBe('publickey,password');
      expect(await effective(h)).toBe('kbdinteractiveauthentication no\npasswordauthentication yes\n');
    }
    const after = (await everything()) as Record<string, Record<string, string>>;
    for (const h of HOSTS) {
      const b = (before as Record<string, Record<string, string>>)[h]!;
      // only the key was added
      expect({ ...after[h], keys: '' }).toEqual({ ...b, keys: '' });
      expect(after[h]!.keys).toContain(pub);
    }
    expect(readFileSync(wrongCfg, 'utf8')).toContain(`IdentityFile ${dir}/other\n`);
  }, 120_000);

  it('the real run: the config entry is written and usable through the jump host, the key logs in, sshd refuses passwords', async () => {
    const reloads = Object.fromEntries(
      await Promise.all(
        HOSTS.map(async (h) => [h, Number(await sh(h, "journalctl -u ssh --no-pager | grep -c 'Received SIGHUP' || true"))]),
      ),
    );
    const r = await play('first');
    expect(r.code, r.out + r.err).toBe(0);
    expect(recap(r.out, 'localhost')).toMatchObject({ changed: 1, failed: 0 });
    // the key is there since the previous test: the sshd_config edit and the reload
    for (const h of HOSTS) expect(recap(r.out, h)).toMatchObject({ changed: 2, failed: 0 });

    const entry = (h: string, jump: boolean) =>
      `Host ${h}\n  HostName ${ADDRESS[h]}\n  User pi\n${jump ? '  ProxyJump gateway\n' : ''}` +
      `  IdentityFile ${dir}/id_ed25519\n  IdentitiesOnly yes\n  UserKnownHostsFile ${lab.knownHosts}\n`;
    expect(readFileSync(cfg, 'utf8')).toBe(
      '# BEGIN tsplay ssh-setup: cluster hosts\n' +
        entry('gateway', false) +
        entry('node1', true) +
        entry('node2', true) +
        '# END tsplay ssh-setup: cluster hosts\n',
    );

    expect((await keyLoginGateway()).stdout.trim()).toBe('gateway');
    for (const h of HOSTS) {
      const login = await loginWithConfig(h);
      expect(login.code, login.stderr).toBe(0);
      expect(login.stdout.trim()).toBe(h);
      expect(await offered(h)).toBe('publickey');
      expect(await effective(h)).toBe('kbdinteractiveauthentication no\npasswordauthentication no\n');
      expect(await sh(h, "grep -E '^(PasswordAuthentication|KbdInteractiveAuthentication) ' /etc/ssh/sshd_config")).toBe(
        'PasswordAuthentication no\nKbdInteractiveAuthentication no\n',
      );
      expect(Number(await sh(h, "journalctl -u ssh --no-pager | grep -c 'Received SIGHUP' || true"))).toBe(reloads[h] + 1);
      // the lab's own key still logs in (nothing removed)
      expect(await sh(h, 'grep -c "" /home/pi/.ssh/authorized_keys')).toBe('2\n');
    }
    // a client that insists on a password is refused
    const pw = await cmd('ssh', [
      '-F',
      cfg,
      '-o',
      'BatchMode=yes',
      '-o',
      'PubkeyAuthentication=no',
      '-o',
      'PreferredAuthentications=password,keyboard-interactive',
      'gateway',
      'true',
    ]);
    expect(pw.code).not.toBe(0);
    expect(pw.stderr).toContain('Permission denied (publickey)');
  }, 120_000);

  it('a second run changes nothing, and --check on the converged cluster reports nothing and touches nothing', async () => {
    const before = await everything();
    const r = await play('second');
    expect(r.code, r.out + r.err).toBe(0);
    for (const h of ['localhost', ...HOSTS]) expect(recap(r.out, h)).toMatchObject({ changed: 0, failed: 0 });
    const c = await play('check-converged', ['--check']);
    expect(c.code, c.out + c.err).toBe(0);
    for (const h of ['localhost', ...HOSTS]) expect(recap(c.out, h)).toMatchObject({ changed: 0, failed: 0 });
    expect(await everything()).toEqual(before);
  }, 120_000);

  it("ssh_password_hash sets the user's password (its hash in /etc/shadow, never in the output); again: nothing changes", async () => {
    // the same password as the lab's (sudo keeps working for the next runs), a new salt: a new hash
    const password = readFileSync(lab.passwordFile, 'utf8').trim();
    const hash = (await cmd('sh', ['-c', `printf '%s' "$1" | openssl passwd -6 -stdin`, 'sh', password])).stdout.trim();
    expect(hash).toMatch(/^\$6\$/);
    for (const h of HOSTS) expect(await sh(h, 'grep "^pi:" /etc/shadow')).not.toContain(hash);
    const r = await play('password', ['-e', `ssh_password_hash=${hash}`]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out + r.err).not.toContain(hash);
    for (const h of HOSTS) {
      expect(recap(r.out, h)).toMatchObject({ changed: 1, failed: 0 });
      expect((await sh(h, 'grep "^pi:" /etc/shadow')).split(':')[1]).toBe(hash);
    }
    const again = await play('password-again', ['-e', `ssh_password_hash=${hash}`]);
    expect(again.code, again.out + again.err).toBe(0);
    for (const h of HOSTS) expect(recap(again.out, h)).toMatchObject({ changed: 0, failed: 0 });
    // not a hash: refused before any host is touched
    const plain = await play('password-plain', ['-e', 'ssh_password_hash=secret']);
    expect(plain.code).not.toBe(0);
    expect(plain.out).toContain('a crypt hash');
    for (const h of HOSTS) expect((await sh(h, 'grep "^pi:" /etc/shadow')).split(':')[1]).toBe(hash);
  }, 120_000);

  it('lab down leaves nothing behind', async () => {
    await labDown();
    expect(await labLeftovers()).toEqual([]);
  }, 120_000);
});
