// dhcp-setup with dhcp_server=isc-dhcp-server (issue 20) on a booted lab (gateway + 2 nodes):
// --check on the fresh lab changes nothing; the run installs isc-dhcp-server, writes
// /etc/dhcp/dhcpd.conf (checked with `dhcpd -t`) and leaves dnsmasq as the name server only; the
// nodes, power-cycled, get their reserved addresses from dhcpd (its journal shows the DHCPACK) and
// resolve each other through the gateway; a second run and --check change nothing; a broken DHCP
// range is refused by `dhcpd -t` and the old file stays; back to dnsmasq, isc-dhcp-server is
// stopped and disabled and dnsmasq answers DHCP again.
// Needs root on Linux; runs only with TSPLAY_LAB_TESTS=1, under `flock /tmp/tsplay-lab.lock`.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labStatus, labUp, type LabInfo } from '../../lab/lab.js';
import { project, recap, tsplay } from '../e2e/helpers.js';
import { probe, sh, waitUntil } from './helpers.js';

const enabled = process.env.TSPLAY_LAB_TESTS === '1';
const PLAYBOOKS = resolve('playbooks');
const ISC = ['-e', 'dhcp_server=isc-dhcp-server'];

// What dhcp-setup could touch on the gateway, one labelled block per probe.
const PROBES = [
  "dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' isc-dhcp-server dnsmasq 2>&1",
  'ls -l --time-style=+%s /etc/dhcp /etc/dnsmasq.d /etc/default 2>&1',
  'cat /etc/dhcp/dhcpd.conf /etc/default/isc-dhcp-server /etc/dnsmasq.d/cluster.conf /etc/hosts 2>&1',
  'systemctl is-active isc-dhcp-server dnsmasq 2>&1; systemctl is-enabled isc-dhcp-server dnsmasq 2>&1',
  'pidof dhcpd; systemctl show -p MainPID --value dnsmasq',
  'ip -br -4 addr',
];

