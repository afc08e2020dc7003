// The netplan way of dhcp-setup (network_config=netplan): the shipped tasks file run locally
// against a directory standing in for /etc/netplan, with a stand-in `netplan` on PATH that checks
// what `netplan generate --root-dir` is given and records each `netplan apply` with the file it
// applied. The rollback guard and the real netplan are tested on the lab (test/lab/netplan.test.ts);
// here the guard is off (netplan_safe_network=false): it would snapshot this machine.
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, recap, tsplay } from './helpers.js';

const TASKS = resolve('playbooks/tasks/netplan-static.yaml');
const TEMPLATES = resolve('playbooks/templates');

// generate: fails on a file with "bad-address" (netplan refuses it), records what the staged
// root held; apply: records the live file, fails when it says FAIL-APPLY.
const NETPLAN = (dir: string) => `#!/bin/sh
case "$1" in
generate)
  [ "$2" = --root-dir ] || exit 64
  ls "$3/etc/netplan" > ${dir}/generated
  if grep -q bad-address "$3"/etc/netplan/*.yaml; then echo "Error in network definition: invalid address" >&2; exit 1; fi ;;
apply)
  { echo apply; cat ${dir}/netplan/60-tsplay-cluster.yaml 2>/dev/null | grep -A1 addresses: | tail -n 1; } >> ${dir}/applies
  if grep -q FAIL-APPLY ${dir}/netplan/60-tsplay-cluster.yaml 2>/dev/null; then echo "udevadm failed" >&2; exit 1; fi ;;
*) exit 64 ;;
esac
`;

const playbook = (dir: string) => `- hosts: all
  gather_facts: false
  environment:
    PATH: "${dir}/bin:/usr/bin:/bin:/usr/sbin:/sbin"
  vars:
    gw_if: eth0
    gw_prefix: "24"
    netplan_safe_network: false
    np_file: ${dir}/netplan/60-tsplay-cluster.yaml
    np_staging_dir: ${dir}/staging
    np_staged: ${dir}/staging/60-tsplay-cluster.yaml
  tasks:
    - include_tasks: ${TASKS}
`;

const UBUNTU =
  'network:\n  version: 2\n  wifis:\n    wlan0:\n      dhcp4: true\n      access-points:\n        "home": {password: "secret12"}\n';

function setup(): string {
  const dir = project({ hosts: 'gw ansible_connection=local\n', 'netplan/50-cloud-init.yaml': UBUNTU });
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin/netplan'), NETPLAN(dir));
  chmodSync(join(dir, 'bin/netplan'), 0o755);
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'templates/netplan-cluster.yaml.j2'), readFileSync(join(TEMPLATES, 'netplan-cluster.yaml.j2')));
  writeFileSync(join(dir, 'site.yml'), playbook(dir));
  return dir;
}

const run = (dir: string, ...args: string[]) => tsplay(dir, ['run', 'site.yml', '-i', 'hosts', ...args]);
const live = (dir: string) => readFileSync(join(dir, 'netplan/60-tsplay-cluster.yaml'), 'utf8');
const applies = (dir: string) => (existsSync(join(dir, 'applies')) ? readFileSync(join(dir, 'applies'), 'utf8') : '');

