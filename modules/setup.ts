// setup: gather the facts a play uses (ansible_hostname, ansible_distribution, the interfaces
// and default_ipv4, ...), in one command.
import { defineFact, defineModule, joinCommands, noop, sh } from '../engine/index.js';

/** The facts as Ansible names them (without the ansible_ prefix, inside ansible_facts). */
export type Facts = Record<string, unknown>;

const script = sh`
echo "hostname=$(uname -n | cut -d. -f1)"
echo "nodename=$(uname -n)"
echo "fqdn=$(hostname -f 2>/dev/null || uname -n)"
echo "kernel=$(uname -r)"
echo "machine=$(uname -m)"
echo "system=$(uname -s)"
echo "user_id=$(id -un)"
echo "user_uid=$(id -u)"
echo "user_gid=$(id -g)"
echo "user_dir=$HOME"
echo "user_shell=$SHELL"
echo "service_mgr=$(cat /proc/1/comm 2>/dev/null)"
echo "interfaces=$(ls /sys/class/net 2>/dev/null | tr '\\n' ' ')"
echo "default_route=$(ip -4 route show default 2>/dev/null | head -n1)"
for m in apt-get dnf yum apk pacman zypper; do command -v $m >/dev/null 2>&1 && { echo "pkg=$m"; break; }; done
[ -r /etc/os-release ] && sed -n 's/^\\([A-Z_]*\\)=/os_\\1=/p' /etc/os-release
py=/usr/bin/python3; [ -x $py ] || py=$(command -v python3)
[ -n "$py" ] && "$py" -c 'import sys, json, platform, importlib.util as u
v = sys.version_info
ssl = u.find_spec("ssl") is not None and hasattr(__import__("ssl"), "SSLContext")
print("python=" + json.dumps({"version": {"major": v[0], "minor": v[1], "micro": v[2], "releaselevel": v[3], "serial": v[4]}, "version_info": list(v), "executable": sys.executable, "has_sslcontext": ssl, "type": sys.implementation.name, "python_version": platform.python_version()}))' 2>/dev/null
true`;

// The network subset: every link with its addresses, and the IPv4 default routes, as JSON.
const networkScript = sh`
echo "ip_addr=$(ip -j -d addr show 2>/dev/null | base64 -w0)"
echo "ip_route=$(ip -j -4 route show default 2>/dev/null | base64 -w0)"
true`;

/** Which fact subsets to gather, from gather_subset (Ansible's names; only `network` costs extra). */
export interface FactSubsets {
  network: boolean;
}

/** gather_subset as Ansible reads it: all (default), min, network, !all, !network, ... */
export function factSubsets(gatherSubset: string[] | undefined): FactSubsets {
  let network = true;
  const subset = gatherSubset ?? ['all'];
  if (subset.some((s) => s === '!all' || s === '!min') || subset.every((s) => s === 'min' || s.startsWith('!'))) network = false;
  if (subset.includes('all') || subset.includes('network')) network = true;
  if (subset.includes('!network')) network = false;
  return { network };
}

function unquoteOs(v: string): string {
  return v.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
}

