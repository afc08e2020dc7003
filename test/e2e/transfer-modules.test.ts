// get_url, unarchive and fetch end to end (issue 16): one playbook on the local host under tsplay
// and, where it is installed, under ansible-playbook 2.14, against an HTTP server on 127.0.0.1
// that the test starts (a file, its sums file, a zip), and a counting proxy on 127.0.0.1 for the
// task whose environment names it. Only loopback traffic.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project } from './helpers.js';

const CLI = resolve('dist/engine/cli.js');
const PAYLOAD = 'payload served by the test\n';
let zip: Buffer;
let server: Server;
let proxy: Server;
let proxied = 0;
let base = '';
let proxyUrl = '';

const PLAY = `- hosts: h
  gather_facts: false
  tasks:
    - file: path={{ out }}/{{ item }} state=directory
      loop: [d, untar, unzip]
    - get_url: url={{ u }}/file.txt dest={{ out }}/file.txt mode=0640
    - get_url: url={{ u }}/file.txt dest={{ out }}/d/ checksum=sha256:{{ u }}/sums.txt
    - get_url: url={{ u }}/file.txt dest={{ out }}/sum.txt checksum=sha256:${createHash('sha256').update(PAYLOAD).digest('hex')}
    - get_url: url={{ u }}/a.zip dest={{ out }}/a.zip
    - get_url: url={{ u }}/file.txt dest={{ out }}/proxied.txt
      environment:
        http_proxy: "{{ p }}"
    - get_url: url={{ u }}/missing dest={{ out }}/missing
      ignore_errors: true
    - get_url: url={{ u }}/file.txt dest={{ out }}/bad.txt checksum=sha256:0000
      ignore_errors: true
    - unarchive: src=a.tar.gz dest={{ out }}/untar
    - unarchive: src={{ out }}/a.zip dest={{ out }}/unzip remote_src=yes creates={{ out }}/unzip/one.txt
    - fetch: src={{ out }}/file.txt dest={{ out }}/fetched/
    - fetch: src={{ out }}/file.txt dest={{ out }}/flat.txt flat=yes
    - fetch: src={{ out }}/nonexistent dest={{ out }}/fetched/ fail_on_missing=no
`;

// The environment of both runs: no proxy of the machine's (only the task's own).
function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_LOCALHOST_WARNING: 'false',
    ANSIBLE_CONFIG: '',
    TSPLAY_VERIFY_IDEMPOTENCE: '1',
  };
  for (const k of Object.keys(e)) if (/_proxy$/i.test(k)) delete e[k];
  return e;
}

// Asynchronous, so that this process's servers answer while the run waits for them.
function run(cmd: 'tsplay' | 'ansible', dir: string, out: string, extra: string[] = []): Promise<{ code: number | null; out: string }> {
  const vars = ['-e', `out=${out}`, '-e', `u=${base}`, '-e', `p=${proxyUrl}`];
  const [bin, argv] =
    cmd === 'tsplay'
      ? [process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts', ...vars, ...extra]]
      : ['ansible-playbook', ['site.yml', '-i', 'hosts', ...vars, ...extra]];
  return new Promise((done) => {
    const child = spawn(bin, argv, { cwd: dir, env: env() });
    let text = '';
    child.stdout.on('data', (b) => (text += b));
    child.stderr.on('data', (b) => (text += b));
    child.on('close', (code) => done({ code, out: text }));
  });
}

const statuses = (out: string) =>
  out
    .split('\n')
    .filter((l) => /^(ok|changed|skipping|fatal|failed): \[h\]/.test(l))
    .map((l) => l.replace(/ => .*$/, '').replace(/: \[h\].*$/, ''));
const recap = (out: string) =>
  out
    .split('\n')
    .find((l) => /^h\s+: ok=/.test(l))
    ?.replace(/\s+/g, ' ')
    .trim() ?? '';

// Every file below dir: its path, mode and content.
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix))
    .sort()
    .flatMap((name) => {
      const rel = join(prefix, name);
      const st = statSync(join(dir, rel));
      if (st.isDirectory()) return [`${rel}/`, ...tree(dir, rel)];
      return [`${rel} ${(st.mode & 0o777).toString(8)} ${readFileSync(join(dir, rel), 'utf8').length}`];
    });
}

let dir = '';

