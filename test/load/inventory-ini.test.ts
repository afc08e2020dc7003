import { describe, expect, it } from 'vitest';
import { formatLocation } from '../../engine/errors.js';
import { loadInventory } from '../../engine/load/inventory.js';
import { fixture, inventoryOf, userError } from './inventory-helpers.js';

describe('INI inventory: the Raspberry Pi cluster', () => {
  const inv = loadInventory([fixture('pi-cluster-ini/hosts.ini')]);

  it('reads hosts in order of first appearance, ranges expanded', () => {
    expect([...inv.hosts.keys()]).toEqual(['gateway', 'node1', 'node2', 'node3', 'pi4', 'pi5', 'pi6']);
  });

  it("selects all in Ansible's order: ungrouped, then top-level groups, breadth first", () => {
    expect(inv.select('all')).toEqual(['pi4', 'pi5', 'pi6', 'gateway', 'node1', 'node2', 'node3']);
  });

  it('builds the group tree under all', () => {
    expect([...inv.groups.keys()]).toEqual(['all', 'ungrouped', 'gateway', 'nodes', 'spares', 'cluster']);
    expect(inv.groups.get('all')!.children).toEqual(['ungrouped', 'spares', 'cluster']);
    expect(inv.groups.get('cluster')!.children).toEqual(['gateway', 'nodes']);
    expect(inv.groups.get('nodes')!.hosts).toEqual(['node1', 'node2', 'node3']);
    expect(inv.hosts.get('node2')!.groups).toEqual(['nodes']);
  });

  it('keeps inline host vars as Python literals and [g:vars] values as Ansible reads them', () => {
    expect(inv.hosts.get('gateway')!.vars).toEqual({ ansible_host: '192.168.1.10', ansible_user: 'pi' });
    expect(inv.hosts.get('node1')!.vars).toEqual({ mac: 'dc:a6:32:00:00:01', ip: '10.0.0.11' });
    expect(inv.hosts.get('node3')!.vars).toEqual({
      mac: 'dc:a6:32:00:00:03',
      ip: '10.0.0.13',
      poe_port: 3,
      role: 'storage node',
      disks: ['sda', 'sdb'],
    });
    expect(inv.groups.get('nodes')!.vars).toEqual({
      ansible_ssh_common_args: '-J pi@gateway',
      ansible_user: 'pi',
      boot_order: 0xf14,
      netboot: true,
    });
  });

  it('records where each host and group was defined', () => {
    expect(formatLocation(inv.hosts.get('node2')!.location)).toBe(`${fixture('pi-cluster-ini/hosts.ini')}:10:1`);
    expect(inv.groups.get('nodes')!.location).toMatchObject({ line: 8, col: 2 });
  });

  it('gives group_names and groups', () => {
    expect(inv.groupNames('node1')).toEqual(['cluster', 'nodes']);
    expect(inv.groupNames('pi5')).toEqual(['spares']);
    expect(inv.groupsVar()).toEqual({
      all: ['pi4', 'pi5', 'pi6', 'gateway', 'node1', 'node2', 'node3'],
      ungrouped: [],
      gateway: ['gateway'],
      nodes: ['node1', 'node2', 'node3'],
      spares: ['pi4', 'pi5', 'pi6'],
      cluster: ['gateway', 'node1', 'node2', 'node3'],
    });
  });
});

