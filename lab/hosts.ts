// One booted host: an overlay of the lab's root file system with the host's own identity
// (hostname, machine-id, SSH host key, pi's key and password), booted by systemd-nspawn in the
// host's namespace under a small supervisor that plays the power switch: a reboot (nspawn exits
// 133) boots it again, a poweroff leaves it off until `lab power-on`.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { HOME, hostPaths, type HostSpec } from './config.js';
import { detachDisks, hasFirmware, imagingPaths, prepareDisk } from './imaging.js';
import { plugCommand, unplugCommand } from './network.js';
import { LabError, processAlive, readPid, run, runStatus, signal, sleep, waitFor } from './proc.js';

/** What the lab knows about a host's power. */
export type HostPower = 'on' | 'off';

/** Everything a host's identity needs at `up`. */
export interface HostIdentity {
  publicKey: string;
  password: string;
}

// Per-host files on top of the shared image, written into the overlay before the first boot.
async function writeIdentity(host: HostSpec, root: string, id: HostIdentity): Promise<void> {
  const etc = join(root, 'etc');
  writeFileSync(join(etc, 'hostname'), `${host.name}\n`);
  writeFileSync(
    join(etc, 'hosts'),
    `127.0.0.1\tlocalhost\n127.0.1.1\t${host.name}\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n`,
  );
  writeFileSync(join(etc, 'machine-id'), `${randomBytes(16).toString('hex')}\n`);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${host.name}`, '-f', join(etc, 'ssh', 'ssh_host_ed25519_key')]);
  await run('chpasswd', ['-R', root], { input: `pi:${id.password}\n` });
  const pw = readFileSync(join(etc, 'passwd'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('pi:'));
  if (!pw) throw new LabError(`the lab image has no user pi (${root})`);
  const [, , uid, gid] = pw.split(':').map(Number);
  const ssh = join(root, 'home', 'pi', '.ssh');
  mkdirSync(ssh, { recursive: true, mode: 0o700 });
  writeFileSync(join(ssh, 'authorized_keys'), `${id.publicKey.trim()}\n`, { mode: 0o600 });
  chownSync(ssh, uid, gid);
  chownSync(join(ssh, 'authorized_keys'), uid, gid);
  if (host.role === 'gateway') {
    // The home Wi-Fi as Raspberry Pi Imager leaves it: a profile named "preconfigured".
    const wlan = host.links.find((l) => l.name === 'wlan0')!;
    writeFileSync(
      join(etc, 'NetworkManager', 'system-connections', 'preconfigured.nmconnection'),
      [
        '[connection]',
        'id=preconfigured',
        `uuid=${randomUUID()}`,
        'type=ethernet',
        'interface-name=wlan0',
        'autoconnect=true',
        '',
        '[ethernet]',
        `mac-address=${wlan.mac.toUpperCase()}`,
        '',
        '[ipv4]',
        'method=manual',
        `address1=${host.address}/${HOME.prefix},${HOME.router}`,
        '',
        '[ipv6]',
        'method=disabled',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  }
}

/** A fresh overlay for the host with its identity written in; the old one is thrown away. */
export async function prepareHost(state: string, host: HostSpec, image: string, id: HostIdentity): Promise<void> {
  const p = hostPaths(state, host.name);
  await unmountHost(state, host.name);
  rmSync(p.dir, { recursive: true, force: true });
  for (const d of [p.upper, p.work, p.root]) mkdirSync(d, { recursive: true });
  await run('mount', ['-t', 'overlay', `tsplay-lab-${host.name}`, '-o', `lowerdir=${image},upperdir=${p.upper},workdir=${p.work}`, p.root]);
  await writeIdentity(host, p.root, id);
  if (host.role === 'node') await prepareDisk(state, host, image);
}

/**
 * Mount points under the state directory, the latest first (from /proc/self/mountinfo): a mount
 * comes before what it stands on (a node's root overlay before the disk partition under it).
 */
export function labMounts(state: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mountPoint = line.split(' ')[4];
    if (!mountPoint) continue;
    const decoded = mountPoint.replace(/\\(\d{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (decoded.startsWith(join(state, 'hosts') + '/')) out.push(decoded);
  }
  return out.reverse();
}

// Everything mounted in the host's directory: its root, and a node's disk partitions.
async function unmountHost(state: string, name: string): Promise<void> {
  const dir = hostPaths(state, name).dir;
  for (const m of labMounts(state).filter((m) => m.startsWith(dir + '/'))) await unmount(m);
  await detachDisks(state, name);
}

export async function unmount(mountPoint: string): Promise<void> {
  const r = await runStatus('umount', [mountPoint]);
  if (r.code !== 0) await run('umount', ['--lazy', mountPoint]);
}

/** Cgroup directories the host's supervisor moves into, so each container has a tree of its own. */
export function cgroupDirs(name: string): string[] {
  const dirs: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const mountPoint = pre.split(' ')[4];
    const [fstype, , superOptions = ''] = post.split(' ');
    if (fstype === 'cgroup2' || (fstype === 'cgroup' && superOptions.split(',').includes('name=systemd'))) {
      dirs.push(join(mountPoint, CGROUP_TREE, name));
    }
  }
  return dirs;
}

const CGROUP_TREE = 'tsplay-lab';

/** Remove the lab's (empty) cgroup trees once its containers are gone. */
export function removeCgroups(): void {
  const roots = new Set(cgroupDirs('x').map((d) => join(d, '..')));
  const rmTree = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) rmTree(p);
    }
    try {
      rmdirSync(dir);
    } catch {
      /* still has processes; left for the next down */
    }
  };
  for (const r of roots) rmTree(r);
}

// The power switch. In sh so that it costs no memory to speak of and needs no file on disk:
// $1 is the host's directory, the rest is the nspawn command line; $TSPLAY_LAB_PLUG gives the
// host a fresh namespace before each boot, as a power cycle would; $TSPLAY_LAB_FIRMWARE, for a
// node, picks what it boots and prints the extra nspawn arguments (imaging.ts); $TSPLAY_LAB_UNPLUG
// takes the host off its network once it is off. TERM powers the host off.
const SUPERVISOR = `
dir=$1; shift
echo $$ > "$dir/supervisor.pid"
for cg in $TSPLAY_LAB_CGROUPS; do mkdir -p "$cg" && echo $$ > "$cg/cgroup.procs"; done
stop=0; child=
trap 'stop=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT HUP
while :; do
  if ! sh -c "$TSPLAY_LAB_PLUG"; then echo "tsplay lab: cannot wire the host's network" >&2; break; fi
  [ "$stop" = 0 ] || break
  extra=
  if [ -n "$TSPLAY_LAB_FIRMWARE" ]; then
    extra=$(sh "$TSPLAY_LAB_FIRMWARE" "$dir") || { echo "tsplay lab: the firmware cannot boot the host" >&2; break; }
  fi
  set -f; "$@" $extra & child=$!; set +f
  echo "$child" > "$dir/nspawn.pid"
  rc=0
  while :; do wait "$child"; rc=$?; kill -0 "$child" 2>/dev/null || break; done
  child=
  echo "$(date '+%F %T') exit $rc" >> "$dir/boots.log"
  [ "$stop" = 0 ] && [ "$rc" = 133 ] || break
done
sh -c "$TSPLAY_LAB_UNPLUG"
rm -f "$dir/nspawn.pid" "$dir/supervisor.pid"
`;

/** The nspawn command line of a host (LAB.md: --keep-unit --register=no, the capabilities). */
export function nspawnArgs(state: string, host: HostSpec): string[] {
  return [
    'systemd-nspawn',
    `--directory=${hostPaths(state, host.name).root}`,
    '--boot',
    '--register=no',
    '--keep-unit',
    `--network-namespace-path=/run/netns/${host.netns}`,
    '--capability=CAP_NET_ADMIN,CAP_NET_RAW',
    `--machine=${host.name}`,
    `--hostname=${host.name}`,
    '--console=read-only',
    '--resolv-conf=off',
    '--timezone=off',
    '--link-journal=no',
  ];
}

/** Is the host's supervisor running (the host is on, booting or rebooting)? */
export function hostPower(state: string, name: string): HostPower {
  const pid = readPid(hostPaths(state, name).supervisorPid);
  return pid !== undefined && processAlive(pid) ? 'on' : 'off';
}

/** Power the host on: start its supervisor, detached from this process. */
export async function startHost(state: string, host: HostSpec): Promise<void> {
  const p = hostPaths(state, host.name);
  if (hostPower(state, host.name) === 'on') return;
  rmSync(p.supervisorPid, { force: true });
  const log = openSync(p.console, 'a');
  try {
    const child = spawn('/bin/sh', ['-c', SUPERVISOR, 'tsplay-lab-supervisor', p.dir, ...nspawnArgs(state, host)], {
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        LANG: 'C.UTF-8',
        SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network',
        TSPLAY_LAB_CGROUPS: cgroupDirs(host.name).join(' '),
        TSPLAY_LAB_PLUG: plugCommand(host).text,
        TSPLAY_LAB_UNPLUG: unplugCommand(host).text,
        TSPLAY_LAB_FIRMWARE: hasFirmware(state, host.name) ? imagingPaths(state).firmware : '',
      },
    });
    child.unref();
  } finally {
    closeSync(log);
  }
  const ok = await waitFor(() => readPid(p.nspawnPid) !== undefined, 5000, 50);
  if (!ok) throw new LabError(`${host.name} did not start; see ${p.console}`);
}

/** The pid (on this machine) of the host's PID 1, when it is booted. */
export function leaderPid(state: string, name: string): number | undefined {
  const nspawn = readPid(hostPaths(state, name).nspawnPid);
  if (nspawn === undefined || !processAlive(nspawn)) return undefined;
  try {
    for (const task of readdirSync(`/proc/${nspawn}/task`)) {
      for (const c of readFileSync(`/proc/${nspawn}/task/${task}/children`, 'utf8').split(/\s+/).filter(Boolean)) {
        const status = readFileSync(`/proc/${c}/status`, 'utf8');
        if (/^NSpid:\s+\d+\s+1\s*$/m.test(status)) return Number(c);
      }
    }
  } catch {
    /* rebooting */
  }
  return undefined;
}

/** Run a command inside a booted host, as root, without the network (nsenter into its PID 1). */
export async function hostExec(
  state: string,
  name: string,
  argv: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const pid = leaderPid(state, name);
  if (pid === undefined) throw new LabError(`${name} is not running`);
  return runStatus('nsenter', ['-t', String(pid), '-m', '-u', '-i', '-n', '-p', '-r', '-w', '--', ...argv], {
    input: opts.input,
    timeoutMs: opts.timeoutMs,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' },
  });
}

/** systemd's state in the host ("running", "degraded", "starting"...), or undefined when off. */
export async function systemState(state: string, name: string, wait = false, timeoutMs = 90_000): Promise<string | undefined> {
  if (leaderPid(state, name) === undefined) return undefined;
  const r = await hostExec(state, name, ['systemctl', 'is-system-running', ...(wait ? ['--wait'] : [])], { timeoutMs });
  return r.stdout.trim() || undefined;
}

/** Wait for the host to finish booting; returns systemd's state. */
export async function waitBooted(state: string, name: string, timeoutMs = 90_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  const failed = () => {
    const tail = readFileSync(hostPaths(state, name).console, 'utf8').trim().split('\n').slice(-3).join(' / ');
    return new LabError(`${name} stopped while booting: ${tail}`);
  };
  await waitFor(() => leaderPid(state, name) !== undefined || hostPower(state, name) === 'off', timeoutMs, 100);
  for (;;) {
    if (hostPower(state, name) === 'off') throw failed();
    // the bus is not up at the very first instant of a boot: retry until it answers
    const s = await systemState(state, name, true, Math.max(1000, until - Date.now())).catch(() => undefined);
    if (s && s !== 'starting' && s !== 'initializing' && s !== 'offline' && s !== 'unknown') return s;
    if (Date.now() > until)
      throw new LabError(
        `${name} did not finish booting in ${timeoutMs / 1000} s (state ${s ?? 'unknown'}); see ${hostPaths(state, name).console}`,
      );
    await sleep(250);
  }
}

/** Power the host off the hard way when it does not shut down in time; never fails. */
export async function stopHost(state: string, name: string, timeoutMs = 20_000): Promise<void> {
  const p = hostPaths(state, name);
  const supervisor = readPid(p.supervisorPid);
  const nspawn = readPid(p.nspawnPid);
  if (supervisor !== undefined && processAlive(supervisor, 'tsplay-lab-supervisor')) {
    signal(supervisor, 'SIGTERM');
    if (await waitFor(() => !processAlive(supervisor), timeoutMs)) return;
  }
  const leader = leaderPid(state, name);
  if (leader !== undefined) signal(leader, 'SIGKILL');
  if (nspawn !== undefined && processAlive(nspawn, 'systemd-nspawn')) {
    await waitFor(() => !processAlive(nspawn), 3000);
    signal(nspawn, 'SIGKILL');
  }
  if (supervisor !== undefined && processAlive(supervisor, 'tsplay-lab-supervisor')) signal(supervisor, 'SIGKILL');
  rmSync(p.supervisorPid, { force: true });
  rmSync(p.nspawnPid, { force: true });
}

/** Unmount the host's overlay and remove its files. */
export async function removeHost(state: string, name: string): Promise<void> {
  await unmountHost(state, name);
  rmSync(hostPaths(state, name).dir, { recursive: true, force: true });
  // nspawn keeps a propagation directory per machine, which it cannot remove where /run is a disk
  rmSync(`/run/systemd/nspawn/propagate/${name}`, { recursive: true, force: true });
}

/** Remove nspawn's runtime directories when no container uses them any more. */
export function removeNspawnRuntime(): void {
  for (const d of ['/run/systemd/nspawn/propagate', '/run/systemd/nspawn/locks', '/run/systemd/nspawn']) {
    try {
      rmdirSync(d);
    } catch {
      /* absent, or in use by another container */
    }
  }
}
