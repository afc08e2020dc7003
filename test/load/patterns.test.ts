import { describe, expect, it } from 'vitest';
import { expandLimit, readLimitFile } from '../../engine/load/inventory.js';
import { orderPatterns, splitHostPattern } from '../../engine/load/patterns.js';
import { inventoryOf, tree, userError } from './inventory-helpers.js';

const inv = inventoryOf(`
[gateway]
gateway ansible_host=192.168.1.10

[nodes]
node1
node2
node3
node10

[storage]
node3
nas.example.com

[web]
web1.example.com
web2.example.com

[cluster:children]
gateway
nodes

[v6]
fe80::1
2001:db8::5
`);

describe('Inventory.select', () => {
  it.each<[string | string[], string[]]>([
    [
      'all',
      ['node3', 'nas.example.com', 'web1.example.com', 'web2.example.com', 'fe80::1', '2001:db8::5', 'gateway', 'node1', 'node2', 'node10'],
    ],
    [
      '*',
      ['node3', 'nas.example.com', 'web1.example.com', 'web2.example.com', 'fe80::1', '2001:db8::5', 'gateway', 'node1', 'node2', 'node10'],
    ],
    ['nodes', ['node1', 'node2', 'node3', 'node10']],
    ['cluster', ['gateway', 'node1', 'node2', 'node3', 'node10']],
    ['node2', ['node2']],
    ['web*', ['web1.example.com', 'web2.example.com']],
    ['*.example.com', ['nas.example.com', 'web1.example.com', 'web2.example.com']],
    ['web?.example.com', ['web1.example.com', 'web2.example.com']],
    ['web[12].example.com', ['web1.example.com', 'web2.example.com']],
    ['node[12]', []],
    ['~node[12]', ['node1', 'node2', 'node10']],
    ['~(web\\d|nas)\\.', ['nas.example.com', 'web1.example.com', 'web2.example.com']],
    ['~.*\\.com$', ['nas.example.com', 'web1.example.com', 'web2.example.com']],
    ['nodes[0]', ['node1']],
    ['nodes[-1]', ['node10']],
    ['nodes[1:3]', ['node2', 'node3', 'node10']],
    ['nodes[1:]', ['node2', 'node3', 'node10']],
    ['nodes[0:1]', ['node1', 'node2']],
    ['cluster[0]', ['gateway']],
    ['gateway:nodes', ['gateway', 'node1', 'node2', 'node3', 'node10']],
    ['storage,gateway', ['node3', 'nas.example.com', 'gateway']],
    ['nodes:&storage', ['node3']],
    ['cluster:!node2', ['gateway', 'node1', 'node3', 'node10']],
    ['cluster:&nodes:!node2', ['node1', 'node3', 'node10']],
    ['!node2:&nodes:cluster', ['node1', 'node3', 'node10']],
    ['!node2,&nodes,cluster', ['node1', 'node3', 'node10']],
    ['&storage', ['node3', 'nas.example.com']],
    ['!cluster:!v6', ['nas.example.com', 'web1.example.com', 'web2.example.com']],
    ['nodes:node1:storage', ['node1', 'node2', 'node3', 'node10', 'nas.example.com']],
    ['nodes[0]:nodes[-1]', ['node1', 'node10']],
    [' gateway , web ', ['gateway', 'web1.example.com', 'web2.example.com']],
    [
      ['gateway', 'storage'],
      ['gateway', 'node3', 'nas.example.com'],
    ],
    [
      ['nodes', '!node1'],
      ['node2', 'node3', 'node10'],
    ],
    ['fe80::1', ['fe80::1']],
    ['2001:db8::5,gateway', ['2001:db8::5', 'gateway']],
    ['v6', ['fe80::1', '2001:db8::5']],
    ['nosuchgroup', []],
    ['NODES', []],
    ['nodes:&web', []],
    ['', []],
    [[], []],
  ])('%j', (pattern, hosts) => {
    expect(inv.select(pattern)).toEqual(hosts);
  });

  it("lists a group's own hosts before its children's, breadth first, for all too (as ansible --list-hosts)", () => {
    const tree = inventoryOf('[nodes]\nn1\n[cluster]\ngw\n[cluster:children]\nnodes\n');
    expect(tree.select('cluster')).toEqual(['gw', 'n1']);
    expect(tree.select('all')).toEqual(['gw', 'n1']);
    expect(tree.groupsVar().cluster).toEqual(['gw', 'n1']);
  });

  it('returns a fresh array each time', () => {
    const a = inv.select('nodes');
    a.pop();
    expect(inv.select('nodes')).toHaveLength(4);
  });

  it('applies --limit as an intersection of the play pattern', () => {
    const play = inv.select(['cluster']);
    const limit = new Set(inv.select(['node1,node3', 'gateway']));
    expect(play.filter((h) => limit.has(h))).toEqual(['gateway', 'node1', 'node3']);
    const excluding = new Set(inv.select(['!node2']));
    expect(play.filter((h) => excluding.has(h))).toEqual(['gateway', 'node1', 'node3', 'node10']);
  });

  it('says when a subscript is out of range', () => {
    const e = userError(() => inv.select('nodes[9]'));
    expect(e.code).toBe('E_INVENTORY');
    expect(e.message).toBe("No hosts matched the subscripted pattern 'nodes[9]': 'nodes' has 4 host(s)");
  });

  it('says when a ~regex is invalid', () => {
    const e = userError(() => inv.select('~node('));
    expect(e.code).toBe('E_INVENTORY');
    expect(e.message).toBe('Invalid host list pattern: ~node(');
  });
});

