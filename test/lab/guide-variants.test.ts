// Variants of the shipped playbooks that the users' guides use (issue 20), on a booted lab
// (gateway + 1 node): nat-setup on a minimal image without iptables, with several upstream
// interfaces, and with the older guides' rules file; dhcp-setup's apt_upgrade and the guides'
// dnsmasq settings. What is checked is the hosts' real state
// (nsenter: dpkg, iptables, files, units), then that a second run and --check change nothing.
// Needs root on Linux; runs only with TSPLAY_LAB_TESTS=1, under `flock /tmp/tsplay-lab.lock`.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labStatus, labUp, type LabInfo } from '../../lab/lab.js';
import { project, recap, tsplay } from '../e2e/helpers.js';
import { probe, sh, waitUntil } from './helpers.js';

const enabled = process.env.TSPLAY_LAB_TESTS === '1';
const PLAYBOOKS = resolve('playbooks');

/** Everything nat-setup could touch on the gateway, one labelled block per probe. */
const NAT_PROBES = [
  "dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' iptables netfilter-persistent iptables-persistent 2>&1",
  'command -v iptables',
  'iptables -S 2>&1; iptables -t nat -S 2>&1',
  'ls -l --time-style=+%s /etc/iptables /etc/sysctl.d /etc/systemd/system 2>&1',
  'cat /etc/iptables/rules.v4 /etc/iptables.ipv4.nat 2>&1 | grep -v "^#"',
  'sysctl -n net.ipv4.ip_forward',
];

/** Lines with the comment cluster-nat in the live rules and in a saved file, sorted. */
async function ours(script: string): Promise<string[]> {
  return (await sh('gateway', script))
    .split('\n')
    .filter((l) => l.includes('cluster-nat'))
    .sort();
}
const live = () => ours('iptables -t nat -S POSTROUTING; iptables -S FORWARD');
const rulesFor = (...ups: string[]) =>
  ups
    .flatMap((up) => [
      `-A POSTROUTING -s 10.213.1.0/24 -o ${up} -m comment --comment cluster-nat -j MASQUERADE`,
      `-A FORWARD -i eth0 -o ${up} -m comment --comment cluster-nat -j ACCEPT`,
      `-A FORWARD -i ${up} -o eth0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment cluster-nat -j ACCEPT`,
    ])
    .sort();

