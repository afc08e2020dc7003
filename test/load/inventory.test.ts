import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatLocation } from '../../engine/errors.js';
import { loadInventory } from '../../engine/load/inventory.js';
import { fixture, inventoryOf, tree, userError } from './inventory-helpers.js';

describe('hostVars: group_vars/ and host_vars/ beside the inventory', () => {
  const inv = loadInventory([fixture('pi-cluster-ini/hosts.ini')]);

  it('merges inventory-file vars, group_vars files and directories, and host_vars files', () => {
    expect(inv.hostVars('node1')).toEqual({
      ansible_ssh_common_args: '-J pi@gateway',
      ansible_user: 'pi',
      boot_order: 0xf14,
      netboot: true,
      cluster_domain: 'cluster.lan',
      cluster_subnet: '10.0.0.0/24',
      ntp_server: '10.0.0.1',
      timezone: 'UTC',
      cluster_name: 'picluster',
      dns_server: '10.0.0.1',
      default_route: '10.0.0.254',
      boot_partition: '/boot/firmware',
      enable_uart: true,
      mac: 'dc:a6:32:00:00:01',
      ip: '10.0.0.11',
      usb_boot: true,
      disks: ['/dev/sda'],
    });
  });

  it('reads a host_vars file without extension', () => {
    expect(inv.hostVars('gateway')).toMatchObject({
      ntp_server: 'pool.ntp.org',
      wan_interface: 'wlan0',
      dhcp_range: ['10.0.0.100', '10.0.0.200'],
      ansible_host: '192.168.1.10',
    });
  });

  it('gives a host outside the group only the group vars of its own groups', () => {
    const spare = inv.hostVars('pi4');
    expect(spare).toMatchObject({ netboot: true, timezone: 'Europe/Berlin' });
    expect(spare).not.toHaveProperty('cluster_name');
    expect(spare).not.toHaveProperty('dns_server');
  });

  it('adds group_vars/ and host_vars/ beside the playbook, above the inventory ones', () => {
    const playbook = fixture('playbook');
    expect(inv.hostVars('node1', playbook)).toMatchObject({ ntp_server: '10.0.0.1', dns_server: '1.1.1.1', usb_boot: false });
    expect(inv.hostVars('gateway', playbook)).toMatchObject({ ntp_server: 'time.cloudflare.com' });
    expect(inv.hostVars('node1')).toMatchObject({ dns_server: '10.0.0.1', usb_boot: true });
  });

  it('caches per host and playbook directory, and freezes the result', () => {
    expect(inv.hostVars('node2')).toBe(inv.hostVars('node2'));
    expect(inv.hostVars('node2', fixture('playbook'))).not.toBe(inv.hostVars('node2'));
    expect(Object.isFrozen(inv.hostVars('node2'))).toBe(true);
  });

  it('keeps the YAML locations of values from vars files', async () => {
    const { locationOf } = await import('../../engine/load/yaml.js');
    expect(formatLocation(locationOf(inv.hostVars('node1').disks))).toBe(`${fixture('pi-cluster-ini/host_vars/node1.yml')}:4:3`);
  });

  it('gives a host the inventory does not define the all layers and its host_vars', () => {
    const vars = inv.hostVars('gateway2');
    expect(vars).toMatchObject({ cluster_domain: 'cluster.lan', timezone: 'Europe/Berlin' });
    expect(vars).not.toHaveProperty('ansible_connection');
  });
});

