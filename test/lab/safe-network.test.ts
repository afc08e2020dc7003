// Safe network changes on a booted gateway: a task that blocks SSH and one that gives the
// upstream interface a wrong address both end with the gateway reachable and its previous state
// restored by the rollback it armed on itself; a correct change is kept and its rollback
// disarmed. The state is read from inside the host (nsenter), not from tsplay's report.
// Needs root on Linux; runs only with TSPLAY_LAB_TESTS=1, under `flock /tmp/tsplay-lab.lock`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExec, labUp, type LabInfo } from '../../lab/lab.js';
import { project, recap, tsplay } from '../e2e/helpers.js';

const enabled = process.env.TSPLAY_LAB_TESTS === '1';

const FILES: Record<string, string> = {
  'block-ssh.yml': `- hosts: gateway
  become: true
  gather_facts: false
  tasks:
    - name: a firewall rule that locks us out (and is saved for the next boot)
      iptables:
        chain: INPUT
        protocol: tcp
        destination_port: '22'
        jump: DROP
        persist: true
      rollback_timeout: 15
    - debug: msg=never reached
`,
  'wrong-address.yml': `- hosts: gateway
  become: true
  gather_facts: false
  tasks:
    - name: the upstream interface moved to the wrong address
      nmcli:
        conn_name: preconfigured
        ifname: wlan0
        type: ethernet
        ip4: 10.213.0.99/24
        gw4: 10.213.0.254
        state: up
      rollback_timeout: 20
`,
  'good-change.yml': `- hosts: gateway
  become: true
  gather_facts: false
  tasks:
    - name: a web port opened
      iptables:
        chain: INPUT
        protocol: tcp
        destination_port: '8080'
        jump: ACCEPT
        persist: true
      rollback_timeout: 15
`,
};

describe.skipIf(!enabled)('safe network changes on the lab', () => {
  let lab: LabInfo;
  let dir: string;
  const sh = async (script: string) => (await labExec('gateway', ['sh', '-c', script])).stdout;
  // the rules and any policy that is not ACCEPT (an empty table and no table are the same firewall)
  const firewall = () =>
    sh("iptables-save | grep -E '^(-A |:[A-Z]+ (DROP|REJECT))'; echo ---; cat /etc/iptables/rules.v4 2>/dev/null || echo no-rules-file");
  const nm = () =>
    sh(
      "nmcli -g ipv4.addresses,ipv4.gateway,ipv4.method con show preconfigured; ip -4 -o addr show dev wlan0 | awk '{print $4}'; cat /etc/NetworkManager/system-connections/preconfigured.nmconnection",
    );
  const reachable = async () => {
    const r = await tsplay(dir, ['adhoc', 'gateway', '-i', lab.inventory, '-m', 'ping']);
    return r.code === 0 && /SUCCESS/.test(r.out);
  };

  beforeAll(async () => {
    await labDown();
    lab = await labUp({ nodes: 1 }, () => {});
    dir = project(FILES);
  }, 10 * 60_000);
  afterAll(async () => labDown(), 120_000);

  it('a rule that blocks SSH is rolled back: the gateway is reachable and its firewall is as before, live and saved', async () => {
    const before = await firewall();
    expect(before).not.toContain('--dport 22 -j DROP');
    const t0 = Date.now();
    const r = await tsplay(dir, ['run', 'block-ssh.yml', '-i', lab.inventory]);
    const took = (Date.now() - t0) / 1000;
    expect(r.code, r.out + r.err).toBe(2);
    expect(r.out).toMatch(/fatal: \[gateway\]: FAILED! => .*rolled back: a new SSH connection failed after the change/);
    expect(r.out).not.toContain('never reached');
    expect(recap(r.out, 'gateway')).toMatchObject({ failed: 1, unreachable: 0 });
    // the rule was really applied, then restored by the host itself when its timer fired
    expect(took).toBeGreaterThan(14);
    expect(await sh('cat /run/tsplay-rollback/*/restore.log')).toMatch(/restored iptables rules[\s\S]*rollback done/);
    expect(await firewall()).toBe(before);
    expect(await reachable()).toBe(true);
  }, 180_000);

  it('a wrong address on the upstream interface is rolled back: profile and address as before', async () => {
    const before = await nm();
    expect(before).toContain('10.213.0.10/24');
    const r = await tsplay(dir, ['run', 'wrong-address.yml', '-i', lab.inventory]);
    expect(r.code, r.out + r.err).toBe(2);
    expect(r.out).toMatch(/rolled back: a new SSH connection failed after the change/);
    expect(await sh('cat /run/tsplay-rollback/*/restore.log')).toMatch(/restored NetworkManager connections/);
    expect(await nm()).toBe(before);
    expect(await reachable()).toBe(true);
  }, 180_000);

  it('a correct change is kept and its rollback disarmed', async () => {
    await sh('rm -rf /run/tsplay-rollback');
    const t0 = Date.now();
    const r = await tsplay(dir, ['run', 'good-change.yml', '-i', lab.inventory]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(recap(r.out, 'gateway')).toMatchObject({ changed: 1, failed: 0 });
    expect(Date.now() - t0).toBeLessThan(12_000);
    // nothing armed is left, and the change survives the time the timer would have needed
    expect(
      (await sh('ls /run/tsplay-rollback 2>/dev/null; systemctl list-timers --all --no-legend | grep tsplay-rollback || true')).trim(),
    ).toBe('');
    await new Promise((res) => setTimeout(res, 16_000));
    expect(await firewall()).toMatch(
      /-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT[\s\S]*---[\s\S]*-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT/,
    );
    const second = await tsplay(dir, ['run', 'good-change.yml', '-i', lab.inventory]);
    expect(recap(second.out, 'gateway').changed).toBe(0);
  }, 180_000);
});