describe('dhcp-setup with network_config=netplan', () => {
  it('stages the file, checks it with the other files, puts it in place (0600) and applies it once; then changes nothing', async () => {
    const dir = setup();
    const check = await run(dir, '--check', '-e', 'gw_ip=10.0.0.1');
    expect(check.code, check.out + check.err).toBe(0);
    expect(recap(check.out, 'gw').changed).toBeGreaterThanOrEqual(2);
    expect(existsSync(join(dir, 'netplan/60-tsplay-cluster.yaml'))).toBe(false);
    expect(applies(dir)).toBe('');

    const first = await run(dir, '-e', 'gw_ip=10.0.0.1');
    expect(first.code, first.out + first.err).toBe(0);
    expect(recap(first.out, 'gw')).toMatchObject({ changed: 3, failed: 0 });
    const text = live(dir);
    expect(text).toContain(
      'network:\n  version: 2\n  ethernets:\n    eth0:\n      renderer: networkd\n      dhcp4: false\n      addresses:\n        - 10.0.0.1/24\n',
    );
    expect(text).not.toContain('wifis');
    // no top-level renderer: it would move the uplink of the other file too
    expect(text).not.toMatch(/^ {2}renderer:/m);
    expect(statSync(join(dir, 'netplan/60-tsplay-cluster.yaml')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'generated'), 'utf8')).toBe('50-cloud-init.yaml\n60-tsplay-cluster.yaml\n');
    expect(applies(dir)).toBe('apply\n        - 10.0.0.1/24\n');
    expect(readdirSync(join(dir, 'netplan')).sort()).toEqual(['50-cloud-init.yaml', '60-tsplay-cluster.yaml']);
    expect(readFileSync(join(dir, 'netplan/50-cloud-init.yaml'), 'utf8')).toBe(UBUNTU);

    for (const args of [[], ['--check']]) {
      const again = await run(dir, '-e', 'gw_ip=10.0.0.1', ...args);
      expect(again.code, again.out + again.err).toBe(0);
      expect(recap(again.out, 'gw').changed, again.out).toBe(0);
    }
    expect(applies(dir)).toBe('apply\n        - 10.0.0.1/24\n');

    // a new address: written and applied again
    const moved = await run(dir, '-e', 'gw_ip=10.0.0.254');
    expect(recap(moved.out, 'gw')).toMatchObject({ changed: 2, failed: 0 });
    expect(applies(dir)).toBe('apply\n        - 10.0.0.1/24\napply\n        - 10.0.0.254/24\n');
  });

  it('a file netplan generate refuses stops the run: nothing staged, nothing in place, nothing applied', async () => {
    const dir = setup();
    const r = await run(dir, '-e', 'gw_ip=bad-address');
    expect(r.code).toBe(2);
    expect(r.out).toContain('failed to validate');
    expect(existsSync(join(dir, 'staging/60-tsplay-cluster.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'netplan/60-tsplay-cluster.yaml'))).toBe(false);
    expect(applies(dir)).toBe('');
  });

  it('a failed netplan apply puts the previous file back, applies it, and the next run tries again', async () => {
    const dir = setup();
    expect((await run(dir, '-e', 'gw_ip=10.0.0.1')).code).toBe(0);
    const before = live(dir);
    const r = await run(dir, '-e', 'gw_ip=10.0.0.1', '-e', 'gw_if=FAIL-APPLY');
    expect(r.code, r.out).toBe(2);
    expect(r.out).toContain('netplan apply failed: ');
    expect(live(dir)).toBe(before);
    expect(readdirSync(join(dir, 'netplan')).sort()).toEqual(['50-cloud-init.yaml', '60-tsplay-cluster.yaml']);
    expect(applies(dir)).toBe('apply\n        - 10.0.0.1/24\napply\n        - 10.0.0.1/24\napply\n        - 10.0.0.1/24\n');
    // the staged file is the new one: the next run (with the old settings) puts the old one back in staging
    rmSync(join(dir, 'applies'));
    const again = await run(dir, '-e', 'gw_ip=10.0.0.1');
    expect(again.code, again.out).toBe(0);
    expect(recap(again.out, 'gw').changed).toBe(1);
    expect(applies(dir)).toBe('');
  });

  it("a node's file (nodes-netplan.yaml's np_template): dhcp4 with the gateway as router and name server", async () => {
    const dir = setup();
    writeFileSync(join(dir, 'templates/netplan-node.yaml.j2'), readFileSync(join(TEMPLATES, 'netplan-node.yaml.j2')));
    const r = await run(dir, '-e', 'gw_ip=10.0.0.1', '-e', 'np_template=netplan-node.yaml.j2', '-e', 'gw_domain=cluster.lan');
    expect(r.code, r.out + r.err).toBe(0);
    expect(live(dir)).toContain(
      '  ethernets:\n    eth0:\n      renderer: networkd\n      dhcp4: true\n      routes:\n        - to: default\n          via: 10.0.0.1\n      nameservers:\n        search: [cluster.lan]\n        addresses: [10.0.0.1]\n',
    );
    expect(applies(dir)).toBe('apply\n        addresses: [10.0.0.1]\n');
    const again = await run(dir, '-e', 'gw_ip=10.0.0.1', '-e', 'np_template=netplan-node.yaml.j2', '-e', 'gw_domain=cluster.lan');
    expect(recap(again.out, 'gw').changed, again.out).toBe(0);
  });

  it("the guide's Wi-Fi uplink in the same file (netplan_wifi_ssid), the password kept out of the output", async () => {
    const dir = setup();
    const r = await run(
      dir,
      '-e',
      'gw_ip=10.0.0.1',
      '-e',
      '{"netplan_wifi_ssid": "home net", "netplan_wifi_password": "pa\\"ss word"}',
      '--diff',
    );
    expect(r.code, r.out + r.err).toBe(0);
    expect(live(dir)).toContain(
      '  wifis:\n    wlan0:\n      renderer: networkd\n      dhcp4: true\n      access-points:\n        "home net":\n          password: "pa\\"ss word"\n',
    );
    expect(r.out).not.toContain('ss word');
  });
});
