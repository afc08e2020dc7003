// dhcp-setup with network_config=netplan (issue 20, the Ubuntu Server guide) on a booted lab
// (gateway + 1 node): the gateway gets netplan.io at test time (through the lab's apt proxy; the
// image stays as it is). dhcp-setup's stack check names netplan where NetworkManager does not run;
// --check changes nothing; the run puts the cluster address in /etc/netplan/60-tsplay-cluster.yaml
// and applies it (networkd holds eth0, NetworkManager lets go of it, the uplink stays
// NetworkManager's), the node gets its lease through it; a second run and --check change nothing;
// a change that cuts the gateway off (the cluster address on its uplink) is rolled back by the
// host itself: /etc/netplan, the uplink's address and its default route are back. Then
// nodes-netplan on node1 (netplan.io through the gateway's NAT): eth0 from DHCP with networkd,
// the gateway as default route, the outside reached; a second run and --check change nothing.
//
// The one stand-in: the container's /sys is read-only and it runs no udevd, so `udevadm trigger`
// (which `netplan apply` runs to replay the net rules) fails there. The test puts a udevadm in
// /usr/local/sbin that does, for `trigger`, what udev and NetworkManager do with netplan's rules
// (NM_UNMANAGED: NetworkManager lets go of the interfaces networkd renders) and hands everything
// else to the real one.
// Needs root on Linux; runs only with TSPLAY_LAB_TESTS=1, under `flock /tmp/tsplay-lab.lock`.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labStatus, labUp, type LabInfo } from '../../lab/lab.js';
import { project, recap, tsplay } from '../e2e/helpers.js';
import { probe, sh, waitUntil } from './helpers.js';

const enabled = process.env.TSPLAY_LAB_TESTS === '1';
const PLAYBOOKS = resolve('playbooks');
const NETPLAN = ['-e', 'network_config=netplan'];
const FILE = '/etc/netplan/60-tsplay-cluster.yaml';

const UDEVADM_STANDIN = `#!/bin/sh
# tsplay lab stand-in: udev's part of netplan apply (see test/lab/netplan.test.ts)
if [ "$1" = trigger ]; then
  S=/run/tsplay-lab-nm-unmanaged; touch "$S"
  want=$(sed -n 's/.*ENV{ID_NET_NAME}=="\\([^"]*\\)".*ENV{NM_UNMANAGED}="1".*/\\1/p' /run/udev/rules.d/*.rules /etc/udev/rules.d/*.rules 2>/dev/null | sort -u)
  for i in $want; do grep -qx "$i" "$S" || { nmcli device set "$i" managed no 2>/dev/null; echo "$i" >> "$S"; }; done
  for i in $(cat "$S"); do echo "$want" | grep -qx "$i" || { nmcli device set "$i" managed yes 2>/dev/null; sed -i "/^$i\\$/d" "$S"; }; done
  exit 0
fi
exec /usr/bin/udevadm "$@"
`;

// What dhcp-setup could touch on the gateway, one labelled block per probe.
const PROBES = [
  'ls -l --time-style=+%s /etc/netplan /var/lib/tsplay/netplan /etc/dnsmasq.d 2>&1',
  `cat ${FILE} /etc/dnsmasq.d/cluster.conf /etc/hosts 2>&1`,
  'ip -br -4 addr; ip route',
  'networkctl list --no-legend 2>&1; nmcli -t -f DEVICE,STATE dev',
  'systemctl show -p MainPID --value dnsmasq systemd-networkd',
];

