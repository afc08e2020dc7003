// Compares tsplay's inventory with Ansible's own on the same fixtures: hostvars (with group_vars/
// host_vars beside the inventory and the playbook), groups, and the hosts each pattern selects, in
// order. Runs only where ansible-core is installed (e.g. `apt-get install ansible-core`). The
// pattern inventory has one parent per tree level: where several do, Ansible's order among their
// children follows Python set iteration and is not stable from run to run.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { loadInventory } from '../../engine/load/inventory.js';
import { fixture, tree } from './inventory-helpers.js';

// .ini read in directories as in ansible-core 2.19; unparsable sources are errors, as in tsplay.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ANSIBLE_INVENTORY_IGNORE: '.md,.bak,.swp,~,.orig,.cfg,.retry,.pyc,.pyo,.rpm,.txt,.rst',
  ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED: 'true',
  ANSIBLE_LOCALHOST_WARNING: 'false',
  ANSIBLE_HOST_PATTERN_MISMATCH: 'ignore',
};
const MAGIC = ['inventory_file', 'inventory_dir', 'playbook_dir', 'ansible_python_interpreter'];

describe.skipIf(!hasAnsible)('the same inventory as ansible-core sees it', () => {
  it.each<[string, string?]>([
    ['pi-cluster-ini/hosts.ini'],
    ['pi-cluster-ini/hosts.ini', 'playbook'],
    ['pi-cluster-yaml/hosts.yml'],
    ['pi-cluster-dir'],
    ['pi-cluster-dir', 'playbook'],
    ['precedence/inventory/hosts.ini'],
    ['precedence/inventory/hosts.ini', 'precedence/playbook'],
  ])('hostvars and groups of %s (playbook dir %s)', (source, playbook) => {
    const src = fixture(source);
    const pb = playbook && fixture(playbook);
    const data = JSON.parse(
      execFileSync('ansible-inventory', ['-i', src, '--list', ...(pb ? ['--playbook-dir', pb] : [])], { env, encoding: 'utf8' }),
    );
    const inv = loadInventory([src]);
    for (const [host, vars] of Object.entries(data._meta.hostvars as Record<string, Record<string, unknown>>)) {
      expect(inv.hostVars(host, pb), host).toEqual(Object.fromEntries(Object.entries(vars).filter(([k]) => !MAGIC.includes(k))));
    }
    const members = (g: string): string[] => [...new Set([...(data[g]?.hosts ?? []), ...(data[g]?.children ?? []).flatMap(members)])];
    for (const [g, hosts] of Object.entries(inv.groupsVar())) expect([...hosts].sort(), g).toEqual(members(g).sort());
  });

  const path = join(
    tree({
      hosts:
        '[gateway]\ngateway ansible_host=192.168.1.10\n[nodes]\nnode1\nnode2\nnode3\nnode10\n[storage]\nnode3\nnas.example.com\n' +
        '[web]\nweb1.example.com\nweb2.example.com\n[cluster:children]\ngateway\nnodes\n[v6]\nfe80::1\n2001:db8::5\n[cluster]\nswitch\n',
    }),
    'hosts',
  );
  const inv = loadInventory([path]);
  it.each([
    'all',
    '*',
    'nodes',
    'cluster',
    'node2',
    'web*',
    '*.example.com',
    'web?.example.com',
    'web[12].example.com',
    'node[12]',
    '~node[12]',
    '~(web\\d|nas)\\.',
    'nodes[0]',
    'nodes[-1]',
    'nodes[1:3]',
    'nodes[1:]',
    'nodes[2:0]',
    'cluster[0]',
    '*[0]',
    'gateway:nodes',
    'storage,gateway',
    'nodes:&storage',
    'cluster:!node2',
    '!node2:&nodes:cluster',
    '&storage',
    '!cluster:!v6',
    'nodes:node1:storage',
    'fe80::1',
    '2001:db8::5,gateway',
    'nosuchgroup',
    'NODES',
    'localhost',
    'localhost:gateway',
    '[!n]*',
    'cluster:!switch',
  ])('ansible %s --list-hosts', (pattern) => {
    const out = execFileSync('ansible', ['-i', path, pattern, '--list-hosts'], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(inv.select(pattern)).toEqual(
      out
        .split('\n')
        .slice(1)
        .map((l) => l.trim())
        .filter(Boolean),
    );
  });
});
