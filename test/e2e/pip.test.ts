// pip end to end on this machine, with no network: the test builds two tiny wheels (1.0 and 1.1
// of tsplay-probe and tsplay-extra) in a temp dir, and the playbook installs them from there
// (--no-index --find-links) into a virtualenv in another temp dir, which the first task creates.
// Under tsplay and, where it is installed, ansible-playbook: the run installs, a second run and a
// second --check change nothing, the teardown uninstalls; statuses and the venv's packages match.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project, tsplay } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'tsplay-pip-'));
const wheels = join(root, 'wheels');

// A wheel is a zip of the package and its dist-info (METADATA, WHEEL, RECORD with hashes).
const MAKE_WHEEL = `
import base64, hashlib, sys, zipfile
d, name, version = sys.argv[1:4]
files = {
    name + "/__init__.py": "VERSION = %r\\n" % version,
    "%s-%s.dist-info/METADATA" % (name, version): "Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (name, version),
    "%s-%s.dist-info/WHEEL" % (name, version): "Wheel-Version: 1.0\\nGenerator: tsplay-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
def digest(b):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode()
record = "".join("%s,%s,%d\\n" % (p, digest(c.encode()), len(c.encode())) for p, c in files.items())
record += "%s-%s.dist-info/RECORD,,\\n" % (name, version)
with zipfile.ZipFile("%s/%s-%s-py3-none-any.whl" % (d, name, version), "w") as z:
    for p, c in files.items():
        z.writestr(p, c)
    z.writestr("%s-%s.dist-info/RECORD" % (name, version), record)
`;

