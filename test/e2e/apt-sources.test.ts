// apt_repository, apt_key and deb822_repository (issue 16) end to end on this machine, against ansible-playbook where it runs
// (it needs python3-apt, which .ci/run installs). apt_repository has no option for another
// sources directory, so the test writes real files in /etc/apt/sources.list.d: their names are
// unique to the run, their lines point at an empty local `file:` repository, update_cache is off
// (apt-get update would also fetch the machine's own sources), and afterAll removes them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project } from './helpers.js';
import aptRepository from '../../modules/apt_repository.js';
import { harness, runModule } from '../modules/harness.js';

const CLI = resolve('dist/engine/cli.js');
const DIR = '/etc/apt/sources.list.d';
const KEYRINGS = '/etc/apt/keyrings';
const canRun = process.getuid?.() === 0 && existsSync(DIR);
const hasPythonApt = spawnSync('/usr/bin/python3', ['-c', 'import apt_pkg'], { stdio: 'ignore' }).status === 0;

const id = randomBytes(4).toString('hex');
const repoDir = `/tmp/tsplay-aptrepo-${id}`;
const line = `deb [trusted=yes] file://${repoDir} ./`;
const derived = `${DIR}/tmp_tsplay_aptrepo_${id}.list`;
const named = `${DIR}/tsplay-e2e-${id}.list`;
const pre = `${DIR}/tsplay-e2e-pre-${id}.list`;
const ours = (name: string) => name.includes(id);

const PLAYBOOK = `- hosts: h
  gather_facts: false
  tasks:
    - apt_repository: {repo: "${line}", update_cache: false}
    - apt_repository: {repo: "deb-src   [trusted=yes] file://${repoDir} ./ ", filename: tsplay-e2e-${id}, mode: "0600", update_cache: false}
    - ansible.builtin.apt_repository: {repo: "deb [trusted=yes] file://${repoDir}/disabled ./", update_cache: false}
    - apt_repository: {repo: "deb [trusted=yes] file://${repoDir}/gone ./", state: absent, update_cache: false}
`;

function setup() {
  for (const f of readdirSync(DIR).filter(ours)) rmSync(join(DIR, f));
  writeFileSync(
    pre,
    `# a comment\n#deb [trusted=yes] file://${repoDir}/disabled ./  # why\ndeb   [trusted=yes] file://${repoDir}/gone ./\n`,
  );
}

function sources(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(DIR).filter(ours).sort())
    out[f] = `${(statSync(join(DIR, f)).mode & 0o777).toString(8)} ${readFileSync(join(DIR, f), 'utf8')}`;
  return out;
}

