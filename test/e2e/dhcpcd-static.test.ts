// The dhcpcd way of dhcp-setup (network_config=dhcpcd, for gateways without NetworkManager):
// the shipped tasks file run locally against a copy of a Raspberry Pi OS dhcpcd.conf, with a
// stand-in dhcpcd on PATH and a handler that records the restart. The lab has no dhcpcd host,
// so this is where the block's placement and idempotence are checked.
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, recap, tsplay } from './helpers.js';

const TASKS = resolve('playbooks/tasks/dhcpcd-static.yaml');
const PI_OS = `# A sample configuration for dhcpcd.
hostname
clientid
persistent
option rapid_commit
# Example static IP configuration:
#interface eth0
#static ip_address=192.168.0.10/24
slaac private
`;

const playbook = (dir: string) => `- hosts: all
  gather_facts: false
  environment:
    PATH: "${dir}/bin:/usr/bin:/bin"
  vars:
    gw_if: eth0
    gw_ip: 10.0.0.1
    gw_prefix: "24"
    dhcpcd_conf: ${dir}/dhcpcd.conf
  tasks:
    - include_tasks: ${TASKS}
  handlers:
    - name: restart dhcpcd
      shell: echo restarted >> ${dir}/restarts
`;

function setup(conf: string): string {
  const dir = project({ hosts: 'gw ansible_connection=local\n', 'bin/dhcpcd': '#!/bin/sh\necho dhcpcd 9.4.1\n', 'dhcpcd.conf': conf });
  chmodSync(join(dir, 'bin/dhcpcd'), 0o755);
  writeFileSync(join(dir, 'site.yml'), playbook(dir));
  return dir;
}

describe('dhcp-setup with network_config=dhcpcd', () => {
  it('appends the static block to a stock dhcpcd.conf, restarts dhcpcd once, then changes nothing', async () => {
    const dir = setup(PI_OS);
    const check = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--check']);
    expect(check.code, check.out + check.err).toBe(0);
    expect(recap(check.out, 'gw').changed).toBe(2);
    expect(readFileSync(join(dir, 'dhcpcd.conf'), 'utf8')).toBe(PI_OS);
    expect(existsSync(join(dir, 'restarts'))).toBe(false);

    const first = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(first.code, first.out + first.err).toBe(0);
    expect(recap(first.out, 'gw')).toMatchObject({ changed: 3, failed: 0 });
    expect(readFileSync(join(dir, 'dhcpcd.conf'), 'utf8')).toBe(`${PI_OS}interface eth0\nstatic ip_address=10.0.0.1/24\n`);
    expect(readFileSync(join(dir, 'restarts'), 'utf8')).toBe('restarted\n');

    rmSync(join(dir, 'restarts'));
    const second = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(recap(second.out, 'gw')).toMatchObject({ changed: 0, failed: 0 });
    expect(existsSync(join(dir, 'restarts'))).toBe(false);
  });

  it('puts the address under an interface line that is already there', async () => {
    const dir = setup(`${PI_OS}interface eth0\nnohook wpa_supplicant\n\ninterface wlan0\n`);
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(readFileSync(join(dir, 'dhcpcd.conf'), 'utf8')).toBe(
      `${PI_OS}interface eth0\nstatic ip_address=10.0.0.1/24\nnohook wpa_supplicant\n\ninterface wlan0\n`,
    );
  });

  it('fails clearly when dhcpcd is not installed', async () => {
    const dir = setup(PI_OS);
    rmSync(join(dir, 'bin/dhcpcd'));
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('network_config is dhcpcd, but dhcpcd is not installed on gw');
    expect(readFileSync(join(dir, 'dhcpcd.conf'), 'utf8')).toBe(PI_OS);
  });
});
