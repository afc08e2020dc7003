import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../engine/load/inventory.js';
import { expandHostRange } from '../../engine/load/inventory-hosts.js';
import { iniValue as parseIniLiteral } from '../../engine/expr/py-literal.js';
import { UserError } from '../../engine/errors.js';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-inv-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const clusterIni = `# the guide's cluster
[gateway]
gw ansible_host=192.168.1.10 ansible_port=2222 wifi="home net"

[nodes]
node[1:3] ansible_user=pi
pi[01:02]

[nodes:vars]
ansible_ssh_common_args='-J pi@gw'
dhcp=yes

[cluster:children]
gateway
nodes
`;

describe('inventory', () => {
  it('expands host ranges', () => {
    expect(expandHostRange('node[1:3]')).toEqual(['node1', 'node2', 'node3']);
    expect(expandHostRange('web[01:10:3]')).toEqual(['web01', 'web04', 'web07', 'web10']);
    expect(expandHostRange('db-[a:c]')).toEqual(['db-a', 'db-b', 'db-c']);
    expect(() => expandHostRange('pi[3:1]')).toThrow(UserError);
  });

  it('parses inline INI values as Python literals', () => {
    expect(parseIniLiteral('2222')).toBe(2222);
    expect(parseIniLiteral('True')).toBe(true);
    expect(parseIniLiteral('"a b"')).toBe('a b');
    expect(parseIniLiteral('[1, 2]')).toEqual([1, 2]);
    expect(parseIniLiteral('yes')).toBe('yes');
  });

  it('reads an INI cluster: groups, children, vars, ranges, inline vars', () => {
    const dir = tree({ hosts: clusterIni });
    const inv = loadInventory([join(dir, 'hosts')]);
    expect([...inv.hosts.keys()]).toEqual(['gw', 'node1', 'node2', 'node3', 'pi01', 'pi02']);
    expect(inv.hostVars('gw')).toMatchObject({ ansible_host: '192.168.1.10', ansible_port: 2222, wifi: 'home net' });
    expect(inv.hostVars('node2')).toMatchObject({ ansible_user: 'pi', ansible_ssh_common_args: '-J pi@gw', dhcp: 'yes' });
    expect(inv.groupNames('node1')).toEqual(['cluster', 'nodes']);
    expect(inv.groupsVar().cluster).toEqual(['gw', 'node1', 'node2', 'node3', 'pi01', 'pi02']);
  });

  it('reads the same cluster from YAML', () => {
    const dir = tree({
      'hosts.yml': `all:
  children:
    cluster:
      children:
        gateway:
          hosts:
            gw: { ansible_host: 192.168.1.10 }
        nodes:
          hosts:
            node[1:2]:
          vars:
            dhcp: true
`,
    });
    const inv = loadInventory([join(dir, 'hosts.yml')]);
    expect(inv.select('cluster')).toEqual(['gw', 'node1', 'node2']);
    expect(inv.hostVars('node1').dhcp).toBe(true);
  });

  it("selects host patterns in Ansible's order of combination", () => {
    const inv = loadInventory([join(tree({ hosts: clusterIni }), 'hosts')]);
    expect(inv.select('all')).toHaveLength(6);
    expect(inv.select('*')).toHaveLength(6);
    expect(inv.select('nodes:!pi*')).toEqual(['node1', 'node2', 'node3']);
    expect(inv.select('!pi01:nodes')).toEqual(['node1', 'node2', 'node3', 'pi02']);
    expect(inv.select('cluster:&nodes:!node2')).toEqual(['node1', 'node3', 'pi01', 'pi02']);
    expect(inv.select('gateway,node1')).toEqual(['gw', 'node1']);
    expect(inv.select('nodes[0]')).toEqual(['node1']);
    expect(inv.select('nodes[-1]')).toEqual(['pi02']);
    expect(inv.select('nodes[1:3]')).toEqual(['node2', 'node3', 'pi01']);
    expect(inv.select('~node[12]')).toEqual(['node1', 'node2']);
    expect(inv.select(['gateway', 'pi02'])).toEqual(['gw', 'pi02']);
    expect(inv.select('nope')).toEqual([]);
  });

  it('has an implicit localhost outside all', () => {
    const inv = loadInventory(['a,b,']);
    expect(inv.select('all')).toEqual(['a', 'b']);
    expect(inv.select('localhost')).toEqual(['localhost']);
    expect(inv.hostVars('localhost').ansible_connection).toBe('local');
    expect(inv.select('all')).toEqual(['a', 'b']);
  });

  it('merges group_vars/host_vars beside the inventory and the playbook with Ansible precedence', () => {
    const dir = tree({
      'inv/hosts': clusterIni,
      'inv/group_vars/all.yml': 'x: inv-all\ny: inv-all\nz: inv-all\nw: inv-all\n',
      'inv/group_vars/nodes/a.yml': 'y: inv-nodes\n',
      'inv/group_vars/nodes/b.yaml': 'extra: from-dir\n',
      'inv/host_vars/node1.yml': 'w: inv-host\n',
      'pb/group_vars/all.yml': 'x: pb-all\n',
      'pb/group_vars/cluster.yml': 'z: pb-cluster\n',
      'pb/host_vars/node1': 'v: pb-host\n',
    });
    const inv = loadInventory([join(dir, 'inv/hosts')]);
    expect(inv.hostVars('node1', join(dir, 'pb'))).toMatchObject({
      x: 'pb-all',
      y: 'inv-nodes',
      z: 'pb-cluster',
      w: 'inv-host',
      v: 'pb-host',
      extra: 'from-dir',
    });
    expect(inv.hostVars('gw').y).toBe('inv-all');
  });

  it('reads directory inventories and comma lists with ports', () => {
    const dir = tree({ 'inv/10-ini': '[a]\nh1\n', 'inv/20.yml': 'b:\n  hosts:\n    h2:\n', 'inv/notes.md': 'ignored' });
    expect(loadInventory([join(dir, 'inv')]).select('a:b')).toEqual(['h1', 'h2']);
    const inv = loadInventory(['h3:2200,h4']);
    expect(inv.hostVars('h3').ansible_port).toBe(2200);
  });

  it('explains errors with file and line', () => {
    const dir = tree({ bad: '[g]\nh1\n[g:vars]\nnovalue\n', bad2: '[g:weird]\n' });
    try {
      loadInventory([join(dir, 'bad')]);
      expect.unreachable();
    } catch (e) {
      expect((e as UserError).format()).toMatch(/bad:4:1: expected key=value in \[g:vars\]/);
    }
    expect(() => loadInventory([join(dir, 'bad2')])).toThrow(/has unknown type 'weird'/);
    expect(() => loadInventory([join(dir, 'missing')])).toThrow(/inventory source not found/);
  });
});