describe('INI syntax', () => {
  it('puts hosts before any section in ungrouped, and takes them out when a group lists them', () => {
    const inv = inventoryOf('lonely\nnode1\n\n[nodes]\nnode1\n');
    expect(inv.groups.get('ungrouped')!.hosts).toEqual(['lonely']);
    expect(inv.hosts.get('node1')!.groups).toEqual(['nodes']);
    expect(inv.groupNames('lonely')).toEqual(['ungrouped']);
  });

  it('gives a host listed in several groups all of them, merging its inline vars', () => {
    const inv = inventoryOf('[a]\nh x=1 y=1\n[b]\nh y=2\n');
    expect(inv.hosts.get('h')!.groups).toEqual(['a', 'b']);
    expect(inv.hosts.get('h')!.vars).toEqual({ x: 1, y: 2 });
  });

  it('skips # and ; comment lines and trailing # comments', () => {
    const inv = inventoryOf('# c\n; c\n[g] # the group\nh1 # a host\n  ; indented\n');
    expect(inv.select('g')).toEqual(['h1']);
  });

  it.each([
    ['pi[1:3]', ['pi1', 'pi2', 'pi3']],
    ['node[a:c]', ['nodea', 'nodeb', 'nodec']],
    ['web[01:03].lan', ['web01.lan', 'web02.lan', 'web03.lan']],
    ['n[1:10:4]', ['n1', 'n5', 'n9']],
    ['n[:2]', ['n0', 'n1', 'n2']],
    ['db[1:2]-[a:b]', ['db1-a', 'db1-b', 'db2-a', 'db2-b']],
    ['10.0.0.[11:13]', ['10.0.0.11', '10.0.0.12', '10.0.0.13']],
  ])('expands the host range %s', (pattern, hosts) => {
    expect([...inventoryOf(`[g]\n${pattern}\n`).hosts.keys()]).toEqual(hosts);
  });

  it('reads host:port as ansible_port, for ranges and bracketed IPv6 too', () => {
    const inv = inventoryOf('[g]\nbastion:2222\npi[1:2]:22 ansible_user=pi\n[2001:db8::1]:2200\nfe80::1\n');
    expect(inv.hosts.get('bastion')!.vars).toEqual({ ansible_port: 2222 });
    expect(inv.hosts.get('pi2')!.vars).toEqual({ ansible_port: 22, ansible_user: 'pi' });
    expect(inv.hosts.get('2001:db8::1')!.vars).toEqual({ ansible_port: 2200 });
    expect(inv.hosts.get('fe80::1')!.vars).toEqual({});
  });

  it('reads the inline connection vars of the brief', () => {
    const inv = inventoryOf(
      'h ansible_host=10.0.0.1 ansible_port=2222 ansible_user=pi ansible_connection=local foo="a b" n="5" flag=True empty=""\n',
    );
    expect(inv.hosts.get('h')!.vars).toEqual({
      ansible_host: '10.0.0.1',
      ansible_port: 2222,
      ansible_user: 'pi',
      ansible_connection: 'local',
      foo: 'a b',
      n: 5,
      flag: true,
      empty: '',
    });
  });

  it('keeps a quoted number a string when quoted twice, as the Ansible docs advise', () => {
    expect(inventoryOf(`h secret="'0123'" pw="'03#pa33w0rd'"\n`).hosts.get('h')!.vars).toEqual({ secret: '0123', pw: '03#pa33w0rd' });
  });

  it('reads a [g:vars] line as one value: everything after the first =', () => {
    const inv = inventoryOf(
      [
        '[g]',
        'h',
        '[g:vars]',
        'ssh_args = -o ProxyCommand="ssh -W %h:%p pi@gw"',
        'quoted="-J pi@gateway"',
        'url=http://x/?a=b',
        'upper=FALSE',
        'count=3',
        'list=[1, 2]',
        'empty=',
      ].join('\n'),
    );
    expect(inv.groups.get('g')!.vars).toEqual({
      ssh_args: '-o ProxyCommand="ssh -W %h:%p pi@gw"',
      quoted: '-J pi@gateway',
      url: 'http://x/?a=b',
      upper: 'FALSE',
      count: 3,
      list: [1, 2],
      empty: '',
    });
  });

  it('lets a child group be declared after the [parent:children] that names it', () => {
    const inv = inventoryOf('[cluster:children]\nnodes\n[nodes]\nn1\n');
    expect(inv.groups.get('cluster')!.children).toEqual(['nodes']);
    expect(inv.select('cluster')).toEqual(['n1']);
  });

  it('accepts an empty [g] section as a group definition', () => {
    const inv = inventoryOf('[cluster:children]\nspares\n[spares]\n');
    expect(inv.groups.get('spares')!.hosts).toEqual([]);
    expect(inv.groupsVar().cluster).toEqual([]);
  });

  it('reads ansible_group_priority as the group priority, not as a variable', () => {
    const inv = inventoryOf('[g]\nh\n[g:vars]\nansible_group_priority=10\n');
    expect(inv.groups.get('g')!.priority).toBe(10);
    expect(inv.groups.get('g')!.vars).toEqual({});
  });

  it('accepts [g:hosts] sections, [all] sections and CRLF line endings', () => {
    const inv = inventoryOf('[all]\r\nloose ansible_port=22\r\n[nodes:hosts]\r\nn1\r\n');
    expect(inv.select('nodes')).toEqual(['n1']);
    expect(inv.groups.get('ungrouped')!.hosts).toEqual(['loose']);
    expect(inv.hosts.get('loose')!.vars).toEqual({ ansible_port: 22 });
  });

  it('warns about a host and a group of the same name', () => {
    expect(inventoryOf('[web]\nweb\n').warnings[0]).toMatch(/both group and host with same name: web/);
  });
});

