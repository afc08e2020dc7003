// The lab as a whole: `up` (always from a clean state), `down` (removes every namespace, link,
// mount and process the lab made; safe to run twice), `status` and `power-on`.
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import {
  CONTROLLER_LINK,
  LAB_RANGE,
  hostPaths,
  hostSpecs,
  labPaths,
  MAX_NODES,
  statePaths,
  type HostSpec,
  type LabPaths,
} from './config.js';
import {
  cgroupDirs,
  hostExec,
  hostPower,
  labMounts,
  leaderPid,
  prepareHost,
  removeCgroups,
  removeHost,
  removeNspawnRuntime,
  startHost,
  stopHost,
  systemState,
  unmount,
  waitBooted,
  type HostPower,
} from './hosts.js';
import { ensureCredentials, writeAccessFiles } from './inventory.js';
import { prepareHostNetns, createSwitches, destroyNetwork, labNamespaces, namespacePids, netnsDirMounted } from './network.js';
import { LabError, processAlive, readPid, runStatus, signal, waitFor } from './proc.js';
import { bootedFrom, buildImageStore, detachDisks, labLoops, writeImagingTools } from './imaging.js';
import { ensureHostTools, ensureRootfs, pruneImages } from './rootfs.js';
import { startUpstream, stopUpstream, upstreamRunning } from './upstream.js';

export { LabError } from './proc.js';
export { hostExec } from './hosts.js';

/** Where progress lines go (the CLI passes its output). */
export type LabLog = (line: string) => void;

/** What `up` records about the running lab. */
export interface LabState {
  nodes: number;
  image: string;
  startedAt: string;
  aptProxy: boolean;
}

/** What `up` made, for the caller (tests use the paths). */
export interface LabInfo {
  state: string;
  hosts: HostSpec[];
  inventory: string;
  /** An inventory that makes the controller a route client of nat-setup (a route to the cluster). */
  routeClients: string;
  knownHosts: string;
  sshConfig: string;
  key: string;
  passwordFile: string;
  aptProxy: boolean;
  /** systemd's state in each host after boot ("running" unless something failed). */
  systemStates: Record<string, string>;
  seconds: number;
}

export interface HostStatus {
  name: string;
  role: HostSpec['role'];
  power: HostPower;
  /** systemd's state when on ("running", "starting", "degraded"...). */
  system?: string;
  /** Its IPv4 address now, on its first link (gateway wlan0, node eth0); none when off or before a lease. */
  address?: string;
  /** The address the inventory gives it (the gateway's home address, a node's reservation). */
  inventoryAddress: string;
  mac: string;
  /** How many times it booted since `up` (a reboot or a power-on adds one). */
  boots: number;
  /** A node's last boot: from its main disk, or the imaging system (its disk held no system). */
  bootedFrom?: 'disk' | 'imaging';
}

function checkPlatform(): void {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    throw new LabError('tsplay lab needs root on Linux (it makes network namespaces, mounts and containers)');
  }
}

