// The lab's one root file system: Debian bookworm built with debootstrap from the machine's own
// apt source, made into a Raspberry-Pi-OS-like image (user pi, NetworkManager, sshd without host
// keys), cached by a key of everything that shapes it. Hosts boot overlays of it, never it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError, processAlive, run, runStatus } from './proc.js';

export const SUITE = 'bookworm';

/** What debootstrap installs (LAB.md): without libpam-systemd NetworkManager stays unconfigured. */
export const IMAGE_PACKAGES = [
  'systemd',
  'systemd-sysv',
  'libpam-systemd',
  'dbus',
  'openssh-server',
  'iproute2',
  'iptables',
  'network-manager',
  'dnsmasq',
  'sudo',
  'isc-dhcp-client',
  'iputils-ping',
  'kmod',
  'procps',
  'curl',
  'ca-certificates',
] as const;

/** Files the lab adds to the image; part of the cache key. */
const IMAGE_FILES: Record<string, { mode: number; text: string }> = {
  // One host key per host, generated at each `up` (the image ships none).
  'etc/ssh/sshd_config.d/tsplay-lab.conf': {
    mode: 0o644,
    text: 'HostKey /etc/ssh/ssh_host_ed25519_key\n',
  },
  // A node keeps asking for a lease until a DHCP server answers, however long dhcp-setup takes.
  'etc/NetworkManager/conf.d/tsplay-lab.conf': {
    mode: 0o644,
    text: '[connection]\nipv4.dhcp-timeout=2147483647\n',
  },
  // No name server reaches outside the lab; debootstrap copied the machine's own.
  'etc/resolv.conf': { mode: 0o644, text: '# tsplay lab: no name server outside the lab\n' },
};

/** Units that cannot work in a container and would leave the system "degraded". */
const MASKED_UNITS: string[] = [];

const IMAGE_VERSION = 1;

/** Packages the machine itself needs, by the command that shows they are there. */
const HOST_TOOLS: { command: string; pkg: string; optional?: boolean }[] = [
  { command: 'debootstrap', pkg: 'debootstrap' },
  { command: 'systemd-nspawn', pkg: 'systemd-container' },
  { command: 'ip', pkg: 'iproute2' },
  { command: 'sysctl', pkg: 'procps' },
  { command: 'nsenter', pkg: 'util-linux' },
  { command: 'ssh-keygen', pkg: 'openssh-client' },
  { command: 'ssh', pkg: 'openssh-client' },
  { command: 'chpasswd', pkg: 'passwd' },
  { command: 'dpkg-deb', pkg: 'dpkg' },
  { command: 'dpkg-scanpackages', pkg: 'dpkg-dev' },
  // the nodes' disks and the image store (imaging.ts)
  { command: 'mke2fs', pkg: 'e2fsprogs' },
  { command: 'losetup', pkg: 'mount' },
  { command: 'mountpoint', pkg: 'util-linux' },
  { command: 'gzip', pkg: 'gzip' },
  { command: 'apt-cacher-ng', pkg: 'apt-cacher-ng', optional: true },
];

/** The Debian packages the machine needs for the lab (for CI scripts and the docs). */
export const HOST_PACKAGES = [...new Set(HOST_TOOLS.map((t) => t.pkg))];

const SBIN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function which(command: string): string | undefined {
  for (const dir of SBIN_PATH.split(':')) {
    const p = join(dir, command);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Install what the lab needs on the machine when missing (Debian only); `log` gets progress. */
export async function ensureHostTools(log: (s: string) => void): Promise<void> {
  const missing = [...new Set(HOST_TOOLS.filter((t) => !which(t.command)).map((t) => t.pkg))];
  if (missing.length === 0) return;
  const required = HOST_TOOLS.filter((t) => !t.optional && missing.includes(t.pkg)).map((t) => t.pkg);
  if (!existsSync('/etc/debian_version') || !which('apt-get')) {
    if (required.length) throw new LabError(`the lab needs these packages on this machine: ${required.join(', ')}`);
    return;
  }
  log(`installing on this machine: ${missing.join(' ')}\n`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-q'], { env });
  const r = await runStatus('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env });
  if (r.code !== 0) {
    // optional tools may be unavailable; the required ones must install
    if (required.length) await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...required], { env });
  }
}

interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
}

function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields: Record<string, string> = {};
    let last = '';
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#')) continue;
      if (/^\s/.test(line) && last) fields[last] += ' ' + line.trim();
      else {
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (m) fields[(last = m[1].toLowerCase())] = m[2];
      }
    }
    if (!fields.uris || (fields.enabled ?? 'yes').toLowerCase() === 'no') continue;
    const words = (k: string) => (fields[k] ?? '').split(/\s+/).filter(Boolean);
    out.push({ types: words('types'), uris: words('uris'), suites: words('suites'), components: words('components') });
  }
  return out;
}

function parseOneLine(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw
      .replace(/#.*/, '')
      .replace(/\[[^\]]*\]/, '')
      .trim();
    const [type, uri, suite, ...components] = line.split(/\s+/);
    if ((type === 'deb' || type === 'deb-src') && uri && suite) out.push({ types: [type], uris: [uri], suites: [suite], components });
  }
  return out;
}

