// Ansible inventories as users already have them: INI or YAML files, directories of them, comma
// lists of hosts; group_vars/ and host_vars/ beside them and beside the playbook; host patterns;
// and the per-host variables with Ansible's precedence.
import { readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { OptionsError, UserError } from '../errors.js';
import { InventoryBuilder, type InventoryGroup, type InventoryHost } from './inventory-data.js';
import { parseAddress } from './inventory-hosts.js';
import { parseIniInventory } from './inventory-ini.js';
import { parseYamlInventory } from './inventory-yaml.js';
import { LOCALHOST_NAMES, checkHostPattern, selectHosts, splitHostPattern, type PatternTarget } from './patterns.js';
import { VarsFiles } from './vars-files.js';
import { listDir, readText, statOrMissing } from './read.js';
import { parseYaml } from './yaml.js';

export type { InventoryGroup, InventoryHost } from './inventory-data.js';

/** A loaded inventory: hosts, groups, and the variables and patterns that work on them. */
export class Inventory {
  /** Every host, in order of first appearance (the implicit localhost is not one of them). */
  readonly hosts: Map<string, InventoryHost>;
  /** Every group, in order of first appearance; always has 'all' and 'ungrouped'. */
  readonly groups: Map<string, InventoryGroup>;
  /** Inventory files and directories read (the -i values that are paths), absolute. */
  readonly sources: string[];
  /** Things Ansible would warn about (ignored YAML keys, a host and a group of the same name). */
  readonly warnings: string[];
  private readonly varsDirs: string[];
  private readonly varsFiles = new VarsFiles();
  private readonly groupHosts = new Map<string, string[]>();
  private readonly hostVarsCache = new Map<string, Record<string, unknown>>();
  private readonly selectCache = new Map<string, string[]>();
  private readonly groupNamesCache = new Map<string, string[]>();
  private groupsCache?: Record<string, string[]>;
  private parents?: Map<string, string[]>;
  private depths?: Map<string, number>;
  private readonly target: PatternTarget = {
    hostNames: () => this.hosts.keys(),
    groupNames: () => this.groups.keys(),
    hostsOf: (g) => this.hostsOf(g),
    hasHost: (name) => this.hosts.has(name),
  };

  /** Use loadInventory; `varsDirs` are the directories whose group_vars/ and host_vars/ belong to the inventory. */
  constructor(built: InventoryBuilder, sources: string[], varsDirs: string[]) {
    this.hosts = built.hosts;
    this.groups = built.groups;
    this.sources = sources;
    this.warnings = built.warnings;
    this.varsDirs = varsDirs;
  }

  /** Hosts matching an Ansible host pattern (or a list of them, as a union), in Ansible's order (see hostsOf); [] if none. */
  select(pattern: string | readonly string[]): string[] {
    const key = typeof pattern === 'string' ? pattern : pattern.join('\0');
    let hosts = this.selectCache.get(key);
    if (!hosts) this.selectCache.set(key, (hosts = selectHosts(this.target, pattern)));
    return [...hosts];
  }

  /** group_names: every group the host is in, directly or through child groups, except 'all'; sorted. */
  groupNames(host: string): string[] {
    const h = this.hosts.get(host);
    if (!h) return [];
    let names = this.groupNamesCache.get(host);
    if (!names) this.groupNamesCache.set(host, (names = [...this.ancestors(h.groups)].filter((g) => g !== 'all').sort()));
    return [...names];
  }

  /** groups: every group (with 'all' and 'ungrouped') -> its hosts, including those of its descendants; frozen. */
  groupsVar(): Record<string, string[]> {
    if (!this.groupsCache) {
      const out: Record<string, string[]> = {};
      for (const g of this.groups.keys()) out[g] = Object.freeze([...this.hostsOf(g)]) as string[];
      this.groupsCache = Object.freeze(out);
    }
    return this.groupsCache;
  }

  /** True when `name` is the implicit localhost: a localhost name the inventory does not define. */
  isImplicitLocalhost(name: string): boolean {
    return LOCALHOST_NAMES.includes(name) && !this.hosts.has(name);
  }

  /**
   * The host's inventory variables with Ansible's precedence (low to high): inventory-file group
   * vars (all, then by depth, priority, name) < inventory group_vars/all < playbook group_vars/all
   * < inventory group_vars/<group> < playbook group_vars/<group> < inventory-file host vars <
   * inventory host_vars/<host> < playbook host_vars/<host>; each layer replaces top-level keys.
   * A host the inventory does not define gets the 'all' layers and its host_vars files.
   * The result is cached per (host, playbookDir) and frozen: copy it to change it.
   */
  hostVars(host: string, playbookDir?: string): Record<string, unknown> {
    const playDir = playbookDir === undefined ? undefined : resolve(playbookDir);
    const key = `${playDir ?? ''}\0${host}`;
    const hit = this.hostVarsCache.get(key);
    if (hit) return hit;
    const h = this.hosts.get(host);
    const groups = h ? this.sortedGroups(h).filter((g) => g !== 'all') : [];
    const groupDirs = this.varsDirs.map((d) => join(d, 'group_vars'));
    const hostDirs = this.varsDirs.map((d) => join(d, 'host_vars'));
    const playGroupDir = playDir && join(playDir, 'group_vars');
    const playHostDir = playDir && join(playDir, 'host_vars');
    const vars: Record<string, unknown> = { ...this.groups.get('all')!.vars };
    for (const g of groups) Object.assign(vars, this.groups.get(g)!.vars);
    for (const d of groupDirs) Object.assign(vars, this.varsFiles.load(d, 'all'));
    if (playGroupDir) Object.assign(vars, this.varsFiles.load(playGroupDir, 'all'));
    for (const d of groupDirs) for (const g of groups) Object.assign(vars, this.varsFiles.load(d, g));
    if (playGroupDir) for (const g of groups) Object.assign(vars, this.varsFiles.load(playGroupDir, g));
    if (h) Object.assign(vars, h.vars);
    else if (this.isImplicitLocalhost(host)) vars.ansible_connection = 'local';
    for (const d of hostDirs) Object.assign(vars, this.varsFiles.load(d, host));
    if (playHostDir) Object.assign(vars, this.varsFiles.load(playHostDir, host));
    Object.freeze(vars);
    this.hostVarsCache.set(key, vars);
    return vars;
  }

  /**
   * Put a host in a group at run time (group_by, add_host): the group is created under `parents`
   * (under 'all' when none are named), the host too if it is new (add_host) with `vars` on it.
   */
  addMembership(host: string, group: string, opts: { parents?: string[]; vars?: Record<string, unknown> } = {}): void {
    const ensureGroup = (name: string): InventoryGroup => {
      let g = this.groups.get(name);
      if (!g) {
        g = { name, vars: {}, hosts: [], children: [], priority: 1 };
        this.groups.set(name, g);
        this.groups.get('all')!.children.push(name);
      }
      return g;
    };
    const g = ensureGroup(group);
    for (const p of opts.parents ?? []) {
      const pg = ensureGroup(p);
      if (p !== group && !pg.children.includes(group)) {
        pg.children.push(group);
        // a group with a named parent is no longer a child of 'all' directly
        if (p !== 'all') {
          const all = this.groups.get('all')!;
          all.children = all.children.filter((c) => c !== group);
        }
      }
    }
    let h = this.hosts.get(host);
    if (!h) {
      h = { name: host, vars: {}, groups: [] };
      this.hosts.set(host, h);
    }
    Object.assign(h.vars, opts.vars ?? {});
    if (group !== 'all' && group !== 'ungrouped' && !h.groups.includes(group)) {
      g.hosts.push(host);
      h.groups = [...h.groups.filter((x) => x !== 'ungrouped'), group];
      const ungrouped = this.groups.get('ungrouped')!;
      ungrouped.hosts = ungrouped.hosts.filter((x) => x !== host);
    } else if (group === 'ungrouped' && h.groups.length === 0) {
      h.groups.push('ungrouped');
      this.groups.get('ungrouped')!.hosts.push(host);
    }
    this.invalidate();
  }

  // group_by and add_host change the tree: everything derived from it is computed again
  private invalidate(): void {
    this.groupHosts.clear();
    this.hostVarsCache.clear();
    this.selectCache.clear();
    this.groupNamesCache.clear();
    this.groupsCache = undefined;
    this.parents = undefined;
    this.depths = undefined;
  }

  /**
   * The hosts of a group and its descendants in Ansible's order: the group's own hosts, then its
   * children's, breadth first (for 'all': ungrouped hosts, then top-level groups in order of appearance).
   */
  hostsOf(group: string): readonly string[] {
    let hosts = this.groupHosts.get(group);
    if (hosts) return hosts;
    const order = [group];
    const seen = new Set(order);
    for (let i = 0; i < order.length; i++) {
      for (const c of this.groups.get(order[i]!)?.children ?? [])
        if (!seen.has(c)) {
          seen.add(c);
          order.push(c);
        }
    }
    hosts = [...new Set(order.flatMap((g) => this.groups.get(g)?.hosts ?? []))];
    this.groupHosts.set(group, hosts);
    return hosts;
  }

  private ancestors(direct: readonly string[]): Set<string> {
    const out = new Set<string>();
    const parentsOf = this.parentMap();
    const visit = (g: string) => {
      if (out.has(g)) return;
      out.add(g);
      for (const p of parentsOf.get(g) ?? []) visit(p);
    };
    direct.forEach(visit);
    out.add('all');
    return out;
  }

  private parentMap(): Map<string, string[]> {
    if (!this.parents) {
      const m = new Map<string, string[]>();
      for (const g of this.groups.values()) for (const c of g.children) m.set(c, [...(m.get(c) ?? []), g.name]);
      this.parents = m;
    }
    return this.parents;
  }

  // Ansible's sort_groups: by depth (longest path from 'all'), then ansible_group_priority, then name.
  private sortedGroups(h: InventoryHost): string[] {
    if (!this.depths) {
      const parentsOf = this.parentMap();
      const depths = new Map<string, number>([['all', 0]]);
      const depth = (g: string): number => {
        let d = depths.get(g);
        if (d === undefined) depths.set(g, (d = 1 + Math.max(0, ...(parentsOf.get(g) ?? []).map(depth))));
        return d;
      };
      for (const g of this.groups.keys()) depth(g);
      this.depths = depths;
    }
    const depths = this.depths;
    return [...this.ancestors(h.groups)].sort((a, b) => {
      const ga = this.groups.get(a)!;
      const gb = this.groups.get(b)!;
      return depths.get(a)! - depths.get(b)! || ga.priority - gb.priority || (a < b ? -1 : a > b ? 1 : 0);
    });
  }
}

const YAML_EXTENSIONS = ['.yml', '.yaml', '.json'];
// Ansible's INVENTORY_IGNORE_EXTS (REJECT_EXTS + .orig .cfg .retry); .ini files are read, as in ansible-core 2.19.
const IGNORED_EXTENSIONS = ['.pyc', '.pyo', '.swp', '.bak', '~', '.rpm', '.md', '.txt', '.rst', '.orig', '.cfg', '.retry'];
const IGNORED_NAMES = ['group_vars', 'host_vars', 'vars_plugins'];

function stat(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Read the -i sources, in order: each is an inventory file (INI, or YAML/JSON), a directory of
 * them, or a comma list of hosts (`-i 'node1,node2:2222,'`). Relative paths are resolved from cwd.
 */
export function loadInventory(sources: readonly string[], opts: { cwd?: string } = {}): Inventory {
  const cwd = opts.cwd ?? process.cwd();
  const inv = new InventoryBuilder();
  const read: string[] = [];
  const varsDirs: string[] = [];
  for (const source of sources) {
    if (!source.trim()) continue;
    const path = resolve(cwd, source);
    const st = statOrMissing(path, 'inventory source', 'E_INVENTORY');
    if (st?.isDirectory()) {
      readDirectory(path, inv);
      read.push(path);
      varsDirs.push(path);
    } else if (st) {
      readFile(path, inv);
      read.push(path);
      varsDirs.push(dirname(path));
    } else if (source.includes(',')) {
      readHostList(source, inv);
    } else {
      throw new UserError('E_INVENTORY', `inventory source not found: ${source}`, {
        hint: `give a file or directory with -i (relative to ${cwd}); for a single host without a file, end it with a comma: -i '${source},'`,
      });
    }
  }
  inv.reconcile();
  return new Inventory(inv, read, [...new Set(varsDirs)]);
}

function readDirectory(dir: string, inv: InventoryBuilder): void {
  for (const entry of listDir(dir, 'inventory directory', 'E_INVENTORY').sort()) {
    if (entry.startsWith('.') || IGNORED_NAMES.includes(entry) || IGNORED_EXTENSIONS.some((x) => entry.endsWith(x))) continue;
    const path = join(dir, entry);
    const st = statOrMissing(path, 'inventory file', 'E_INVENTORY');
    if (st?.isDirectory()) readDirectory(path, inv);
    else if (st?.isFile()) readFile(path, inv);
  }
}

function readFile(path: string, inv: InventoryBuilder): void {
  const text = readText(path, 'inventory file', 'E_INVENTORY');
  const st = stat(path);
  if (text.startsWith('#!') && st && st.mode & 0o111) {
    throw new UserError('E_INVENTORY', `${path} is an executable inventory script; tsplay does not run dynamic inventories`, {
      location: { file: path, line: 1, col: 1 },
      hint: `save its output once with \`ansible-inventory -i ${path} --list -y > hosts.yml\` and use that file`,
    });
  }
  const ext = extname(path).toLowerCase();
  if (YAML_EXTENSIONS.includes(ext)) return parseYamlInventory(inventoryYaml(text, path), path, inv);
  if (ext === '.ini') return parseIniInventory(text, path, inv);
  let data: unknown;
  let yamlError: unknown;
  try {
    data = parseYaml(text, path);
  } catch (e) {
    yamlError = e;
  }
  if (yamlError === undefined && typeof data === 'object' && data !== null && !Array.isArray(data)) {
    return parseYamlInventory(data, path, inv);
  }
  try {
    parseIniInventory(text, path, inv);
  } catch (e) {
    if (yamlError instanceof UserError && looksLikeYaml(text)) throw asInventoryError(yamlError);
    throw e;
  }
}

// First meaningful line is `---` or a bare `key:`: the author meant YAML, so its YAML error is the useful one.
function looksLikeYaml(text: string): boolean {
  const first = text.split(/\r?\n/).find((l) => l.trim() && !/^\s*[#;]/.test(l));
  return first !== undefined && (/^---\s*$/.test(first) || /^[^\s=[\]]+:\s*(#.*)?$/.test(first) || /^\s*\{/.test(first));
}

function inventoryYaml(text: string, path: string): unknown {
  try {
    return parseYaml(text, path);
  } catch (e) {
    throw e instanceof UserError ? asInventoryError(e) : e;
  }
}

function asInventoryError(e: UserError): UserError {
  return new UserError('E_INVENTORY', `inventory ${e.message}`, { location: e.location, hint: e.hint, cause: e });
}

// host_list plugin: `-i 'a,b:2222,'` adds the hosts to 'ungrouped' (no ranges; a bare IPv6 stays whole).
function readHostList(list: string, inv: InventoryBuilder): void {
  for (const item of list.split(',')) {
    const text = item.trim();
    if (!text) continue;
    const addr = parseAddress(text, false) ?? { host: text };
    if (inv.hosts.has(addr.host)) continue;
    const h = inv.addHost(addr.host, 'ungrouped');
    if (addr.port !== undefined) h.vars.ansible_port = addr.port;
  }
}

/** The host patterns in a `--limit @file` (a retry file): one per line, blank lines skipped. `spec` may keep its '@'. */
export function readLimitFile(spec: string, cwd: string = process.cwd()): string[] {
  const path = resolve(cwd, spec.startsWith('@') ? spec.slice(1) : spec);
  const st = stat(path);
  if (!st)
    throw new UserError('E_FILE_NOT_FOUND', `Unable to find limit file ${path}`, {
      hint: 'a --limit starting with @ names a file with one host or pattern per line',
    });
  if (!st.isFile()) throw new OptionsError(`Limit starting with "@" must be a file, not a directory: ${path}`);
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

/** --limit values (repeatable) as one list of patterns, with each `@file` replaced by the file's lines. */
export function expandLimit(values: readonly string[], cwd: string = process.cwd()): string[] {
  checkHostPattern(values.filter((v) => !v.startsWith('@')));
  return splitHostPattern(values).flatMap((p) => (p.startsWith('@') ? readLimitFile(p, cwd) : [p]));
}
