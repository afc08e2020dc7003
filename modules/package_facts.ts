// package_facts: the installed Debian packages into ansible_facts.packages, as
// ansible.builtin.package_facts returns them through python-apt (name, version, arch, category,
// origin, source), read with dpkg-query and apt-cache policy in one remote command.
import { defineModule, noop, planFailure, raw, sh } from '../engine/index.js';

/** package_facts' arguments, complete after validation. */
export interface PackageFactsArgs {
  manager: string[];
  strategy: 'first' | 'all';
}

/** One installed package as Ansible reports it for apt. */
export interface DebPackageFact {
  name: string;
  version: string;
  arch: string;
  category: string;
  origin: string;
  source: 'apt';
}

/** What the gather found: the packages by name, or why there are none. */
export interface PackageFactsState {
  packages: Record<string, DebPackageFact[]>;
  /** Set when the host has no dpkg-query. */
  missing?: string;
}

const MARK = '__tsplay_pkgs__';

// The archive's sections of the installed versions (python-apt reports the archive's Section,
// which may differ from the one dpkg recorded from the .deb): the installed name=version pairs
// first, then apt's records, one "name<TAB>version<TAB>section" line per installed version.
const SECTIONS_AWK = `'
  !avail { if ($0 == "${MARK}") { avail = 1; next } split($0, c, "\t"); if (c[1] ~ /^.i/) want[c[2] "\t" c[4]] = 1; next }
  /^Package: / { p = $2 } /^Version: / { v = $2 } /^Section: / { s = $2 }
  /^$/ { if ((p "\t" v) in want && !((p "\t" v) in done)) { print p "\t" v "\t" s; done[p "\t" v] = 1 } p = ""; v = ""; s = "" }
'`;

// The native architecture and dpkg's database first (status, name, arch, version, section), then apt's package files (their
// origins), then the version table of every installed package under the name python-apt gives it
// (name:arch for a foreign architecture).
const command = sh`command -v dpkg-query >/dev/null 2>&1 || { echo no-dpkg; exit 0; }
native=$(dpkg --print-architecture)
list=$(dpkg-query -W -f ${'${db:Status-Abbrev}\t${Package}\t${Architecture}\t${Version}\t${Section}\n'}) || exit
printf '%s\n' "$native" "$list"
command -v apt-cache >/dev/null 2>&1 || exit 0
echo ${MARK}
LC_ALL=C apt-cache policy 2>/dev/null
echo ${MARK}
printf '%s\n' "$list" | awk -F '\t' -v n="$native" ${raw(`'$1 ~ /^.i/ { print ($3 == n || $3 == "all") ? $2 : $2 ":" $3 }'`)} | LC_ALL=C xargs -r apt-cache policy 2>/dev/null
echo ${MARK}
{ printf '%s\n' "$list" ${MARK}; apt-cache dumpavail 2>/dev/null; } | awk ${raw(SECTIONS_AWK)}
true`;

/** apt's package files (`apt-cache policy` without names): file line -> its release's origin. */
export function parsePackageFiles(text: string): Map<string, string> {
  const origins = new Map<string, string>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const file = /^\s*-?\d+ (\S.*)$/.exec(line);
    if (file) {
      current = file[1]!.trim();
      origins.set(current, '');
      continue;
    }
    const release = /^\s+release (.*)$/.exec(line);
    if (release && current !== undefined) {
      const o = release[1]!.split(',').find((kv) => kv.startsWith('o='));
      origins.set(current, o ? o.slice(2) : '');
    }
  }
  return origins;
}

/** `apt-cache policy NAMES`: package name -> the first package file of its installed version. */
export function parseInstalledFiles(text: string): Map<string, string> {
  const files = new Map<string, string>();
  let pkg: string | undefined;
  let inInstalled = false;
  for (const line of text.split('\n')) {
    if (/^\S.*:$/.test(line)) {
      pkg = line.slice(0, -1);
      inInstalled = false;
    } else if (/^ [* ]{3} \S+ -?\d+$/.test(line)) {
      inInstalled = line.startsWith(' ***');
    } else if (inInstalled && pkg !== undefined && !files.has(pkg)) {
      const file = /^\s+-?\d+ (\S.*)$/.exec(line);
      if (file) files.set(pkg, file[1]!.trim());
    }
  }
  return files;
}