describe('implicit localhost', () => {
  it('is selected by name when the inventory does not define it, but is not in all', () => {
    expect(inv.select('localhost')).toEqual(['localhost']);
    expect(inv.select('127.0.0.1')).toEqual(['127.0.0.1']);
    expect(inv.select('localhost:gateway')).toEqual(['localhost', 'gateway']);
    expect(inv.select('all')).not.toContain('localhost');
    expect(inv.select('*')).not.toContain('localhost');
    expect(inv.hosts.has('localhost')).toBe(false);
    expect(inv.isImplicitLocalhost('localhost')).toBe(true);
  });

  it('connects locally and gets the all-group vars', () => {
    const withVars = inventoryOf('[all:vars]\nntp=10.0.0.1\n[g]\nh\n');
    expect(withVars.hostVars('localhost')).toEqual({ ntp: '10.0.0.1', ansible_connection: 'local' });
    expect(withVars.groupNames('localhost')).toEqual([]);
  });

  it('is an ordinary host when the inventory defines it', () => {
    const own = inventoryOf('[local]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
    expect(own.select('all')).toEqual(['localhost']);
    expect(own.isImplicitLocalhost('localhost')).toBe(false);
    expect(own.groupNames('localhost')).toEqual(['local']);
  });
});

describe('splitHostPattern and orderPatterns', () => {
  it.each<[string, string[]]>([
    ['a:b', ['a', 'b']],
    ['a,b', ['a', 'b']],
    ['a:&b:!c', ['a', '&b', '!c']],
    ['g[1:3]', ['g[1:3]']],
    ['g[1:3]:h', ['g[1:3]', 'h']],
    ['nodes[1:]:gateway', ['nodes[1:]', 'gateway']],
    ['fe80::1', ['fe80::1']],
    ['::1', ['::1']],
    ['[2001:db8::1]:22', ['[2001:db8::1]:22']],
    ['fe80::1,fe80::2', ['fe80::1', 'fe80::2']],
    ['web*:~node[12]', ['web*', '~node[12]']],
    [' a , ,b ', ['a', 'b']],
  ])('%s', (pattern, parts) => {
    expect(splitHostPattern(pattern)).toEqual(parts);
  });

  it('flattens a list', () => {
    expect(splitHostPattern(['a:b', 'c,d'])).toEqual(['a', 'b', 'c', 'd']);
  });

  it('orders unions, then intersections, then exclusions; starts from all when there is no union', () => {
    expect(orderPatterns(['!x', '&y', 'a', '!z', 'b'])).toEqual(['a', 'b', '&y', '!x', '!z']);
    expect(orderPatterns(['!x'])).toEqual(['all', '!x']);
  });
});

describe('--limit @file', () => {
  const dir = tree({ 'site.retry': 'node1\n\n  node3  \n', 'sub/.keep': '' });

  it('reads one pattern per line', () => {
    expect(readLimitFile('@site.retry', dir)).toEqual(['node1', 'node3']);
    expect(readLimitFile(`${dir}/site.retry`)).toEqual(['node1', 'node3']);
  });

  it('expands @file entries among other limit values', () => {
    expect(expandLimit(['@site.retry,gateway', 'nodes:!node2'], dir)).toEqual(['node1', 'node3', 'gateway', 'nodes', '!node2']);
    expect(inv.select(expandLimit(['@site.retry'], dir))).toEqual(['node1', 'node3']);
  });

  it('says when the file is missing or a directory', () => {
    // as ansible-playbook: a missing limit file is an error (exit 1), not a bad option
    expect(userError(() => readLimitFile('@nope.retry', dir))).toMatchObject({
      code: 'E_FILE_NOT_FOUND',
      message: `Unable to find limit file ${dir}/nope.retry`,
    });
    expect(userError(() => readLimitFile('@sub', dir)).message).toMatch(/must be a file, not a directory/);
  });
});
