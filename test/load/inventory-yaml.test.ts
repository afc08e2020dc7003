import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../engine/load/inventory.js';
import { fixture, inventoryOf, userError } from './inventory-helpers.js';

describe('YAML inventory: the Raspberry Pi cluster', () => {
  const ini = loadInventory([fixture('pi-cluster-ini/hosts.ini')]);
  const yaml = loadInventory([fixture('pi-cluster-yaml/hosts.yml')]);

  it('defines the same hosts, groups and vars as the INI file', () => {
    expect([...yaml.hosts.keys()]).toEqual([...ini.hosts.keys()]);
    for (const [name, h] of ini.hosts) {
      expect(yaml.hosts.get(name)!.vars, name).toEqual(h.vars);
      expect(yaml.hosts.get(name)!.groups, name).toEqual(h.groups);
    }
    for (const [name, g] of ini.groups) {
      expect(yaml.groups.get(name)!.vars, name).toEqual(g.vars);
      expect(new Set(yaml.groups.get(name)!.children), name).toEqual(new Set(g.children));
    }
    expect(yaml.groupsVar()).toEqual(ini.groupsVar());
    expect(yaml.groupNames('node3')).toEqual(['cluster', 'nodes']);
  });

  it('records the line of each host key', () => {
    expect(yaml.hosts.get('node2')!.location).toEqual({ file: fixture('pi-cluster-yaml/hosts.yml'), line: 16, col: 13 });
  });
});

describe('YAML inventory shapes', () => {
  it('puts hosts under all: in ungrouped, with their vars and all: vars', () => {
    const inv = inventoryOf('all:\n  hosts:\n    a:\n    b:\n      x: 1\n  vars:\n    ansible_user: pi\n', 'hosts.yml');
    expect(inv.groups.get('ungrouped')!.hosts).toEqual(['a', 'b']);
    expect(inv.groups.get('all')!.vars).toEqual({ ansible_user: 'pi' });
    expect(inv.hosts.get('b')!.vars).toEqual({ x: 1 });
  });

  it('treats top-level keys other than all as groups', () => {
    const inv = inventoryOf('nodes:\n  hosts:\n    n1:\ngateway:\n  hosts:\n    gw:\n', 'hosts.yaml');
    expect(inv.groups.get('all')!.children).toEqual(['ungrouped', 'nodes', 'gateway']);
    expect(inv.select('gateway')).toEqual(['gw']);
  });

  it('accepts a string where a one-entry mapping is expected, and empty groups', () => {
    const inv = inventoryOf('web:\n  hosts: w1\n  children: api\napi:\nempty:\n', 'hosts.yml');
    expect(inv.select('web')).toEqual(['w1']);
    expect(inv.groups.get('web')!.children).toEqual(['api']);
    expect(inv.groups.has('empty')).toBe(true);
  });

  it('expands ranges and ports in host keys', () => {
    const inv = inventoryOf('all:\n  hosts:\n    pi[1:2]:2222:\n    "[2001:db8::1]:22":\n', 'hosts.yml');
    expect([...inv.hosts.keys()]).toEqual(['pi1', 'pi2', '2001:db8::1']);
    expect(inv.hosts.get('pi2')!.vars).toEqual({ ansible_port: 2222 });
  });

  it('reads JSON, YAML 1.1 booleans and octals', () => {
    const inv = inventoryOf('{"all": {"hosts": {"h": {"a": [1, 2]}}, "vars": {"on": true}}}', 'hosts.json');
    expect(inv.hosts.get('h')!.vars).toEqual({ a: [1, 2] });
    const y11 = inventoryOf('all:\n  hosts:\n    h:\n      enabled: yes\n      mode: 0755\n', 'hosts.yml');
    expect(y11.hosts.get('h')!.vars).toEqual({ enabled: true, mode: 0o755 });
  });

  it('warns about keys a group cannot have, as Ansible does', () => {
    const inv = inventoryOf('nodes:\n  node1:\n  hosts:\n    node2:\n', 'hosts.yml');
    expect(inv.select('nodes')).toEqual(['node2']);
    expect(inv.warnings).toEqual([
      expect.stringMatching(/hosts\.yml:2:3: skipping unexpected key 'node1' in group 'nodes'.*put it under hosts:/),
    ]);
  });

  it('reads an empty file as an empty inventory', () => {
    const inv = inventoryOf('# nothing yet\n', 'hosts.yml');
    expect(inv.hosts.size).toBe(0);
    expect(inv.warnings[0]).toMatch(/empty/);
  });
});

describe('YAML inventory errors', () => {
  const err = (text: string) => {
    const e = userError(() => inventoryOf(text, 'hosts.yml'));
    expect(e.code).toBe('E_INVENTORY');
    expect(e.hint).toBeTruthy();
    return { message: e.message, where: `${e.location?.line}:${e.location?.col}` };
  };

  it('a group whose value is not a mapping', () => {
    expect(err('all:\n  - node1\n  - node2\n')).toEqual({
      message: "group 'all' must be a mapping with hosts, vars or children, not a list",
      where: '2:3',
    });
    expect(err('nodes: node1\n').message).toBe('group \'nodes\' must be a mapping with hosts, vars or children, not the string "node1"');
  });

  it('a file that is not a mapping', () => {
    expect(err('- all\n').message).toBe('a YAML inventory must be a mapping of group names (all:, or your groups), not a list');
  });

  it('hosts given as a list', () => {
    expect(err('all:\n  hosts:\n    - node1\n')).toEqual({ message: "'hosts' of group 'all' must be a mapping, not a list", where: '3:5' });
  });

  it('host variables that are not a mapping', () => {
    expect(err('all:\n  hosts:\n    node1: 10.0.0.11\n')).toMatchObject({
      message: "host 'node1' in group 'all' must have a mapping of variables or nothing, not the string \"10.0.0.11\"",
    });
  });

  it('a bad range', () => {
    expect(err('all:\n  hosts:\n    pi[3:1]:\n')).toEqual({ message: "host range [3:1] goes backwards in host 'pi[3:1]'", where: '3:5' });
  });

  it('a YAML syntax error', () => {
    const e = err('all:\n  hosts:\n    a:\n   b:\n');
    expect(e.message).toMatch(/^inventory YAML syntax error/);
    expect(e.where).toMatch(/^[34]:\d+$/);
  });

  it('a children cycle', () => {
    expect(err('a:\n  children:\n    b:\n      children:\n        a:\n').message).toBe(
      "group 'b' cannot be a child of 'a': that makes a loop (a -> b -> a)",
    );
  });

  it('an inventory plugin configuration', () => {
    expect(err('plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n').message).toMatch(
      /configures the inventory plugin 'amazon.aws.aws_ec2'/,
    );
  });
});
