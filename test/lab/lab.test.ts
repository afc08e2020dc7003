// The lab itself, on booted hosts: topology, SSH with the lab's key and strict known_hosts,
// sudo with a password, NAT as the only way out for nodes, reboot and poweroff like real
// machines, and a `down` that leaves nothing behind. Needs root on Linux and a few minutes the
// first time (debootstrap); runs only with TSPLAY_LAB_TESTS=1.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExec, labLeftovers, labPowerOn, labStatus, labUp, type LabInfo } from '../../lab/lab.js';
import { labStatusCommand, registerLabCommands } from '../../lab/cli.js';
import { HOME } from '../../lab/config.js';
import { UPSTREAM_GREETING } from '../../lab/upstream.js';
import { Command } from 'commander';
import { loadInventory } from '../../engine/load/inventory.js';

const enabled = process.env.TSPLAY_LAB_TESTS === '1';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cmd(file: string, args: string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 255) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
    child.stdin?.end(input ?? '');
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

function tcpOutcome(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 2000 });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    s.once('timeout', () => {
      s.destroy();
      resolve('timeout');
    });
  });
}

describe.skipIf(!enabled)("the lab: booted hosts in the users' topology", () => {
  let lab: LabInfo;
  let password: string;

  /** OpenSSH as a user would run it: the lab's key, its known_hosts only, strict checking. */
  const ssh = (host: string, command: string, input?: string) =>
    cmd('ssh', ['-F', lab.sshConfig, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', host, command], input);
  const sudo = (host: string, command: string) => ssh(host, `sudo -S -p '' sh -c '${command}'`, `${password}\n`);
  const hostState = async (name: string) => (await labStatus()).hosts.find((h) => h.name === name)!;

  beforeAll(async () => {
    await labDown();
    lab = await labUp({ nodes: 2 }, (s) => process.stderr.write(s));
    password = readFileSync(lab.passwordFile, 'utf8').trim();
  }, 30 * 60_000);

  afterAll(async () => {
    await labDown();
  }, 120_000);

  it('boots a gateway and two nodes with systemd running', async () => {
    expect(lab.hosts.map((h) => h.name)).toEqual(['gateway', 'node1', 'node2']);
    expect(lab.systemStates).toEqual({ gateway: 'running', node1: 'running', node2: 'running' });
    const s = await labStatus();
    expect(s.up).toBe(true);
    expect(s.upstream.http).toBe(true);
    expect(s.hosts.map((h) => [h.name, h.power, h.system])).toEqual([
      ['gateway', 'on', 'running'],
      ['node1', 'on', 'running'],
      ['node2', 'on', 'running'],
    ]);
    for (const h of ['gateway', 'node1', 'node2']) {
      expect((await labExec(h, ['hostname'])).stdout.trim()).toBe(h);
    }
    // the README's nat-setup line takes the controller's route from here, not from a file in the checkout
    const routes = loadInventory([lab.routeClients]);
    expect(routes.groupsVar().cluster_route_clients).toEqual(['localhost']);
    expect(routes.hostVars('localhost')).toMatchObject({ ansible_connection: 'local', cluster_route_persist: 'false' }); // a string in INI, as in Ansible; the playbook applies | bool
  });

  it('gives the hosts stable MACs, the gateway its home address and nodes no address', async () => {
    const gw = await labExec('gateway', ['ip', '-o', '-4', 'addr', 'show']);
    expect(gw.stdout).toMatch(/wlan0\s+inet 10\.213\.0\.10\/24/);
    expect(gw.stdout).not.toMatch(/eth0\s+inet /);
    const n1 = await labExec('node1', ['ip', '-o', 'link', 'show', 'eth0']);
    expect(n1.stdout).toContain('02:74:73:00:01:11');
    expect((await labExec('node1', ['ip', '-o', '-4', 'addr', 'show', 'eth0'])).stdout.trim()).toBe('');
    expect((await labExec('node1', ['ip', 'link', 'show', 'wlan0'])).code).not.toBe(0);
    // status shows what is true: the node has no address yet, only the one the inventory plans
    const s = await labStatus();
    expect(s.hosts.map((h) => [h.name, h.address, h.inventoryAddress])).toEqual([
      ['gateway', '10.213.0.10', '10.213.0.10'],
      ['node1', undefined, '10.213.1.11'],
      ['node2', undefined, '10.213.1.12'],
    ]);
    const out: string[] = [];
    expect(await labStatusCommand({}, { out: (t) => void out.push(t), err: (t) => void out.push(t) })).toBe(0);
    expect(out.join('')).toMatch(/^node1\s+on\s+running\s+1\s+-\s+10\.213\.1\.11\s+02:74:73:00:01:11/m);
  });

  it('lets the controller log in to the gateway with the lab key and strict known_hosts only', async () => {
    const r = await ssh('gateway', 'hostname; systemctl is-system-running; id -un');
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').slice(0, 3)).toEqual(['gateway', 'running', 'pi']);
    const empty = mkdtempSync(join(tmpdir(), 'tsplay-lab-kh-'));
    try {
      writeFileSync(join(empty, 'known_hosts'), '');
      const strict = await cmd('ssh', [
        '-F',
        '/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${join(empty, 'known_hosts')}`,
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-i',
        lab.key,
        `pi@${HOME.gateway}`,
        'true',
      ]);
      expect(strict.code).toBe(255);
      expect(strict.stderr).toMatch(/Host key verification failed/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('gives pi a sudo that asks for the lab password', async () => {
    const without = await ssh('gateway', 'sudo -n true');
    expect(without.code).not.toBe(0);
    expect(without.stderr).toMatch(/password is required/);
    const wrong = await ssh('gateway', "sudo -S -p '' true", 'not-the-password\n');
    expect(wrong.code).not.toBe(0);
    const right = await sudo('gateway', 'id -u');
    expect(right.stdout.trim()).toBe('0');
  });

  it('reaches nodes only through the gateway, and the outside only through NAT', async () => {
    expect(['EHOSTUNREACH', 'ENETUNREACH']).toContain(await tcpOutcome('10.213.1.11', 22));
    // what dhcp-setup will do, by hand and temporarily: addresses on the cluster switch
    await labExec('gateway', ['ip', 'addr', 'add', '10.213.1.1/24', 'dev', 'eth0']);
    await labExec('node1', ['ip', 'addr', 'add', '10.213.1.11/24', 'dev', 'eth0']);
    await labExec('node1', ['ip', 'route', 'add', 'default', 'via', '10.213.1.1']);
    expect(['EHOSTUNREACH', 'ENETUNREACH']).toContain(await tcpOutcome('10.213.1.11', 22));
    const viaGateway = await ssh('node1', 'hostname; systemctl is-system-running');
    expect(viaGateway.stdout).toBe('node1\nrunning\n');
    const jump = await cmd('ssh', ['-F', lab.sshConfig, '-o', 'BatchMode=yes', '-J', `pi@${HOME.gateway}`, 'pi@10.213.1.11', 'hostname']);
    expect(jump.stdout.trim()).toBe('node1');

    const greeting = await ssh('gateway', `curl -s -m 5 http://${HOME.router}/`);
    expect(greeting.stdout.trim()).toBe(UPSTREAM_GREETING);
    const before = await ssh('node1', `curl -s -m 3 http://${HOME.router}/`);
    expect(before.code).not.toBe(0);
    await sudo('gateway', 'sysctl -qw net.ipv4.ip_forward=1 && iptables -t nat -A POSTROUTING -o wlan0 -j MASQUERADE');
    const after = await ssh('node1', `curl -s -m 5 http://${HOME.router}/`);
    expect(after.stdout.trim()).toBe(UPSTREAM_GREETING);
    const apt = await ssh('node1', `curl -s -m 5 -o /dev/null -w '%{http_code}' http://${HOME.router}/debian/Packages`);
    expect(apt.stdout).toBe('200');
  });

  it('brings a host back after `systemctl reboot`, with its network state reset', async () => {
    await sudo('gateway', 'echo rebooted-disk-survives > /var/tmp/mark && systemctl reboot');
    // (a reboot usually takes seconds; systemd's stop jobs may take up to their 90 s timeout)
    await until(
      'the gateway to come back',
      async () => {
        const h = await hostState('gateway');
        return h.power === 'on' && h.system === 'running' && h.boots >= 2 ? h : undefined;
      },
      150_000,
    );
    const r = await until('ssh to the gateway', async () => {
      const x = await ssh('gateway', 'cat /var/tmp/mark; cat /proc/sys/net/ipv4/ip_forward; ip -o -4 addr show eth0 | wc -l');
      return x.code === 0 ? x : undefined;
    });
    // the disk keeps what was written; the kernel's network state is that of a fresh boot
    expect(r.stdout).toBe('rebooted-disk-survives\n0\n0\n');
    const nat = await sudo('gateway', 'iptables -t nat -S POSTROUTING');
    expect(nat.stdout).not.toContain('MASQUERADE');
    expect(readFileSync(join(lab.state, 'hosts', 'gateway', 'boots.log'), 'utf8')).toMatch(/exit 133/);
  }, 180_000);

  it('leaves a host off after `systemctl poweroff` until power-on, answering nothing meanwhile', async () => {
    await labExec('node2', ['sh', '-c', 'echo kept > /var/tmp/mark']);
    await labExec('gateway', ['sh', '-c', 'ip addr replace 10.213.1.1/24 dev eth0 && ip link set eth0 up']);
    await labExec('node2', ['sh', '-c', 'ip addr replace 10.213.1.12/24 dev eth0 && ip link set eth0 up']);
    const ping = async () =>
      (await labExec('gateway', ['sh', '-c', 'ping -c 1 -W 1 10.213.1.12 >/dev/null && echo up || echo down'])).stdout.trim();
    expect(await until('the gateway to reach node2', async () => ((await ping()) === 'up' ? true : undefined), 10_000)).toBe(true);
    await labExec('node2', ['systemctl', 'poweroff']);
    await until('node2 to power off', async () => ((await hostState('node2')).power === 'off' ? true : undefined), 150_000);
    await sleep(2000);
    expect((await hostState('node2')).power).toBe('off');
    expect((await hostState('node1')).power).toBe('on');
    // a powered-off host's namespace outlives it, but its cables are pulled: no ping answers
    expect(await ping()).toBe('down');
    const on = await labPowerOn('node2');
    expect(on).toEqual({ already: false, system: 'running' });
    expect((await labExec('node2', ['cat', '/var/tmp/mark'])).stdout).toBe('kept\n');
    expect(await labPowerOn('node2')).toEqual({ already: true, system: 'running' });
  }, 180_000);

  it('offers the commands through commander, with exit codes', async () => {
    const out: string[] = [];
    const io = { out: (s: string) => void out.push(s), err: (s: string) => void out.push(s) };
    expect(await labStatusCommand({}, io)).toBe(0);
    expect(out.join('')).toMatch(/^gateway\s+on\s+running/m);
    const codes: number[] = [];
    const program = new Command('tsplay').exitOverride();
    registerLabCommands(program, io, (n) => codes.push(n));
    await program.parseAsync(['lab', 'power-on', 'node9'], { from: 'user' });
    await program.parseAsync(['lab', 'up', '--nodes', 'many'], { from: 'user' });
    expect(codes).toEqual([1, 5]);
    expect(out.join('')).toMatch(/no host node9 in the lab/);
  });

  it('goes down leaving no namespace, link, mount or process behind, twice', async () => {
    expect(await labDown()).toBe(true);
    expect(await labLeftovers()).toEqual([]);
    expect(existsSync(lab.routeClients)).toBe(false);
    expect(await labDown()).toBe(false);
    expect((await labStatus()).up).toBe(false);
  }, 120_000);
});
