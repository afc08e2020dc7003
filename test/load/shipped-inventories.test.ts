// The inventories tsplay writes or ships load without a warning, in tsplay and in Ansible: a
// group named as one of its hosts (`[gateway]` holding `gateway`) made both warn "Found both group
// and host with same name" on every command against the lab.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { hostSpecs } from '../../lab/config.js';
import { inventoryText } from '../../lab/inventory.js';
import { loadInventory } from '../../engine/load/inventory.js';

function labInventory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-labinv-'));
  const file = join(dir, 'hosts.ini');
  writeFileSync(file, inventoryText('/var/lib/tsplay-lab', hostSpecs(3)));
  return file;
}

describe('the inventories tsplay writes and ships', () => {
  it.each([
    ['the lab inventory', labInventory],
    ["inventory/ (the guides' cluster)", () => resolve('inventory')],
  ])("%s: no warning, the playbooks' groups hold the right hosts", (_name, source) => {
    const inv = loadInventory([source()]);
    expect(inv.warnings).toEqual([]);
    const groups = inv.groupsVar();
    expect(groups.gateways).toEqual(['gateway']);
    expect(groups.nodes).toEqual(['node1', 'node2', 'node3']);
    expect([...groups.cluster!].sort()).toEqual(['gateway', 'node1', 'node2', 'node3']);
  });

  it.skipIf(!hasAnsible).each([
    ['the lab inventory', labInventory],
    ['inventory/', () => resolve('inventory')],
  ])('%s: ansible-inventory prints no warning either', (_name, source) => {
    // .ini files in an inventory directory are read as in ansible-core 2.19 (2.14 skips them)
    const env = { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_INVENTORY_IGNORE: '.md,.bak,~,.orig,.cfg,.retry,.pyc,.pyo' };
    const r = spawnSync('ansible-inventory', ['-i', source(), '--list'], { encoding: 'utf8', env });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).gateways.hosts).toEqual(['gateway']);
  });
});
