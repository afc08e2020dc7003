import { createHmac, randomBytes } from 'node:crypto';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as netConnect, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client } from 'ssh2';
import { resolveEndpoint, SshConnection, SshTransport, type SshSettings } from '../../engine/connection/ssh.js';
import { signWithoutAsking, skipHostKeysProof } from '../../engine/connection/ssh2-patch.js';
import { INPUT, Secret, sh, type ShellCommand } from '../../engine/sh.js';
import type { ExecOptions } from '../../engine/module.js';
import {
  createSshLab,
  freePort,
  knownHostsLine,
  silentPort,
  sshdAvailable,
  TEST_SUDO_PASSWORD,
  USER_NOPASS,
  USER_PASS,
  type SshLab,
  type SshServer,
} from './sshd.js';

// On CI the servers must run (.ci/run installs them): a skip there would hide a broken install.
const run = sshdAvailable() || process.env.CI ? describe : describe.skip;

run('SSH transport against real OpenSSH servers', () => {
  let lab: SshLab;
  let a: SshServer;
  let b: SshServer;
  const settings: SshSettings = { env: {} };
  const transports: SshTransport[] = [];

  beforeAll(async () => {
    lab = createSshLab();
    a = await lab.start();
    b = await lab.start();
    writeFileSync(lab.knownHosts, `${knownHostsLine(a)}\n${knownHostsLine(b)}\n`);
  });
  afterAll(async () => {
    await Promise.all(transports.map((t) => t.closeAll()));
    await lab?.stop();
  });

  function connect(server: SshServer | number, vars: Record<string, unknown> = {}): SshConnection {
    const port = typeof server === 'number' ? server : server.port;
    const v = {
      ansible_host: '127.0.0.1',
      ansible_port: port,
      ansible_user: USER_NOPASS,
      ansible_ssh_private_key_file: lab.clientKey,
      ansible_ssh_common_args: `-o UserKnownHostsFile=${lab.knownHosts}`,
      ...vars,
    };
    const t = new SshTransport({});
    transports.push(t);
    return new SshConnection('h', resolveEndpoint('h', v, settings), t);
  }

  it('runs commands with stdin, stdout, stderr and exit codes', async () => {
    const c = connect(a);
    const r = await c.exec(sh`cat; echo err >&2; exit 3`, { stdin: 'hello\n' });
    expect(r).toEqual({ rc: 3, stdout: 'hello\n', stderr: 'err\n' });
    expect((await c.exec(sh`id -un`)).stdout.trim()).toBe(USER_NOPASS);
  });

  it('becomes root with sudo -n, and with a password written after the prompt', async () => {
    const np = connect(a);
    const r1 = await np.exec(sh`id -u; cat`, { become: { method: 'sudo', user: 'root' }, stdin: 'in' });
    expect(r1.rc).toBe(0);
    expect(r1.stdout).toBe('0\nin');
    const pw = connect(a, { ansible_user: USER_PASS });
    const r2 = await pw.exec(sh`id -u; cat`, {
      become: { method: 'sudo', user: 'root', password: new Secret(TEST_SUDO_PASSWORD) },
      stdin: 'data',
    });
    expect(r2).toMatchObject({ rc: 0, stdout: '0\ndata' });
    expect(r2.stderr).not.toContain(TEST_SUDO_PASSWORD);
  });

  it('fails clearly on a wrong or missing sudo password', async () => {
    const pw = connect(a, { ansible_user: USER_PASS });
    const wrong = await pw.exec(sh`id -u`, { become: { method: 'sudo', user: 'root', password: new Secret('nope') } });
    expect(wrong.rc).not.toBe(0);
    expect(wrong.stderr).toMatch(/Incorrect sudo password/);
    const missing = await pw.exec(sh`id -u`, { become: { method: 'sudo', user: 'root' } });
    expect(missing.rc).not.toBe(0);
    expect(missing.stderr).toMatch(/Missing sudo password/);
  });

  it('refuses an unknown host key when strict, accepts and records it with accept-new', async () => {
    const empty = join(lab.dir, 'known_hosts_empty');
    writeFileSync(empty, '');
    const strict = connect(a, { ansible_ssh_common_args: `-o UserKnownHostsFile=${empty}` });
    await expect(strict.exec(sh`true`)).rejects.toThrow(/not in .*known_hosts_empty/);
    const acceptNew = connect(a, { ansible_ssh_common_args: `-o UserKnownHostsFile=${empty} -o StrictHostKeyChecking=accept-new` });
    expect((await acceptNew.exec(sh`echo ok`)).stdout).toBe('ok\n');
    expect(readFileSync(empty, 'utf8')).toContain(`[127.0.0.1]:${a.port} ssh-ed25519 `);
  });

  it('a known host that offers a key of another type is refused as changed, with accept-new too, as OpenSSH does', async () => {
    // an RSA key recorded for a, which has only an ed25519 key
    const rsaKey = join(lab.dir, 'other_rsa');
    if (!existsSync(rsaKey)) execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', rsaKey]);
    const recorded = `[127.0.0.1]:${a.port} ${readFileSync(`${rsaKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')}\n`;
    for (const strict of ['accept-new', 'yes']) {
      const file = join(lab.dir, `known_hosts_other_type_${strict}`);
      writeFileSync(file, recorded);
      const c = connect(a, { ansible_ssh_common_args: `-o UserKnownHostsFile=${file} -o StrictHostKeyChecking=${strict}` });
      await expect(c.exec(sh`true`)).rejects.toThrow(
        new RegExp(`REMOTE HOST IDENTIFICATION HAS CHANGED.*known_hosts_other_type_${strict}:1`),
      );
      expect(readFileSync(file, 'utf8')).toBe(recorded); // nothing appended
      // OpenSSH's own client says the same
      const ssh = spawnSync(
        'ssh',
        [
          '-o',
          `UserKnownHostsFile=${file}`,
          '-o',
          'GlobalKnownHostsFile=/dev/null',
          '-o',
          `StrictHostKeyChecking=${strict}`,
          '-o',
          'BatchMode=yes',
          '-i',
          lab.clientKey,
          '-p',
          String(a.port),
          `${USER_NOPASS}@127.0.0.1`,
          'true',
        ],
        { encoding: 'utf8' },
      );
      expect(ssh.status).toBe(255);
      expect(ssh.stderr).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
      expect(readFileSync(file, 'utf8')).toBe(recorded);
    }
  });

  it('always refuses a changed host key, naming the known_hosts file and line', async () => {
    const file = join(lab.dir, 'known_hosts_changed');
    // b's key recorded under a's name: a now presents a different ed25519 key
    writeFileSync(file, `# comment\n[127.0.0.1]:${a.port} ${b.hostKeyPub}\n`);
    const c = connect(a, { ansible_ssh_common_args: `-o UserKnownHostsFile=${file} -o StrictHostKeyChecking=no` });
    await expect(c.exec(sh`true`)).rejects.toThrow(new RegExp(`CHANGED.*known_hosts_changed:2`));
  });

  it('refuses a key marked @revoked, and accepts unknown keys when host key checking is off', async () => {
    const file = join(lab.dir, 'known_hosts_revoked');
    writeFileSync(file, `@revoked * ${a.hostKeyPub}\n`);
    const revoked = connect(a, { ansible_ssh_common_args: `-o UserKnownHostsFile=${file} -o StrictHostKeyChecking=no` });
    await expect(revoked.exec(sh`true`)).rejects.toThrow(/revoked in .*known_hosts_revoked:1/);
    const empty = join(lab.dir, 'known_hosts_off');
    writeFileSync(empty, '');
    const e = resolveEndpoint(
      'h',
      {
        ansible_host: '127.0.0.1',
        ansible_port: a.port,
        ansible_user: USER_NOPASS,
        ansible_ssh_private_key_file: lab.clientKey,
        ansible_ssh_common_args: `-o UserKnownHostsFile=${empty}`,
      },
      { env: { ANSIBLE_HOST_KEY_CHECKING: 'False' } },
    );
    expect(e.strict).toBe('no');
    const t = new SshTransport({});
    transports.push(t);
    expect((await new SshConnection('h', e, t).exec(sh`echo off`)).stdout).toBe('off\n');
    expect(readFileSync(empty, 'utf8')).toBe(''); // "no" accepts without recording, as OpenSSH does
  });

  it('retries connecting ansible_ssh_retries times', async () => {
    const port = await freePort();
    const c = connect(port, { ansible_ssh_retries: 2 });
    const started = Date.now();
    await expect(c.exec(sh`true`)).rejects.toThrow(/Connection refused/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900); // waits 1 s, then 2 s, between the 3 attempts
  });

  it("leaves sshd's host key announcement unanswered: no proof of keys tsplay does not use", async () => {
    // a plain ssh2 client asks the server to prove every announced host key, and reports them
    const announced = async (skip: boolean) => {
      const c = new Client();
      const keys: unknown[] = [];
      c.on('hostkeys', (k: unknown[]) => keys.push(...k));
      await new Promise<void>((res, rej) => {
        c.on('error', rej);
        c.on('ready', () => c.exec('true', (err, ch) => (err ? rej(err) : ch.on('close', () => res()).resume())));
        c.connect({ host: '127.0.0.1', port: a.port, username: USER_NOPASS, privateKey: readFileSync(lab.clientKey) });
        if (skip) skipHostKeysProof(c);
      });
      await new Promise((r) => setTimeout(r, 100));
      c.end();
      return keys.length;
    };
    expect(await announced(false)).toBe(1);
    expect(await announced(true)).toBe(0);
    // and tsplay's own connections skip it
    const emit = vi.spyOn(Client.prototype, 'emit');
    try {
      const c = connect(b);
      expect((await c.exec(sh`echo ok`)).stdout).toBe('ok\n');
      await new Promise((r) => setTimeout(r, 100));
      expect(emit.mock.calls.map((call) => call[0])).toContain('ready');
      expect(emit.mock.calls.map((call) => call[0])).not.toContain('hostkeys');
    } finally {
      emit.mockRestore();
    }
  });

  it('signs with a key file at once, without asking first whether the server would take the key', async () => {
    const other = join(lab.dir, 'other_key');
    if (!existsSync(other)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    // the server's "I would accept this key" answers, with and without signWithoutAsking
    const answers = async (direct: boolean, keys: string[]) => {
      const c = new Client();
      let pkOk = 0;
      await new Promise<void>((res, rej) => {
        c.on('error', rej);
        c.on('ready', () => res());
        c.connect({
          host: '127.0.0.1',
          port: a.port,
          username: USER_NOPASS,
          authHandler: keys.map((k) => ({ type: 'publickey', username: USER_NOPASS, key: readFileSync(k) })) as never,
        });
        const handlers = (c as unknown as { _protocol: { _handlers: Record<string, (...a: unknown[]) => void> } })._protocol._handlers;
        const onPkOk = handlers.USERAUTH_PK_OK!;
        handlers.USERAUTH_PK_OK = (...a) => (pkOk++, onPkOk(...a));
        if (direct) signWithoutAsking(c);
      });
      c.end();
      return pkOk;
    };
    expect(await answers(false, [lab.clientKey])).toBe(1);
    expect(await answers(true, [lab.clientKey])).toBe(0);
    // a refused key is refused all the same, and the next one is tried
    expect(await answers(true, [other, lab.clientKey])).toBe(0);
    await expect(answers(true, [other])).rejects.toThrow(/authentication methods failed/);
  });

  it('reads hashed known_hosts entries', async () => {
    const salt = randomBytes(20);
    const name = `[127.0.0.1]:${a.port}`;
    const hash = createHmac('sha1', salt).update(name).digest('base64');
    const file = join(lab.dir, 'known_hosts_hashed');
    writeFileSync(file, `|1|${salt.toString('base64')}|${hash} ${a.hostKeyPub}\n`);
    const c = connect(a, { ansible_ssh_common_args: `-o UserKnownHostsFile=${file}` });
    expect((await c.exec(sh`echo hashed`)).stdout).toBe('hashed\n');
  });

  it('reaches a host through a jump host, sharing one connection to the gateway', async () => {
    const jump = `-J ${USER_NOPASS}@127.0.0.1:${a.port} -o UserKnownHostsFile=${lab.knownHosts}`;
    const t = new SshTransport({});
    transports.push(t);
    const e1 = resolveEndpoint(
      'n1',
      {
        ansible_host: '127.0.0.1',
        ansible_port: b.port,
        ansible_user: USER_NOPASS,
        ansible_ssh_private_key_file: lab.clientKey,
        ansible_ssh_common_args: jump,
      },
      settings,
    );
    const e2 = resolveEndpoint(
      'n2',
      {
        ansible_host: '127.0.0.1',
        ansible_port: b.port,
        ansible_user: USER_PASS,
        ansible_ssh_private_key_file: lab.clientKey,
        ansible_ssh_common_args: jump,
      },
      settings,
    );
    expect(e1.jumps).toHaveLength(1);
    const c1 = new SshConnection('n1', e1, t);
    const c2 = new SshConnection('n2', e2, t);
    const [r1, r2] = await Promise.all([c1.exec(sh`echo one`), c2.exec(sh`echo two`)]);
    expect(r1.stdout + r2.stdout).toBe('one\ntwo\n');
    // both went through the same gateway client
    const gw = await t.client(e1.jumps[0]!, 'gw');
    expect(await t.client({ ...e2.jumps[0]! }, 'gw')).toBe(gw);
  });

  it('fails, instead of waiting forever, when a host behind the jump host goes away during the handshake (a reboot)', async () => {
    // the host greets and then ends its side (a rebooting node's sshd): through the jump host the
    // forwarded channel only ends, it never closes
    const dying = createServer((s: Socket) => s.end('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'));
    await new Promise<void>((r) => dying.listen(0, '127.0.0.1', r));
    const port = (dying.address() as { port: number }).port;
    try {
      const t = new SshTransport({});
      transports.push(t);
      const jump = `-J ${USER_NOPASS}@127.0.0.1:${a.port} -o UserKnownHostsFile=${lab.knownHosts}`;
      const e = resolveEndpoint(
        'gone',
        {
          ansible_host: '127.0.0.1',
          ansible_port: port,
          ansible_user: USER_NOPASS,
          ansible_ssh_private_key_file: lab.clientKey,
          ansible_ssh_common_args: jump,
        },
        settings,
      );
      const started = Date.now();
      await expect(new SshConnection('gone', e, t).exec(sh`true`)).rejects.toThrow(/closed the connection/);
      expect(Date.now() - started).toBeLessThan(e.timeoutMs);
      // the jump host's connection still serves the next host
      const ok = resolveEndpoint(
        'b',
        {
          ansible_host: '127.0.0.1',
          ansible_port: b.port,
          ansible_user: USER_NOPASS,
          ansible_ssh_private_key_file: lab.clientKey,
          ansible_ssh_common_args: jump,
        },
        settings,
      );
      expect((await new SshConnection('b', ok, t).exec(sh`echo still`)).stdout).toBe('still\n');
    } finally {
      dying.close();
    }
  });

  it('obeys the connect timeout when the jump host cannot reach the host (a node with no address yet)', async () => {
    const silent = await silentPort();
    try {
      const t = new SshTransport({});
      transports.push(t);
      const jump = `-J ${USER_NOPASS}@127.0.0.1:${a.port} -o UserKnownHostsFile=${lab.knownHosts}`;
      const e = resolveEndpoint(
        'unleased',
        {
          ansible_host: '127.0.0.1',
          ansible_port: silent.port,
          ansible_user: USER_NOPASS,
          ansible_ssh_private_key_file: lab.clientKey,
          ansible_ssh_common_args: jump,
          ansible_ssh_timeout: 2,
        },
        settings,
      );
      expect(e.timeoutMs).toBe(2000);
      await t.client(e.jumps[0]!, 'gw'); // the gateway answers at once: what is timed is the hop behind it
      const started = Date.now();
      await expect(new SshConnection('unleased', e, t).exec(sh`true`)).rejects.toThrow(
        /Connection timed out: the jump host opened no channel to 127\.0\.0\.1:\d+ within 2 s/,
      );
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(1900);
      expect(took).toBeLessThan(6000);
      // the jump host's connection still serves the next host
      const ok = resolveEndpoint(
        'b',
        {
          ansible_host: '127.0.0.1',
          ansible_port: b.port,
          ansible_user: USER_NOPASS,
          ansible_ssh_private_key_file: lab.clientKey,
          ansible_ssh_common_args: jump,
        },
        settings,
      );
      expect((await new SshConnection('b', ok, t).exec(sh`echo still`)).stdout).toBe('still\n');
    } finally {
      silent.close();
    }
  });

  describe('ProxyCommand', () => {
    // the host's own address leads nowhere (a closed port): only the proxy command reaches sshd,
    // so a run that connected directly instead (as tsplay once did) would fail
    const proxied = async (proxy: string, viaConfig = false) => {
      const closed = await freePort();
      const t = new SshTransport({});
      transports.push(t);
      let common = `-o UserKnownHostsFile=${lab.knownHosts}`;
      if (viaConfig) {
        const cfg = join(lab.dir, `proxy_config_${closed}`);
        writeFileSync(cfg, `Host proxied-*\n  ProxyCommand ${proxy}\n`);
        common += ` -F ${cfg}`;
      } else common += ` -o ProxyCommand=${JSON.stringify(proxy)}`;
      const e = resolveEndpoint(
        'proxied-b',
        {
          ansible_host: 'proxied-b',
          ansible_port: closed,
          ansible_user: USER_NOPASS,
          ansible_ssh_private_key_file: lab.clientKey,
          ansible_ssh_common_args: common,
        },
        settings,
      );
      // known_hosts has b under 127.0.0.1:port; the proxied name needs its own line
      writeFileSync(lab.knownHosts, readFileSync(lab.knownHosts, 'utf8') + `[proxied-b]:${closed} ${b.hostKeyPub}\n`);
      return new SshConnection('proxied-b', e, t);
    };

    it("runs the guides' `ssh gw nc %h %p` through the gateway's sshd", async () => {
      const gw = `ssh -i ${lab.clientKey} -o UserKnownHostsFile=${lab.knownHosts} -o BatchMode=yes -p ${a.port} ${USER_NOPASS}@127.0.0.1 nc 127.0.0.1 ${b.port}`;
      const c = await proxied(gw);
      expect((await c.exec(sh`echo via-gw`)).stdout).toBe('via-gw\n');
    });

    it('runs any command as the transport, from ssh_config too, with %h %p %r expanded', async () => {
      // a relay in node: `relay HOST PORT` connects to b whatever it is asked (the tokens are checked)
      const relay = join(lab.dir, 'relay.cjs');
      writeFileSync(
        relay,
        `const [h, p, r] = process.argv.slice(2); if (h !== 'proxied-b' || r !== '${USER_NOPASS}' || !/^\\d+$/.test(p)) { console.error('bad tokens', h, p, r); process.exit(3); } const s = require('net').connect(${b.port}, '127.0.0.1'); process.stdin.pipe(s); s.pipe(process.stdout); s.on('close', () => process.exit(0));\n`,
      );
      const c = await proxied(`${process.execPath} ${relay} %h %p %r`, true);
      expect((await c.exec(sh`echo via-relay`)).stdout).toBe('via-relay\n');
    });

    it('a proxy command that fails makes the host unreachable with what it said', async () => {
      const c = await proxied(`sh -c 'echo proxy says no >&2; exit 7'`);
      await expect(c.exec(sh`true`)).rejects.toThrow(/ProxyCommand \(.*\) exited with 7: proxy says no/);
    });
  });

  it('authenticates with a password (ansible_password)', async () => {
    const t = new SshTransport({});
    transports.push(t);
    const e = resolveEndpoint(
      'pw',
      {
        ansible_host: '127.0.0.1',
        ansible_port: a.port,
        ansible_user: USER_PASS,
        ansible_password: TEST_SUDO_PASSWORD,
        ansible_ssh_common_args: `-o UserKnownHostsFile=${lab.knownHosts}`,
      },
      { env: {} },
    );
    e.identityFiles = [];
    const c = new SshConnection('pw', e, t);
    expect((await c.exec(sh`id -un`)).stdout.trim()).toBe(USER_PASS);
    const bad = new SshConnection('pw', { ...e, password: new Secret('wrong') }, new SshTransport({}));
    await expect(bad.exec(sh`true`)).rejects.toThrow(/Permission denied/);
  });

  it('authenticates through ssh-agent (SSH_AUTH_SOCK)', async () => {
    const sock = join(lab.dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
      execFileSync('ssh-add', [lab.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      const env = { SSH_AUTH_SOCK: sock, HOME: lab.dir };
      const t = new SshTransport(env);
      transports.push(t);
      const e = resolveEndpoint(
        'ag',
        {
          ansible_host: '127.0.0.1',
          ansible_port: a.port,
          ansible_user: USER_NOPASS,
          ansible_ssh_common_args: `-o UserKnownHostsFile=${lab.knownHosts}`,
        },
        { env },
      );
      expect(e.identityFiles).toEqual([]);
      const c = new SshConnection('ag', e, t);
      expect((await c.exec(sh`echo agent`)).stdout).toBe('agent\n');
    } finally {
      agent.kill();
    }
  });

  it('honours an ssh_config file given with -F (HostName, Port, User, IdentityFile, UserKnownHostsFile)', async () => {
    const cfg = join(lab.dir, 'ssh_config');
    writeFileSync(
      cfg,
      `Host pi-*\n  User ${USER_NOPASS}\n  IdentityFile ${lab.clientKey}\n  UserKnownHostsFile ${lab.knownHosts}\nHost pi-b\n  HostName 127.0.0.1\n  Port ${b.port}\n`,
    );
    const e = resolveEndpoint('pi-b', { ansible_ssh_common_args: `-F ${cfg}` }, { env: {} });
    expect(e).toMatchObject({ host: '127.0.0.1', port: b.port, user: USER_NOPASS });
    const t = new SshTransport({});
    transports.push(t);
    expect((await new SshConnection('pi-b', e, t).exec(sh`echo cfg`)).stdout).toBe('cfg\n');
  });

  it('follows a chain of two jump hosts (-J a,b)', async () => {
    const c3 = await lab.start();
    writeFileSync(lab.knownHosts, readFileSync(lab.knownHosts, 'utf8') + knownHostsLine(c3) + '\n');
    const e = resolveEndpoint(
      'deep',
      {
        ansible_host: '127.0.0.1',
        ansible_port: c3.port,
        ansible_user: USER_NOPASS,
        ansible_ssh_private_key_file: lab.clientKey,
        ansible_ssh_common_args: `-J ${USER_NOPASS}@127.0.0.1:${a.port},${USER_NOPASS}@127.0.0.1:${b.port} -o UserKnownHostsFile=${lab.knownHosts}`,
      },
      { env: {} },
    );
    expect(e.jumps.map((j) => j.port)).toEqual([a.port, b.port]);
    const t = new SshTransport({});
    transports.push(t);
    expect((await new SshConnection('deep', e, t).exec(sh`echo deep`)).stdout).toBe('deep\n');
  });

  it('reports a host that is down as unreachable', async () => {
    const port = await freePort();
    const c = connect(port);
    await expect(c.exec(sh`true`)).rejects.toThrow(/Connection refused/);
  });

  it('keeps at most MAX_CHANNELS channels open against MaxSessions=10, reusing shell sessions', async () => {
    const c = connect(a);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => c.exec(sh`sleep 0.05; echo ${String(i)}`)));
    expect(results.every((r, i) => r.rc === 0 && r.stdout === `${i}\n`)).toBe(true);
    expect(c.commandsRun).toBe(40);
    expect(c.maxInFlight).toBeLessThanOrEqual(8);
    expect(c.maxInFlight).toBeGreaterThan(1);
    expect(c.maxChannelsOpen).toBeLessThanOrEqual(8);
    expect(c.channelsOpened).toBeLessThanOrEqual(8); // 40 commands, one session per command in flight
  });

  it('with TSPLAY_SSH_SESSION=0, opens one exec channel per command, at most MAX_CHANNELS at once', async () => {
    const t = new SshTransport({ TSPLAY_SSH_SESSION: '0' });
    transports.push(t);
    const c = new SshConnection(
      'h',
      resolveEndpoint(
        'h',
        {
          ansible_host: '127.0.0.1',
          ansible_port: a.port,
          ansible_user: USER_NOPASS,
          ansible_ssh_private_key_file: lab.clientKey,
          ansible_ssh_common_args: `-o UserKnownHostsFile=${lab.knownHosts}`,
        },
        settings,
      ),
      t,
    );
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => c.exec(sh`sleep 0.05; echo ${String(i)}`)));
    expect(results.every((r, i) => r.rc === 0 && r.stdout === `${i}\n`)).toBe(true);
    expect(c.channelsOpened).toBe(20);
    expect(c.maxChannelsOpen).toBeLessThanOrEqual(8);
  });

  it('runs commands one after another in one shell session, each by a /bin/sh of its own', async () => {
    const conn = connect(a);
    // commands that hold a user's shell text (inOwnShell) get a /bin/sh of their own
    const c = {
      exec: (cmd: ShellCommand, opts?: ExecOptions) => conn.exec(cmd.inOwnShell(), opts),
      get channelsOpened() {
        return conn.channelsOpened;
      },
    };
    expect(await c.exec(sh`cd /tmp; x=1; f() { :; }; umask 077; printf 'no newline'; printf 'e' >&2; exit 7`)).toEqual({
      rc: 7,
      stdout: 'no newline',
      stderr: 'e',
    });
    // nothing of the previous command is left: directory, variables, functions, umask
    expect((await c.exec(sh`pwd; echo "x=$x"; command -v f || echo nof; umask`)).stdout).toBe(`/home/${USER_NOPASS}\nx=\nnof\n0022\n`);
    // a command that reads only part of its input does not eat the next frame
    expect(await c.exec(sh`head -c 3`, { stdin: 'abcdef\nmore\n' })).toEqual({ rc: 0, stdout: 'abc', stderr: '' });
    // ... nor when most of a large input is left unread (in base64, and as text), and nothing of that reaches stderr
    expect(await c.exec(sh`head -c 3; exit 3`, { stdin: Buffer.alloc(2 * 1024 * 1024, 'z') })).toEqual({
      rc: 3,
      stdout: 'zzz',
      stderr: '',
    });
    expect(await c.exec(sh`head -c 3; exit 4`, { stdin: Buffer.from('y'.repeat(2 * 1024 * 1024) + '\n') })).toEqual({
      rc: 4,
      stdout: 'yyy',
      stderr: '',
    });
    // input arrives byte for byte, whichever way it is sent: shell syntax, CRLF, a line like a
    // here-document's end, long lines, bytes that are not UTF-8, NUL, no final newline
    const tricky = Buffer.concat([
      Buffer.from('a\\b $HOME `id` \'q\' "d" ${x}\r\nEOF\n__tsplay_end_x_EOF\n' + 'w'.repeat(200_000) + '\n'),
      Buffer.from([0xff, 0xfe, 0x80, 0x0a]),
    ]);
    for (const input of [tricky, Buffer.concat([tricky, Buffer.from('no newline')]), Buffer.concat([tricky, Buffer.from([0, 0x0a])])]) {
      const echoed = await c.exec(sh`od -An -tx1 -v | tr -d ' \n'`, { stdin: input });
      expect(echoed.stdout).toBe(input.toString('hex'));
    }
    expect(await c.exec(sh`echo next`)).toEqual({ rc: 0, stdout: 'next\n', stderr: '' });
    const big = Buffer.alloc(3 * 1024 * 1024, 'x');
    const r = await c.exec(sh`wc -c; cat /dev/zero | head -c 2000000 | tr '\0' y`, { stdin: big });
    expect(r.rc).toBe(0);
    expect(r.stdout.slice(0, 8)).toBe(`${big.length}\n`);
    expect(r.stdout.length).toBe(8 + 2_000_000);
    // a command with no input reads end-of-file, it does not wait
    expect(await c.exec(sh`cat; echo done`)).toEqual({ rc: 0, stdout: 'done\n', stderr: '' });
    // quoting, multi-line text and a here-document survive the framing
    expect((await c.exec(sh`cat <<'EOF'\n${'a b'}\n  indented \\ \nEOF\nprintf '%s\n' ${"it's"}`)).stdout).toBe(
      "'a b'\n  indented \\ \nit's\n",
    );
    // a syntax error is the shell's rc 2, and the session goes on
    expect((await c.exec(sh`if then`)).rc).toBe(2);
    expect((await c.exec(sh`echo still`)).stdout).toBe('still\n');
    // a killed command reports its signal as the shell does (128 + n)
    expect((await c.exec(sh`kill -TERM $$`)).rc).toBe(143);
    expect(c.channelsOpened).toBe(1);
  });

  it("runs a command in a subshell of the session's own shell: no /bin/sh started, nothing left behind", async () => {
    const c = connect(a);
    // `$$` in the subshell is the session shell, the parent of a command's own /bin/sh
    const inSubshell = (await c.exec(sh`echo $$`)).stdout;
    expect(inSubshell).toBe((await c.exec(sh`echo $PPID`.inOwnShell())).stdout);
    expect(await c.exec(sh`cd /; x=1; umask 077; printf out; printf err >&2; exit 5`)).toEqual({
      rc: 5,
      stdout: 'out',
      stderr: 'err',
    });
    expect((await c.exec(sh`pwd; echo "x=$x"; umask`)).stdout).toBe(`/home/${USER_NOPASS}\nx=\n0022\n`);
    // input, as text and in base64
    expect((await c.exec(sh`cat`, { stdin: 'line\n' })).stdout).toBe('line\n');
    expect((await c.exec(sh`od -An -tx1 | tr -d ' \n'`, { stdin: Buffer.from([0, 1, 2]) })).stdout).toBe('000102');
    // a syntax error fails the command only
    const bad = await c.exec(sh`if then`);
    expect(bad.rc).toBe(2);
    expect(bad.stderr).toMatch(/eval: .*Syntax error/);
    expect((await c.exec(sh`echo $$`)).stdout).toBe(inSubshell);
    expect(c.channelsOpened).toBe(1);
  });

  it('gives INPUT its bytes exactly, from a variable in a subshell, else as standard input', async () => {
    const c = connect(a);
    const cases = [
      Buffer.from("quotes ' '' \"\" \\ $HOME `id` ${x}\r\nno final newline"),
      Buffer.from([0xff, 0xfe, 0x27, 0x0a]),
      Buffer.from(''),
      Buffer.from('z'.repeat(100_000) + '\n'), // too large for a variable: standard input
      Buffer.from([0x41, 0, 0x42]), // NUL: standard input
    ];
    for (const input of cases) {
      for (const subshell of [true, false]) {
        const cmd = sh`${INPUT} | od -An -tx1 -v | tr -d ' \n'`;
        const r = await c.exec(subshell ? cmd : cmd.inOwnShell(), { stdin: input });
        expect(r.rc).toBe(0);
        expect(r.stdout).toBe(input.toString('hex'));
      }
    }
    // in a subshell no program reads it: it works with no PATH at all
    expect(await c.exec(sh`PATH=/nowhere; ${INPUT}`, { stdin: 'no cat\n' })).toEqual({
      rc: 0,
      stdout: 'no cat\n',
      stderr: '',
    });
    expect((await c.exec(sh`PATH=/nowhere; ${INPUT}`.inOwnShell(), { stdin: 'no cat\n' })).rc).toBe(127);
    // through sudo the input is standard input again
    const become = await c.exec(sh`${INPUT} | od -An -tx1 -v | tr -d ' \n'`, {
      stdin: cases[0],
      become: { method: 'sudo', user: 'root' },
    });
    expect(become.stdout).toBe(cases[0]!.toString('hex'));
    expect(c.channelsOpened).toBe(1);
  });

  it('kills a command at its timeout and opens a new session for the next one', async () => {
    const c = connect(a);
    const started = Date.now();
    const r = await c.exec(sh`sleep 5; echo late`, { timeoutMs: 300 });
    expect(r.rc).toBe(124);
    expect(r.stdout).toBe('');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await c.exec(sh`echo next`)).toEqual({ rc: 0, stdout: 'next\n', stderr: '' });
    expect(c.channelsOpened).toBe(2);
  });

  it('sets environment variables for one command only', async () => {
    const c = connect(a);
    expect((await c.exec(sh`echo "$GREETING"`, { env: { GREETING: 'hi there' } })).stdout).toBe('hi there\n');
    expect((await c.exec(sh`echo "[$GREETING]"`)).stdout).toBe('[]\n');
  });

  it('reports a connection dropped mid-command as unreachable, not a crash', async () => {
    // a TCP proxy in front of sshd lets the test cut the connection at a chosen moment
    const sockets = new Set<Socket>();
    const proxy = createServer((client) => {
      const upstream = netConnect(a.port, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      sockets.add(client).add(upstream);
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as { port: number }).port;
    writeFileSync(lab.knownHosts, readFileSync(lab.knownHosts, 'utf8') + `[127.0.0.1]:${port} ${a.hostKeyPub}\n`);
    const c = connect(port);
    expect((await c.exec(sh`echo up`)).rc).toBe(0);
    const pending = c.exec(sh`sleep 5`);
    setTimeout(() => sockets.forEach((s) => s.destroy()), 300);
    await expect(pending).rejects.toThrow(/lost/);
    proxy.close();
  });
});