// One lab command at a time per state directory.
async function withLock<T>(paths: LabPaths, fn: () => Promise<T>): Promise<T> {
  mkdirSync(paths.state, { recursive: true, mode: 0o700 });
  const lock = statePaths(paths.state).lock;
  let fd: number;
  try {
    fd = openSync(lock, 'wx');
  } catch {
    const holder = readPid(lock);
    if (holder !== undefined && holder !== process.pid && processAlive(holder)) {
      throw new LabError(`another tsplay lab command is running (pid ${holder})`);
    }
    rmSync(lock, { force: true });
    fd = openSync(lock, 'wx');
  }
  writeSync(fd, `${process.pid}\n`);
  closeSync(fd);
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function readState(state: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(statePaths(state).stateFile, 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

/** Hosts of the lab as recorded, plus any host directory left by a lab that died half-way. */
function recordedHosts(state: string): HostSpec[] {
  const s = readState(state);
  const dirs = existsSync(statePaths(state).hostsDir) ? readdirSync(statePaths(state).hostsDir) : [];
  const maxNode = Math.max(s?.nodes ?? 0, ...dirs.map((d) => Number(/^node(\d+)$/.exec(d)?.[1] ?? 0)));
  return hostSpecs(Math.min(maxNode, MAX_NODES));
}

function sshPortOpen(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port: 22, timeout: 1000 });
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('SSH-'));
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

async function teardown(paths: LabPaths, log: LabLog): Promise<boolean> {
  const state = paths.state;
  const sp = statePaths(state);
  const hosts = recordedHosts(state);
  const hadSomething =
    existsSync(sp.stateFile) || (await labNamespaces()).length > 0 || labMounts(state).length > 0 || existsSync(sp.hostsDir);
  await Promise.all(hosts.map((h) => stopHost(state, h.name)));
  await stopUpstream(state);
  // anything still inside the lab's namespaces is the lab's
  for (const ns of await labNamespaces()) {
    for (const pid of await namespacePids(ns)) signal(pid, 'SIGKILL');
  }
  for (const ns of await labNamespaces()) await waitFor(async () => (await namespacePids(ns)).length === 0, 5000, 100);
  // keep the last run's consoles for whoever debugs it
  const logs = join(state, 'logs');
  if (hosts.some((h) => existsSync(hostPaths(state, h.name).console))) rmSync(logs, { recursive: true, force: true });
  for (const h of hosts) {
    const c = hostPaths(state, h.name).console;
    if (existsSync(c)) {
      mkdirSync(logs, { recursive: true });
      copyFileSync(c, join(logs, `${h.name}.console.log`));
    }
  }
  for (const m of labMounts(state)) await unmount(m);
  if (labMounts(state).length > 0) throw new LabError(`cannot unmount ${labMounts(state).join(', ')}`);
  await detachDisks(state);
  for (const h of hosts) await removeHost(state, h.name);
  rmSync(sp.hostsDir, { recursive: true, force: true });
  await destroyNetwork();
  removeCgroups();
  removeNspawnRuntime();
  for (const f of [sp.stateFile, sp.knownHosts, sp.sshConfig, sp.inventoryDir, sp.routeClients, sp.upstream, join(state, 'imaging')])
    rmSync(f, { recursive: true, force: true });
  if (hadSomething) log('lab: removed the previous lab\n');
  return hadSomething;
}

/** Bring the lab up from a clean state: gateway and `nodes` nodes booted, inventory written. */
export async function labUp(opts: { nodes?: number } = {}, log: LabLog = () => {}, env: NodeJS.ProcessEnv = process.env): Promise<LabInfo> {
  checkPlatform();
  const nodes = opts.nodes ?? 3;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES)
    throw new LabError(`--nodes must be a whole number from 1 to ${MAX_NODES}`);
  const paths = labPaths(env);
  return withLock(paths, async () => {
    const started = Date.now();
    await ensureHostTools(log);
    const image = await ensureRootfs(paths.cache, log, env);
    await teardown(paths, log);
    pruneImages(paths.cache, image);
    const state = paths.state;
    const sp = statePaths(state);
    const hosts = hostSpecs(nodes);
    try {
      const creds = await ensureCredentials(state);
      log(`lab: wiring the network and ${hosts.length} fresh overlays\n`);
      await createSwitches();
      writeImagingTools(state);
      for (const h of hosts) {
        prepareHostNetns(h);
        await prepareHost(state, h, image, creds);
      }
      await buildImageStore(state, hostPaths(state, hosts[0]!.name).root, creds);
      const { aptProxy } = await startUpstream(state, paths.cache, log);
      const labState: LabState = { nodes, image, startedAt: new Date().toISOString(), aptProxy };
      writeFileSync(sp.stateFile, JSON.stringify(labState, null, 2) + '\n');
      log(`lab: booting ${hosts.map((h) => h.name).join(', ')}\n`);
      for (const h of hosts) await startHost(state, h);
      const states = await Promise.all(hosts.map((h) => waitBooted(state, h.name)));
      const gateway = hosts[0];
      if (!(await waitFor(() => sshPortOpen(gateway.address), 30_000, 200))) {
        throw new LabError(`sshd on the gateway (${gateway.address}:22) does not answer; see ${hostPaths(state, gateway.name).console}`);
      }
      writeAccessFiles(state, hosts, { password: creds.password, aptProxy });
      const systemStates = Object.fromEntries(hosts.map((h, i) => [h.name, states[i]]));
      for (const h of hosts) {
        if (systemStates[h.name] !== 'running') {
          const failed = await hostExec(state, h.name, ['systemctl', '--failed', '--plain', '--no-legend']);
          log(`lab: warning: ${h.name} is ${systemStates[h.name]}: ${failed.stdout.trim().replace(/\n/g, '; ')}\n`);
        }
      }
      return {
        state,
        hosts,
        inventory: sp.inventory,
        routeClients: sp.routeClients,
        knownHosts: sp.knownHosts,
        sshConfig: sp.sshConfig,
        key: sp.key,
        passwordFile: sp.password,
        aptProxy,
        systemStates,
        seconds: (Date.now() - started) / 1000,
      };
    } catch (e) {
      if (env.TSPLAY_LAB_KEEP_FAILED !== '1') {
        log('lab: up failed; removing what it made (set TSPLAY_LAB_KEEP_FAILED=1 to keep it)\n');
        await teardown(paths, () => {}).catch(() => {});
      }
      throw e;
    }
  });
}

/** Remove everything the lab made (keeps the cache, the lab's key and password); safe twice. */
export async function labDown(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  checkPlatform();
  const paths = labPaths(env);
  if (!existsSync(paths.state) && (await labNamespaces()).length === 0) return false;
  return withLock(paths, () => teardown(paths, () => {}));
}