function run(cmd: 'tsplay' | 'ansible', dir: string, extra: string[] = []) {
  const env = { ...process.env, NO_COLOR: '1', ANSIBLE_NOCOLOR: '1', ANSIBLE_CONFIG: '', TSPLAY_VERIFY_IDEMPOTENCE: '1' };
  const r =
    cmd === 'tsplay'
      ? spawnSync(process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env })
      : spawnSync('ansible-playbook', ['site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env });
  const lines = r.stdout.split('\n');
  const recap = lines.find((l) => /^h\s+: ok=/.test(l)) ?? '';
  return {
    code: r.status,
    out: r.stdout + r.stderr,
    statuses: lines.filter((l) => /^(ok|changed|fatal): \[h\]/.test(l)).map((l) => l.replace(/:? \[h\].*$/, '')),
    changed: Number(/changed=(\d+)/.exec(recap)?.[1] ?? -1),
  };
}

describe.skipIf(!canRun)('apt_repository on this machine', () => {
  let dir: string;
  beforeAll(() => {
    mkdirSync(repoDir, { recursive: true });
    writeFileSync(join(repoDir, 'Packages'), '');
    dir = project({ hosts: 'h ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n', 'site.yml': PLAYBOOK });
  });
  afterAll(() => {
    if (!canRun) return;
    for (const f of readdirSync(DIR).filter(ours)) rmSync(join(DIR, f));
    rmSync(repoDir, { recursive: true, force: true });
  });

  const expected = {
    [`tmp_tsplay_aptrepo_${id}.list`]: `644 ${line}\n`,
    [`tsplay-e2e-${id}.list`]: `600 deb-src [trusted=yes] file://${repoDir} ./\n`,
    [`tsplay-e2e-pre-${id}.list`]: `644 # a comment\ndeb [trusted=yes] file://${repoDir}/disabled ./ # why\n`,
  };

  it('--check reports the changes and writes nothing; --diff shows them', () => {
    setup();
    const before = sources();
    const r = run('tsplay', dir, ['--check', '--diff']);
    expect(r.code, r.out).toBe(0);
    expect(r.statuses, r.out).toEqual(['changed', 'changed', 'changed', 'changed']);
    expect(sources()).toEqual(before);
    expect(r.out).toContain(`+++ after: ${derived}`);
  });

  it('the first run writes the sources; a second run changes nothing', () => {
    setup();
    const first = run('tsplay', dir);
    expect(first.code, first.out).toBe(0);
    expect(first.statuses, first.out).toEqual(['changed', 'changed', 'changed', 'changed']);
    expect(sources()).toEqual(expected);
    expect(existsSync(named) && existsSync(derived)).toBe(true);
    const second = run('tsplay', dir);
    expect(second.code, second.out).toBe(0);
    expect(second.changed, second.out).toBe(0);
    expect(sources()).toEqual(expected);
    const check = run('tsplay', dir, ['--check']);
    expect(check.changed, check.out).toBe(0);
  });

  it('a failed apt-get update puts the sources back (the update itself is simulated: it would reach the network)', async () => {
    setup();
    const before = sources();
    const h = harness(dir);
    const realRun = h.ctx.run.bind(h.ctx);
    h.ctx.run = (cmd, opts) =>
      cmd.toString().includes('apt-get update')
        ? Promise.resolve({ rc: 100, stdout: '', stderr: 'E: simulated failure' })
        : realRun(cmd, opts);
    const added = await runModule(h, aptRepository, { repo: line });
    expect(added.outcome?.failed).toBe('Failed to update apt cache: E: simulated failure');
    const removed = await runModule(h, aptRepository, { repo: `deb [trusted=yes] file://${repoDir}/gone ./`, state: 'absent' });
    expect(removed.plan.changes.map((c) => c.summary)).toEqual([
      `remove deb [trusted=yes] file://${repoDir}/gone ./ from ${pre}`,
      'apt-get update',
    ]);
    expect(removed.outcome?.failed).toContain('Failed to update apt cache');
    expect(sources()).toEqual(before);
  });

  it.skipIf(!hasAnsible || !hasPythonApt)('ansible-playbook leaves the same files with the same statuses', () => {
    setup();
    const a = run('ansible', dir);
    expect(a.code, a.out).toBe(0);
    expect(a.statuses).toEqual(['changed', 'changed', 'changed', 'changed']);
    expect(sources()).toEqual(expected);
    expect(run('ansible', dir).changed).toBe(0);
  });
});

// apt_key, with keyrings in a temp directory (the `keyring` option) and a key made for the test,
// served by a loopback HTTP server the test starts.
const hasGpg = spawnSync('sh', ['-c', 'command -v gpg && command -v apt-key'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!canRun || !hasGpg)('apt_key (keyrings in a temp directory) and deb822_repository', () => {
  let dir: string;
  let fpr: string;
  let server: ChildProcess;
  let dir822: string;
  let home: string;
  const keyIds = (keyring: string) =>
    spawnSync('gpg', ['--no-default-keyring', '--keyring', keyring, '--list-keys', '--with-colons'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => l.startsWith('pub:'))
      .map((l) => l.split(':')[4]);
  const keyrings = () => Object.fromEntries(['a', 'b', 'c', 'd'].map((k) => [k, keyIds(join(dir, 'out', `${k}.gpg`))]));
  const setupKeys = () => {
    rmSync(join(dir, 'out'), { recursive: true, force: true });
    mkdirSync(join(dir, 'out'));
    const r = spawnSync('gpg', ['--no-default-keyring', '--keyring', join(dir, 'out', 'd.gpg'), '--import', join(dir, 'key.asc')], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(r.stderr);
  };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'tsplay-gpg-'));
    const env = { ...process.env, GNUPGHOME: home };
    const gen = spawnSync(
      'gpg',
      ['--batch', '--passphrase', '', '--quick-gen-key', 'tsplay test <t@example.invalid>', 'ed25519', 'sign', 'never'],
      { env },
    );
    if (gen.status !== 0) throw new Error(gen.stderr.toString());
    const key = spawnSync('gpg', ['--armor', '--export'], { env, encoding: 'utf8' }).stdout;
    fpr = spawnSync('gpg', ['--with-colons', '--list-keys'], { env, encoding: 'utf8' })
      .stdout.split('\n')
      .find((l) => l.startsWith('fpr:'))!
      .split(':')[9]!;
    // in a process of its own: the runs below are spawnSync, which would block a server in this one
    writeFileSync(join(home, 'key.asc'), key);
    server = spawn(
      process.execPath,
      [
        '-e',
        `const s = require('node:http').createServer((q, r) => r.end(require('node:fs').readFileSync(${JSON.stringify(join(home, 'key.asc'))}))); s.listen(0, '127.0.0.1', () => console.log(s.address().port));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const port = await new Promise<number>((ok) => server.stdout!.once('data', (b: Buffer) => ok(Number(b.toString().trim()))));
    dir822 = project({
      hosts: 'h ansible_connection=local\n',
      'site.yml': `- hosts: h
  gather_facts: false
  tasks:
    - deb822_repository:
        name: tsplay-e2e-${id}-822
        uris: file://${repoDir}
        suites: [./]
        architectures: [amd64, arm64]
        signed_by: http://127.0.0.1:${port}/key.asc
      register: r
    - ansible.builtin.deb822_repository:
        name: tsplay_e2e ${id} inline
        types: [deb, deb-src]
        uris: [file://${repoDir}]
        suites: [./]
        enabled: false
        signed_by: "{{ lookup('file', '${join(home, 'key.asc')}') }}"
        mode: "0600"
`,
    });
    dir = project({
      hosts: 'h ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n',
      'key.asc': key,
      'site.yml': `- hosts: h
  gather_facts: false
  vars:
    d: "{{ playbook_dir }}/out"
  tasks:
    - apt_key: {file: "{{ playbook_dir }}/key.asc", keyring: "{{ d }}/a.gpg"}
    - apt_key: {data: "{{ lookup('file', 'key.asc') }}", keyring: "{{ d }}/b.gpg"}
    - ansible.builtin.apt_key: {url: "http://127.0.0.1:${port}/key.asc", keyring: "{{ d }}/c.gpg"}
    - apt_key: {id: "0x${fpr}", keyring: "{{ d }}/d.gpg", state: absent}
`,
    });
  });
  afterAll(() => {
    server?.kill();
    if (home) rmSync(home, { recursive: true, force: true });
    for (const d of [DIR, KEYRINGS]) if (existsSync(d)) for (const f of readdirSync(d).filter(ours)) rmSync(join(d, f));
  });

  // deb822_repository is ansible-core 2.15+: there is no ansible-playbook 2.14 to compare with.
  it('deb822_repository writes the .sources file and the downloaded key; again: no change; --check: nothing', () => {
    const files = () =>
      Object.fromEntries(
        [DIR, KEYRINGS]
          .filter(existsSync)
          .flatMap((d) =>
            readdirSync(d)
              .filter(ours)
              .map((f) => join(d, f)),
          )
          .map((f) => [f, `${(statSync(f).mode & 0o777).toString(8)} ${readFileSync(f, 'utf8')}`]),
      );
    const check = run('tsplay', dir822, ['--check']);
    expect(check.code, check.out).toBe(0);
    expect(check.statuses, check.out).toEqual(['changed', 'changed']);
    expect(files()).toEqual({});
    const first = run('tsplay', dir822);
    expect(first.code, first.out).toBe(0);
    expect(first.statuses, first.out).toEqual(['changed', 'changed']);
    const key = readFileSync(join(home, 'key.asc'), 'utf8');
    const armored = key
      .trim()
      .split('\n')
      .map((l) => `    ${l.trim() || '.'}`)
      .join('\n');
    expect(files()).toEqual({
      [`${DIR}/tsplay-e2e-${id}-822.sources`]: `644 Architectures: amd64 arm64\nX-Repolib-Name: tsplay-e2e-${id}-822\nSigned-By: ${KEYRINGS}/tsplay-e2e-${id}-822.asc\nSuites: ./\nTypes: deb\nURIs: file://${repoDir}\n`,
      [`${KEYRINGS}/tsplay-e2e-${id}-822.asc`]: `644 ${key}`,
      [`${DIR}/tsplay-e2e-${id}-inline.sources`]: `600 Enabled: no\nX-Repolib-Name: tsplay_e2e ${id} inline\nSigned-By:\n${armored}\nSuites: ./\nTypes: deb deb-src\nURIs: file://${repoDir}\n`,
    });
    const second = run('tsplay', dir822);
    expect(second.changed, second.out).toBe(0);
  });

  it('--check changes nothing; a run adds and removes the keys; a second run changes nothing', () => {
    setupKeys();
    const before = keyrings();
    const check = run('tsplay', dir, ['--check']);
    expect(check.code, check.out).toBe(0);
    expect(check.statuses, check.out).toEqual(['changed', 'changed', 'changed', 'changed']);
    expect(keyrings()).toEqual(before);
    const first = run('tsplay', dir);
    expect(first.code, first.out).toBe(0);
    expect(first.statuses, first.out).toEqual(['changed', 'changed', 'changed', 'changed']);
    const id = fpr.slice(-16);
    expect(keyrings()).toEqual({ a: [id], b: [id], c: [id], d: [] });
    const second = run('tsplay', dir);
    expect(second.changed, second.out).toBe(0);
  });

  it.skipIf(!hasAnsible)('ansible-playbook gives the same statuses and keyrings', () => {
    setupKeys();
    const a = run('ansible', dir);
    expect(a.code, a.out).toBe(0);
    expect(a.statuses).toEqual(['changed', 'changed', 'changed', 'changed']);
    const id = fpr.slice(-16);
    expect(keyrings()).toEqual({ a: [id], b: [id], c: [id], d: [] });
    expect(run('ansible', dir).changed).toBe(0);
  });
});
