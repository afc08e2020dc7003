// apt_repository (issue 16) end to end on this machine, against ansible-playbook where it runs
// (it needs python3-apt, which .ci/run installs). apt_repository has no option for another
// sources directory, so the test writes real files in /etc/apt/sources.list.d: their names are
// unique to the run, their lines point at an empty local `file:` repository, update_cache is off
// (apt-get update would also fetch the machine's own sources), and afterAll removes them.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project } from './helpers.js';

const CLI = resolve('dist/engine/cli.js');
const DIR = '/etc/apt/sources.list.d';
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

  it.skipIf(!hasAnsible || !hasPythonApt)('ansible-playbook leaves the same files with the same statuses', () => {
    setup();
    const a = run('ansible', dir);
    expect(a.code, a.out).toBe(0);
    expect(a.statuses).toEqual(['changed', 'changed', 'changed', 'changed']);
    expect(sources()).toEqual(expected);
    expect(run('ansible', dir).changed).toBe(0);
  });
});
