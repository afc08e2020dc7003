// "The internet" as the cluster sees it, on the home network: a small HTTP service and an apt
// repository with one package the lab builds, on the router address (a node reaches them only
// once the gateway does NAT); and, when the machine has it, apt-cacher-ng on the controller's
// home address, forwarding to the machine's own Debian archive, so real `apt-get install` works.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { connect } from 'node:net';
import { APT_PROXY_PORT, HOME, HOME_NETNS, HTTP_PORT, LAB_PACKAGE, statePaths } from './config.js';
import { debianMirror, which } from './rootfs.js';
import { LabError, processAlive, readPid, run, signal, waitFor } from './proc.js';

/** Where the upstream services keep their files. */
export function upstreamPaths(state: string) {
  const dir = statePaths(state).upstream;
  return {
    dir,
    www: join(dir, 'www'),
    repo: join(dir, 'www', 'debian'),
    httpPid: join(dir, 'http.pid'),
    httpLog: join(dir, 'http.log'),
    proxyPid: join(dir, 'apt-cacher-ng.pid'),
    proxyLog: join(dir, 'apt-cacher-ng.log'),
    proxyConf: join(dir, 'apt-cacher-ng'),
  };
}

/** The apt source line for the lab's repository, as a host writes it. */
export const LAB_APT_SOURCE = `deb [trusted=yes] http://${HOME.router}/debian ./`;
export const LAB_HTTP_URL = `http://${HOME.router}/`;
/** The text the HTTP service answers on / (what a test looks for). */
export const UPSTREAM_GREETING = 'tsplay lab upstream: you reached the outside';
export const APT_PROXY_URL = `http://${HOME.controller}:${APT_PROXY_PORT}`;

const sha = (alg: string, b: Buffer) => createHash(alg).update(b).digest('hex');