describe("hostVars precedence (Ansible's documented order)", () => {
  const inv = loadInventory([fixture('precedence/inventory/hosts.ini')]);
  const playbook = fixture('precedence/playbook');

  it('takes each variable from the highest layer that sets it', () => {
    const vars = inv.hostVars('h1', playbook);
    for (let n = 1; n <= 8; n++) expect(vars[`v${n}`], `v${n}`).toBe(`L${n}`);
  });

  it('orders groups parents before children, in inventory files and group_vars alike', () => {
    expect(inv.hostVars('h1', playbook)).toMatchObject({ who: 'child', group_file_who: 'child' });
  });

  it('leaves out the playbook layers without a playbook directory', () => {
    const vars = inv.hostVars('h1');
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => vars[`v${n}`])).toEqual(['L1', 'L2', 'L2', 'L4', 'L4', 'L6', 'L7', 'L7']);
    expect(inv.hostVars('h2')).toMatchObject({ v6: 'L4', v7: 'L4', v8: 'L4' });
  });

  it('orders groups of the same depth by ansible_group_priority, then name', () => {
    const by = (alphaPriority: string) =>
      inventoryOf(`[alpha]\nh\n[beta]\nh\n[alpha:vars]\nwho=alpha\n${alphaPriority}\n[beta:vars]\nwho=beta\n`).hostVars('h').who;
    expect(by('')).toBe('beta');
    expect(by('ansible_group_priority=10')).toBe('alpha');
  });

  it('lets a deeper group win over a shallower one whatever their priority', () => {
    const inv2 = inventoryOf(
      '[top]\nh\n[parent:children]\nchild\n[child]\nh\n[top:vars]\nwho=top\nansible_group_priority=99\n[child:vars]\nwho=child\n',
    );
    expect(inv2.hostVars('h').who).toBe('child');
  });

  it('replaces dictionaries per top-level key (hash_behaviour=replace)', () => {
    const root = tree({
      hosts: '[g]\nh\n',
      'group_vars/all.yml': 'users:\n  pi: 1000\n  admin: 1001\n',
      'group_vars/g.yml': 'users:\n  pi: 1000\n',
    });
    expect(loadInventory([join(root, 'hosts')]).hostVars('h').users).toEqual({ pi: 1000 });
  });

  it("merges inventory sources in order: a later source's group_vars win", () => {
    const a = tree({ hosts: '[g]\nh\n', 'group_vars/all.yml': 'x: a\ny: a\n' });
    const b = tree({ 'hosts.yml': 'g:\n  hosts:\n    h2:\n', 'group_vars/all.yml': 'x: b\n' });
    const inv2 = loadInventory([join(a, 'hosts'), join(b, 'hosts.yml')]);
    expect(inv2.hostVars('h')).toEqual({ x: 'b', y: 'a' });
    expect(inv2.select('g')).toEqual(['h', 'h2']);
  });
});

describe('vars files', () => {
  const load = (files: Record<string, string>, host = 'h') => {
    const root = tree({ hosts: '[g]\nh\n', ...files });
    return loadInventory([join(root, 'hosts')]).hostVars(host);
  };

  it('reads an empty file as no variables', () => {
    expect(load({ 'group_vars/all.yml': '', 'host_vars/h.yml': '---\n# nothing\n' })).toEqual({});
  });

  it('takes the first of name, name.yml, name.yaml, name.json', () => {
    expect(load({ 'group_vars/g': 'from: bare\n', 'group_vars/g.yml': 'from: yml\n' })).toEqual({ from: 'bare' });
    expect(load({ 'group_vars/g.yaml': 'from: yaml\n', 'group_vars/g.json': '{"from": "json"}' })).toEqual({ from: 'yaml' });
    expect(load({ 'group_vars/g.json': '{"from": "json"}' })).toEqual({ from: 'json' });
  });

  it('reads a directory recursively, in sorted order, skipping hidden, backup and other files', () => {
    expect(
      load({
        'host_vars/h/b.yml': 'order: b\nb: 1\n',
        'host_vars/h/a.yml': 'order: a\na: 1\n',
        'host_vars/h/c/d.yml': 'order: c/d\n',
        'host_vars/h/.e.yml': 'hidden: 1\n',
        'host_vars/h/f.yml~': 'backup: 1\n',
        'host_vars/h/g.txt': 'text: 1\n',
        'host_vars/h/vault': 'plain: 1\n',
      }),
    ).toEqual({ order: 'c/d', a: 1, b: 1, plain: 1 });
  });

  it('rejects a file that is not a mapping, with its location', () => {
    const e = userError(() => load({ 'group_vars/all.yml': '# servers\n- ntp_server: 10.0.0.1\n' }));
    expect(e.code).toBe('E_VARS');
    expect(e.message).toBe('a vars file must hold a mapping of variable names to values, not a list');
    expect(e.location).toMatchObject({ line: 2, col: 1 });
    expect(e.hint).toMatch(/name: value/);
    const scalar = userError(() => load({ 'host_vars/h.yml': '\nntp_server=10.0.0.1\n' }));
    expect(scalar).toMatchObject({ code: 'E_VARS', location: { line: 2, col: 1 } });
  });

  it('reports YAML syntax errors with file:line', () => {
    const e = userError(() => load({ 'group_vars/g.yml': 'a: 1\n  b: 2\n' }));
    expect(e.code).toBe('E_YAML');
    expect(formatLocation(e.location)).toMatch(/group_vars\/g\.yml:\d+:\d+$/);
  });

  it('asks for a vault password when a vault-encrypted file is read without one', () => {
    const e = userError(() => load({ 'group_vars/all.yml': '$ANSIBLE_VAULT;1.1;AES256\n6132\n' }));
    expect(e).toMatchObject({ code: 'E_VAULT', message: 'Attempting to decrypt but no vault secrets found' });
    expect(formatLocation(e.location)).toMatch(/group_vars\/all\.yml:1:1$/);
    expect(e.hint).toMatch(/--ask-vault-pass/);
  });
});