/** Parse the facts script's key=value lines into Ansible's fact names. */
export const systemFacts = defineFact<Facts, FactSubsets | undefined>({
  name: 'system',
  command: (subsets) => (subsets?.network === false ? script : joinCommands([script, networkScript], '\n')),
  process(output) {
    const kv: Record<string, string> = {};
    for (const line of output.stdout.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) kv[line.slice(0, i)] = unquoteOs(line.slice(i + 1));
    }
    const id = kv.os_ID ?? '';
    const like = `${id} ${kv.os_ID_LIKE ?? ''}`;
    const version = kv.os_VERSION_ID ?? '';
    const distro = id === 'raspbian' ? 'Debian' : id ? (id === 'ubuntu' ? 'Ubuntu' : id.charAt(0).toUpperCase() + id.slice(1)) : 'NA';
    const route = kv.default_route ?? '';
    const gw = / via (\S+)/.exec(route)?.[1];
    const dev = / dev (\S+)/.exec(route)?.[1];
    const pkg = kv.pkg === 'apt-get' ? 'apt' : kv.pkg;
    const network = kv.ip_addr !== undefined ? networkFacts(kv.ip_addr, kv.ip_route ?? '') : undefined;
    const python = pythonFacts(kv.python);
    return {
      hostname: kv.hostname,
      nodename: kv.nodename,
      fqdn: kv.fqdn,
      domain: kv.fqdn?.includes('.') ? kv.fqdn.slice(kv.fqdn.indexOf('.') + 1) : '',
      kernel: kv.kernel,
      machine: kv.machine,
      architecture: kv.machine,
      system: kv.system,
      os_family: /debian|ubuntu|raspbian/.test(like) ? 'Debian' : /rhel|fedora|centos/.test(like) ? 'RedHat' : distro,
      distribution: distro,
      distribution_version: version,
      distribution_major_version: version.split('.')[0] ?? '',
      distribution_release: kv.os_VERSION_CODENAME ?? '',
      user_id: kv.user_id,
      user_uid: Number(kv.user_uid),
      user_gid: Number(kv.user_gid),
      user_dir: kv.user_dir,
      user_shell: kv.user_shell,
      service_mgr: kv.service_mgr === 'systemd' ? 'systemd' : kv.service_mgr || 'unknown',
      pkg_mgr: pkg ?? 'unknown',
      interfaces: (kv.interfaces ?? '').trim().split(/\s+/).filter(Boolean),
      default_ipv4: dev ? { interface: dev, gateway: gw } : {},
      ...python,
      ...network,
    };
  },
});

// Ansible's python facts, from the host's python3 when it has one (tsplay itself needs none).
function pythonFacts(line: string | undefined): Facts {
  if (!line) return {};
  try {
    const { python_version, ...python } = JSON.parse(line) as Facts;
    return { python, python_version };
  } catch {
    return {};
  }
}

interface IpAddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  broadcast?: string;
  scope?: string;
  label?: string;
  secondary?: boolean;
}

interface IpLink {
  ifname: string;
  address?: string;
  mtu?: number;
  operstate?: string;
  flags?: string[];
  link_type?: string;
  linkinfo?: { info_kind?: string; info_slave_kind?: string };
  addr_info?: IpAddrInfo[];
}

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  metric?: number;
  prefsrc?: string;
}

/** The dotted netmask of a prefix length: 24 -> 255.255.255.0. */
export function netmask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 255).join('.');
}

/** The network address of an IPv4 address and prefix: 10.213.0.10/24 -> 10.213.0.0. */
export function networkAddress(address: string, prefix: number): string {
  const mask = netmask(prefix).split('.').map(Number);
  return address
    .split('.')
    .map((o, i) => Number(o) & mask[i]!)
    .join('.');
}

function ipv4Fact(a: IpAddrInfo): Record<string, unknown> {
  return {
    address: a.local,
    broadcast: a.broadcast ?? '',
    netmask: netmask(a.prefixlen),
    network: networkAddress(a.local, a.prefixlen),
    prefix: String(a.prefixlen),
  };
}

// Ansible's interface types: ether, loopback, bridge, bonding, ... (from the link and its kind).
function linkType(link: IpLink): string {
  const kind = link.linkinfo?.info_kind;
  if (kind === 'bridge') return 'bridge';
  if (kind === 'bond') return 'bonding';
  if (link.link_type === 'loopback') return 'loopback';
  return link.link_type ?? 'unknown';
}

