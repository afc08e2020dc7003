// The inventory while its sources are read: hosts, groups and the group tree, with Ansible's rules
// (every group under 'all', hosts without a group in 'ungrouped', no group its own ancestor).
import { UserError, formatLocation, type SourceLocation } from '../errors.js';

/** A host as the inventory files define it. */
export interface InventoryHost {
  /** The inventory hostname (inventory_hostname). */
  name: string;
  /** Variables set on the host in inventory files (inline `k=v`, YAML host mapping, `host:port`). */
  vars: Record<string, unknown>;
  /** Groups the host is listed in directly ('ungrouped' if none; never 'all'). */
  groups: string[];
  /** Where the host first appears. */
  location?: SourceLocation;
}

/** A group as the inventory files define it. */
export interface InventoryGroup {
  /** The group name. */
  name: string;
  /** `[g:vars]` / YAML `vars:` of the group. */
  vars: Record<string, unknown>;
  /** Hosts listed in the group directly. */
  hosts: string[];
  /** Child groups, in the order they were added. */
  children: string[];
  /** ansible_group_priority (default 1): among groups of the same depth, higher priority vars win. */
  priority: number;
  /** Where the group first appears. */
  location?: SourceLocation;
}

const BUILTIN = ['all', 'ungrouped'];

/** Mutable inventory state that the INI/YAML/host-list readers fill in. */
export class InventoryBuilder {
  /** Hosts in order of first appearance. */
  readonly hosts = new Map<string, InventoryHost>();
  /** Groups in order of first appearance, starting with 'all' and 'ungrouped'. */
  readonly groups = new Map<string, InventoryGroup>();
  /** group -> its parent groups. */
  readonly parents = new Map<string, string[]>();
  /** What Ansible would print as warnings while reading. */
  readonly warnings: string[] = [];

  constructor() {
    for (const g of BUILTIN) this.addGroup(g);
    this.addChild('all', 'ungrouped');
  }

  /** The group of this name, created (at `location`) if new. */
  addGroup(name: string, location?: SourceLocation): InventoryGroup {
    let g = this.groups.get(name);
    if (!g) {
      g = { name, vars: {}, hosts: [], children: [], priority: 1, ...(location ? { location } : {}) };
      this.groups.set(name, g);
      this.parents.set(name, []);
    }
    return g;
  }

  /** Add a host (if new) and list it in `group` (which must exist). 'all' adds no membership. */
  addHost(name: string, group: string, location?: SourceLocation): InventoryHost {
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, vars: {}, groups: [], ...(location ? { location } : {}) };
      this.hosts.set(name, h);
    }
    const g = this.groups.get(group);
    if (g && group !== 'all' && !h.groups.includes(group)) {
      g.hosts.push(name);
      h.groups.push(group);
    }
    return h;
  }

  /** Set a group variable; ansible_group_priority sets the group's priority instead, as in Ansible. */
  setGroupVar(group: string, key: string, value: unknown, location?: SourceLocation): void {
    const g = this.addGroup(group);
    if (key !== 'ansible_group_priority') {
      g.vars[key] = value;
      return;
    }
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n)) {
      throw new UserError('E_INVENTORY', `ansible_group_priority of group '${group}' must be an integer, got ${JSON.stringify(value)}`, {
        location,
        hint: 'write a whole number, e.g. ansible_group_priority=10 (higher wins among groups of the same depth)',
      });
    }
    g.priority = n;
  }

  /** Make `child` a child group of `parent`; a loop in the group tree is an error at `location`. */
  addChild(parent: string, child: string, location?: SourceLocation): void {
    const p = this.addGroup(parent);
    this.addGroup(child, location);
    if (p.children.includes(child)) return;
    const path = parent === child ? [child] : this.pathDown(child, parent);
    if (path) {
      throw new UserError(
        'E_INVENTORY',
        `group '${child}' cannot be a child of '${parent}': that makes a loop (${[parent, ...path].join(' -> ')})`,
        {
          location,
          hint: 'a group may not contain itself, directly or through its children; remove one of these parent/child links',
        },
      );
    }
    p.children.push(child);
    this.parents.get(child)!.push(parent);
  }

  // The chain of child groups leading from `from` down to `to`, if there is one.
  private pathDown(from: string, to: string): string[] | undefined {
    const seen = new Set<string>();
    const walk = (g: string): string[] | undefined => {
      if (g === to) return [g];
      if (seen.has(g)) return undefined;
      seen.add(g);
      for (const c of this.groups.get(g)?.children ?? []) {
        const rest = walk(c);
        if (rest) return [g, ...rest];
      }
      return undefined;
    };
    return walk(from);
  }

  /** Ansible's reconcile_inventory: top-level groups under 'all', 'ungrouped' only for hosts without a group. */
  reconcile(): void {
    for (const name of this.groups.keys()) {
      if (name !== 'all' && this.parents.get(name)!.length === 0) this.addChild('all', name);
    }
    const ungrouped = this.groups.get('ungrouped')!;
    const grouped = new Set<string>();
    for (const h of this.hosts.values()) {
      const others = h.groups.filter((g) => g !== 'ungrouped');
      if (others.length > 0 && h.groups.includes('ungrouped')) {
        h.groups = others;
        grouped.add(h.name);
      } else if (h.groups.length === 0) {
        h.groups.push('ungrouped');
        ungrouped.hosts.push(h.name);
      }
      const g = this.groups.get(h.name);
      if (g && !BUILTIN.includes(h.name)) {
        this.warnings.push(
          `Found both group and host with same name: ${h.name} (${formatLocation(h.location ?? g.location) || 'inventory'})`,
        );
      }
    }
    if (grouped.size) ungrouped.hosts = ungrouped.hosts.filter((n) => !grouped.has(n));
  }
}