describe('INI errors name the file, line and fix', () => {
  const at = (text: string) => {
    const e = userError(() => inventoryOf(text, 'hosts.ini'));
    expect(e.code).toBe('E_INVENTORY');
    expect(e.hint).toBeTruthy();
    return { message: e.message, where: `${e.location?.line}:${e.location?.col}`, file: e.location?.file, hint: e.hint };
  };

  it('unknown section type', () => {
    expect(at('[nodes]\nn1\n[nodes:host]\n')).toMatchObject({ message: "section [nodes:host] has unknown type 'host'", where: '3:8' });
  });

  it('invalid section header', () => {
    expect(at('[my nodes]\n').message).toBe("invalid section header '[my nodes]'");
    expect(at('\n[nodes\n').where).toBe('2:1');
  });

  it('a backwards host range', () => {
    const e = at('[nodes]\n  pi[3:1]\n');
    expect(e).toMatchObject({ message: "host range [3:1] goes backwards in host 'pi[3:1]'", where: '2:3' });
    expect(e.file).toMatch(/hosts\.ini$/);
  });

  it.each([
    ['pi[1:3:0]', 'step'],
    ['pi[01:100]', 'same number of digits'],
    ['pi[1:]', 'end value'],
    ['pi[1:2:3:4]', 'begin:end'],
    ['pi[1:3', "no closing ']'"],
    ['pi[a:3]', 'numbers'],
    ['pi[c:a]', 'backwards'],
  ])('a bad host range %s', (pattern, text) => {
    expect(at(`[g]\n${pattern}\n`).message).toContain(text);
  });

  it('a [g:vars] line without =', () => {
    expect(at('[g]\nh\n[g:vars]\nntp_server 10.0.0.1\n')).toMatchObject({
      message: 'expected key=value in [g:vars], got: ntp_server 10.0.0.1',
      where: '4:1',
    });
  });

  it('a host variable without =', () => {
    expect(at('[g]\nh ansible_host=1.2.3.4 oops\n')).toMatchObject({
      message: 'expected key=value host variable assignment, got: oops',
      where: '2:24',
    });
  });

  it('an unclosed quote', () => {
    expect(at('[g]\nh foo="bar\n').message).toBe('cannot read host line: no closing quotation');
  });

  it('a group cycle through children', () => {
    const e = at('[a:children]\nb\n[b:children]\nc\n[c:children]\na\n');
    expect(e).toMatchObject({ message: "group 'a' cannot be a child of 'c': that makes a loop (c -> a -> b -> c)", where: '6:1' });
  });

  it('a group that is its own child', () => {
    expect(at('[a]\nh\n[a:children]\na\n').message).toBe("group 'a' cannot be a child of 'a': that makes a loop (a -> a)");
  });

  it('[g:children] naming a group that is never defined (as ansible-core does)', () => {
    expect(at('[cluster:children]\ngateway\nnodez\n[gateway]\ngw\n')).toMatchObject({
      message: "[cluster:children] names group 'nodez', which is not defined",
      where: '3:1',
      hint: 'define it with a [nodez] section (an empty one is fine), or fix the name',
    });
  });

  it('[g:vars] for a group that is never defined', () => {
    expect(at('[nodes:vars]\nx=1\n')).toMatchObject({
      message: "section [nodes:vars] is for group 'nodes', which is not defined",
      where: '1:1',
    });
  });

  it('a child-group line with more than a name', () => {
    expect(at('[a:children]\nb c\n').message).toBe('expected a group name in [a:children], got: b c');
  });

  it('a non-integer ansible_group_priority', () => {
    expect(at('[g]\nh\n[g:vars]\nansible_group_priority=high\n').message).toMatch(/must be an integer/);
  });

  it('a YAML file without a YAML extension read as INI', () => {
    expect(at('[g]\nh\n---\n').message).toMatch(/looks like a YAML file/);
    expect(at('[g]\nhost:\n').message).toBe("host 'host:' ends with ':'");
  });
});