/** The network facts from `ip -j -d addr` and `ip -j -4 route show default` (both base64). */
export function networkFacts(addrB64: string, routeB64: string): Facts {
  const parse = <T>(b64: string): T[] => {
    try {
      const v = JSON.parse(Buffer.from(b64, 'base64').toString('utf8') || '[]');
      return Array.isArray(v) ? v : [];
    } catch {
      return [];
    }
  };
  const links = parse<IpLink>(addrB64);
  const routes = parse<IpRoute>(routeB64).filter((r) => r.dst === 'default');
  const facts: Facts = {};
  const all4: string[] = [];
  const all6: string[] = [];
  for (const link of links) {
    const v4 = (link.addr_info ?? []).filter((a) => a.family === 'inet');
    const v6 = (link.addr_info ?? []).filter((a) => a.family === 'inet6');
    const iface: Record<string, unknown> = {
      device: link.ifname,
      macaddress: link.link_type === 'loopback' ? '00:00:00:00:00:00' : (link.address ?? ''),
      mtu: link.mtu,
      active: (link.operstate ?? '').toLowerCase() !== 'down',
      type: linkType(link),
      promisc: (link.flags ?? []).includes('PROMISC'),
    };
    if (v4.length) {
      iface.ipv4 = ipv4Fact(v4[0]!);
      if (v4.length > 1) iface.ipv4_secondaries = v4.slice(1).map(ipv4Fact);
    }
    if (v6.length) iface.ipv6 = v6.map((a) => ({ address: a.local, prefix: String(a.prefixlen), scope: a.scope ?? '' }));
    for (const a of v4) if (link.link_type !== 'loopback') all4.push(a.local);
    for (const a of v6) if (link.link_type !== 'loopback' && a.scope !== 'host') all6.push(a.local);
    facts[link.ifname] = iface;
  }
  const route = [...routes].sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0))[0];
  let defaultIpv4: Record<string, unknown> = {};
  if (route?.dev) {
    const iface = facts[route.dev] as Record<string, unknown> | undefined;
    const v4 = iface?.ipv4 as Record<string, unknown> | undefined;
    const chosen =
      route.prefsrc && iface
        ? [iface.ipv4, ...((iface.ipv4_secondaries as unknown[]) ?? [])].find(
            (a) => (a as Record<string, unknown> | undefined)?.address === route.prefsrc,
          )
        : v4;
    defaultIpv4 = {
      ...((chosen ?? v4 ?? {}) as Record<string, unknown>),
      gateway: route.gateway ?? '',
      interface: route.dev,
      ...(iface ? { macaddress: iface.macaddress, mtu: iface.mtu, type: iface.type, alias: route.dev } : {}),
    };
  }
  return {
    interfaces: links.map((l) => l.ifname),
    default_ipv4: defaultIpv4,
    all_ipv4_addresses: all4,
    all_ipv6_addresses: all6,
    ...facts,
  };
}

/** setup's arguments. */
export interface SetupArgs {
  gather_subset?: string[];
  filter?: string[];
  gather_timeout?: number;
  fact_path?: string;
}

// Ansible's `filter`: fnmatch patterns on the fact names (with or without the ansible_ prefix).
function filterFacts(facts: Facts, filter: string[] | undefined): Facts {
  if (!filter || filter.length === 0 || filter.includes('*')) return facts;
  const res = filter.map(
    (f) =>
      new RegExp(
        '^' +
          f
            .replace(/^ansible_/, '')
            .replace(/[.+^${}()|\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.') +
          '$',
      ),
  );
  return Object.fromEntries(Object.entries(facts).filter(([k]) => res.some((r) => r.test(k))));
}

export default defineModule<SetupArgs, Facts>({
  name: 'setup',
  aliases: ['ansible.builtin.setup', 'gather_facts', 'ansible.builtin.gather_facts'],
  description:
    'Gather facts about the host (hostname, distribution, kernel, user, service and package manager, interfaces with their MAC and IPv4 addresses, default_ipv4) in one command. Plays run it first unless gather_facts: false. gather_subset: min or !all leave out the network facts.',
  schema: {
    type: 'object',
    properties: {
      gather_subset: {
        type: 'array',
        items: { type: 'string' },
        description: 'all (default), min, network, or exclusions such as !all, !network: only the network facts cost anything extra.',
      },
      filter: {
        type: 'array',
        items: { type: 'string' },
        description: 'Only return the facts whose names match these shell patterns (ansible_eth0, ansible_*_mb).',
      },
      gather_timeout: { type: 'integer', description: 'Accepted for compatibility.' },
      fact_path: { type: 'string', description: 'Accepted for compatibility (local facts are not read).' },
    },
    additionalProperties: false,
  },
  examples: `- setup:`,
  gather: (ctx, args) => ctx.fact(systemFacts, factSubsets(args.gather_subset)),
  plan: (facts, args) => noop('facts gathered', { ansible_facts: filterFacts(facts, args.filter) }),
});
