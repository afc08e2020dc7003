// dhcp-setup's check of the host's network stack (playbooks/tasks/network-stack.yaml), run
// locally with stand-ins on PATH for nmcli, netplan, dhcpcd, ifup and systemctl, and a fake
// root for /etc/netplan and /etc/network: a host whose stack does not fit network_config stops
// with the value that fits (it used to be told "set network_config=dhcpcd" whatever it ran).
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, recap, tsplay } from './helpers.js';

const TASKS = resolve('playbooks/tasks/network-stack.yaml');

interface Host {
  /** nmcli's answer to `nmcli -t -f RUNNING general`; undefined: no nmcli. */
  nm?: 'running' | 'stopped';
  netplan?: boolean;
  dhcpcd?: 'running' | 'installed';
  ifup?: boolean;
  /** Files under the fake root (etc/netplan/..., etc/network/interfaces). */
  files?: Record<string, string>;
}

const playbook = (dir: string, networkConfig: string) => `- hosts: all
  gather_facts: false
  environment:
    PATH: "${dir}/bin"
  vars:
    gw_network_config: ${networkConfig}
    gw_if: eth0
    gw_ip: 10.0.0.1
    gw_prefix: "24"
    net_stack_root: ${dir}/root
  tasks:
    - include_tasks: ${TASKS}
    - debug: { msg: "stack {{ net_stack | join(' ') }}" }
`;

function host(h: Host, networkConfig = 'networkmanager'): string {
  const files: Record<string, string> = { hosts: 'gw ansible_connection=local\n' };
  for (const [p, text] of Object.entries(h.files ?? {})) files[`root/${p}`] = text;
  const dir = project(files);
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'root/etc'), { recursive: true });
  // the shell tools the probe uses, nothing else of the machine's
  for (const tool of ['sh', 'cat', 'grep', 'ls'])
    symlinkSync(
      execFileSync('sh', ['-c', `command -v ${tool}`])
        .toString()
        .trim(),
      join(dir, 'bin', tool),
    );
  const stub = (name: string, body: string) => {
    writeFileSync(join(dir, 'bin', name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, 'bin', name), 0o755);
  };
  if (h.nm === 'running') stub('nmcli', 'echo running');
  if (h.nm === 'stopped') stub('nmcli', 'echo "Error: NetworkManager is not running." >&2; exit 8');
  if (h.netplan) stub('netplan', 'exit 0');
  if (h.dhcpcd) stub('dhcpcd', 'echo dhcpcd 9.4.1');
  stub('systemctl', h.dhcpcd === 'running' ? '[ "$*" = "is-active -q dhcpcd" ]' : 'exit 3');
  if (h.ifup) stub('ifup', 'exit 0');
  writeFileSync(join(dir, 'site.yml'), playbook(dir, networkConfig));
  return dir;
}

const run = async (h: Host, networkConfig?: string) => {
  const dir = host(h, networkConfig);
  const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
  return { ...r, recap: recap(r.out, 'gw') };
};

const NETPLAN_UBUNTU = { 'etc/netplan/50-cloud-init.yaml': 'network:\n  version: 2\n  wifis:\n    wlan0:\n      dhcp4: true\n' };
const IFUPDOWN = { 'etc/network/interfaces': 'auto lo\niface lo inet loopback\n\nallow-hotplug eth0\niface eth0 inet dhcp\n' };

describe("dhcp-setup: the host's network stack fits network_config", () => {
  it('NetworkManager running: networkmanager goes on, and the stack is known to later tasks', async () => {
    const r = await run({ nm: 'running', netplan: true, files: NETPLAN_UBUNTU });
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.recap).toMatchObject({ changed: 0, failed: 0 });
    expect(r.out).toContain('stack networkmanager=running netplan=configured dhcpcd=absent ifupdown=absent');
  });

  it('Ubuntu Server (netplan, no NetworkManager): set network_config=netplan, not dhcpcd', async () => {
    const r = await run({ netplan: true, files: NETPLAN_UBUNTU });
    expect(r.code, r.out + r.err).toBe(2);
    expect(r.out).toContain('network_config is networkmanager, but NetworkManager is not running on gw');
    expect(r.out).toContain('configured by netplan (/etc/netplan/*.yaml): set network_config=netplan.');
    expect(r.out).not.toContain('network_config=dhcpcd');
    expect(r.recap).toMatchObject({ changed: 0, failed: 1 });
  });

  it('older Raspberry Pi OS (dhcpcd running): set network_config=dhcpcd', async () => {
    const r = await run({ dhcpcd: 'running', ifup: true, files: IFUPDOWN });
    expect(r.code).toBe(2);
    expect(r.out).toContain('dhcpcd=running');
    expect(r.out).toContain("this host's network is dhcpcd's (older Raspberry Pi OS, bullseye and before): set network_config=dhcpcd.");
  });

  it('NetworkManager installed but stopped, no other stack: start it', async () => {
    const r = await run({ nm: 'stopped' });
    expect(r.code).toBe(2);
    expect(r.out).toContain('(found: networkmanager=stopped, netplan=absent, dhcpcd=absent, ifupdown=absent)');
    expect(r.out).toContain('start NetworkManager (systemctl enable --now NetworkManager)');
    expect(r.out).not.toContain('set network_config=dhcpcd');
  });

  it('Debian with ifupdown only: the stanza to add by hand, or a stack to install', async () => {
    const r = await run({ ifup: true, files: IFUPDOWN });
    expect(r.code).toBe(2);
    expect(r.out).toContain('ifupdown=configured');
    expect(r.out).toContain("this host's network is ifupdown's (/etc/network/interfaces), which dhcp-setup does not write");
    expect(r.out).toContain('(auto eth0 / iface eth0 inet static / address 10.0.0.1/24)');
  });

  it('ifupdown with only the loopback, and nothing else: no stack known', async () => {
    const r = await run({ ifup: true, files: { 'etc/network/interfaces': 'auto lo\niface lo inet loopback\n' } });
    expect(r.code).toBe(2);
    expect(r.out).toContain('ifupdown=installed');
    expect(r.out).toContain('no network stack dhcp-setup knows was found: install NetworkManager (network_config=networkmanager)');
  });

  it('network_config=dhcpcd on a netplan host: dhcpcd is not installed, set network_config=netplan', async () => {
    const r = await run({ netplan: true, files: NETPLAN_UBUNTU }, 'dhcpcd');
    expect(r.code).toBe(2);
    expect(r.out).toContain('network_config is dhcpcd, but dhcpcd is not installed on gw');
    expect(r.out).toContain('set network_config=netplan.');
  });

  it('network_config=netplan on a NetworkManager host without netplan: set network_config=networkmanager', async () => {
    const r = await run({ nm: 'running' }, 'netplan');
    expect(r.code).toBe(2);
    expect(r.out).toContain('network_config is netplan, but netplan is not installed (no netplan command; Debian');
    expect(r.out).toContain('set network_config=networkmanager (the default).');
  });

  it('network_config=dhcpcd where dhcpcd is installed, netplan where netplan is: both go on', async () => {
    for (const [h, cfg] of [
      [{ dhcpcd: 'installed' }, 'dhcpcd'],
      [{ netplan: true }, 'netplan'],
    ] as const) {
      const r = await run(h, cfg);
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.recap).toMatchObject({ changed: 0, failed: 0 });
    }
  });
});
