// Ansible's INI inventory (plugins/inventory/ini.py): [group], [group:vars], [group:children],
// hosts before any section in 'ungrouped', `#`/`;` comment lines, host ranges and inline k=v vars.
import { UserError, type SourceLocation } from '../errors.js';
import type { InventoryBuilder } from './inventory-data.js';
import { expandHostPattern } from './inventory-hosts.js';
import { iniValue, shlexSplit } from '../expr/py-literal.js';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

interface Pending {
  state: 'vars' | 'children';
  location: SourceLocation;
  parents: string[];
}

/** Read INI inventory text into the builder; errors are E_INVENTORY at the offending line. */
export function parseIniInventory(text: string, file: string, inv: InventoryBuilder): void {
  const lines = text.split(/\r?\n/);
  const pending = new Map<string, Pending>();
  let group = 'ungrouped';
  let state = 'hosts';

  lines.forEach((raw, idx) => {
    const line = raw.trim();
    if (!line || line[0] === '#' || line[0] === ';') return;
    const at = (token?: string): SourceLocation => {
      const col = token ? raw.indexOf(token) : -1;
      return { file, line: idx + 1, col: (col >= 0 ? col : raw.length - raw.trimStart().length) + 1 };
    };
    const fail = (message: string, hint: string, token?: string): never => {
      throw new UserError('E_INVENTORY', message, { location: at(token), hint });
    };

    const section = SECTION.exec(line);
    if (section) {
      group = section[1]!;
      state = section[2] ?? 'hosts';
      if (!['hosts', 'vars', 'children'].includes(state)) {
        fail(
          `section [${group}:${state}] has unknown type '${state}'`,
          `a section is [${group}], [${group}:vars] or [${group}:children]`,
          state,
        );
      }
      if (!inv.groups.has(group)) {
        if (state === 'vars' && !pending.has(group)) pending.set(group, { state: 'vars', location: at(), parents: [] });
        inv.addGroup(group, at(group));
      }
      const waiting = pending.get(group);
      if (waiting && state !== 'vars') {
        if (waiting.state === 'children') addPendingChildren(inv, group, pending);
        else pending.delete(group);
      }
      return;
    }
    if (line[0] === '[' && (line.endsWith(']') || !line.includes(']'))) {
      fail(
        `invalid section header '${line}'`,
        'write a section as [group], [group:vars] or [group:children], with no spaces inside the brackets',
      );
    }

    if (state === 'hosts') {
      let tokens: string[];
      try {
        tokens = shlexSplit(line);
      } catch (e) {
        return fail(
          `cannot read host line: ${(e as Error).message.toLowerCase()}`,
          'close every quote; to put a quote inside a value, quote it with the other kind ("it\'s")',
        );
      }
      if (tokens.length === 0) return;
      const pattern = tokens[0]!;
      if (pattern === '---')
        fail("'---' in an INI inventory: this looks like a YAML file", 'give YAML inventories a .yml or .yaml extension');
      let expanded: { hosts: string[]; port?: number };
      try {
        expanded = expandHostPattern(pattern);
      } catch (e) {
        throw e instanceof UserError ? e.at(at(pattern)) : e;
      }
      if (pattern.endsWith(':') && expanded.port === undefined) {
        fail(
          `host '${pattern}' ends with ':'`,
          'give a port as host:2222; if this file is YAML, give it a .yml or .yaml extension',
          pattern,
        );
      }
      const vars: Record<string, unknown> = {};
      for (const t of tokens.slice(1)) {
        const eq = t.indexOf('=');
        if (eq < 0)
          fail(
            `expected key=value host variable assignment, got: ${t}`,
            'write host variables as key=value after the host name; quote values that contain spaces: key="a b"',
            t,
          );
        vars[t.slice(0, eq)] = iniValue(t.slice(eq + 1));
      }
      for (const name of expanded.hosts) {
        inv.addHost(name, group, at(pattern));
        const h = inv.hosts.get(name)!;
        if (expanded.port !== undefined) h.vars.ansible_port = expanded.port;
        Object.assign(h.vars, vars);
      }
    } else if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) fail(`expected key=value in [${group}:vars], got: ${line}`, `each line of [${group}:vars] sets one variable: name=value`);
      inv.setGroupVar(group, line.slice(0, eq).trim(), iniValue(line.slice(eq + 1).trim()), at());
    } else {
      const m = GROUP_NAME.exec(line);
      if (!m)
        fail(
          `expected a group name in [${group}:children], got: ${line}`,
          `[${group}:children] lists one group name per line; hosts go in a [${group}] section`,
        );
      const child = m![1]!;
      if (inv.groups.has(child)) {
        inv.addChild(group, child, at(child));
      } else {
        const p = pending.get(child);
        if (p) p.parents.push(group);
        else pending.set(child, { state: 'children', location: at(child), parents: [group] });
      }
    }
  });

  for (const [name, p] of pending) {
    if (p.state === 'vars') {
      throw new UserError('E_INVENTORY', `section [${name}:vars] is for group '${name}', which is not defined`, {
        location: p.location,
        hint: `define the group with a [${name}] or [${name}:children] section, or fix the name`,
      });
    }
    throw new UserError('E_INVENTORY', `[${p.parents[p.parents.length - 1]}:children] names group '${name}', which is not defined`, {
      location: p.location,
      hint: `define it with a [${name}] section (an empty one is fine), or fix the name`,
    });
  }
}

// A group that [x:children] named before its own section: link it to those parents now.
function addPendingChildren(inv: InventoryBuilder, group: string, pending: Map<string, Pending>): void {
  const p = pending.get(group)!;
  pending.delete(group);
  for (const parent of p.parents) {
    inv.addChild(parent, group, p.location);
    if (pending.get(parent)?.state === 'children') addPendingChildren(inv, parent, pending);
  }
}