describe.skipIf(!enabled)('guide variants of the shipped playbooks on the lab', () => {
  let lab: LabInfo;
  let dir: string;
  const timings: Record<string, number> = {};

  let inventory: string;
  const play = async (label: string, playbook: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) => {
    const t = Date.now();
    const r = await tsplay(dir, ['run', `${PLAYBOOKS}/${playbook}`, '-i', inventory, ...extra], env);
    timings[label] = Date.now() - t;
    return r;
  };
  /** A second run and --check change nothing (and --check leaves the host as it is). */
  const converged = async (label: string, playbook: string, extra: string[]) => {
    const again = await play(`${label}-second`, playbook, extra);
    expect(again.code, again.out + again.err).toBe(0);
    expect(recap(again.out, 'gateway').changed, again.out).toBe(0);
    const before = await probe('gateway', NAT_PROBES);
    const check = await play(`${label}-check`, playbook, ['--check', ...extra]);
    expect(check.code, check.out + check.err).toBe(0);
    expect(recap(check.out, 'gateway').changed, check.out).toBe(0);
    expect(await probe('gateway', NAT_PROBES)).toEqual(before);
  };

  beforeAll(async () => {
    await labDown();
    lab = await labUp({ nodes: 1 }, () => {});
    dir = project({});
    inventory = lab.inventory;
    // dhcp-setup first, as in the guides: it also points apt at the lab's proxy
    const r = await play('dhcp', 'dhcp-setup.yaml');
    if (r.code !== 0) throw new Error(`dhcp-setup failed:\n${r.out}${r.err}`);
  }, 10 * 60_000);

  afterAll(async () => {
    process.stderr.write(`guide-variants timings (ms): ${JSON.stringify(timings)}\n`);
    await labDown();
  }, 120_000);

  it('nat-setup on a gateway without iptables: --check changes nothing, the run installs iptables and netfilter-persistent and adds the rules', async () => {
    await sh('gateway', 'DEBIAN_FRONTEND=noninteractive apt-get purge -y iptables >/dev/null 2>&1');
    expect(await sh('gateway', 'command -v iptables; true')).toBe('');
    const before = await probe('gateway', NAT_PROBES);
    const check = await play('minimal-check', 'nat-setup.yaml', ['--check']);
    expect(check.code, check.out + check.err).toBe(0);
    expect(check.out).toContain('iptables is not installed on gateway: a real run installs it');
    expect(await probe('gateway', NAT_PROBES)).toEqual(before);

    const r = await play('minimal', 'nat-setup.yaml');
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).not.toContain('does not exist');
    const pkgs = await sh(
      'gateway',
      "dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' iptables netfilter-persistent iptables-persistent",
    );
    expect(pkgs.split('\n').filter(Boolean).sort()).toEqual(['iptables ii ', 'iptables-persistent ii ', 'netfilter-persistent ii ']);
    expect(await live()).toEqual(rulesFor('wlan0'));
    // saved by netfilter-persistent, which restores it at boot
    expect(await ours('cat /etc/iptables/rules.v4')).toEqual(rulesFor('wlan0'));
    expect((await sh('gateway', 'systemctl is-enabled netfilter-persistent')).trim()).toBe('enabled');
    await converged('minimal', 'nat-setup.yaml', []);
  }, 240_000);

  it('upstream_if as a list: rules out of each; a shorter list removes the rules of the interface left out', async () => {
    await sh('gateway', 'ip link add eth1 type dummy && ip link set eth1 up');
    const both = ['-e', '{"upstream_if": ["eth1", "wlan0"]}'];
    const r = await play('uplinks', 'nat-setup.yaml', both);
    expect(r.code, r.out + r.err).toBe(0);
    expect(await live()).toEqual(rulesFor('eth1', 'wlan0'));
    expect(await ours('cat /etc/iptables/rules.v4')).toEqual(rulesFor('eth1', 'wlan0'));
    await converged('uplinks', 'nat-setup.yaml', both);

    const one = ['-e', 'upstream_if=eth1'];
    const moved = await play('uplinks-one', 'nat-setup.yaml', one);
    expect(moved.code, moved.out + moved.err).toBe(0);
    expect(await live()).toEqual(rulesFor('eth1'));
    expect(await ours('cat /etc/iptables/rules.v4')).toEqual(rulesFor('eth1'));
    await converged('uplinks-one', 'nat-setup.yaml', one);
  }, 240_000);

  it('nat_persist=rules-file: the rule set in /etc/iptables.ipv4.nat, restored at boot by a unit', async () => {
    const args = ['-e', 'upstream_if=eth1,wlan0 nat_persist=rules-file'];
    const before = await probe('gateway', NAT_PROBES);
    const check = await play('rules-file-first-check', 'nat-setup.yaml', ['--check', ...args]);
    expect(check.code, check.out + check.err).toBe(0);
    expect(recap(check.out, 'gateway').changed, check.out).toBeGreaterThan(0);
    expect(await probe('gateway', NAT_PROBES)).toEqual(before);
    const r = await play('rules-file', 'nat-setup.yaml', args);
    expect(r.code, r.out + r.err).toBe(0);
    expect(await live()).toEqual(rulesFor('eth1', 'wlan0'));
    expect(await ours('cat /etc/iptables.ipv4.nat')).toEqual(rulesFor('eth1', 'wlan0'));
    expect(await sh('gateway', 'stat -c %a /etc/iptables.ipv4.nat')).toBe('600\n');
    expect((await sh('gateway', 'systemctl is-enabled iptables-nat-restore.service')).trim()).toBe('enabled');
    await converged('rules-file', 'nat-setup.yaml', args);
    // the unit restores the file: flush our rules, start it as at boot
    await sh('gateway', 'iptables -t nat -F POSTROUTING; iptables -F FORWARD');
    expect(await live()).toEqual([]);
    await sh('gateway', 'systemctl restart iptables-nat-restore.service');
    expect(await live()).toEqual(rulesFor('eth1', 'wlan0'));
  }, 240_000);

  it('dhcp-setup apt_upgrade=safe upgrades an outdated package (the default leaves it); a second run and --check change nothing', async () => {
    // tsplay-lab-hello 0.9 installed by hand; the lab's repository has 1.0
    await sh(
      'gateway',
      [
        'set -e; d=$(mktemp -d); mkdir -p $d/DEBIAN $d/usr/bin',
        "printf 'Package: tsplay-lab-hello\\nVersion: 0.9\\nArchitecture: all\\nMaintainer: lab <lab@example.invalid>\\nDescription: old\\n' > $d/DEBIAN/control",
        "printf '#!/bin/sh\\necho old\\n' > $d/usr/bin/tsplay-lab-hello; chmod 755 $d/usr/bin/tsplay-lab-hello",
        'dpkg-deb -b $d /tmp/old.deb >/dev/null && dpkg -i /tmp/old.deb >/dev/null',
        "echo 'deb [trusted=yes] http://10.213.0.254/debian ./' > /etc/apt/sources.list.d/lab.list",
        'apt-get -q update >/dev/null',
      ].join('\n'),
    );
    const version = () => sh('gateway', "dpkg-query -W -f '${Version}' tsplay-lab-hello");
    expect(await version()).toBe('0.9');
    expect(await sh('gateway', 'apt-get -s upgrade | grep ^Inst')).toContain('tsplay-lab-hello [0.9] (1.0');

    const plain = await play('upgrade-default', 'dhcp-setup.yaml');
    expect(plain.code, plain.out + plain.err).toBe(0);
    expect(recap(plain.out, 'gateway').changed, plain.out).toBe(0);
    expect(await version()).toBe('0.9');

    const safe = ['-e', 'apt_upgrade=safe'];
    const check = await play('upgrade-first-check', 'dhcp-setup.yaml', ['--check', ...safe]);
    expect(check.code, check.out + check.err).toBe(0);
    expect(recap(check.out, 'gateway').changed, check.out).toBe(1);
    expect(await version()).toBe('0.9');

    const r = await play('upgrade', 'dhcp-setup.yaml', safe);
    expect(r.code, r.out + r.err).toBe(0);
    expect(recap(r.out, 'gateway').changed, r.out).toBe(1);
    expect(await version()).toBe('1.0');
    expect(await sh('gateway', 'tsplay-lab-hello')).toBe('hello from the tsplay lab repository\n');

    for (const args of [safe, ['--check', ...safe]]) {
      const again = await play(`upgrade-again${args.length}`, 'dhcp-setup.yaml', args);
      expect(again.code, again.out + again.err).toBe(0);
      expect(recap(again.out, 'gateway').changed, again.out).toBe(0);
    }
    expect(await version()).toBe('1.0');
  }, 240_000);

  it('dhcp-setup stops on a wrong apt_upgrade before it changes anything', async () => {
    const r = await play('upgrade-bad', 'dhcp-setup.yaml', ['-e', 'apt_upgrade=everything']);
    expect(r.code, r.out + r.err).toBe(2);
    expect(r.out).toContain('apt_upgrade (everything) no, safe, full or dist');
    expect(recap(r.out, 'gateway')).toMatchObject({ changed: 0, failed: 1 });
  }, 60_000);

  // dnsmasq settings of the guides (item 4), all at once, in an inventory of their own:
  // node1 reserved by name (no mac) at another address, a NAS that is no node, gateway aliases,
  // query and DHCP logging, extra options, a netmask from the subnet, and the nodes' resolv.conf.
  const GUIDE_VARS = {
    dhcp_netmask: 'auto',
    dnsmasq_log_queries: true,
    dnsmasq_log_dhcp: true,
    dnsmasq_extra_options: ['dhcp-authoritative', 'cache-size=500'],
    dnsmasq_extra_hosts: [{ name: 'nas', mac: '02:00:00:00:00:09', ip: '10.213.1.9' }],
    gateway_aliases: 'cluster cache',
    nodes_resolv_via_gateway: true,
  };
  /** A copy of the lab's inventory with GUIDE_VARS; byName: node1 without mac, reserved at .21. */
  const guideInventory = (name: string, byName: boolean) => {
    const inv = join(dir, name);
    cpSync(dirname(lab.inventory), inv, { recursive: true });
    const hosts = readFileSync(join(inv, 'hosts.ini'), 'utf8');
    const edited = byName
      ? hosts.replace(/^(node1 .*?)ansible_host=\S+(.*?) mac=\S+ ip=\S+$/m, '$1ansible_host=10.213.1.21$2 ip=10.213.1.21')
      : hosts;
    if (byName) expect(edited).not.toBe(hosts);
    writeFileSync(join(inv, 'hosts.ini'), edited);
    // (the group cluster has the gateway and the nodes)
    writeFileSync(join(inv, 'group_vars', 'cluster.yml'), JSON.stringify(GUIDE_VARS));
    return join(inv, 'hosts.ini');
  };
  /** Power-cycle node1 and wait until it has `ip` (a lease from the gateway). */
  const cycleNode1 = async (ip: string) => {
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
      `node1 has ${ip}`,
      async () => (await sh('node1', 'ip -br -4 addr show eth0').catch(() => '')).includes(` ${ip}/24`),
      60_000,
    ).catch(async (e: unknown) => {
      throw new Error(
        `${String(e)}\n${await sh('gateway', 'cat /var/lib/misc/dnsmasq.leases; journalctl -u dnsmasq --no-pager | tail -n 20')}`,
      );
    });
  };

  it('dhcp-setup with a bad dnsmasq_extra_options line: dnsmasq --test refuses it, the old file stays, dnsmasq runs on', async () => {
    const before = await sh('gateway', 'cat /etc/dnsmasq.d/cluster.conf; systemctl show -p MainPID --value dnsmasq');
    const r = await play('dnsmasq-bad', 'dhcp-setup.yaml', ['-e', '{"dnsmasq_extra_options": ["no-such-option=1"]}']);
    expect(r.code, r.out + r.err).toBe(2);
    expect(r.out).toMatch(/failed to validate.*dnsmasq: bad option at line [0-9]+/);
    expect(await sh('gateway', 'cat /etc/dnsmasq.d/cluster.conf; systemctl show -p MainPID --value dnsmasq')).toBe(before);
    expect((await sh('gateway', 'systemctl is-active dnsmasq')).trim()).toBe('active');
  }, 120_000);

  it('dhcp-setup with the guides dnsmasq settings: node1 gets its address by name, the names resolve, the nodes ask the gateway', async () => {
    // node1 at its MAC reservation first (it may not have asked for a lease since dhcp-setup)
    if (!(await sh('node1', 'ip -br -4 addr show eth0')).includes(' 10.213.1.11/24')) await cycleNode1('10.213.1.11');
    // static lines of the by-hand guides on node1, which the setting removes (not the printer's)
    await sh('node1', "printf '10.213.1.1 gateway cluster\\n10.213.1.9 nas.cluster.lan\\n192.0.2.7 printer\\n' >> /etc/hosts");
    await sh('node1', "echo 'nameserver 192.0.2.53' >> /etc/resolv.conf");
    const hostsBefore = await sh('node1', 'cat /etc/hosts; cat /etc/resolv.conf');
    const confBefore = await sh('gateway', 'cat /etc/dnsmasq.d/cluster.conf /etc/hosts');
    try {
      inventory = guideInventory('inv-mac', false);
      const check = await play('guide-check', 'dhcp-setup.yaml', ['--check']);
      expect(check.code, check.out + check.err).toBe(0);
      expect(recap(check.out, 'node1').changed, check.out).toBeGreaterThanOrEqual(2);
      expect(await sh('node1', 'cat /etc/hosts; cat /etc/resolv.conf')).toBe(hostsBefore);
      expect(await sh('gateway', 'cat /etc/dnsmasq.d/cluster.conf /etc/hosts')).toBe(confBefore);

      const r = await play('guide', 'dhcp-setup.yaml');
      expect(r.code, r.out + r.err).toBe(0);
      expect(recap(r.out, 'node1').changed, r.out).toBe(recap(check.out, 'node1').changed);
      const conf = await sh('gateway', 'cat /etc/dnsmasq.d/cluster.conf');
      expect(conf).toContain('\ndhcp-range=10.213.1.100,10.213.1.200,255.255.255.0,12h\n');
      expect(conf).toContain('\nlog-queries\nlog-dhcp\n');
      expect(conf).toContain('\ndhcp-host=02:00:00:00:00:09,nas,10.213.1.9\n');
      expect(conf).toContain('\ndhcp-authoritative\ncache-size=500\n');
      expect(await sh('gateway', 'grep "^10.213.1.1\\s" /etc/hosts')).toBe('10.213.1.1\tgateway.cluster.lan gateway cluster cache\n');
      expect((await sh('gateway', 'systemctl is-active dnsmasq')).trim()).toBe('active');
      // node1 lost the static lines, kept its own, asks the gateway, which logs the query
      const hosts = await sh('node1', 'cat /etc/hosts');
      expect(hosts).not.toMatch(/^10\.213\.1\.(1|9)\s/m);
      expect(hosts).toMatch(/^192\.0\.2\.7 printer$/m); // not a cluster name: stays
      expect(hosts).toMatch(/^127\.0\.1\.1\s.*node1/m);
      expect(await sh('node1', 'grep "^nameserver\\|^search" /etc/resolv.conf')).toBe('search cluster.lan\nnameserver 10.213.1.1\n');
      expect((await sh('node1', 'getent hosts cache.cluster.lan')).trim().split(/\s+/)).toEqual(['10.213.1.1', 'cache.cluster.lan']);
      await waitUntil(
        'dnsmasq logged the query',
        async () => (await sh('gateway', 'journalctl -u dnsmasq --no-pager')).includes('query[A] cache.cluster.lan'),
        10_000,
      );

      // node1 reserved by name at another address: the gateway first (node1 is not at .21 yet),
      // then node1 asks for a lease again and gets the address reserved for its name
      inventory = guideInventory('inv-name', true);
      const byName = await play('guide-by-name', 'dhcp-setup.yaml', ['-l', 'gateway']);
      expect(byName.code, byName.out + byName.err).toBe(0);
      const conf2 = await sh('gateway', 'cat /etc/dnsmasq.d/cluster.conf');
      expect(conf2).toContain('\ndhcp-host=node1,10.213.1.21\n');
      expect(conf2).not.toContain(',node1,10.213.1.11');
      await cycleNode1('10.213.1.21');
      expect(await sh('gateway', 'cat /var/lib/misc/dnsmasq.leases')).toMatch(/ 10\.213\.1\.21 node1 /);

      // converged: a second run and --check change nothing, on the gateway and on node1
      for (const args of [[], ['--check']]) {
        // (the lab's known_hosts has node1's key for its address by MAC, not this one)
        const again = await play(`guide-again${args.length}`, 'dhcp-setup.yaml', args, { ANSIBLE_HOST_KEY_CHECKING: 'False' });
        expect(again.code, again.out + again.err).toBe(0);
        expect(recap(again.out, 'gateway').changed, again.out).toBe(0);
        expect(recap(again.out, 'node1').changed, again.out).toBe(0);
      }
    } finally {
      inventory = lab.inventory;
    }
  }, 300_000);
});