beforeAll(async () => {
  dir = project({ hosts: 'h ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n', 'site.yml': PLAY });
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'one.txt'), 'one\n');
  writeFileSync(join(src, 'sub', 'two.txt'), 'two\n');
  mkdirSync(join(dir, 'files'));
  expect(spawnSync('tar', ['czf', join(dir, 'files', 'a.tar.gz'), '-C', src, '.']).status).toBe(0);
  expect(spawnSync('zip', ['-qr', join(dir, 'a.zip'), '.'], { cwd: src }).status).toBe(0);
  zip = readFileSync(join(dir, 'a.zip'));
  const sums = `${createHash('sha256').update('other').digest('hex')}  other.txt\n${createHash('sha256').update(PAYLOAD).digest('hex')}  file.txt\n`;
  server = createServer((req, res) => {
    const body = req.url === '/file.txt' ? PAYLOAD : req.url === '/sums.txt' ? sums : req.url === '/a.zip' ? zip : undefined;
    if (body === undefined) res.writeHead(404).end('not found');
    else res.writeHead(200, { 'Content-Length': Buffer.byteLength(body) }).end(body);
  });
  proxy = createServer((req, res) => {
    proxied++;
    const upstream = request(req.url!, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(() => {
  server?.close();
  proxy?.close();
});

describe('get_url, unarchive, fetch', () => {
  let first: { code: number | null; out: string };
  const out = () => join(dir, 'out-tsplay');

  it('download, unpack and fetch; the proxied download goes through the proxy', async () => {
    const before = proxied;
    first = await run('tsplay', dir, out());
    expect(first.code, first.out).toBe(0);
    expect(statuses(first.out)).toEqual([
      'changed',
      'changed',
      'changed',
      'changed',
      'changed',
      'changed',
      'changed',
      'changed',
      'fatal',
      'fatal',
      'changed',
      'changed',
      'changed',
      'changed',
      'ok',
    ]);
    // gather and apply each download once through it (and the idempotence check once more)
    expect(proxied - before).toBeGreaterThanOrEqual(2);
    expect(readFileSync(join(out(), 'proxied.txt'), 'utf8')).toBe(PAYLOAD);
    expect(readFileSync(join(out(), 'd', 'file.txt'), 'utf8')).toBe(PAYLOAD);
    expect((statSync(join(out(), 'file.txt')).mode & 0o777).toString(8)).toBe('640');
    expect(readFileSync(join(out(), 'untar', 'sub', 'two.txt'), 'utf8')).toBe('two\n');
    expect(readFileSync(join(out(), 'unzip', 'one.txt'), 'utf8')).toBe('one\n');
    expect(readFileSync(join(out(), 'fetched', 'h', out().slice(1), 'file.txt'), 'utf8')).toBe(PAYLOAD);
    expect(readFileSync(join(out(), 'flat.txt'), 'utf8')).toBe(PAYLOAD);
    expect(first.out).toContain('The checksum for');
  });

  it('a second run and a check run change nothing', async () => {
    const again = await run('tsplay', dir, out());
    expect(recap(again.out), again.out).toMatch(/changed=0 .*failed=0/);
    const check = await run('tsplay', dir, out(), ['--check']);
    expect(recap(check.out), check.out).toMatch(/changed=0 .*failed=0/);
  });

  it('check mode on a fresh dest writes nothing', async () => {
    const fresh = join(dir, 'out-check');
    mkdirSync(fresh);
    const check = await run('tsplay', dir, fresh, ['--check']);
    expect(statuses(check.out).filter((s) => s === 'changed').length).toBeGreaterThan(0);
    expect(readdirSync(fresh)).toEqual([]);
  });

  it.skipIf(!hasAnsible)('ansible-playbook reports the same statuses and writes the same files', async () => {
    const before = proxied;
    const a = await run('ansible', dir, join(dir, 'out-ansible'));
    expect(a.code, a.out).toBe(0);
    expect(proxied - before).toBeGreaterThanOrEqual(1);
    expect(statuses(first.out)).toEqual(statuses(a.out));
    const t = tree(out()).filter((l) => !l.startsWith('fetched'));
    const an = tree(join(dir, 'out-ansible')).filter((l) => !l.startsWith('fetched'));
    expect(t).toEqual(an);
    expect(readFileSync(join(dir, 'out-ansible', 'fetched', 'h', dir.slice(1), 'out-ansible', 'file.txt'), 'utf8')).toBe(PAYLOAD);
  });
});
