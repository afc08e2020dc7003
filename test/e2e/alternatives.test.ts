// alternatives end to end on this machine (root), with a group of its own that the test creates
// and removes (tsplay-test-alt-<random>, link /usr/local/bin/tsplay-test-alt-<random>, between
// /bin/true and /bin/false): --check changes nothing, the run installs and selects, a second run
// and --check change nothing, back to auto mode, then removed; the same under ansible-playbook
// where community.general is installed, with the same statuses, messages and group.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { ansibleHasModule, runAnsible, runTsplay, type PlaybookRun } from './compare.js';

const NAME = `tsplay-test-alt-${Math.random().toString(36).slice(2, 8)}`;
const LINK = `/usr/local/bin/${NAME}`;
const hasTool = spawnSync('update-alternatives', ['--version'], { stdio: 'ignore' }).status === 0;

const head = `- hosts: h
  gather_facts: false
  vars:
    alt: ${NAME}
    link: ${LINK}
  tasks:`;

const SITE = `${head}
    - alternatives: name={{ alt }} link={{ link }} path=/bin/true priority=10 state=present
      register: r
    - debug: msg="{{ r.msg }}"
    - community.general.alternatives: name={{ alt }} link={{ link }} path=/bin/false priority=20 state=present
    - alternatives: name={{ alt }} path=/bin/true link={{ link }}
      register: r
    - debug: msg="{{ r.msg }}"
    - alternatives: name={{ alt }} path=/bin/sh-tsplay-missing link={{ link }}
      ignore_errors: true
`;

const AUTO = `${head}
    - alternatives: name={{ alt }} path=/bin/false state=auto
      register: r
    - debug: msg="{{ r.msg }}"
`;

const TEARDOWN = `${head}
    - alternatives: name={{ alt }} path=/bin/true state=absent
    - alternatives: name={{ alt }} path=/bin/false state=absent
      register: r
    - debug: msg="{{ r.msg }}"
`;

/** The group as update-alternatives shows it ('' when it does not exist). */
function group(): string {
  const r = spawnSync('update-alternatives', ['--query', NAME], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  return r.status === 0 ? r.stdout : '';
}

function cleanUp(): void {
  spawnSync('update-alternatives', ['--remove-all', NAME], { stdio: 'ignore' });
  spawnSync('rm', ['-f', LINK]);
}

type Runner = (files: Record<string, string>, playbook: string, extra?: string[]) => PlaybookRun | Promise<PlaybookRun>;

async function sequence(run: Runner) {
  cleanUp();
  const check = await run({}, SITE, ['--check']);
  const afterCheck = group();
  const first = await run({}, SITE);
  const state = group();
  const second = await run({}, SITE);
  const checkAgain = await run({}, SITE, ['--check']);
  const auto = await run({}, AUTO);
  const autoState = group();
  const autoAgain = await run({}, AUTO);
  const teardown = await run({}, TEARDOWN);
  const afterTeardown = group();
  const teardownAgain = await run({}, TEARDOWN);
  cleanUp();
  return { check, afterCheck, first, state, second, checkAgain, auto, autoState, autoAgain, teardown, afterTeardown, teardownAgain };
}

describe.skipIf(process.getuid?.() !== 0 || !hasTool)('alternatives on this machine', () => {
  afterAll(cleanUp);
  let t: Awaited<ReturnType<typeof sequence>>;

  it('--check changes nothing; the run installs both and selects /bin/true', async () => {
    t = await sequence(runTsplay);
    expect(t.check.code, t.check.out).toBe(0);
    expect(t.check.statuses).toEqual(['changed: [h]', 'ok: [h]', 'changed: [h]', 'changed: [h]', 'ok: [h]', 'fatal: [h]: FAILED!']);
    expect(t.afterCheck).toBe('');
    expect(t.first.code, t.first.out).toBe(0);
    expect(t.first.statuses).toEqual(['changed: [h]', 'ok: [h]', 'changed: [h]', 'changed: [h]', 'ok: [h]', 'fatal: [h]: FAILED!']);
    expect(t.first.msgs).toEqual([
      `"msg": "Install alternative '/bin/true' for '${NAME}'."`,
      `"msg": "Set alternative '/bin/true' for '${NAME}'."`,
    ]);
    expect(t.first.out).toContain('Specified path /bin/sh-tsplay-missing does not exist');
    expect(t.state).toContain('Status: manual\nBest: /bin/false\nValue: /bin/true\n');
    expect(t.state).toContain('Alternative: /bin/false\nPriority: 20\n');
  });

  it('a second run and a second --check change nothing', () => {
    expect(t.second.changed, t.second.out).toBe(0);
    expect(t.second.msgs).toEqual(['"msg": ""', '"msg": ""']);
    expect(t.checkAgain.changed, t.checkAgain.out).toBe(0);
  });

  it('state=auto puts the group back in auto mode, once; absent removes it', () => {
    expect(t.auto.statuses).toEqual(['changed: [h]', 'ok: [h]']);
    expect(t.auto.msgs).toEqual([`"msg": "Set alternative to auto for '${NAME}'."`]);
    expect(t.autoState).toContain('Status: auto\nBest: /bin/false\nValue: /bin/false\n');
    expect(t.autoAgain.changed, t.autoAgain.out).toBe(0);
    expect(t.teardown.statuses).toEqual(['changed: [h]', 'changed: [h]', 'ok: [h]']);
    expect(t.afterTeardown).toBe('');
    expect(t.teardownAgain.changed, t.teardownAgain.out).toBe(0);
  });

  it.skipIf(!hasAnsible || !ansibleHasModule('community.general.alternatives'))(
    'ansible-playbook (community.general.alternatives) gives the same statuses, messages and group',
    async () => {
      const a = await sequence(runAnsible);
      for (const step of ['check', 'first', 'second', 'checkAgain', 'auto', 'autoAgain', 'teardown', 'teardownAgain'] as const) {
        expect(t[step].statuses, `${step}\n${a[step].out}`).toEqual(a[step].statuses);
        expect(t[step].msgs, `${step}\n${a[step].out}`).toEqual(a[step].msgs);
      }
      expect(t.state).toBe(a.state);
      expect(t.autoState).toBe(a.autoState);
      expect(t.afterTeardown).toBe(a.afterTeardown);
    },
    180_000,
  );
});
