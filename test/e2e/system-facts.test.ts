// getent and package_facts end to end on this machine: one playbook writes what the modules set
// (ansible_facts.getent_*, the top-level getent_* variables, ansible_facts.packages) to JSON files
// in its own directory, under tsplay and, where it is installed, under ansible-playbook; the files
// and the task statuses must be the same. Both modules only read, so --check reports the same.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project, tsplay } from './helpers.js';

const HOSTS = 'h ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n';

const PLAY = `- hosts: h
  gather_facts: false
  tasks:
    - getent: database=group
    - getent: database=hosts key=localhost
    - getent: database=services key=ssh split=/
    - getent: database=passwd key=tsplay-no-such-user fail_key=false
      register: missing
    - getent: database=passwd key=tsplay-no-such-user
      ignore_errors: true
      register: failing
    - getent: database=tsplay-no-such-db
      ignore_errors: true
      register: nodb
    - getent: database=passwd key=root
    - copy:
        dest: "{{ playbook_dir }}/getent.json"
        content: "{{ {'root': ansible_facts.getent_passwd, 'top': getent_passwd, 'group': getent_group.root, 'hosts': getent_hosts, 'services': getent_services, 'missing': missing.msg, 'failing': failing.msg, 'nodb': nodb.msg} | to_json }}"
    - package_facts:
        manager: auto
    - copy:
        dest: "{{ playbook_dir }}/packages.json"
        content: "{{ ansible_facts.packages | to_json }}"
    - assert:
        that: "'coreutils' in packages"
`;

interface Run {
  code: number | null;
  out: string;
  statuses: string[];
  dir: string;
}

function statuses(out: string): string[] {
  return out
    .split('\n')
    .filter((l) => /^(ok|changed|skipping|fatal|failed): \[h\]/.test(l))
    .map((l) => l.replace(/ => .*$/, ''));
}

async function runTsplay(extra: string[] = []): Promise<Run> {
  const dir = project({ hosts: HOSTS, 'site.yml': PLAY });
  const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', ...extra]);
  return { code: r.code, out: r.out + r.err, statuses: statuses(r.out), dir };
}

function runAnsible(extra: string[] = []): Run {
  const dir = project({ hosts: HOSTS, 'site.yml': PLAY });
  const env = { ...process.env, NO_COLOR: '1', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_CONFIG: '' };
  const r = spawnSync('ansible-playbook', ['site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env });
  return { code: r.status, out: r.stdout + r.stderr, statuses: statuses(r.stdout), dir };
}

const json = (run: Run, name: string): unknown => JSON.parse(readFileSync(join(run.dir, name), 'utf8'));

describe('getent and package_facts on this machine', () => {
  let t: Run;

  it('set the facts from getent and dpkg', async () => {
    t = await runTsplay();
    expect(t.code, t.out).toBe(0);
    const g = json(t, 'getent.json') as Record<string, unknown>;
    expect(g.root).toEqual({ root: ['x', '0', '0', 'root', '/root', expect.any(String)] });
    expect(g.top).toEqual(g.root);
    expect((g.group as string[])[1]).toBe('0');
    expect(g.missing).toBe('One or more supplied key could not be found in the database.');
    expect(g.failing).toBe('One or more supplied key could not be found in the database.');
    expect(g.nodb).toBe('Missing arguments, or database unknown.');
    const packages = json(t, 'packages.json') as Record<string, { name: string; version: string; source: string }[]>;
    const dpkg = spawnSync('dpkg-query', ['-W', '-f', '${Package} ${Version}\n', 'coreutils'], { encoding: 'utf8' }).stdout.trim();
    expect(packages.coreutils).toEqual([expect.objectContaining({ name: 'coreutils', source: 'apt', arch: expect.any(String) })]);
    expect(`coreutils ${packages.coreutils![0]!.version}`).toBe(dpkg);
    // only the packages that are installed, not those with only their configuration left
    const installed = spawnSync('sh', ['-c', "dpkg-query -W -f '${db:Status-Abbrev}\\n' | grep -c '^.i'"], { encoding: 'utf8' });
    expect(Object.values(packages).flat().length).toBe(Number(installed.stdout.trim()));
  });

  it('--check reports the same: the modules only read', async () => {
    const c = await runTsplay(['--check']);
    expect(c.code, c.out).toBe(0);
    expect(c.statuses).toEqual(t.statuses);
  });

  it.skipIf(!hasAnsible)(
    'ansible-playbook sets the same facts with the same statuses',
    () => {
      const a = runAnsible();
      expect(a.code, a.out).toBe(0);
      expect(t.statuses).toEqual(a.statuses);
      expect(json(t, 'getent.json')).toEqual(json(a, 'getent.json'));
      expect(json(t, 'packages.json')).toEqual(json(a, 'packages.json'));
    },
    120_000,
  );
});
