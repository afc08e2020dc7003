// The network modules on a booted gateway: sysctl, nmcli, iptables-ensure and route-ensure run
// by tsplay over SSH (become with the lab's sudo password), checked against the host's real
// state (nsenter into the gateway), run twice (no change the second time), in check mode (no
// change at all), and again after a reboot: what persist promises must still be there.
// Needs root on Linux; runs only with TSPLAY_LAB_TESTS=1, under `flock /tmp/tsplay-lab.lock`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExec, labStatus, labUp, type LabInfo } from '../../lab/lab.js';
import { project, recap, tsplay } from '../e2e/helpers.js';

const enabled = process.env.TSPLAY_LAB_TESTS === '1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const PLAYBOOK = `- hosts: gateway
  become: true
  gather_facts: false
  tasks:
    - name: forward IPv4
      sysctl:
        name: net.ipv4.ip_forward
        value: '1'
        sysctl_file: /etc/sysctl.d/90-tsplay-forward.conf
    - name: static cluster address on eth0
      nmcli:
        conn_name: cluster
        ifname: eth0
        type: ethernet
        ip4: 10.213.1.1/24
        dns4: [10.213.1.1]
        never_default4: true
        state: up
    - name: NAT out of wlan0
      iptables:
        table: nat
        chain: POSTROUTING
        out_interface: wlan0
        jump: MASQUERADE
        persist: true
    - name: forward from the cluster
      iptables-ensure:
        chain: FORWARD
        in_interface: eth0
        out_interface: wlan0
        jump: ACCEPT
        persist: true
    - name: forward replies back
      ansible.builtin.iptables:
        chain: FORWARD
        in_interface: wlan0
        out_interface: eth0
        ctstate: [RELATED, ESTABLISHED]
        jump: ACCEPT
        comment: replies
        persist: true
    - name: a route through the home router (wlan0 is managed by NetworkManager)
      route-ensure:
        dest: 10.99.0.0/24
        via: 10.213.0.254
        metric: 50
        persist: true
      register: nm_route
    - name: a route on lo (NetworkManager does not manage it)
      route-ensure:
        dest: 10.97.0.0/24
        dev: lo
        persist: true
      register: unit_route
    - debug:
        msg: "persisted_with={{ nm_route.persisted_with }},{{ unit_route.persisted_with }}"
