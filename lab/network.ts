// The lab's wiring, made with `ip` alone (no udev here, so nspawn cannot make links itself):
// a home bridge namespace with the router address and a link to the controller, a cluster
// switch namespace with no address at all, and one namespace per host with its veth ends
// already named eth0 / wlan0. Nothing routes out: the namespaces forward nothing and the
// controller's link neither forwards nor speaks IPv6, and the controller sends nothing for the
// lab's range anywhere but into the lab.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BRIDGE, CONTROLLER_LINK, HOME, HOME_NETNS, LAB_RANGE, NETNS_PREFIX, SWITCH_NETNS, type HostSpec } from './config.js';
import { run, runStatus } from './proc.js';
import { joinCommands, sh, type ShellCommand } from '../engine/sh.js';

const ip = (...args: string[]) => run('ip', args);

async function addNetns(name: string): Promise<void> {
  await ip('netns', 'add', name);
  await ip('-n', name, 'link', 'set', 'lo', 'up');
  // `ip netns exec` binds this over /etc/resolv.conf: a DHCP client in the namespace then never
  // rewrites the machine's own.
  mkdirSync(`/etc/netns/${name}`, { recursive: true });
  writeFileSync(`/etc/netns/${name}/resolv.conf`, '# tsplay lab namespace\n');
  // a new namespace inherits the machine's IPv4 settings: it may forward, the lab's never do
  await nsSysctl(name, 'net.ipv4.ip_forward', '0');
}

async function nsSysctl(netns: string, key: string, value: string): Promise<void> {
  await run('ip', ['netns', 'exec', netns, 'sysctl', '-q', '-w', `${key}=${value}`]);
}

/** The home and switch namespaces and the controller's link; the controller gets HOME.controller. */
export async function createSwitches(): Promise<void> {
  for (const ns of [HOME_NETNS, SWITCH_NETNS]) {
    await addNetns(ns);
    await ip('-n', ns, 'link', 'add', BRIDGE, 'type', 'bridge');
    // the bridges carry the lab's frames only: no IPv6 of their own
    await nsSysctl(ns, `net.ipv6.conf.${BRIDGE}.disable_ipv6`, '1');
    await ip('-n', ns, 'link', 'set', BRIDGE, 'up');
  }
  await ip('-n', HOME_NETNS, 'addr', 'add', `${HOME.router}/${HOME.prefix}`, 'dev', BRIDGE);
  await ip('link', 'add', CONTROLLER_LINK, 'type', 'veth', 'peer', 'name', 'controller', 'netns', HOME_NETNS);
  // the controller's end must never carry lab traffic anywhere else
  await run('sysctl', ['-q', '-w', `net.ipv4.conf.${CONTROLLER_LINK}.forwarding=0`, `net.ipv6.conf.${CONTROLLER_LINK}.disable_ipv6=1`]);
  await ip('addr', 'add', `${HOME.controller}/${HOME.prefix}`, 'dev', CONTROLLER_LINK);
  await ip('link', 'set', CONTROLLER_LINK, 'up');
  await ip('-n', HOME_NETNS, 'link', 'set', 'controller', 'master', BRIDGE, 'up');
  await ip('route', 'replace', 'unreachable', LAB_RANGE);
}

/**
 * The shell commands that give a host a fresh namespace with its links plugged into their
 * switches, as a power cycle does: no address, no route, no firewall rule, no forwarding.
 * The host's supervisor runs them before every boot (links stay down: bringing them up is the
 * host's job).
 */
export function plugCommand(host: HostSpec): ShellCommand {
  const ports = host.links.map((link) => ({ ...link, port: `${host.name}-${link.name}`.slice(0, 15) }));
  return joinCommands(
    [
      ...ports.map((l) => sh`{ ip -n ${l.switchNetns} link del ${l.port} 2>/dev/null || true; }`),
      sh`{ ip netns del ${host.netns} 2>/dev/null || true; }`,
      sh`ip netns add ${host.netns}`,
      sh`ip -n ${host.netns} link set lo up`,
      sh`ip netns exec ${host.netns} sysctl -q -w net.ipv4.ip_forward=0`,
      ...ports.flatMap((l) => [
        sh`ip link add ${l.port} netns ${l.switchNetns} type veth peer name ${l.name} address ${l.mac} netns ${host.netns}`,
        sh`ip -n ${l.switchNetns} link set ${l.port} master ${BRIDGE} up`,
      ]),
    ],
    ' && ',
  );
}

/**
 * The shell commands that pull a powered-off host's cables: its links go down and lose their
 * addresses, so that it answers nothing (the namespace outlives the host's container, and its
 * kernel would otherwise go on answering ping at the host's address, as no real host does).
 */
export function unplugCommand(host: HostSpec): ShellCommand {
  return joinCommands(
    host.links.map(
      (l) =>
        sh`{ ip -n ${host.netns} addr flush dev ${l.name} 2>/dev/null; ip -n ${host.netns} link set ${l.name} down 2>/dev/null; true; }`,
    ),
    ' ; ',
  );
}

/** What a host's namespace needs once per lab (the resolv.conf for `ip netns exec`). */
export function prepareHostNetns(host: HostSpec): void {
  mkdirSync(`/etc/netns/${host.netns}`, { recursive: true });
  writeFileSync(`/etc/netns/${host.netns}/resolv.conf`, '# tsplay lab namespace\n');
}

/** The lab's namespaces that exist now. */
export async function labNamespaces(): Promise<string[]> {
  if (!existsSync(NETNS_DIR)) return [];
  return readdirSync(NETNS_DIR).filter((n) => n.startsWith(NETNS_PREFIX));
}

/** Pids of processes inside one of the lab's namespaces. */
export async function namespacePids(netns: string): Promise<number[]> {
  const r = await runStatus('ip', ['netns', 'pids', netns]);
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

/** Remove every namespace and link the lab made; safe when some or all are gone. */
export async function destroyNetwork(): Promise<void> {
  for (const ns of await labNamespaces()) {
    await runStatus('ip', ['netns', 'del', ns]);
    rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
  }
  // deleting the home namespace took its peer; this is for a half-made lab
  await runStatus('ip', ['link', 'del', CONTROLLER_LINK]);
  await runStatus('ip', ['route', 'del', 'unreachable', LAB_RANGE]);
  if (existsSync('/etc/netns')) {
    for (const d of readdirSync('/etc/netns')) {
      if (d.startsWith(NETNS_PREFIX)) rmSync(join('/etc/netns', d), { recursive: true, force: true });
    }
    if (readdirSync('/etc/netns').length === 0) rmSync('/etc/netns', { recursive: true, force: true });
  }
  // `ip netns add` made /run/netns a shared mount of itself; undo that when no namespace is left
  if (netnsDirMounted() && readdirSync(NETNS_DIR).length === 0) {
    await runStatus('umount', [NETNS_DIR]);
    if (!netnsDirMounted()) rmSync(NETNS_DIR, { recursive: true, force: true });
  }
}

const NETNS_DIR = '/run/netns';

/** Is /run/netns the bind mount `ip netns add` makes? */
export function netnsDirMounted(): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === NETNS_DIR);
}
