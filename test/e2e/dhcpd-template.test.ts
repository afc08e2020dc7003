// dhcp-setup with dhcp_server=isc-dhcp-server (issue 20): isc-dhcp-server's file
// (playbooks/templates/dhcpd-cluster.conf.j2) and dnsmasq's DNS-only file rendered locally with the
// play's own variables (read from playbooks/dhcp-setup.yaml), by tsplay and, when installed, by
// ansible-playbook; and the settings check that stops the playbook before it touches the host.
// The lab test (test/lab/dhcp-isc.test.ts) runs the playbook with dhcpd itself.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { hasAnsible } from '../ansible.js';
import { project, recap, tsplay } from './helpers.js';

const PLAYBOOK = resolve('playbooks/dhcp-setup.yaml');
const TEMPLATES = resolve('playbooks/templates');
const HOSTS = `[gateways]
gw ansible_connection=local
[nodes]
node1 ip=10.0.0.11 mac=DC:A6:32:00:00:01
node2 ansible_host=10.0.0.12 mac=dc:a6:32:00:00:02
`;

/** Both files rendered with dhcp-setup's variables and EXTRA, by tsplay (and by Ansible). */
async function render(
  extra: Record<string, unknown>,
): Promise<{ dhcpd: string; dnsmasq: string; ansible?: { dhcpd: string; dnsmasq: string } }> {
  const vars = (parse(readFileSync(PLAYBOOK, 'utf8')) as { vars: Record<string, unknown> }[])[0]!.vars;
  const dir = project({ hosts: HOSTS });
  const run = (name: string, cmd: (site: string) => Promise<{ code: number; out: string }>) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    const site = stringify([
      {
        hosts: 'gateways',
        gather_facts: false,
        vars,
        tasks: [
          { template: { src: `${TEMPLATES}/dhcpd-cluster.conf.j2`, dest: `${d}/dhcpd.conf` } },
          { template: { src: `${TEMPLATES}/dnsmasq-cluster.conf.j2`, dest: `${d}/dnsmasq.conf` } },
        ],
      },
    ]);
    writeFileSync(`${d}/site.yml`, site);
    return cmd(`${d}/site.yml`).then((r) => {
      expect(r.code, r.out).toBe(0);
      return { dhcpd: readFileSync(`${d}/dhcpd.conf`, 'utf8'), dnsmasq: readFileSync(`${d}/dnsmasq.conf`, 'utf8') };
    });
  };
  const e = JSON.stringify({ dhcp_server: 'isc-dhcp-server', ...extra });
  const ours = await run('t', async (site) => {
    const r = await tsplay(dir, ['run', site, '-i', 'hosts', '-e', e]);
    return { code: r.code, out: r.out + r.err };
  });
  if (!hasAnsible) return ours;
  const theirs = await run('a', (site) => {
    const r = spawnSync('ansible-playbook', ['-i', 'hosts', site, '-e', e], { cwd: dir, encoding: 'utf8' });
    return Promise.resolve({ code: r.status ?? -1, out: r.stdout + r.stderr });
  });
  return { ...ours, ansible: theirs };
}

const DHCPD = `# Managed by tsplay (playbooks/dhcp-setup.yaml, dhcp_server=isc-dhcp-server): change the
# inventory, not this file. DHCP for the cluster network 10.0.0.0/24 on eth0;
# names (DNS) are dnsmasq's, on the gateway.
authoritative;
default-lease-time 43200;
max-lease-time 43200;
option domain-name "cluster.lan";
option domain-name-servers 10.0.0.1;

subnet 10.0.0.0 netmask 255.255.255.0 {
  range 10.0.0.100 10.0.0.200;
  option routers 10.0.0.1;
}

# One reservation per node of the inventory: MAC, address, name.
host node1 {
  hardware ethernet dc:a6:32:00:00:01;
  fixed-address 10.0.0.11;
  option host-name "node1";
}
host node2 {
  hardware ethernet dc:a6:32:00:00:02;
  fixed-address 10.0.0.12;
  option host-name "node2";
}
`;