// A package small enough to build in a blink, and visible once installed.
async function buildRepository(repo: string): Promise<void> {
  const { name, version } = LAB_PACKAGE;
  const src = join(repo, '..', '..', 'pkg');
  rmSync(src, { recursive: true, force: true });
  mkdirSync(join(src, 'DEBIAN'), { recursive: true });
  mkdirSync(join(src, 'usr', 'bin'), { recursive: true });
  mkdirSync(repo, { recursive: true });
  writeFileSync(
    join(src, 'DEBIAN', 'control'),
    [
      `Package: ${name}`,
      `Version: ${version}`,
      'Architecture: all',
      'Maintainer: tsplay lab <lab@tsplay.invalid>',
      'Section: misc',
      'Priority: optional',
      "Description: proof that this host reached the lab's upstream apt repository",
      ' Installs /usr/bin/tsplay-lab-hello, which prints a greeting.',
      '',
    ].join('\n'),
  );
  writeFileSync(join(src, 'usr', 'bin', name), `#!/bin/sh\necho "hello from the tsplay lab repository"\n`, { mode: 0o755 });
  await run('dpkg-deb', ['--root-owner-group', '--build', src, join(repo, `${name}_${version}_all.deb`)]);
  rmSync(src, { recursive: true, force: true });
  // paths in the index are relative to where dpkg-scanpackages runs: the repository itself
  const text = await run('dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], { cwd: repo });
  const plain = Buffer.from(text);
  const gz = gzipSync(plain);
  writeFileSync(join(repo, 'Packages'), plain);
  writeFileSync(join(repo, 'Packages.gz'), gz);
  const files = [
    ['Packages', plain],
    ['Packages.gz', gz],
  ] as const;
  const sums = (alg: string) => files.map(([f, b]) => ` ${sha(alg, b)} ${b.length} ${f}`).join('\n');
  writeFileSync(
    join(repo, 'Release'),
    `Origin: tsplay-lab\nLabel: tsplay-lab\nSuite: lab\nCodename: lab\nArchitectures: all\nDate: ${new Date().toUTCString()}\nMD5Sum:\n${sums('md5')}\nSHA256:\n${sums('sha256')}\n`,
  );
}

// A static file server in one expression: the lab's node runs it in the home namespace.
const HTTP_SERVER = `
const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
const [root, host, port, greeting] = process.argv.slice(1);
http.createServer((req, res) => {
  const url = decodeURIComponent((req.url || '/').split('?')[0]);
  console.log(new Date().toISOString(), req.socket.remoteAddress, req.method, url);
  if (url === '/') { res.writeHead(200, { 'content-type': 'text/plain' }); return res.end(greeting + '\\n'); }
  const file = path.join(root, path.normalize(url));
  if (!file.startsWith(root + path.sep)) { res.writeHead(403); return res.end(); }
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) { res.writeHead(404, { 'content-type': 'text/plain' }); return res.end('not found\\n'); }
    res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file).pipe(res);
  });
}).listen(Number(port), host);
`;

function spawnDetached(argv: string[], logFile: string, pidFile: string): number {
  const log = openSync(logFile, 'a');
  try {
    const child = spawn(argv[0], argv.slice(1), {
      detached: true,
      stdio: ['ignore', log, log],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
    });
    child.unref();
    writeFileSync(pidFile, `${child.pid}\n`);
    return child.pid!;
  } finally {
    closeSync(log);
  }
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 500 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** Start the upstream services; returns whether the apt proxy runs (it is optional). */
export async function startUpstream(state: string, cache: string, log: (s: string) => void): Promise<{ aptProxy: boolean }> {
  const p = upstreamPaths(state);
  mkdirSync(p.www, { recursive: true });
  await buildRepository(p.repo);
  const pid = spawnDetached(
    ['ip', 'netns', 'exec', HOME_NETNS, process.execPath, '-e', HTTP_SERVER, p.www, HOME.router, String(HTTP_PORT), UPSTREAM_GREETING],
    p.httpLog,
    p.httpPid,
  );
  // the controller reaches the router address over its own link to the home network
  if (!(await waitFor(() => portOpen(HOME.router, HTTP_PORT), 10_000, 100))) {
    throw new LabError(`the upstream HTTP service (pid ${pid}) did not start; see ${p.httpLog}`);
  }
  return { aptProxy: await startAptProxy(state, cache, log) };
}

// Debian's apt-cacher-ng with its own copy of the configuration: the backend is the machine's
// own archive (else it picks a public mirror the machine cannot reach).
async function startAptProxy(state: string, cache: string, log: (s: string) => void): Promise<boolean> {
  const p = upstreamPaths(state);
  const bin = which('apt-cacher-ng');
  if (!bin || !existsSync('/etc/apt-cacher-ng')) {
    log('apt-cacher-ng is not installed: hosts get no apt proxy (the lab repository still works)\n');
    return false;
  }
  rmSync(p.proxyConf, { recursive: true, force: true });
  cpSync('/etc/apt-cacher-ng', p.proxyConf, { recursive: true });
  writeFileSync(join(p.proxyConf, 'backends_debian'), `${debianMirror().replace(/\/?$/, '/')}\n`);
  const cacheDir = join(cache, 'apt-cacher-ng');
  mkdirSync(cacheDir, { recursive: true });
  const logDir = join(p.dir, 'apt-cacher-ng-log');
  mkdirSync(logDir, { recursive: true });
  spawnDetached(
    [
      bin,
      '-c',
      p.proxyConf,
      'ForeGround=1',
      `BindAddress=${HOME.controller}`,
      `Port=${APT_PROXY_PORT}`,
      `CacheDir=${cacheDir}`,
      `LogDir=${logDir}`,
      `SocketPath=${join(p.dir, 'apt-cacher-ng.socket')}`,
    ],
    p.proxyLog,
    p.proxyPid,
  );
  if (!(await waitFor(() => portOpen(HOME.controller, APT_PROXY_PORT), 10_000, 100))) {
    log(`apt-cacher-ng did not start (see ${p.proxyLog}): hosts get no apt proxy\n`);
    await stopUpstream(state);
    return false;
  }
  return true;
}

/** Stop the upstream services; never fails. */
export async function stopUpstream(state: string): Promise<void> {
  const p = upstreamPaths(state);
  for (const [file, marker] of [
    [p.httpPid, 'tsplay lab upstream'],
    [p.proxyPid, 'apt-cacher-ng'],
  ] as const) {
    const pid = readPid(file);
    if (pid !== undefined && processAlive(pid, marker)) {
      signal(pid, 'SIGTERM');
      if (!(await waitFor(() => !processAlive(pid), 5000, 100))) signal(pid, 'SIGKILL');
    }
    rmSync(file, { force: true });
  }
}

/** The upstream services' files, for status output. */
export function upstreamRunning(state: string): { http: boolean; aptProxy: boolean } {
  const p = upstreamPaths(state);
  const alive = (f: string, marker: string) => {
    const pid = readPid(f);
    return pid !== undefined && processAlive(pid, marker);
  };
  return { http: alive(p.httpPid, 'tsplay lab upstream'), aptProxy: alive(p.proxyPid, 'apt-cacher-ng') };
}