`;

describe.skipIf(!enabled)('network modules on the lab gateway', () => {
  let lab: LabInfo;
  let dir: string;
  const timings: Record<string, number> = {};

  const gw = async (script: string) => (await labExec('gateway', ['sh', '-c', script])).stdout;
  const run = async (label: string, extra: string[] = []) => {
    const t = Date.now();
    const r = await tsplay(dir, ['run', 'site.yml', '-i', lab.inventory, ...extra]);
    timings[label] = Date.now() - t;
    return r;
  };
  // The host's real state, as one line per fact.
  const realState = async () => ({
    forward: (await gw('cat /proc/sys/net/ipv4/ip_forward')).trim(),
    eth0: (await gw('ip -o -4 addr show eth0')).includes('inet 10.213.1.1/24'),
    masquerade: Number((await gw('iptables -t nat -S POSTROUTING | grep -c -- "-o wlan0 -j MASQUERADE"')).trim()),
    forwardOut: Number((await gw('iptables -S FORWARD | grep -c -- "-i eth0 -o wlan0 -j ACCEPT"')).trim()),
    forwardBack: Number((await gw('iptables -S FORWARD | grep -c -- "-i wlan0 -o eth0 .*RELATED,ESTABLISHED.*-j ACCEPT"')).trim()),
    masqueradeCheck: (await labExec('gateway', ['iptables', '-t', 'nat', '-C', 'POSTROUTING', '-o', 'wlan0', '-j', 'MASQUERADE'])).code,
    route: (await gw('ip route show 10.99.0.0/24')).trim(),
    loRoute: (await gw('ip route show 10.97.0.0/24')).trim(),
  });

  beforeAll(async () => {
    await labDown();
    lab = await labUp({ nodes: 1 }, () => {});
    dir = project({ 'site.yml': PLAYBOOK });
  }, 10 * 60_000);

  afterAll(async () => {
    process.stderr.write(`network-modules timings (ms): ${JSON.stringify(timings)}\n`);
    await labDown();
  }, 120_000);

  it('changes nothing in check mode', async () => {
    const before = await realState();
    const r = await run('check', ['--check']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(recap(r.out, 'gateway').changed).toBeGreaterThan(0);
    expect(await realState()).toEqual(before);
    expect(before.forward).toBe('0');
    expect(before.masquerade).toBe(0);
    expect((await labExec('gateway', ['nmcli', 'connection', 'show', 'cluster'])).code).not.toBe(0);
    expect(await gw('ls /etc/iptables /etc/systemd/system/tsplay-* 2>&1 | grep -c "No such" || true')).not.toBe('0\n');
  }, 120_000);

  it('brings the gateway to the wanted state, then reports no change on a second run', async () => {
    const first = await run('first');
    expect(first.code, first.out + first.err).toBe(0);
    expect(recap(first.out, 'gateway')).toMatchObject({ changed: 7, failed: 0 });
    expect(first.out).toContain('persisted_with=NetworkManager,systemd');
    const s = await realState();
    expect(s).toMatchObject({ forward: '1', eth0: true, masquerade: 1, forwardOut: 1, forwardBack: 1, masqueradeCheck: 0 });
    expect(s.route).toMatch(/via 10\.213\.0\.254 dev wlan0 .*metric 50/);
    expect(s.loRoute).toMatch(/dev lo/);
    expect(await gw('nmcli -g ipv4.routes connection show preconfigured')).toContain('10.99.0.0/24 10.213.0.254 50');
    expect(await gw('systemctl is-enabled tsplay-iptables-restore.service tsplay-route-10-97-0-0-24.service')).toBe('enabled\nenabled\n');
    expect(await gw('cat /etc/sysctl.d/90-tsplay-forward.conf')).toBe('net.ipv4.ip_forward=1\n');
    expect(await gw('grep -c MASQUERADE /etc/iptables/rules.v4')).toBe('1\n');

    const second = await run('second');
    expect(second.code, second.out + second.err).toBe(0);
    expect(recap(second.out, 'gateway')).toMatchObject({ changed: 0, failed: 0 });
    expect(await realState()).toEqual(s);

    const check = await run('check-converged', ['--check']);
    expect(recap(check.out, 'gateway')).toMatchObject({ changed: 0 });
  }, 180_000);

  it('keeps forwarding, NAT, the routes and the static address after a reboot', async () => {
    const boots = (await labStatus()).hosts.find((h) => h.name === 'gateway')!.boots;
    await labExec('gateway', ['systemctl', 'reboot']);
    const end = Date.now() + 90_000;
    for (;;) {
      const h = (await labStatus()).hosts.find((x) => x.name === 'gateway');
      if (h && h.power === 'on' && h.system === 'running' && h.boots > boots) break;
      if (Date.now() > end) throw new Error('the gateway did not come back');
      await sleep(300);
    }
    // NetworkManager brings eth0 and the route up shortly after systemd reports running
    let s = await realState();
    for (let i = 0; i < 40 && !(s.eth0 && s.route && s.loRoute); i++) {
      await sleep(250);
      s = await realState();
    }
    expect(s).toMatchObject({ forward: '1', eth0: true, masquerade: 1, forwardOut: 1, forwardBack: 1, masqueradeCheck: 0 });
    expect(s.route).toMatch(/via 10\.213\.0\.254 dev wlan0 .*metric 50/);
    expect(s.loRoute).toMatch(/dev lo/);

    const again = await run('after-reboot');
    expect(again.code, again.out + again.err).toBe(0);
    expect(recap(again.out, 'gateway')).toMatchObject({ changed: 0, failed: 0 });
    const after = await realState();
    expect(after.masquerade).toBe(1);
    expect(after.forwardOut).toBe(1);
  }, 240_000);

  it('removes what it added, and a second removal changes nothing', async () => {
    const remove = project({
      'site.yml': `- hosts: gateway
  become: true
  gather_facts: false
  tasks:
    - iptables: { table: nat, chain: POSTROUTING, out_interface: wlan0, jump: MASQUERADE, state: absent, persist: true }
    - route-ensure: { dest: 10.99.0.0/24, via: 10.213.0.254, metric: 50, state: absent, persist: true }
    - route-ensure: { dest: 10.97.0.0/24, dev: lo, state: absent, persist: true }
    - sysctl: { name: net.ipv4.ip_forward, value: '0', sysctl_file: /etc/sysctl.d/90-tsplay-forward.conf }
    - nmcli: { conn_name: cluster, state: absent }
`,
    });
    const first = await tsplay(remove, ['run', 'site.yml', '-i', lab.inventory]);
    expect(first.code, first.out + first.err).toBe(0);
    expect(recap(first.out, 'gateway')).toMatchObject({ changed: 5 });
    const s = await realState();
    expect(s).toMatchObject({ forward: '0', masquerade: 0, route: '', loRoute: '' });
    expect(await gw('grep -c MASQUERADE /etc/iptables/rules.v4 || true')).toBe('0\n');
    expect(await gw('nmcli -g ipv4.routes connection show preconfigured')).not.toContain('10.99.0.0/24');
    expect(await gw('ls /etc/systemd/system/tsplay-route-10-97-0-0-24.service 2>/dev/null | wc -l')).toBe('0\n');
    const second = await tsplay(remove, ['run', 'site.yml', '-i', lab.inventory]);
    expect(recap(second.out, 'gateway')).toMatchObject({ changed: 0, failed: 0 });
  }, 180_000);
});