/** Each host's power and systemd state; empty when the lab is down. */
export async function labStatus(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ up: boolean; nodes: number; hosts: HostStatus[]; upstream: { http: boolean; aptProxy: boolean }; inventory: string }> {
  checkPlatform();
  const state = labPaths(env).state;
  const s = readState(state);
  if (!s) return { up: false, nodes: 0, hosts: [], upstream: { http: false, aptProxy: false }, inventory: statePaths(state).inventory };
  const hosts = await Promise.all(
    hostSpecs(s.nodes).map(async (h): Promise<HostStatus> => {
      const power = hostPower(state, h.name);
      const system = power === 'on' ? ((await systemState(state, h.name).catch(() => undefined)) ?? 'booting') : undefined;
      let stops = 0;
      try {
        stops = readFileSync(hostPaths(state, h.name).boots, 'utf8').split('\n').filter(Boolean).length;
      } catch {
        /* never stopped */
      }
      const boots = stops + (power === 'on' ? 1 : 0);
      const address = power === 'on' ? await liveAddress(h) : undefined;
      return {
        name: h.name,
        role: h.role,
        power,
        system,
        address,
        inventoryAddress: h.address,
        mac: h.links[0].mac,
        boots,
        ...(h.role === 'node' ? { bootedFrom: bootedFrom(state, h.name) } : {}),
      };
    }),
  );
  return { up: true, nodes: s.nodes, hosts, upstream: upstreamRunning(state), inventory: statePaths(state).inventory };
}

// What the host's first link really has: a node has no address until it took a DHCP lease.
async function liveAddress(h: HostSpec): Promise<string | undefined> {
  const r = await runStatus('ip', ['-n', h.netns, '-4', '-o', 'addr', 'show', 'dev', h.links[0].name]);
  return r.code === 0 ? /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(r.stdout)?.[1] : undefined;
}

/** Switch a host on (the smart plug): boots it from its overlay as it was left; waits for the boot. */
export async function labPowerOn(name: string, env: NodeJS.ProcessEnv = process.env): Promise<{ already: boolean; system: string }> {
  checkPlatform();
  const state = labPaths(env).state;
  const s = readState(state);
  if (!s) throw new LabError('the lab is not up (tsplay lab up)');
  const host = hostSpecs(s.nodes).find((h) => h.name === name);
  if (!host)
    throw new LabError(
      `no host ${name} in the lab (hosts: ${hostSpecs(s.nodes)
        .map((h) => h.name)
        .join(', ')})`,
    );
  if (hostPower(state, name) === 'on')
    return { already: true, system: (await systemState(state, name).catch(() => undefined)) ?? 'booting' };
  await startHost(state, host);
  return { already: false, system: await waitBooted(state, name) };
}

/** The pid of a booted host's PID 1 (tests enter it with nsenter); undefined when off. */
export function labLeaderPid(name: string, env: NodeJS.ProcessEnv = process.env): number | undefined {
  return leaderPid(labPaths(env).state, name);
}

/** Run a command as root inside a host (no network needed); for tests and debugging. */
export function labExec(
  name: string,
  argv: string[],
  opts: { input?: string; timeoutMs?: number } = {},
  env: NodeJS.ProcessEnv = process.env,
) {
  return hostExec(labPaths(env).state, name, argv, opts);
}

/** Everything on this machine that a running lab would hold (tests check it is all gone after down). */
export async function labLeftovers(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const state = labPaths(env).state;
  const out: string[] = [];
  for (const ns of await labNamespaces()) out.push(`netns ${ns}`);
  for (const m of labMounts(state)) out.push(`mount ${m}`);
  for (const l of await labLoops(state)) out.push(`loop ${l}`);
  if (netnsDirMounted() && out.length === 0 && readdirSync('/run/netns').length === 0) out.push('mount /run/netns');
  if (existsSync(`/sys/class/net/${CONTROLLER_LINK}`)) out.push(`link ${CONTROLLER_LINK}`);
  const routes = await runStatus('ip', ['route', 'show', LAB_RANGE]);
  if (routes.stdout.trim()) out.push(`route ${routes.stdout.trim()}`);
  for (const d of cgroupDirs('x').map((d) => join(d, '..'))) if (existsSync(d)) out.push(`cgroup ${d}`);
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (
      cmd.includes('tsplay-lab-supervisor') ||
      (cmd.includes('systemd-nspawn') && cmd.includes(state)) ||
      cmd.includes('tsplay lab upstream') ||
      (cmd.includes('apt-cacher-ng') && cmd.includes(state))
    ) {
      out.push(`process ${pid} ${cmd.slice(0, 80)}`);
    }
  }
  return out;
}