/** Parse the gather's output into ansible_facts.packages. */
export function parsePackageFacts(stdout: string): PackageFactsState {
  if (stdout.trim() === 'no-dpkg') return { packages: {}, missing: 'dpkg-query was not found on the host' };
  const [head = '', files = '', policy = '', sectionLines = ''] = stdout.split(MARK + '\n');
  const sections = new Map<string, string>();
  for (const line of sectionLines.split('\n')) {
    const [name, version, section] = line.split('\t');
    if (name && version && section) sections.set(`${name}\t${version}`, section);
  }
  const newline = head.indexOf('\n');
  const arch = head.slice(0, newline < 0 ? undefined : newline).trim();
  const list = newline < 0 ? '' : head.slice(newline + 1);
  const origins = parsePackageFiles(files);
  const installed = parseInstalledFiles(policy);
  const packages: Record<string, DebPackageFact[]> = {};
  const rows = list
    .split('\n')
    .map((l) => l.split('\t'))
    .filter((c) => c.length >= 5 && c[0]![1] === 'i');
  for (const [, name, pkgArch, version, section] of rows as string[][]) {
    const key = pkgArch === arch || pkgArch === 'all' ? name! : `${name}:${pkgArch}`;
    const file = installed.get(key);
    const entry: DebPackageFact = {
      name: key,
      version: version!,
      arch: pkgArch!,
      category: sections.get(`${name}\t${version}`) ?? section!,
      origin: file === undefined ? '' : (origins.get(file) ?? ''),
      source: 'apt',
    };
    (packages[key] ??= []).push(entry);
  }
  return { packages };
}

const SUPPORTED = ['auto', 'apt'];
const KNOWN = ['auto', 'rpm', 'apt', 'portage', 'pkg', 'pacman', 'apk', 'pkg_info'];

export default defineModule<PackageFactsArgs, PackageFactsState>({
  name: 'package_facts',
  aliases: ['ansible.builtin.package_facts'],
  description:
    'Gather the installed packages into ansible_facts.packages: name -> list of {name, version, arch, category, origin, source}. Reads dpkg-query and apt-cache policy (Debian, Ubuntu, Raspberry Pi OS) in one remote command; changes nothing.',
  schema: {
    type: 'object',
    properties: {
      manager: {
        type: 'array',
        items: { type: 'string' },
        default: ['auto'],
        description: 'The package managers to read: auto or apt (dpkg); others are not supported.',
      },
      strategy: { type: 'string', enum: ['first', 'all'], default: 'first', description: 'first or all available managers (one here).' },
    },
    additionalProperties: false,
  },
  examples: `- package_facts:
    manager: auto
- debug:
    msg: "dnsmasq {{ ansible_facts.packages['dnsmasq'][0].version }}"
  when: "'dnsmasq' in ansible_facts.packages"`,
  async gather(ctx) {
    const r = await ctx.run(command);
    return parsePackageFacts(r.stdout);
  },
  plan(state, args) {
    const managers = args.manager.map((m) => m.toLowerCase());
    const unknown = managers.filter((m) => !KNOWN.includes(m));
    if (unknown.length) return planFailure(`Unsupported package managers requested: ${unknown.join(', ')}`);
    if (!managers.some((m) => SUPPORTED.includes(m)) || state.missing) {
      const list = `[${managers.map((m) => `'${m}'`).join(', ')}]`;
      return planFailure(
        `Could not detect a supported package manager from the following list: ${list}, or the required Python library is not installed. Check warnings for details.${state.missing ? ` (${state.missing}; tsplay reads apt/dpkg only)` : ' (tsplay reads apt/dpkg only)'}`,
      );
    }
    return noop(`${Object.keys(state.packages).length} packages`, { ansible_facts: { packages: state.packages } });
  },
});
