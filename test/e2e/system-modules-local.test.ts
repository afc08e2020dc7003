// group, user, script and package end to end on this machine (root): a playbook creates a
// throwaway group pair and user (tsplay-t-<random>), runs a script guarded by creates, and asks
// package for an installed package, for the removal of one that is not installed and, in check
// mode, for its installation (nothing is fetched: check mode never applies). Each step runs under
// tsplay and, where it is installed, under ansible-playbook: the task statuses, the messages and
// the accounts as getent prints them must be the same. --check first changes nothing, the run
// changes, a second run and a second --check change nothing, and the teardown removes it all.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';

import { afterAll, describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project, tsplay } from './helpers.js';

const id = Math.random().toString(36).slice(2, 8);
const U = `tsplay-t-${id}`;
const G1 = `tsplay-t-${id}a`;
const G2 = `tsplay-t-${id}b`;
const MARKER = `/tmp/${U}.marker`;
const HASH = '$6$tsplaysalt$bWGEBNMPlpRcOUcBgEsouSYLl1mtbT6Anw0G0zrR8QuBnfmkLhUbuLaeVJWHlHA4VYfll1bB4vuvnYUafzpVd.';

const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });

// A uid/gid base that nothing on this machine uses (the accounts get fixed ids, so that the two
// tools' runs leave the same getent lines).
function freeIdBase(): number {
  for (;;) {
    const base = 42000 + Math.floor(Math.random() * 20000);
    if ([0, 1, 2].every((i) => sh(`getent passwd ${base + i} || getent group ${base + i}`).stdout === '')) return base;
  }
}
const ID = freeIdBase();

// A package that is not installed and that apt could install: check mode must say changed.
const MISSING_PKG = ['sl', 'hello', 'cowsay', 'fortune-mod'].find((p) => {
  if (sh(`dpkg-query -W -f '\${db:Status-Abbrev}' ${p} 2>/dev/null`).stdout.startsWith('ii')) return false;
  return /Candidate: (?!\(none\))/.test(sh(`LC_ALL=C apt-cache policy ${p}`).stdout);
});
const installed = (p: string) => sh(`dpkg-query -W -f '\${db:Status-Abbrev}' ${p} 2>/dev/null`).stdout.startsWith('ii');

const FILES: Record<string, string> = {
  hosts: 'h ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n',
  // writes its arguments to the marker (its first one) and says who ran it
  'files/mark.sh': '#!/bin/sh\nprintf "%s\\n" "$@" > "$1"\nid -un\n',
};

const vars = `    u: ${U}
    g1: ${G1}
    g2: ${G2}
    marker: ${MARKER}
    pw: "${HASH}"`;

const SITE = `- hosts: h
  gather_facts: false
  vars:
${vars}
  tasks:
    - group: name={{ g1 }} gid=${ID}
      register: g
    - debug: msg="{{ g.name | default('-') }} {{ g.gid | default('-') }} {{ g.state | default('-') }} {{ g.system | default('-') }}"
    - group: name={{ g2 }} gid=${ID + 1} system=yes
    - user:
        name: "{{ u }}"
        uid: ${ID + 2}
        group: "{{ g1 }}"
        comment: Throwaway test user
        shell: /bin/bash
        groups: ["{{ g1 }}", "{{ g2 }}"]
        password: "{{ pw }}"
        expires: 1900000000
      register: r
    - debug: msg="{{ r.uid | default('-') }} {{ r.group | default('-') }} {{ r.groups | default('-') }} {{ r.home | default('-') }} {{ r.shell | default('-') }} {{ r.comment | default('-') }} {{ r.state | default('-') }} {{ r.password | default('-') }}"
    - user:
        name: "{{ u }}"
        groups: "{{ g1 }}"
        append: yes
        password_lock: yes
      register: r
    - debug: msg="{{ r.append | default('-') }} {{ r.groups | default('-') }} {{ r.uid | default('-') }}"
    - script: files/mark.sh {{ marker }} "two words"
      args:
        creates: "{{ marker }}"
      register: s
    - debug: msg="{{ s.rc | default('-') }} {{ s.stdout_lines | default('-') }} {{ s.skipped | default(false) }}"
    - package: name=coreutils state=present
    - package:
        name: ${MISSING_PKG ?? 'tsplay-t-no-such-package'}
        state: absent
`;

const PKG_CHECK = `- hosts: h
  gather_facts: false
  tasks:
    - package:
        name: ${MISSING_PKG}
        state: present
`;

const TEARDOWN = `- hosts: h
  gather_facts: false
  vars:
${vars}
  tasks:
    - user: name={{ u }} state=absent remove=yes
      register: r
    - debug: msg="{{ r.name }} {{ r.state }} {{ r.remove | default('-') }} {{ r.force | default('-') }}"
    - group: name={{ g1 }} state=absent
    - group: name={{ g2 }} state=absent
    - file: path={{ marker }} state=absent
`;

interface Run {
  code: number | null;
  out: string;
  statuses: string[];
  msgs: string[];
  changed: number;
}