describe.skipIf(!enabled)('dhcp-setup with network_config=netplan on the lab', () => {
  let lab: LabInfo;
  let dir: string;
  const timings: Record<string, number> = {};

  const play = async (label: string, extra: string[] = []) => {
    const t = Date.now();
    const r = await tsplay(dir, ['run', `${PLAYBOOKS}/dhcp-setup.yaml`, '-i', lab.inventory, ...extra]);
    timings[label] = Date.now() - t;
    return r;
  };
  const uplinkIntact = async () => {
    expect(await sh('gateway', 'ip -br -4 addr show wlan0')).toContain(' 10.213.0.10/24');
    expect(await sh('gateway', 'ip route show default')).toMatch(/^default via 10\.213\.0\.254 dev wlan0 /);
  };

  beforeAll(async () => {
    await labDown();
    lab = await labUp({ nodes: 1 }, () => {});
    dir = project({});
    const t = Date.now();
    await sh(
      'gateway',
      [
        'set -e',
        `echo 'Acquire::http::Proxy "http://10.213.0.1:3142";' > /etc/apt/apt.conf.d/99tsplay-lab-test`,
        'apt-get -q update >/dev/null 2>&1',
        'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends netplan.io >/dev/null 2>&1',
        'rm /etc/apt/apt.conf.d/99tsplay-lab-test',
        `cat > /usr/local/sbin/udevadm <<'EOF'\n${UDEVADM_STANDIN}EOF`,
        'chmod 755 /usr/local/sbin/udevadm',
      ].join('\n'),
      300_000,
    );
    timings['install-netplan'] = Date.now() - t;
    expect(await sh('gateway', 'netplan --help >/dev/null && echo ok; ls /etc/netplan | wc -l')).toBe('ok\n0\n');
  }, 10 * 60_000);

  afterAll(async () => {
    process.stderr.write(`netplan timings (ms): ${JSON.stringify(timings)}\n`);
    await labDown();
  }, 120_000);

  it('without NetworkManager, on a host with netplan files, dhcp-setup names netplan (not dhcpcd) and touches nothing', async () => {
    // as on Ubuntu Server: NetworkManager not running, a file of the installer's in /etc/netplan
    await sh('gateway', "systemctl stop NetworkManager; printf 'network:\\n  version: 2\\n' > /etc/netplan/50-cloud-init.yaml");
    try {
      const before = await probe('gateway', PROBES);
      const r = await play('no-nm');
      expect(r.code, r.out + r.err).toBe(2);
      expect(r.out).toContain('NetworkManager is not running on gateway (found: networkmanager=stopped, netplan=configured, dhcpcd=absent');
      expect(r.out).toContain('set network_config=netplan');
      expect(r.out).not.toContain('network_config=dhcpcd');
      expect(recap(r.out, 'gateway')).toMatchObject({ changed: 0, failed: 1 });
      expect(await probe('gateway', PROBES)).toEqual(before);
    } finally {
      await sh('gateway', 'rm /etc/netplan/50-cloud-init.yaml; systemctl start NetworkManager');
      await waitUntil(
        'NetworkManager runs again',
        async () => (await sh('gateway', 'nmcli -t -f RUNNING general 2>&1')).trim() === 'running',
      );
    }
    await uplinkIntact();
  }, 120_000);

  it('--check changes nothing; the run gives eth0 its address with netplan (networkd), the node gets its lease; again and --check change nothing', async () => {
    const before = await probe('gateway', PROBES);
    const check = await play('check', ['--check', ...NETPLAN]);
    expect(check.code, check.out + check.err).toBe(0);
    expect(recap(check.out, 'gateway').changed, check.out).toBeGreaterThanOrEqual(3);
    expect(await probe('gateway', PROBES)).toEqual(before);

    const r = await play('first', [...NETPLAN, '-v']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('a new connection works: rollback disarmed');
    expect(await sh('gateway', `stat -c '%a %U' ${FILE}; ls /etc/netplan`)).toBe('600 root\n60-tsplay-cluster.yaml\n');
    expect(await sh('gateway', `cat ${FILE}`)).toContain(
      '    eth0:\n      renderer: networkd\n      dhcp4: false\n      addresses:\n        - 10.213.1.1/24\n',
    );
    expect(await sh('gateway', 'ip -br -4 addr show eth0')).toContain(' 10.213.1.1/24');
    expect(await sh('gateway', 'networkctl list --no-legend eth0')).toMatch(/eth0\s+ether\s+routable\s+configur/);
    expect(await sh('gateway', 'nmcli -t -f DEVICE,STATE dev')).toMatch(/^eth0:unmanaged$/m);
    expect(await sh('gateway', 'nmcli -t -f NAME,DEVICE con show --active')).toMatch(/^preconfigured:wlan0$/m);
    await uplinkIntact();

    // node1, power-cycled, gets its reserved address from dnsmasq on the netplan-configured eth0
    const boots = (await labStatus()).hosts.find((h) => h.name === 'node1')!.boots;
    await sh('node1', 'systemctl reboot');
    await waitUntil(
      'node1 running again',
      async () => {
        const h = (await labStatus()).hosts.find((x) => x.name === 'node1');
        return h?.power === 'on' && h.system === 'running' && h.boots > boots;
      },
      90_000,
    );
    await waitUntil(
      'node1 has 10.213.1.11',
      async () => (await sh('node1', 'ip -br -4 addr show eth0').catch(() => '')).includes(' 10.213.1.11/24'),
      60_000,
    );
    expect(await sh('node1', 'ping -c1 -W2 10.213.1.1 >/dev/null && echo ok')).toBe('ok\n');

    const settled = await probe('gateway', PROBES);
    for (const args of [NETPLAN, ['--check', ...NETPLAN]]) {
      const again = await play(`again${args.length}`, args);
      expect(again.code, again.out + again.err).toBe(0);
      expect(recap(again.out, 'gateway').changed, again.out).toBe(0);
    }
    expect(await probe('gateway', PROBES)).toEqual(settled);
  }, 300_000);

  it('a change that cuts the gateway off is rolled back: /etc/netplan, the uplink address and default route are back', async () => {
    const before = await sh('gateway', `cat ${FILE}; ip -br -4 addr; ip route; nmcli -t -f DEVICE,STATE dev | grep -v ^lo:`);
    // the cluster address on the uplink: networkd takes wlan0 from NetworkManager, the way in is gone
    const t = Date.now();
    const r = await play('cut-off', [...NETPLAN, '-e', 'cluster_if=wlan0', '-e', 'netplan_rollback_timeout=15']);
    expect(r.code, r.out + r.err).toBe(2);
    expect(r.out).toMatch(
      /rolled back: a new SSH connection failed after the change .*the host restored its previous network state after 15s/,
    );
    expect(Date.now() - t).toBeLessThan(90_000);
    await uplinkIntact();
    expect(await sh('gateway', `cat ${FILE}; ip -br -4 addr; ip route; nmcli -t -f DEVICE,STATE dev | grep -v ^lo:`)).toBe(before);
    expect(await sh('gateway', 'cat /run/tsplay-rollback/*/restore.log')).toContain('applied the restored netplan configuration');

    // the next run with the right settings puts the staged file back; nothing to apply
    const back = await play('after-rollback', NETPLAN);
    expect(back.code, back.out + back.err).toBe(0);
    expect(recap(back.out, 'gateway').changed, back.out).toBe(1);
    const again = await play('after-rollback-again', NETPLAN);
    expect(recap(again.out, 'gateway').changed, again.out).toBe(0);
  }, 300_000);

  it("nodes-netplan: node1's eth0 from DHCP in netplan (networkd), the gateway as default route; again and --check change nothing", async () => {
    // node1 reaches the lab's apt proxy through the gateway's NAT
    const nat = await tsplay(dir, ['run', `${PLAYBOOKS}/nat-setup.yaml`, '-i', lab.inventory]);
    expect(nat.code, nat.out + nat.err).toBe(0);
    let t = Date.now();
    await sh(
      'node1',
      [
        'set -e',
        `echo 'Acquire::http::Proxy "http://10.213.0.1:3142";' > /etc/apt/apt.conf.d/99tsplay-lab-test`,
        'apt-get -q update >/dev/null 2>&1',
        'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends netplan.io >/dev/null 2>&1',
        'rm /etc/apt/apt.conf.d/99tsplay-lab-test',
        `cat > /usr/local/sbin/udevadm <<'EOF'\n${UDEVADM_STANDIN}EOF`,
        'chmod 755 /usr/local/sbin/udevadm',
      ].join('\n'),
      300_000,
    );
    timings['install-netplan-node1'] = Date.now() - t;
    const nodes = async (label: string, extra: string[] = []) => {
      t = Date.now();
      const r = await tsplay(dir, ['run', `${PLAYBOOKS}/nodes-netplan.yaml`, '-i', lab.inventory, ...extra]);
      timings[label] = Date.now() - t;
      return r;
    };
    const r = await nodes('nodes', ['-v']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('a new connection works: rollback disarmed');
    expect(await sh('node1', `cat ${FILE}`)).toContain(
      '      dhcp4: true\n      routes:\n        - to: default\n          via: 10.213.1.1\n',
    );
    await waitUntil(
      'networkd holds node1 eth0',
      async () => /eth0\s+ether\s+routable\s+configured/.test(await sh('node1', 'networkctl list --no-legend eth0')),
      30_000,
    );
    expect(await sh('node1', 'ip -br -4 addr show eth0')).toContain(' 10.213.1.11/24');
    expect(await sh('node1', 'ip route show default')).toContain('default via 10.213.1.1 dev eth0');
    expect(await sh('node1', 'curl -s http://10.213.0.254/')).toContain('you reached the outside');
    for (const args of [[], ['--check']]) {
      const again = await nodes(`nodes-again${args.length}`, args);
      expect(again.code, again.out + again.err).toBe(0);
      expect(recap(again.out, 'node1').changed, again.out).toBe(0);
    }
  }, 300_000);
});
