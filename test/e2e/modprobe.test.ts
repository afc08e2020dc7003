// modprobe end to end on this machine, without ever loading or unloading a kernel module: with
// modprobe and /proc/modules, an already loaded module is reported ok, and --check of unloading it
// says changed and leaves it loaded; without them (a container), the task fails as Ansible's does.
// Compared with ansible-playbook where community.general is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { ansibleHasModule, runAnsible, runTsplay } from './compare.js';

const hasModprobe = spawnSync('sh', ['-c', 'command -v modprobe'], { stdio: 'ignore' }).status === 0;
const loadedModule = existsSync('/proc/modules') ? readFileSync('/proc/modules', 'utf8').split(' ')[0] : undefined;
const canCompare = hasAnsible && ansibleHasModule('community.general.modprobe');

const loaded = () =>
  readFileSync('/proc/modules', 'utf8')
    .split('\n')
    .some((l) => l.startsWith(`${loadedModule} `));

describe.skipIf(!hasModprobe || !loadedModule)('modprobe with a module that is already loaded', () => {
  const PRESENT = `- hosts: h
  gather_facts: false
  tasks:
    - community.general.modprobe: name=${loadedModule} state=present
`;
  const ABSENT = PRESENT.replace('state=present', 'state=absent');

  it('state=present is ok, in a run and in --check; --check of state=absent would unload, and does not', async () => {
    const run = await runTsplay({}, PRESENT);
    expect(run.statuses, run.out).toEqual(['ok: [h]']);
    const check = await runTsplay({}, PRESENT, ['--check']);
    expect(check.statuses, check.out).toEqual(['ok: [h]']);
    const unload = await runTsplay({}, ABSENT, ['--check']);
    expect(unload.statuses, unload.out).toEqual(['changed: [h]']);
    expect(loaded()).toBe(true);
  });

  it.skipIf(!canCompare)('ansible-playbook says the same', () => {
    expect(runAnsible({}, PRESENT, ['--check']).statuses).toEqual(['ok: [h]']);
    expect(runAnsible({}, ABSENT, ['--check']).statuses).toEqual(['changed: [h]']);
    expect(loaded()).toBe(true);
  });
});

describe.skipIf(hasModprobe)('modprobe on a host without modprobe', () => {
  const PLAY = `- hosts: h
  gather_facts: false
  tasks:
    - modprobe: name=dummy state=present
`;
  it('fails before changing anything, with the message Ansible gives', async () => {
    const t = await runTsplay({}, PLAY, ['--check']);
    expect(t.statuses).toEqual(['fatal: [h]: FAILED!']);
    expect(t.out).toContain('Failed to find required executable \\"modprobe\\" in paths');
    if (canCompare) {
      const a = runAnsible({}, PLAY, ['--check']);
      expect(a.statuses).toEqual(t.statuses);
      expect(a.out).toContain('Failed to find required executable \\"modprobe\\" in paths');
    }
  }, 60_000);
});