function parse(code: number | null, out: string): Run {
  const lines = out.split('\n');
  const recap = lines.find((l) => /^h\s+: ok=/.test(l)) ?? '';
  return {
    code,
    out,
    statuses: lines.filter((l) => /^(ok|changed|skipping|fatal|failed): \[h\]/.test(l)).map((l) => l.replace(/ => .*$/, '')),
    msgs: lines.filter((l) => /^\s+"msg": /.test(l)).map((l) => l.trim()),
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

/** The accounts as this machine has them now (the shadow line without its last-change day). */
function accounts(): string {
  const shadow = sh(`getent shadow ${U}`).stdout.split(':');
  return [
    sh(`getent passwd ${U}`).stdout,
    sh(`getent group ${G1} ${G2} ${U}`).stdout,
    sh(`id -Gn ${U} 2>/dev/null`).stdout,
    shadow.length > 7 ? `${shadow[1]} expire=${shadow[7]}\n` : '',
    existsSync(`/home/${U}`) ? `home /home/${U}\n` : '',
    existsSync(MARKER) ? execFileSync('cat', [MARKER], { encoding: 'utf8' }) : '',
  ].join('');
}

function cleanUp(): void {
  sh(`userdel -r ${U} 2>/dev/null; groupdel ${G1} 2>/dev/null; groupdel ${G2} 2>/dev/null; groupdel ${U} 2>/dev/null; true`);
  rmSync(MARKER, { force: true });
}

/** The whole sequence under one tool, from nothing back to nothing. */
async function sequence(run: (playbook: string, extra?: string[]) => Run | Promise<Run>) {
  cleanUp();
  const check = await run(SITE, ['--check']);
  const afterCheck = accounts();
  const first = await run(SITE);
  const state = accounts();
  const second = await run(SITE);
  const checkAgain = await run(SITE, ['--check']);
  const pkgCheck = MISSING_PKG ? await run(PKG_CHECK, ['--check']) : undefined;
  const teardown = await run(TEARDOWN);
  const afterTeardown = accounts();
  const teardownAgain = await run(TEARDOWN);
  return { check, afterCheck, first, state, second, checkAgain, pkgCheck, teardown, afterTeardown, teardownAgain };
}

describe.skipIf(process.getuid?.() !== 0)('group, user, script and package on this machine', () => {
  afterAll(cleanUp);
  let t: Awaited<ReturnType<typeof sequence>>;

  it('--check changes nothing; the run creates the accounts as asked', async () => {
    t = await sequence(runTsplay);
    expect(t.check.code, t.check.out).toBe(0);
    expect(t.check.statuses).toEqual([
      'changed: [h]',
      'ok: [h]',
      'changed: [h]',
      'changed: [h]',
      'ok: [h]',
      'changed: [h]',
      'ok: [h]',
      'changed: [h]',
      'ok: [h]',
      'ok: [h]',
      'ok: [h]',
    ]);
    expect(t.afterCheck).toBe('');
    expect(t.first.code, t.first.out).toBe(0);
    expect(t.first.statuses).toEqual([
      'changed: [h]',
      'ok: [h]',
      'changed: [h]',
      'changed: [h]',
      'ok: [h]',
      'changed: [h]',
      'ok: [h]',
      'changed: [h]',
      'ok: [h]',
      'ok: [h]',
      'ok: [h]',
    ]);
    expect(t.first.msgs).toEqual([
      `"msg": "${G1} ${ID} present False"`,
      `"msg": "${ID + 2} ${ID} ${G1},${G2} /home/${U} /bin/bash Throwaway test user present NOT_LOGGING_PASSWORD"`,
      `"msg": "True ${G1} ${ID + 2}"`,
      `"msg": "0 ['root'] False"`,
    ]);
    const [passwd, ...rest] = t.state.split('\n');
    expect(passwd).toBe(`${U}:x:${ID + 2}:${ID}:Throwaway test user:/home/${U}:/bin/bash`);
    expect(rest.join('\n')).toContain(`${G1}:x:${ID}:${U}\n${G2}:x:${ID + 1}:${U}\n`);
    expect(t.state).toContain(`!${HASH} expire=21990\n`);
    expect(t.state).toContain(`home /home/${U}\n`);
    expect(t.state).toContain(`${MARKER}\ntwo words\n`);
  });

  it('a second run and a second --check change nothing', () => {
    expect(t.second.code, t.second.out).toBe(0);
    expect(t.second.changed, t.second.out).toBe(0);
    expect(t.second.statuses).toContain('skipping: [h]');
    expect(t.checkAgain.changed, t.checkAgain.out).toBe(0);
  });

  it.skipIf(!MISSING_PKG)('package in check mode would install a missing package, and installs nothing', () => {
    expect(t.pkgCheck!.statuses).toEqual(['changed: [h]']);
    expect(installed(MISSING_PKG!)).toBe(false);
  });

  it('the teardown removes the user, its home and the groups; again, it has nothing to do', () => {
    expect(t.teardown.code, t.teardown.out).toBe(0);
    expect(t.teardown.statuses).toEqual(['changed: [h]', 'ok: [h]', 'changed: [h]', 'changed: [h]', 'changed: [h]']);
    expect(t.teardown.msgs).toEqual([`"msg": "${U} absent True False"`]);
    expect(t.afterTeardown).toBe('');
    expect(t.teardownAgain.changed, t.teardownAgain.out).toBe(0);
  });

  it.skipIf(!hasAnsible)(
    'ansible-playbook gives the same statuses, messages and accounts',
    async () => {
      const a = await sequence(runAnsible);
      for (const step of ['check', 'first', 'second', 'checkAgain', 'pkgCheck', 'teardown', 'teardownAgain'] as const) {
        expect(t[step]?.statuses, `${step}\n${a[step]?.out}`).toEqual(a[step]?.statuses);
        expect(t[step]?.msgs, `${step}\n${a[step]?.out}`).toEqual(a[step]?.msgs);
      }
      expect(t.afterCheck).toBe(a.afterCheck);
      expect(t.state).toBe(a.state);
      expect(t.afterTeardown).toBe(a.afterTeardown);
    },
    300_000,
  );
});