describe('inventory sources', () => {
  it('reads a directory: every file in name order, INI or YAML, skipping ignored names', () => {
    const dir = fixture('pi-cluster-dir');
    const inv = loadInventory([dir]);
    expect(inv.sources).toEqual([dir]);
    expect([...inv.hosts.keys()]).toEqual(['gateway', 'node1', 'node2', 'node3', 'lab-switch']);
    expect([...inv.groups.keys()]).toEqual(['all', 'ungrouped', 'gateway', 'nodes', 'cluster', 'lab']);
    expect(inv.select('cluster')).toEqual(['gateway', 'node1', 'node2', 'node3']);
    expect(inv.hosts.get('lab-switch')!.location?.file).toBe(join(dir, '04-lab'));
    expect(inv.hostVars('node2')).toEqual({
      ansible_user: 'pi',
      ansible_ssh_common_args: '-J pi@gateway',
      cluster_domain: 'cluster.lan',
      ip: '10.0.0.12',
      poe_port: 2,
    });
  });

  it('resolves relative sources from cwd', () => {
    const inv = loadInventory(['pi-cluster-yaml/hosts.yml'], { cwd: fixture() });
    expect(inv.sources).toEqual([fixture('pi-cluster-yaml/hosts.yml')]);
    expect(inv.select('nodes')).toEqual(['node1', 'node2', 'node3']);
  });

  it('reads a comma list as hosts in ungrouped, with ports and IPv6 addresses', () => {
    const inv = loadInventory(['node1,node2:2222, [2001:db8::1]:22,fe80::2,']);
    expect([...inv.hosts.keys()]).toEqual(['node1', 'node2', '2001:db8::1', 'fe80::2']);
    expect(inv.hosts.get('node2')!.vars).toEqual({ ansible_port: 2222 });
    expect(inv.hosts.get('2001:db8::1')!.vars).toEqual({ ansible_port: 22 });
    expect(inv.groups.get('ungrouped')!.hosts).toHaveLength(4);
    expect(inv.sources).toEqual([]);
    expect(loadInventory(['host1,']).select('all')).toEqual(['host1']);
  });

  it('combines several -i sources: files, directories and comma lists', () => {
    const inv = loadInventory([fixture('pi-cluster-ini/hosts.ini'), 'laptop,']);
    expect(inv.select('ungrouped')).toEqual(['laptop']);
    expect(inv.hostVars('laptop')).toMatchObject({ cluster_domain: 'cluster.lan' });
    expect(inv.sources).toEqual([fixture('pi-cluster-ini/hosts.ini')]);
  });

  it('reads a path with a comma as a file when it exists', () => {
    const root = tree({ 'a,b': '[g]\nh\n' });
    expect(loadInventory([join(root, 'a,b')]).select('g')).toEqual(['h']);
  });

  it('loads an empty inventory from no sources', () => {
    const inv = loadInventory([]);
    expect([...inv.groups.keys()]).toEqual(['all', 'ungrouped']);
    expect(inv.select('all')).toEqual([]);
    expect(inv.select('localhost')).toEqual(['localhost']);
  });

  it('says when a source does not exist, and how to give a host list', () => {
    const e = userError(() => loadInventory(['nodes.ini'], { cwd: '/tmp' }));
    expect(e).toMatchObject({ code: 'E_INVENTORY', message: 'inventory source not found: nodes.ini' });
    expect(e.hint).toContain("-i 'nodes.ini,'");
  });

  it('detects YAML and INI in files without a YAML extension', () => {
    expect(inventoryOf('nodes:\n  hosts:\n    n1:\n', 'hosts').select('nodes')).toEqual(['n1']);
    expect(inventoryOf('{"nodes": {"hosts": {"n1": null}}}', 'inventory').select('nodes')).toEqual(['n1']);
    expect(inventoryOf('n1\nn2\n', 'hosts.cfg').select('all')).toEqual(['n1', 'n2']);
    expect(inventoryOf('[nodes]\nn1\n', 'hosts.ini').select('nodes')).toEqual(['n1']);
  });

  it('reports the YAML error for a broken YAML file without extension', () => {
    const e = userError(() => inventoryOf('all:\n  hosts:\n    a:\n   b:\n', 'hosts'));
    expect(e.code).toBe('E_INVENTORY');
    expect(e.message).toMatch(/^inventory YAML syntax error/);
    expect(e.location?.file).toMatch(/hosts$/);
  });

  it('refuses a dynamic inventory script', () => {
    const root = tree({ 'ec2.py': '#!/usr/bin/env python3\nprint("{}")\n' });
    chmodSync(join(root, 'ec2.py'), 0o755);
    const e = userError(() => loadInventory([root]));
    expect(e.message).toMatch(/ec2\.py is an executable inventory script/);
    expect(e.hint).toMatch(/ansible-inventory/);
  });
});
