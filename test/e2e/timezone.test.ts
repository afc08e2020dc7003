// timezone end to end on this machine (root): the zone is renamed to another name of the same
// zone (Etc/UTC <-> Etc/Universal, both UTC), so that the files really change while the clock
// every other process reads stays the same. --check changes nothing, the run changes /etc/timezone
// and the /etc/localtime link, a second run and --check change nothing; the same under
// ansible-playbook where community.general is installed. afterAll puts the original back.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { ansibleHasModule, runAnsible, runTsplay, type PlaybookRun } from './compare.js';

const readZone = () => ({
  timezone: existsSync('/etc/timezone') ? readFileSync('/etc/timezone', 'utf8') : undefined,
  link: lstatSync('/etc/localtime', { throwIfNoEntry: false })?.isSymbolicLink() ? readlinkSync('/etc/localtime') : undefined,
});
const original = readZone();
const utc = spawnSync('date', ['+%z'], { encoding: 'utf8' }).stdout.trim() === '+0000';
// systemd would be asked through timedatectl: the files test below is for hosts without it
const systemd = spawnSync('timedatectl', [], { stdio: 'ignore' }).status === 0;
const usable =
  process.getuid?.() === 0 && utc && !systemd && original.link !== undefined && existsSync('/usr/share/zoneinfo/Etc/Universal');
const target = original.link?.endsWith('/Etc/Universal') ? 'Etc/UTC' : 'Etc/Universal';

function restore(): void {
  if (original.timezone !== undefined) writeFileSync('/etc/timezone', original.timezone);
  else rmSync('/etc/timezone', { force: true });
  if (original.link !== undefined) {
    rmSync('/etc/localtime', { force: true });
    symlinkSync(original.link, '/etc/localtime');
  }
}

const SITE = `- hosts: h
  gather_facts: false
  tasks:
    - community.general.timezone:
        name: ${target}
      register: r
    - debug:
        msg: "{{ r.diff.before.name }} -> {{ r.diff.after.name }} {{ r.msg | default('-') }}"
    - timezone:
        name: Nowhere/Atlantis
      ignore_errors: true
`;

async function sequence(run: (files: Record<string, string>, playbook: string, extra?: string[]) => PlaybookRun | Promise<PlaybookRun>) {
  restore();
  const check = await run({}, SITE, ['--check']);
  const afterCheck = readZone();
  const first = await run({}, SITE);
  const state = readZone();
  const second = await run({}, SITE);
  const checkAgain = await run({}, SITE, ['--check']);
  restore();
  return { check, afterCheck, first, state, second, checkAgain };
}

describe.skipIf(!usable)('timezone on this machine (without systemd: /etc/timezone and /etc/localtime)', () => {
  afterAll(restore);
  let t: Awaited<ReturnType<typeof sequence>>;

  it('--check changes nothing; the run writes /etc/timezone and links /etc/localtime', async () => {
    t = await sequence(runTsplay);
    expect(t.check.code, t.check.out).toBe(0);
    expect(t.check.statuses).toEqual(['changed: [h]', 'ok: [h]', 'fatal: [h]: FAILED!']);
    expect(t.afterCheck).toEqual(original);
    expect(t.first.code, t.first.out).toBe(0);
    expect(t.first.statuses).toEqual(['changed: [h]', 'ok: [h]', 'fatal: [h]: FAILED!']);
    expect(t.first.msgs[0]).toBe(`"msg": "${original.timezone?.trim()} -> ${target} Added 1 line and deleted 1 line(s) on /etc/timezone"`);
    expect(t.first.out).toContain('given timezone \\"Nowhere/Atlantis\\" is not available');
    expect(t.state).toEqual({ timezone: `${target}\n`, link: `/usr/share/zoneinfo/${target}` });
  });

  it('a second run and a second --check change nothing', () => {
    expect(t.second.changed, t.second.out).toBe(0);
    expect(t.second.msgs[0]).toBe(`"msg": "${target} -> ${target} -"`);
    expect(t.checkAgain.changed, t.checkAgain.out).toBe(0);
  });

  it.skipIf(!hasAnsible || !ansibleHasModule('community.general.timezone'))(
    'ansible-playbook (community.general.timezone) gives the same statuses, messages and files',
    async () => {
      const a = await sequence(runAnsible);
      for (const step of ['check', 'first', 'second', 'checkAgain'] as const) {
        expect(t[step].statuses, `${step}\n${a[step].out}`).toEqual(a[step].statuses);
        expect(t[step].msgs, `${step}\n${a[step].out}`).toEqual(a[step].msgs);
      }
      expect(t.state).toEqual(a.state);
      expect(a.afterCheck).toEqual(original);
    },
    120_000,
  );
});