function buildWheels(): void {
  spawnSync('mkdir', ['-p', wheels]);
  writeFileSync(join(root, 'mkwheel.py'), MAKE_WHEEL);
  for (const [name, version] of [
    ['tsplay_probe', '1.0'],
    ['tsplay_probe', '1.1'],
    ['tsplay_extra', '1.0'],
    ['tsplay_extra', '1.1'],
  ]) {
    const r = spawnSync('/usr/bin/python3', [join(root, 'mkwheel.py'), wheels, name!, version!], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  }
}

const hasVenv = spawnSync('/usr/bin/python3', ['-c', 'import ensurepip, venv'], { stdio: 'ignore' }).status === 0;

const HOSTS = 'h ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n';

const vars = (venv: string) => `  vars:
    venv: ${venv}
    index: --no-index --find-links ${wheels}`;

const SITE = (venv: string) => `- hosts: h
  gather_facts: false
${vars(venv)}
  tasks:
    - pip:
        name: tsplay-probe==1.0
        virtualenv: "{{ venv }}"
        virtualenv_command: /usr/bin/python3 -m venv
        extra_args: "{{ index }}"
    - pip:
        name: tsplay_extra
        state: latest
        virtualenv: "{{ venv }}"
        extra_args: "{{ index }}"
    - pip:
        requirements: requirements.txt
        chdir: "{{ playbook_dir }}"
        virtualenv: "{{ venv }}"
        extra_args: "{{ index }}"
    - pip:
        name: [tsplay-probe>=1.0, <1.1]
        virtualenv: "{{ venv }}"
    - pip:
        name: tsplay-never-installed
        state: absent
        virtualenv: "{{ venv }}"
`;

const TEARDOWN = (venv: string) => `- hosts: h
  gather_facts: false
${vars(venv)}
  tasks:
    - pip:
        name: tsplay-extra
        state: absent
        virtualenv: "{{ venv }}"
`;

const FILES = { hosts: HOSTS, 'requirements.txt': '# what the app needs\ntsplay-probe>=1.0  # any\n--no-index\n' };

interface Run {
  code: number | null;
  out: string;
  statuses: string[];
  changed: number;
}

function parse(code: number | null, out: string): Run {
  const lines = out.split('\n');
  const recap = lines.find((l) => /^h\s+: ok=/.test(l)) ?? '';
  return {
    code,
    out,
    statuses: lines.filter((l) => /^(ok|changed|skipping|fatal|failed): \[h\]/.test(l)).map((l) => l.replace(/ => .*$/, '')),
    changed: Number(/changed=(\d+)/.exec(recap)?.[1] ?? -1),
  };
}

async function runTsplay(playbook: string, extra: string[] = []): Promise<Run> {
  const dir = project({ ...FILES, 'site.yml': playbook });
  const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', ...extra]);
  return parse(r.code, r.out + r.err);
}

function runAnsible(playbook: string, extra: string[] = []): Run {
  const dir = project({ ...FILES, 'site.yml': playbook });
  const env = { ...process.env, NO_COLOR: '1', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_CONFIG: '' };
  const r = spawnSync('ansible-playbook', ['site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env });
  return parse(r.status, r.stdout + r.stderr);
}

/** The venv's packages of ours, as its own pip lists them ('' when there is no venv). */
function packages(venv: string): string {
  const r = spawnSync(join(venv, 'bin/pip'), ['list', '--format=freeze', '--disable-pip-version-check'], { encoding: 'utf8' });
  if (r.error) return '';
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('tsplay'))
    .join(' ');
}

async function sequence(run: (playbook: string, extra?: string[]) => Run | Promise<Run>, venv: string) {
  const check = await run(SITE(venv), ['--check']);
  const afterCheck = packages(venv);
  const first = await run(SITE(venv));
  const state = packages(venv);
  const second = await run(SITE(venv));
  const checkAgain = await run(SITE(venv), ['--check']);
  const teardown = await run(TEARDOWN(venv));
  const afterTeardown = packages(venv);
  const teardownAgain = await run(TEARDOWN(venv));
  return { check, afterCheck, first, state, second, checkAgain, teardown, afterTeardown, teardownAgain };
}

describe.skipIf(!hasVenv)('pip into a virtualenv, from local wheels', () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let t: Awaited<ReturnType<typeof sequence>>;

  it('--check creates nothing; the run creates the venv and installs what was asked', async () => {
    buildWheels();
    t = await sequence(runTsplay, join(root, 'venv-tsplay'));
    expect(t.check.code, t.check.out).toBe(0);
    // no virtualenv yet: every task would create it
    expect(t.check.statuses).toEqual(['changed: [h]', 'changed: [h]', 'changed: [h]', 'changed: [h]', 'changed: [h]']);
    expect(t.afterCheck).toBe('');
    expect(t.first.code, t.first.out).toBe(0);
    expect(t.first.statuses).toEqual(['changed: [h]', 'changed: [h]', 'ok: [h]', 'ok: [h]', 'ok: [h]']);
    expect(t.state).toBe('tsplay_extra==1.1 tsplay_probe==1.0');
  }, 180_000);

  it('a second run and a second --check change nothing', () => {
    expect(t.second.code, t.second.out).toBe(0);
    expect(t.second.changed, t.second.out).toBe(0);
    expect(t.checkAgain.code, t.checkAgain.out).toBe(0);
    expect(t.checkAgain.changed, t.checkAgain.out).toBe(0);
  });

  it('the teardown uninstalls; again, it has nothing to do', () => {
    expect(t.teardown.statuses).toEqual(['changed: [h]']);
    expect(t.afterTeardown).toBe('tsplay_probe==1.0');
    expect(t.teardownAgain.changed, t.teardownAgain.out).toBe(0);
  });

  it.skipIf(!hasAnsible)(
    'ansible-playbook gives the same statuses and packages (its check mode says changed whenever extra_args is set)',
    async () => {
      const a = await sequence(runAnsible, join(root, 'venv-ansible'));
      for (const step of ['check', 'first', 'second', 'teardown', 'teardownAgain'] as const) {
        expect(t[step].statuses, `${step}\n${a[step].out}`).toEqual(a[step].statuses);
      }
      expect(a.checkAgain.statuses).toEqual(['changed: [h]', 'changed: [h]', 'changed: [h]', 'ok: [h]', 'ok: [h]']);
      expect(t.afterCheck).toBe(a.afterCheck);
      expect(t.state).toBe(a.state);
      expect(t.afterTeardown).toBe(a.afterTeardown);
    },
    300_000,
  );
});