describe.skipIf(!enabled)('dhcp-setup with isc-dhcp-server on the lab', () => {
  let lab: LabInfo;
  let dir: string;
  let nodes: { name: string; ip: string; mac: string }[];
  const timings: Record<string, number> = {};

  const play = async (label: string, extra: string[] = []) => {
    const t = Date.now();
    const r = await tsplay(dir, ['run', `${PLAYBOOKS}/dhcp-setup.yaml`, '-i', lab.inventory, ...extra]);
    timings[label] = Date.now() - t;
    return r;
  };
  const hasLease = async (n: { name: string; ip: string }) =>
    (await sh(n.name, 'ip -br -4 addr show eth0').catch(() => '')).includes(` ${n.ip}/24`);
  /** Power-cycle the nodes (they ask for a lease at once) and wait for their reserved addresses. */
  const powerCycle = async (server: string) => {
    const boots = Object.fromEntries((await labStatus()).hosts.map((h) => [h.name, h.boots]));
    for (const n of nodes) await sh(n.name, 'systemctl reboot');
    await waitUntil(
      'the nodes running again',
      async () => {
        const hosts = (await labStatus()).hosts;
        return nodes.every((n) => {
          const h = hosts.find((x) => x.name === n.name);
          return h?.power === 'on' && h.system === 'running' && h.boots > boots[n.name]!;
        });
      },
      90_000,
    );
    for (const n of nodes) {
      await waitUntil(`${n.name} has ${n.ip}`, () => hasLease(n), 60_000).catch(async (e: unknown) => {
        throw new Error(
          `${String(e)}\n${await sh('gateway', `systemctl status --no-pager ${server}; journalctl --no-pager | tail -n 30`)}`,
        );
      });
    }
  };

  beforeAll(async () => {
    await labDown();
    lab = await labUp({ nodes: 2 }, () => {});
    if (!lab.aptProxy) throw new Error('this test installs isc-dhcp-server on the gateway: it needs the lab apt proxy (apt-cacher-ng)');
    nodes = lab.hosts.filter((h) => h.role === 'node').map((h) => ({ name: h.name, ip: h.address, mac: h.links[0]!.mac }));
    dir = project({});
  }, 10 * 60_000);

  afterAll(async () => {
    process.stderr.write(`dhcp-isc timings (ms): ${JSON.stringify(timings)}\n`);
    await labDown();
  }, 120_000);

  it('--check on the fresh lab reports the changes and changes nothing (isc-dhcp-server not installed yet)', async () => {
    const before = await probe('gateway', PROBES);
    const check = await play('check-fresh', ['--check', ...ISC]);
    expect(check.code, check.out + check.err).toBe(0);
    expect(check.out).toMatch(/TASK \[Install isc-dhcp-server\][^\n]*\nchanged: \[gateway\]/);
    expect(check.out).toMatch(/TASK \[isc-dhcp-server's configuration for the cluster\][^\n]*\nchanged: \[gateway\]/);
    expect(await probe('gateway', PROBES)).toEqual(before);
    expect(before[PROBES[0]!]).not.toContain('isc-dhcp-server ii');
  }, 180_000);

  it('the run: dhcpd serves the reservations, dnsmasq only names; the nodes get their addresses from dhcpd and resolve each other', async () => {
    const r = await play('isc', ISC);
    expect(r.code, r.out + r.err).toBe(0);
    expect(recap(r.out, 'gateway').failed).toBe(0);

    expect(await sh('gateway', "dpkg-query -W -f '${db:Status-Abbrev}' isc-dhcp-server")).toBe('ii ');
    const conf = await sh('gateway', 'cat /etc/dhcp/dhcpd.conf');
    expect(conf).toContain(
      '\nsubnet 10.213.1.0 netmask 255.255.255.0 {\n  range 10.213.1.100 10.213.1.200;\n  option routers 10.213.1.1;\n}\n',
    );
    expect(conf).toContain('\noption domain-name-servers 10.213.1.1;\n');
    expect(conf).toContain('\ndefault-lease-time 43200;\n');
    for (const n of nodes)
      expect(conf).toContain(
        `\nhost ${n.name} {\n  hardware ethernet ${n.mac};\n  fixed-address ${n.ip};\n  option host-name "${n.name}";\n}\n`,
      );
    expect(await sh('gateway', 'dhcpd -t -cf /etc/dhcp/dhcpd.conf >/dev/null 2>&1; echo $?')).toBe('0\n');
    expect(await sh('gateway', 'grep ^INTERFACESv4= /etc/default/isc-dhcp-server')).toBe('INTERFACESv4="eth0"\n');
    expect(await sh('gateway', 'systemctl is-active isc-dhcp-server dnsmasq')).toBe('active\nactive\n');
    expect((await sh('gateway', 'systemctl is-enabled isc-dhcp-server')).trim()).toBe('enabled');
    // dnsmasq: no DHCP left, the reservations' names as host records; port 67 is dhcpd's alone
    const dnsmasq = await sh('gateway', 'cat /etc/dnsmasq.d/cluster.conf');
    expect(dnsmasq).not.toMatch(/^dhcp-/m);
    expect(dnsmasq).toContain('\nno-dhcp-interface=eth0\n');
    for (const n of nodes) expect(dnsmasq).toContain(`\nhost-record=${n.name}.cluster.lan,${n.name},${n.ip}\n`);
    const port67 = (await sh('gateway', "ss -H -lunp 'sport = :67'")).trim().split('\n');
    expect(port67.length, port67.join('\n')).toBeGreaterThan(0);
    for (const l of port67) expect(l).toContain('"dhcpd"');

    await powerCycle('isc-dhcp-server');
    const journal = await sh('gateway', 'journalctl --no-pager -t dhcpd');
    for (const n of nodes) {
      expect(journal).toMatch(new RegExp(`DHCPACK on ${n.ip.replace(/\./g, '\\.')} to ${n.mac} .*via eth0`));
      expect(await sh('gateway', `ping -c 1 -W 2 ${n.ip} >/dev/null && echo up`)).toBe('up\n');
      // dnsmasq (the DNS server dhcpd hands out) answers the other node's name
      const other = nodes.find((o) => o !== n)!;
      await sh(n.name, 'printf "search cluster.lan\\nnameserver 10.213.1.1\\n" > /etc/resolv.conf');
      expect((await sh(n.name, `getent hosts ${other.name}`)).trim().split(/\s+/)).toEqual([other.ip, `${other.name}.cluster.lan`]);
    }
    // the nodes' DHCP client has its lease from the gateway, with dhcpd's options; dnsmasq gave none
    for (const n of nodes) {
      const lease = await sh(n.name, 'nmcli -t -f DHCP4 device show eth0');
      for (const option of [
        'dhcp_server_identifier = 10.213.1.1',
        `ip_address = ${n.ip}`,
        'routers = 10.213.1.1',
        'domain_name = cluster.lan',
      ])
        expect(lease, lease).toContain(option);
    }
    expect(await sh('gateway', 'cat /var/lib/misc/dnsmasq.leases 2>/dev/null')).toBe('');
  }, 300_000);

  it('a second run and --check change nothing', async () => {
    const again = await play('isc-second', ISC);
    expect(again.code, again.out + again.err).toBe(0);
    expect(recap(again.out, 'gateway').changed, again.out).toBe(0);
    const before = await probe('gateway', PROBES);
    const check = await play('isc-check', ['--check', ...ISC]);
    expect(check.code, check.out + check.err).toBe(0);
    expect(recap(check.out, 'gateway').changed, check.out).toBe(0);
    expect(await probe('gateway', PROBES)).toEqual(before);
  }, 180_000);

  it('a broken DHCP range: dhcpd -t refuses the file, the old dhcpd.conf stays, dhcpd and dnsmasq run on', async () => {
    const before = await probe('gateway', PROBES);
    const r = await play('isc-bad', [...ISC, '-e', 'dhcp_range_end=10.213.2.200']);
    expect(r.code, r.out + r.err).toBe(2);
    expect(r.out).toMatch(/failed to validate/);
    expect(r.out).toContain('10.213.2.200');
    expect(recap(r.out, 'gateway')).toMatchObject({ changed: 0, failed: 1 });
    expect(await probe('gateway', PROBES)).toEqual(before);
    expect(await sh('gateway', 'systemctl is-active isc-dhcp-server dnsmasq')).toBe('active\nactive\n');
  }, 120_000);

  it('back to dnsmasq: isc-dhcp-server stopped and disabled, dnsmasq answers DHCP again', async () => {
    const r = await play('back');
    expect(r.code, r.out + r.err).toBe(0);
    expect(await sh('gateway', 'systemctl is-active isc-dhcp-server; systemctl is-enabled isc-dhcp-server')).toBe('inactive\ndisabled\n');
    expect((await sh('gateway', 'systemctl is-active dnsmasq')).trim()).toBe('active');
    expect(await sh('gateway', 'cat /etc/dnsmasq.d/cluster.conf')).toContain('\ndhcp-range=10.213.1.100,10.213.1.200,12h\n');
    await powerCycle('dnsmasq');
    const leases = await sh('gateway', 'cat /var/lib/misc/dnsmasq.leases');
    for (const n of nodes) expect(leases).toMatch(new RegExp(` ${n.mac} ${n.ip.replace(/\./g, '\\.')} ${n.name} `));
    for (const args of [[], ['--check']]) {
      const again = await play(`back-again${args.length}`, args);
      expect(again.code, again.out + again.err).toBe(0);
      expect(recap(again.out, 'gateway').changed, again.out).toBe(0);
    }
  }, 300_000);
});
