// The ufw module on the booted gateway, over SSH: ufw installed through the lab's apt proxy, then
// SSH allowed first (as a user must), ufw enabled with default deny, a limit rule and logging;
// --check changes nothing, the run changes the real firewall (read inside the host with ufw
// status), a second run and --check change nothing, and the gateway stays reachable. A rule that
// locks SSH out is rolled back by the safe-network guard: ufw's rules files and the live firewall
// are as before. Needs root on Linux; runs only with TSPLAY_LAB_TESTS=1, under
// `flock /tmp/tsplay-lab.lock`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExec, labUp, type LabInfo } from '../../lab/lab.js';
import { project, recap, tsplay } from '../e2e/helpers.js';

const enabled = process.env.TSPLAY_LAB_TESTS === '1';

const FILES: Record<string, string> = {
  'install.yml': `- hosts: gateway
  become: true
  gather_facts: false
  tasks:
    - copy:
        content: 'Acquire::http::Proxy "{{ lab_apt_proxy }}";'
        dest: /etc/apt/apt.conf.d/90lab-proxy
    - apt: {name: ufw, update_cache: true}
`,
  'ufw.yml': `- hosts: gateway
  become: true
  gather_facts: false
  tasks:
    - name: SSH first
      community.general.ufw: {rule: allow, port: "22", proto: tcp}
    - community.general.ufw: {state: enabled, policy: deny}
    - community.general.ufw: {rule: limit, port: "2222", proto: tcp, from_ip: 10.213.0.0/24, comment: lab}
    - community.general.ufw: {logging: medium}
`,
  'lockout.yml': `- hosts: gateway
  become: true
  gather_facts: false
  tasks:
    - name: a rule that locks SSH out (every new TCP connection denied, before the SSH rule)
      community.general.ufw: {rule: deny, proto: tcp, insert: 1}
      rollback_timeout: 15
`,
};

describe.skipIf(!enabled)('ufw on the lab gateway', () => {
  let lab: LabInfo;
  let dir: string;
  const sh = async (script: string) => (await labExec('gateway', ['sh', '-c', script])).stdout;
  const firewall = () =>
    sh('LC_ALL=C ufw status verbose; grep -h "^### tuple" /etc/ufw/user.rules /etc/ufw/user6.rules; cat /etc/ufw/ufw.conf');
  const play = (file: string, extra: string[] = []) => tsplay(dir, ['run', file, '-i', lab.inventory, ...extra]);

  beforeAll(async () => {
    await labDown();
    lab = await labUp({ nodes: 1 }, () => {});
    dir = project(FILES);
    const r = await play('install.yml');
    if (r.code !== 0) throw new Error(`installing ufw failed:\n${r.out}${r.err}`);
  }, 10 * 60_000);
  afterAll(async () => labDown(), 120_000);

  it('enables ufw with its rules: --check changes nothing, the run does, a second run and --check do not', async () => {
    const before = await firewall();
    expect(before).toContain('Status: inactive');
    const check = await play('ufw.yml', ['--check']);
    expect(check.code, check.out + check.err).toBe(0);
    expect(recap(check.out, 'gateway').changed).toBe(4);
    expect(await firewall()).toBe(before);

    const run = await play('ufw.yml');
    expect(run.code, run.out + run.err).toBe(0);
    expect(recap(run.out, 'gateway').changed).toBe(4);
    const after = await firewall();
    expect(after).toContain('Status: active');
    expect(after).toContain('Default: deny (incoming)');
    expect(after).toContain('Logging: on (medium)');
    expect(after).toContain('### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in');
    expect(after).toContain('### tuple ### limit tcp 2222 0.0.0.0/0 any 10.213.0.0/24 in comment=6c6162');
    expect(after).toContain('ENABLED=yes');

    const second = await play('ufw.yml');
    expect(second.code, second.out + second.err).toBe(0);
    expect(recap(second.out, 'gateway').changed).toBe(0);
    const check2 = await play('ufw.yml', ['--check']);
    expect(recap(check2.out, 'gateway').changed).toBe(0);
    expect(await firewall()).toBe(after);
    const ping = await tsplay(dir, ['adhoc', 'gateway', '-i', lab.inventory, '-m', 'ping']);
    expect(ping.out).toMatch(/SUCCESS/);
  }, 300_000);

  it('a rule that locks SSH out is rolled back: ufw files and firewall as before', async () => {
    const before = await firewall();
    const r = await play('lockout.yml');
    expect(r.code, r.out + r.err).toBe(2);
    expect(r.out).toMatch(/rolled back: a new SSH connection failed after the change/);
    expect(await firewall()).toBe(before);
    const ping = await tsplay(dir, ['adhoc', 'gateway', '-i', lab.inventory, '-m', 'ping']);
    expect(ping.out).toMatch(/SUCCESS/);
  }, 180_000);
});