describe('dhcp-setup: isc-dhcp-server configuration', () => {
  it('the defaults: subnet, pool, router, the gateway as name server, one host block per node; dnsmasq names only', async () => {
    const r = await render({});
    expect(r.dhcpd).toBe(DHCPD);
    expect(r.dnsmasq).not.toMatch(/^dhcp-/m);
    expect(r.dnsmasq).toContain(
      '\n# DNS only: isc-dhcp-server answers DHCP (dhcp_server=isc-dhcp-server)\nno-dhcp-interface=eth0\ndomain=cluster.lan\n',
    );
    expect(
      r.dnsmasq.endsWith(
        "\n# The names of the nodes and other hosts (their reservations are in isc-dhcp-server's file).\n" +
          'host-record=node1.cluster.lan,node1,10.0.0.11\nhost-record=node2.cluster.lan,node2,10.0.0.12\n',
      ),
      r.dnsmasq,
    ).toBe(true);
    if (r.ansible) expect(r.ansible).toEqual({ dhcpd: r.dhcpd, dnsmasq: r.dnsmasq });
  }, 60_000);

  it('settings: another subnet and pool, lease times in dnsmasq units, extra hosts and lines', async () => {
    const r = await render({
      cluster_subnet: '10.1.0.0/16',
      cluster_gateway_ip: '10.1.0.1',
      dhcp_range_start: '10.1.5.1',
      dhcp_range_end: '10.1.5.99',
      dhcp_lease_time: '45m',
      dnsmasq_log_dhcp: true,
      dnsmasq_extra_hosts: [{ name: 'nas', mac: 'AA:BB:CC:00:00:09', ip: '10.1.0.9' }],
      dhcpd_extra_options: ['ddns-update-style none;'],
    });
    expect(r.dhcpd).toContain('\ndefault-lease-time 2700;\nmax-lease-time 2700;\n');
    expect(r.dhcpd).toContain('\nsubnet 10.1.0.0 netmask 255.255.0.0 {\n  range 10.1.5.1 10.1.5.99;\n  option routers 10.1.0.1;\n}\n');
    expect(
      r.dhcpd.endsWith(
        '# Other hosts of the cluster network (dnsmasq_extra_hosts).\n' +
          'host nas {\n  hardware ethernet aa:bb:cc:00:00:09;\n  fixed-address 10.1.0.9;\n  option host-name "nas";\n}\n' +
          '# dhcpd_extra_options\nddns-update-style none;\n',
      ),
      r.dhcpd,
    ).toBe(true);
    expect(r.dnsmasq).toContain('\nhost-record=nas.cluster.lan,nas,10.1.0.9\n');
    expect(r.dnsmasq).not.toContain('log-dhcp');
    if (r.ansible) expect(r.ansible).toEqual({ dhcpd: r.dhcpd, dnsmasq: r.dnsmasq });

    for (const [lease, seconds] of [
      ['2d', '172800'],
      ['infinite', '4294967295'],
      ['12x', '12x'], // not a lease time: written as is, and dhcpd -t refuses it
    ]) {
      const t = await render({ dhcp_lease_time: lease });
      expect(t.dhcpd).toContain(`\ndefault-lease-time ${seconds};\n`);
      if (t.ansible) expect(t.ansible.dhcpd).toBe(t.dhcpd);
    }
  }, 120_000);

  it('the playbook stops before it touches the host: an unknown dhcp_server, a reservation without mac for isc-dhcp-server', async () => {
    for (const [hosts, extra, message] of [
      [HOSTS, { dhcp_server: 'kea' }, 'dhcp_server (kea) must be dnsmasq or isc-dhcp-server'],
      [HOSTS.replace(' mac=DC:A6:32:00:00:01', ''), { dhcp_server: 'isc-dhcp-server' }, 'a mac for every reserved host (without: node1)'],
      [
        HOSTS,
        { dhcp_server: 'isc-dhcp-server', dnsmasq_extra_hosts: [{ name: 'printer', ip: '10.0.0.8' }] },
        'a mac for every reserved host (without: printer)',
      ],
      [HOSTS, { dhcp_server: 'isc-dhcp-server', cluster_subnet: '10.0.0.0/31' }, "cluster_subnet's prefix 8..30"],
    ] as const) {
      const dir = project({ hosts });
      const r = await tsplay(dir, ['run', PLAYBOOK, '-i', 'hosts', '-e', JSON.stringify(extra)]);
      expect(r.code, r.out + r.err).toBe(2);
      expect(r.out).toContain(message);
      expect(r.out).toContain('TASK [Check dhcp_server]');
      expect(recap(r.out, 'gw')).toMatchObject({ changed: 0, failed: 1 });
    }
  }, 120_000);
});
