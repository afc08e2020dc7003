// Ansible's YAML inventory (plugins/inventory/yaml.py): top-level keys are groups (usually just
// `all`), each a mapping of `hosts`, `vars` and `children`; host keys may be ranges or host:port.
import { UserError, formatLocation, type SourceLocation } from '../errors.js';
import type { InventoryBuilder } from './inventory-data.js';
import { expandHostPattern } from './inventory-hosts.js';
import { keyLocationOf, locationOf } from './yaml.js';

type Mapping = Record<string, unknown>;

const isMapping = (v: unknown): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `the ${typeof v} ${String(v)}`;
}

const SHAPE_HINT =
  'a group is a mapping with any of hosts:, vars: and children:, e.g. `nodes: {hosts: {node1: {ansible_host: 10.0.0.11}}}`';

/** Read a parsed YAML/JSON inventory document into the builder. */
export function parseYamlInventory(data: unknown, file: string, inv: InventoryBuilder): void {
  if (data === null || data === undefined) {
    inv.warnings.push(`${file}: the inventory file is empty`);
    return;
  }
  if (!isMapping(data)) {
    throw new UserError('E_INVENTORY', `a YAML inventory must be a mapping of group names (all:, or your groups), not ${describe(data)}`, {
      location: locationOf(data) ?? { file, line: 1, col: 1 },
      hint: `start the file with \`all:\`; ${SHAPE_HINT}`,
    });
  }
  if (data.plugin !== undefined) {
    throw new UserError(
      'E_INVENTORY',
      `${file} configures the inventory plugin '${String(data.plugin)}'; tsplay reads only INI and YAML host lists`,
      {
        location: keyLocationOf(data, 'plugin') ?? { file },
        hint: 'write the hosts out with `ansible-inventory -i <this file> --list -y > hosts.yml` and use that file',
      },
    );
  }
  for (const [name, value] of Object.entries(data)) parseGroup(inv, name, value, keyLocationOf(data, name) ?? { file });
}

function parseGroup(inv: InventoryBuilder, name: string, data: unknown, at: SourceLocation): void {
  if (data !== null && !isMapping(data)) {
    throw new UserError('E_INVENTORY', `group '${name}' must be a mapping with hosts, vars or children, not ${describe(data)}`, {
      location: locationOf(data) ?? at,
      hint: SHAPE_HINT,
    });
  }
  inv.addGroup(name, at);
  if (data === null) return;
  for (const section of ['vars', 'children', 'hosts']) {
    const v = data[section];
    if (typeof v === 'string') data[section] = { [v]: null };
    else if (v !== undefined && v !== null && !isMapping(v)) {
      const example = section === 'vars' ? 'name: value' : section === 'hosts' ? 'node1:' : 'nodes:';
      throw new UserError('E_INVENTORY', `'${section}' of group '${name}' must be a mapping, not ${describe(v)}`, {
        location: locationOf(v) ?? keyLocationOf(data, section) ?? at,
        hint: `write one \`${example}\` per line under ${section}: (a mapping, without '- ' list dashes)`,
      });
    }
  }
  for (const key of Object.keys(data)) {
    const value = data[key] as Mapping | null;
    const keyAt = keyLocationOf(data, key) ?? at;
    if (key !== 'vars' && key !== 'children' && key !== 'hosts') {
      inv.warnings.push(
        `${formatLocation(keyAt)}: skipping unexpected key '${key}' in group '${name}': only hosts, vars and children are valid` +
          (value === null || isMapping(value) ? ` (to make '${key}' a host of '${name}', put it under hosts:)` : ''),
      );
      continue;
    }
    if (value === null) continue;
    if (key === 'vars') {
      for (const [k, v] of Object.entries(value)) inv.setGroupVar(name, k, v, keyLocationOf(value, k) ?? keyAt);
    } else if (key === 'children') {
      for (const [child, childData] of Object.entries(value)) {
        const childAt = keyLocationOf(value, child) ?? keyAt;
        parseGroup(inv, child, childData, childAt);
        inv.addChild(name, child, childAt);
      }
    } else {
      for (const [pattern, hostData] of Object.entries(value))
        parseHost(inv, name, pattern, hostData, keyLocationOf(value, pattern) ?? keyAt);
    }
  }
}

function parseHost(inv: InventoryBuilder, group: string, pattern: string, data: unknown, at: SourceLocation): void {
  if (data !== null && !isMapping(data)) {
    throw new UserError(
      'E_INVENTORY',
      `host '${pattern}' in group '${group}' must have a mapping of variables or nothing, not ${describe(data)}`,
      {
        location: locationOf(data) ?? at,
        hint: `write \`${pattern}:\` alone, or with its variables indented below it (ansible_host: 10.0.0.11)`,
      },
    );
  }
  let expanded: { hosts: string[]; port?: number };
  try {
    expanded = expandHostPattern(pattern);
  } catch (e) {
    throw e instanceof UserError ? e.at(at) : e;
  }
  for (const h of expanded.hosts) {
    const host = inv.addHost(h, group, at);
    if (expanded.port !== undefined) host.vars.ansible_port = expanded.port;
    if (data) Object.assign(host.vars, data);
  }
}