/** The machine's apt sources (what its apt-get uses). */
export function aptSources(dir = '/etc/apt'): AptSource[] {
  const out: AptSource[] = [];
  const main = join(dir, 'sources.list');
  if (existsSync(main)) out.push(...parseOneLine(readFileSync(main, 'utf8')));
  const d = join(dir, 'sources.list.d');
  if (existsSync(d)) {
    for (const f of readdirSync(d).sort()) {
      if (f.endsWith('.sources')) out.push(...parseDeb822(readFileSync(join(d, f), 'utf8')));
      else if (f.endsWith('.list')) out.push(...parseOneLine(readFileSync(join(d, f), 'utf8')));
    }
  }
  return out;
}

/** The Debian archive the machine's own apt uses, read at run time ($TSPLAY_LAB_MIRROR wins). */
export function debianMirror(env: NodeJS.ProcessEnv = process.env, dir = '/etc/apt'): string {
  if (env.TSPLAY_LAB_MIRROR) return env.TSPLAY_LAB_MIRROR;
  const debs = aptSources(dir).filter((s) => s.types.includes('deb') && s.components.includes('main'));
  const exact = debs.find((s) => s.suites.includes(SUITE));
  // a Debian archive for another release carries bookworm too; the security archive does not
  const other = debs.find((s) => s.suites.some((x) => !x.includes('-') && !x.includes('/')));
  const uri = (exact ?? other)?.uris[0];
  if (!uri) {
    throw new LabError(`no Debian archive in this machine's apt sources (${dir}); set TSPLAY_LAB_MIRROR to one`);
  }
  return uri;
}

/** The cache key: changes whenever something that shapes the image changes. */
export function imageKey(): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ IMAGE_VERSION, SUITE, IMAGE_PACKAGES, IMAGE_FILES, MASKED_UNITS }));
  return h.digest('hex').slice(0, 12);
}

/** The cached root file system, built first when missing; returns its path. */
export async function ensureRootfs(cache: string, log: (s: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const images = join(cache, 'images');
  const final = join(images, `${SUITE}-${imageKey()}`);
  if (existsSync(join(final, 'etc', 'os-release'))) return final;
  mkdirSync(images, { recursive: true });
  // builds of a process that died half-way are never used; remove them
  for (const f of readdirSync(images)) {
    const m = /^\.build-.*-(\d+)$/.exec(f);
    if (m && !processAlive(Number(m[1]))) rmSync(join(images, f), { recursive: true, force: true });
  }
  const build = join(images, `.build-${imageKey()}-${process.pid}`);
  const mirror = debianMirror(env);
  log(`building the lab's ${SUITE} root file system (debootstrap, once; about a minute or two)\n`);
  const started = Date.now();
  const seen = new Set<string>();
  await run('debootstrap', ['--variant=minbase', `--include=${IMAGE_PACKAGES.join(',')}`, SUITE, build, mirror], {
    env: { PATH: SBIN_PATH },
    onOutput: (chunk) => {
      // one line per stage, not per package
      for (const line of chunk.split('\n')) {
        const m = /^I: (Retrieving|Validating|Extracting|Installing|Configuring|Unpacking)/.exec(line);
        if (m && !seen.has(m[1])) {
          seen.add(m[1]);
          log(`  debootstrap: ${m[1].toLowerCase()}...\n`);
        }
      }
    },
  }).catch((e) => {
    rmSync(build, { recursive: true, force: true });
    throw e;
  });
  await customize(build);
  renameSync(build, final);
  log(`  root file system ready in ${((Date.now() - started) / 1000).toFixed(0)} s: ${final}\n`);
  return final;
}

/** Remove cached images other than `keep` (built by an older tsplay); only when no lab runs. */
export function pruneImages(cache: string, keep: string): void {
  const images = join(cache, 'images');
  if (!existsSync(images)) return;
  for (const f of readdirSync(images)) {
    if (f.startsWith(`${SUITE}-`) && join(images, f) !== keep) rmSync(join(images, f), { recursive: true, force: true });
  }
}

// Turn a fresh debootstrap into the lab's image: what every host shares.
async function customize(root: string): Promise<void> {
  const env = { PATH: SBIN_PATH };
  await run('chroot', [root, 'useradd', '--create-home', '--shell', '/bin/bash', '--groups', 'sudo,adm', 'pi'], { env });
  for (const f of readdirSync(join(root, 'etc/ssh'))) {
    if (f.startsWith('ssh_host_')) rmSync(join(root, 'etc/ssh', f));
  }
  for (const [path, { mode, text }] of Object.entries(IMAGE_FILES)) {
    const p = join(root, path);
    rmSync(p, { force: true });
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, text, { mode });
  }
  for (const unit of MASKED_UNITS) {
    const p = join(root, 'etc/systemd/system', unit);
    rmSync(p, { force: true });
    await run('ln', ['-s', '/dev/null', p]);
  }
  writeFileSync(join(root, 'etc/machine-id'), '');
  rmSync(join(root, 'etc/hostname'), { force: true });
  for (const f of readdirSync(join(root, 'var/cache/apt/archives'))) {
    if (f.endsWith('.deb')) rmSync(join(root, 'var/cache/apt/archives', f));
  }
}
