// The lab's fixed layout: where it keeps its files, the names of its namespaces and links, and
// the addresses and MACs of its hosts. Everything the lab creates is named from here, so `down`
// can find it again even when the state file is gone.
import { join } from 'node:path';

/** Where the lab keeps things. */
export interface LabPaths {
  /** Survives `down`: the built root file systems, apt-cacher-ng's cache. */
  cache: string;
  /** One running lab: overlays, keys, inventory, pid files. */
  state: string;
}

export function labPaths(env: NodeJS.ProcessEnv = process.env): LabPaths {
  return {
    cache: env.TSPLAY_LAB_CACHE || '/var/cache/tsplay-lab',
    state: env.TSPLAY_LAB_STATE || '/var/lib/tsplay-lab',
  };
}

/** Prefix of every network namespace the lab makes (`ip netns list`). */
export const NETNS_PREFIX = 'tslab-';
/** The upstream ("home") network: a bridge, the router and "the internet" live here. */
export const HOME_NETNS = `${NETNS_PREFIX}home`;
/** The cluster switch: a bridge with no address at all. */
export const SWITCH_NETNS = `${NETNS_PREFIX}switch`;
/** The controller's link to the home network, in the root namespace. */
export const CONTROLLER_LINK = 'tslab0';
export const BRIDGE = 'br0';

/**
 * Every address the lab uses is in this range. The controller's routing table marks all of it
 * unreachable (except the home network on its own link), so no lab address is ever sought
 * through the machine's default route.
 */
export const LAB_RANGE = '10.213.0.0/16';

/** Addresses of the home network (uncommon private range, only inside the lab's namespaces). */
export const HOME = {
  prefix: 24,
  subnet: '10.213.0.0/24',
  /** The controller (root namespace end of CONTROLLER_LINK). */
  controller: '10.213.0.1',
  /** The gateway's wlan0. */
  gateway: '10.213.0.10',
  /** The home router and "the internet": HTTP service and apt repository. */
  router: '10.213.0.254',
} as const;

/** What the lab suggests for the cluster network; configuring it is the playbooks' job. */
export const CLUSTER = {
  subnet: '10.213.1.0/24',
  prefix: 24,
  gateway: '10.213.1.1',
  domain: 'cluster.lan',
  nodeAddress: (i: number) => `10.213.1.${10 + i}`,
} as const;

/** apt-cacher-ng's port on the controller's home address. */
export const APT_PROXY_PORT = 3142;
/** The upstream HTTP service's port on the router address. */
export const HTTP_PORT = 80;
/** The package the lab's apt repository serves. */
export const LAB_PACKAGE = { name: 'tsplay-lab-hello', version: '1.0' } as const;

export const MAX_NODES = 20;

export type HostRole = 'gateway' | 'node';

/** One booted host of the lab. */
export interface HostSpec {
  name: string;
  role: HostRole;
  /** Its network namespace. */
  netns: string;
  /** Links inside the host: name, MAC, and the bridge namespace its peer is plugged into. */
  links: { name: 'eth0' | 'wlan0'; mac: string; switchNetns: string }[];
  /** The address the lab gives it (gateway wlan0) or suggests for DHCP (nodes). */
  address: string;
}

const mac = (group: number, index: number) => `02:74:73:00:${group.toString(16).padStart(2, '0')}:${index.toString(16).padStart(2, '0')}`;

/** The gateway and nodes of a lab with this many nodes. */
export function hostSpecs(nodes: number): HostSpec[] {
  const gateway: HostSpec = {
    name: 'gateway',
    role: 'gateway',
    netns: `${NETNS_PREFIX}gateway`,
    links: [
      { name: 'wlan0', mac: mac(0, 0x0a), switchNetns: HOME_NETNS },
      { name: 'eth0', mac: mac(1, 0x01), switchNetns: SWITCH_NETNS },
    ],
    address: HOME.gateway,
  };
  const rest: HostSpec[] = [];
  for (let i = 1; i <= nodes; i++) {
    rest.push({
      name: `node${i}`,
      role: 'node',
      netns: `${NETNS_PREFIX}node${i}`,
      links: [{ name: 'eth0', mac: mac(1, 0x10 + i), switchNetns: SWITCH_NETNS }],
      address: CLUSTER.nodeAddress(i),
    });
  }
  return [gateway, ...rest];
}

/** Files of one running lab. */
export function statePaths(state: string) {
  return {
    lock: join(state, 'lock'),
    stateFile: join(state, 'lab.json'),
    key: join(state, 'id_ed25519'),
    password: join(state, 'become_password'),
    knownHosts: join(state, 'known_hosts'),
    sshConfig: join(state, 'ssh_config'),
    inventoryDir: join(state, 'inventory'),
    inventory: join(state, 'inventory', 'hosts.ini'),
    routeClients: join(state, 'route-clients.ini'),
    groupVars: join(state, 'inventory', 'group_vars', 'all.yml'),
    hostsDir: join(state, 'hosts'),
    upstream: join(state, 'upstream'),
  };
}

/** Files of one host in the state directory. */
export function hostPaths(state: string, name: string) {
  const dir = join(state, 'hosts', name);
  return {
    dir,
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    root: join(dir, 'root'),
    supervisorPid: join(dir, 'supervisor.pid'),
    nspawnPid: join(dir, 'nspawn.pid'),
    console: join(dir, 'console.log'),
    boots: join(dir, 'boots.log'),
  };
}
