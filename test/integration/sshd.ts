// Real OpenSSH servers for the integration tests: started by the tests on loopback ports with
// temporary host keys, users with an authorized key, one whose sudo asks for a password.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { Transform } from 'node:stream';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';
/** User whose sudo needs no password. */
export const USER_NOPASS = 'tsplay-np';
/** User whose sudo asks for TEST_SUDO_PASSWORD. */
export const USER_PASS = 'tsplay-pw';
export const TEST_SUDO_PASSWORD = 'correct horse 42';

/** Can this machine run the SSH integration tests (root, sshd installed)? */
export function sshdAvailable(): boolean {
  return existsSync(SSHD) && process.getuid?.() === 0 && existsSync('/usr/bin/sudo');
}

function ensureUser(name: string, password: string, sudoers: string): void {
  try {
    execFileSync('id', [name], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', name]);
  }
  execFileSync('chpasswd', { input: `${name}:${password}\n` });
  writeFileSync(`/etc/sudoers.d/${name}`, `${sudoers}\n`, { mode: 0o440 });
}

/** A directory with a client key pair and known_hosts, shared by the servers of one test file. */
export interface SshLab {
  dir: string;
  clientKey: string;
  knownHosts: string;
  servers: SshServer[];
  start(opts?: { maxSessions?: number; listen?: string[] }): Promise<SshServer>;
  stop(): Promise<void>;
}

export interface SshServer {
  port: number;
  hostKeyPub: string;
  process: ChildProcess;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number, host = '127.0.0.1', ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = netConnect(port, host);
      s.once('data', () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`sshd on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Create users, keys and a known_hosts file; servers are started with lab.start(). */
export function createSshLab(): SshLab {
  ensureUser(USER_NOPASS, 'unused-' + Math.random(), `${USER_NOPASS} ALL=(ALL) NOPASSWD: ALL`);
  ensureUser(USER_PASS, TEST_SUDO_PASSWORD, `${USER_PASS} ALL=(ALL) ALL`);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-ssh-'));
  chmodSync(dir, 0o755);
  const clientKey = join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  const keysDir = join(dir, 'authorized_keys');
  mkdirSync(keysDir, { mode: 0o755 });
  const pub = readFileSync(clientKey + '.pub', 'utf8');
  for (const u of [USER_NOPASS, USER_PASS]) writeFileSync(join(keysDir, u), pub, { mode: 0o644 });
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, '');
  const servers: SshServer[] = [];
  return {
    dir,
    clientKey,
    knownHosts,
    servers,
    async start(opts = {}) {
      const port = await freePort();
      const sdir = join(dir, `sshd-${port}`);
      mkdirSync(sdir, { mode: 0o755 });
      const hostKey = join(sdir, 'ssh_host_ed25519_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
      const config = join(sdir, 'sshd_config');
      writeFileSync(
        config,
        [
          `Port ${port}`,
          ...(opts.listen ?? ['127.0.0.1']).map((a) => `ListenAddress ${a}`),
          `HostKey ${hostKey}`,
          `PidFile ${join(sdir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${keysDir}/%u`,
          'StrictModes no',
          'UsePAM no',
          'PasswordAuthentication yes',
          'KbdInteractiveAuthentication no',
          `MaxSessions ${opts.maxSessions ?? 10}`,
          'MaxStartups 100:30:200',
          'LogLevel ERROR',
          'AllowUsers ' + [USER_NOPASS, USER_PASS].join(' '),
        ].join('\n') + '\n',
      );
      const hostKeyPub = readFileSync(hostKey + '.pub', 'utf8')
        .trim()
        .split(/\s+/)
        .slice(0, 2)
        .join(' ');
      const launch = () => spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      const server: SshServer = {
        port,
        hostKeyPub,
        process: launch(),
        async stop() {
          if (server.process.exitCode === null) {
            const done = new Promise((r) => server.process.once('exit', r));
            server.process.kill('SIGTERM');
            await done;
          }
        },
        async restart() {
          await server.stop();
          server.process = launch();
          await waitForPort(port, opts.listen?.[0]);
        },
      };
      servers.push(server);
      await waitForPort(port, opts.listen?.[0]);
      return server;
    },
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

/** A known_hosts line for a server (as ssh-keyscan would write it). */
export function knownHostsLine(server: SshServer): string {
  return `[127.0.0.1]:${server.port} ${server.hostKeyPub}`;
}

/** A TCP proxy in front of a port, whose connections a test can cut (and whose listener it can close). */
export interface CuttableProxy {
  port: number;
  /** Destroy every connection made through the proxy so far. */
  cut(): void;
  /** Stop accepting connections (the host is gone), after cutting the open ones. */
  close(): Promise<void>;
}

/**
 * `bytesPerSecond` throttles what goes to the server (an upload), so that a cut at a random time
 * lands in the middle of a transfer far more often than on a fast loopback.
 */
export async function cuttableProxy(target: number, opts: { bytesPerSecond?: number } = {}): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = netConnect(target, '127.0.0.1');
    if (opts.bytesPerSecond) client.pipe(throttle(opts.bytesPerSecond)).pipe(upstream);
    else client.pipe(upstream);
    upstream.pipe(client);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const cut = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    port: (server.address() as { port: number }).port,
    cut,
    async close() {
      cut();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

// Passes bytes on in pieces of 16 KiB at most, each after the time its size takes at this rate.
function throttle(bytesPerSecond: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const pieces: Buffer[] = [];
      for (let i = 0; i < chunk.length; i += 16384) pieces.push(chunk.subarray(i, i + 16384));
      const next = () => {
        const p = pieces.shift();
        if (!p) return done();
        setTimeout(
          () => {
            this.push(p);
            next();
          },
          (p.length / bytesPerSecond) * 1000,
        );
      };
      next();
    },
  });
}

/** A port on loopback where a new TCP connection waits for good (a host without its address yet). */
export interface SilentPort {
  port: number;
  close(): void;
}

// A listener that never accepts, with its one-place queue taken: the kernel then drops every new
// SYN, so that a connect() waits as it does for an address nobody answers ARP for, until TCP's own
// timeout. Node's net.Server accepts every connection, so python3 (there with ansible-core) holds it.
export async function silentPort(): Promise<SilentPort> {
  const py = spawn(
    'python3',
    [
      '-c',
      "import socket,sys,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()",
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((res, rej) => {
    py.stdout!.once('data', (d: Buffer) => res(Number(String(d).trim())));
    py.once('error', rej);
  });
  const filler: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const s = netConnect(port, '127.0.0.1');
    s.on('error', () => undefined);
    filler.push(s);
  }
  await new Promise((r) => setTimeout(r, 200));
  return {
    port,
    close() {
      for (const s of filler) s.destroy();
      py.kill();
    },
  };
}
