// dhcp-setup's dnsmasq configuration (playbooks/templates/dnsmasq-cluster.conf.j2) rendered
// locally with the play's own variables (read from playbooks/dhcp-setup.yaml), by tsplay and, when
// installed, by ansible-playbook: the defaults give the file of before the guide variants
// (issue 20), and each setting adds its line. The lab test (test/lab/guide-variants.test.ts)
// checks the same file with dnsmasq itself.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { hasAnsible } from '../ansible.js';
import { project, tsplay } from './helpers.js';

const PLAYBOOK = resolve('playbooks/dhcp-setup.yaml');
const TEMPLATE = resolve('playbooks/templates/dnsmasq-cluster.conf.j2');
const HOSTS = `[gateways]
gw ansible_connection=local
[nodes]
node1 ip=10.0.0.11 mac=DC:A6:32:00:00:01
node2 ansible_host=10.0.0.12 mac=dc:a6:32:00:00:02
`;

/** A play with dhcp-setup's variables that renders the template and the gateway's hosts line. */
function site(dir: string): string {
  const vars = (parse(readFileSync(PLAYBOOK, 'utf8')) as { vars: Record<string, unknown> }[])[0]!.vars;
  return stringify([
    {
      hosts: 'gateways',
      gather_facts: false,
      vars,
      tasks: [
        { name: 'render', template: { src: TEMPLATE, dest: `${dir}/cluster.conf` } },
        {
          name: 'hosts line',
          copy: {
            dest: `${dir}/hosts-line`,
            content: "{{ ([gw_ip ~ '\t' ~ gw_name ~ '.' ~ gw_domain, gw_name] + gw_aliases) | join(' ') }}",
          },
        },
      ],
    },
  ]);
}

async function render(
  extra: Record<string, unknown>,
): Promise<{ conf: string; hostsLine: string; ansible?: { conf: string; hostsLine: string } }> {
  const dir = project({ hosts: HOSTS });
  const write = (name: string) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(`${d}/site.yml`, site(d));
    return d;
  };
  const t = write('t');
  const r = await tsplay(dir, ['run', `${t}/site.yml`, '-i', 'hosts', '-e', JSON.stringify(extra)]);
  expect(r.code, r.out + r.err).toBe(0);
  const read = (d: string) => ({ conf: readFileSync(`${d}/cluster.conf`, 'utf8'), hostsLine: readFileSync(`${d}/hosts-line`, 'utf8') });
  const out: { conf: string; hostsLine: string; ansible?: { conf: string; hostsLine: string } } = read(t);
  if (hasAnsible) {
    const a = write('a');
    const run = spawnSync('ansible-playbook', ['-i', 'hosts', `${a}/site.yml`, '-e', JSON.stringify(extra)], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    out.ansible = read(a);
  }
  return out;
}

// The file dhcp-setup wrote before the guide variants, for this inventory.
const BEFORE = `# Managed by tsplay (playbooks/dhcp-setup.yaml): change the inventory, not this file.
# DHCP and DNS for the cluster network 10.0.0.0/24 on eth0.
interface=eth0
listen-address=127.0.0.1,10.0.0.1
dhcp-range=10.0.0.100,10.0.0.200,12h
dhcp-option=option:router,10.0.0.1
dhcp-option=option:dns-server,10.0.0.1
domain=cluster.lan
local=/cluster.lan/
expand-hosts
# answer a name of /etc/hosts with its address on the cluster network (not 127.0.1.1)
localise-queries
no-resolv
server=1.1.1.1
server=8.8.8.8
domain-needed
bogus-priv

# One reservation per node of the inventory: MAC, name, address.
dhcp-host=dc:a6:32:00:00:01,node1,10.0.0.11
dhcp-host=dc:a6:32:00:00:02,node2,10.0.0.12
`;

describe('dhcp-setup: dnsmasq configuration', () => {
  it('the defaults render the configuration of before, and the gateway line of before', async () => {
    const r = await render({});
    expect(r.conf).toBe(BEFORE);
    expect(r.hostsLine).toBe('10.0.0.1\tgw.cluster.lan gw');
    if (r.ansible) expect(r.ansible).toEqual({ conf: r.conf, hostsLine: r.hostsLine });
  }, 60_000);

  it('each guide setting adds its line: netmask, logging, extra hosts and options, reservation by name, gateway aliases', async () => {
    const r = await render({
      dhcp_netmask: 'auto',
      cluster_subnet: '10.0.0.0/16',
      dnsmasq_log_queries: true,
      dnsmasq_log_dhcp: 'yes',
      dnsmasq_extra_hosts: [
        { name: 'nas', mac: 'AA:BB:CC:00:00:09', ip: '10.0.0.9' },
        { name: 'printer', ip: '10.0.0.8' },
      ],
      dnsmasq_extra_options: ['dhcp-authoritative', 'cache-size=1000'],
      gateway_aliases: 'cluster cache',
    });
    expect(r.conf).toContain('\ndhcp-range=10.0.0.100,10.0.0.200,255.255.0.0,12h\n');
    expect(r.conf).toContain('\nbogus-priv\nlog-queries\nlog-dhcp\n');
    expect(
      r.conf.endsWith(
        'dhcp-host=dc:a6:32:00:00:02,node2,10.0.0.12\n' +
          '# Other hosts of the cluster network (dnsmasq_extra_hosts).\n' +
          'dhcp-host=aa:bb:cc:00:00:09,nas,10.0.0.9\n' +
          'dhcp-host=printer,10.0.0.8\n' +
          '# dnsmasq_extra_options\n' +
          'dhcp-authoritative\n' +
          'cache-size=1000\n',
      ),
      r.conf,
    ).toBe(true);
    expect(r.hostsLine).toBe('10.0.0.1\tgw.cluster.lan gw cluster cache');
    if (r.ansible) expect(r.ansible).toEqual({ conf: r.conf, hostsLine: r.hostsLine });

    const explicit = await render({ dhcp_netmask: '255.255.255.0', gateway_aliases: ['cluster'] });
    expect(explicit.conf).toContain('\ndhcp-range=10.0.0.100,10.0.0.200,255.255.255.0,12h\n');
    expect(explicit.hostsLine).toBe('10.0.0.1\tgw.cluster.lan gw cluster');
    if (explicit.ansible) expect(explicit.ansible).toEqual({ conf: explicit.conf, hostsLine: explicit.hostsLine });
  }, 60_000);
});
