// apt: Debian packages present, absent, at the newest version, or a whole-system upgrade, as
// ansible.builtin.apt does it with apt-get. The gather reads dpkg's database, apt's candidates and
// the cache age in one command (plus an `apt-get -s` simulation when something will change, so
// check mode names every package a change pulls in); apply is one apt-get command line.
import {
  defineModule,
  joinCommands,
  noop,
  planFailure,
  raw,
  sh,
  type Change,
  type ModuleContext,
  type Plan,
  type ShellCommand,
} from '../engine/index.js';

/** apt's arguments, complete after validation. */
export interface AptArgs {
  name?: string[];
  state: 'present' | 'absent' | 'latest' | 'fixed' | 'build-dep';
  update_cache: boolean;
  update_cache_retries: number;
  cache_valid_time: number;
  upgrade: 'no' | 'yes' | 'safe' | 'full' | 'dist';
  autoremove: boolean;
  autoclean: boolean;
  clean: boolean;
  purge: boolean;
  install_recommends?: boolean;
  allow_downgrade: boolean;
  allow_unauthenticated: boolean;
  allow_change_held_packages: boolean;
  only_upgrade: boolean;
  default_release?: string;
  deb?: string;
  dpkg_options: string;
  force: boolean;
  force_apt_get: boolean;
  lock_timeout: number;
  fail_on_autoremove: boolean;
  policy_rc_d?: number;
}

/** One package as dpkg knows it. */
export interface DpkgEntry {
  name: string;
  arch: string;
  /** dpkg's db:Status-Abbrev: wanted, status, error ('ii ', 'rc ', 'un '). */
  status: string;
  version: string;
}

/** One package as apt-cache policy shows it. */
export interface PolicyEntry {
  installed?: string;
  candidate?: string;
  /** Every version the sources offer (and the installed one). */
  versions: string[];
}

/** What the gather found. */
export interface AptState {
  dpkg: DpkgEntry[];
  policy: Record<string, PolicyEntry>;
  /** Seconds since the epoch of the last cache update (0 when never). */
  cacheTime: number;
  /** The host's clock, seconds since the epoch. */
  now: number;
  /** `apt-get -s` of what would run, when something will: the packages it names. */
  simulation?: Simulation;
  /** The .deb file's control fields, for deb=. */
  deb?: { name: string; version: string; arch: string } | { error: string };
}

/** What `apt-get -s` (or a real apt-get) says it does. */
export interface Simulation {
  installed: string[];
  removed: string[];
  /** apt-get failed (unknown package, conflict): its message. */
  error?: string;
}

const M = '__tsplay_apt__';

/** A requested package: `name`, `name=version` (version may end with *), `name:arch`. */
interface Spec {
  spec: string;
  name: string;
  version?: string;
}

function parseSpec(spec: string): Spec {
  const eq = spec.indexOf('=');
  if (eq < 0) return { spec, name: spec };
  return { spec, name: spec.slice(0, eq), version: spec.slice(eq + 1) };
}

// fnmatch-style version match: `1.0*` matches 1.0 and 1.0-2; otherwise exact.
function versionMatches(version: string, wanted: string): boolean {
  if (!/[*?[]/.test(wanted)) return version === wanted;
  const re = new RegExp(
    '^' +
      wanted
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
  );
  return re.test(version);
}

const INSTALLED_STATUS = new Set(['i', 'W', 't']);

function dpkgOf(state: AptState, name: string): DpkgEntry | undefined {
  const base = name.split(':')[0]!;
  const arch = name.includes(':') ? name.split(':')[1] : undefined;
  return state.dpkg.find((d) => d.name === base && (arch === undefined || d.arch === arch || d.arch === 'all'));
}

function isInstalled(d: DpkgEntry | undefined): boolean {
  return d !== undefined && INSTALLED_STATUS.has(d.status[1] ?? '');
}

/** The packages whose state differs from what the arguments ask (pure; shared by gather and plan). */
export function pendingSpecs(state: AptState, args: AptArgs): { specs: Spec[]; problems: string[] } {
  const specs: Spec[] = [];
  const problems: string[] = [];
  for (const s of (args.name ?? []).map(parseSpec)) {
    const d = dpkgOf(state, s.name);
    const installed = isInstalled(d);
    if (args.state === 'absent') {
      if (s.version !== undefined && installed && !versionMatches(d!.version, s.version)) continue;
      if (installed || (args.purge && d?.status[1] === 'c')) specs.push(s);
      continue;
    }
    const policy = state.policy[s.name];
    if (args.only_upgrade && !installed) continue;
    if (s.version !== undefined) {
      if (installed && versionMatches(d!.version, s.version)) continue;
      if (!args.update_cache && !(policy?.versions ?? []).some((v) => versionMatches(v, s.version!))) {
        problems.push(`no available installation candidate for ${s.spec}`);
        continue;
      }
      specs.push(s);
      continue;
    }
    if (!installed) {
      if (!args.update_cache && !policy?.candidate) {
        problems.push(`No package matching '${s.name}' is available`);
        continue;
      }
      specs.push(s);
    } else if (
      args.state === 'latest' &&
      policy?.candidate &&
      policy.installed &&
      policy.candidate !== policy.installed &&
      policy.candidate !== '(none)'
    ) {
      specs.push(s);
    }
  }
  return { specs, problems };
}

/** Is the cache older than cache_valid_time (or is an update asked for unconditionally)? */
function cacheNeedsUpdate(state: AptState, args: AptArgs): boolean {
  if (!args.update_cache && args.cache_valid_time === 0) return false;
  if (args.cache_valid_time > 0) return state.now - state.cacheTime > args.cache_valid_time;
  return true;
}

const UPGRADE_COMMAND: Record<AptArgs['upgrade'], string> = {
  no: '',
  yes: 'upgrade --with-new-pkgs',
  safe: 'upgrade --with-new-pkgs',
  full: 'dist-upgrade',
  dist: 'dist-upgrade',
};

// The options every apt-get line gets.
function aptOptions(args: AptArgs): ShellCommand {
  const opts: ShellCommand[] = [sh`-o ${`DPkg::Lock::Timeout=${args.lock_timeout}`}`];
  for (const o of args.dpkg_options
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean))
    opts.push(sh`-o ${`Dpkg::Options::=--${o}`}`);
  if (args.install_recommends === true) opts.push(sh`-o APT::Install-Recommends=yes`);
  if (args.install_recommends === false) opts.push(sh`--no-install-recommends`);
  if (args.allow_downgrade) opts.push(sh`--allow-downgrades`);
  if (args.allow_unauthenticated) opts.push(sh`--allow-unauthenticated`);
  if (args.allow_change_held_packages) opts.push(sh`--allow-change-held-packages`);
  if (args.default_release) opts.push(sh`-t ${args.default_release}`);
  return joinCommands(opts, ' ');
}

const APT_GET = raw('DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a apt-get');

/** The apt-get verb and words for the package action, or undefined when none is needed. */
function packageAction(args: AptArgs, specs: Spec[]): ShellCommand | undefined {
  if (args.state === 'absent') {
    if (specs.length === 0) return undefined;
    return sh`${raw(args.purge ? 'purge' : 'remove')}${raw(args.autoremove ? ' --auto-remove' : '')} -- ${specs.map((s) => s.name)}`;
  }
  if (specs.length === 0) return undefined;
  const noUpgrade = args.state === 'present' && specs.every((s) => s.version === undefined) ? raw(' --no-upgrade') : raw('');
  const onlyUpgrade = args.only_upgrade ? raw(' --only-upgrade') : raw('');
  return sh`install${noUpgrade}${onlyUpgrade}${raw(args.autoremove ? ' --auto-remove' : '')} -- ${specs.map((s) => s.spec)}`;
}

/** The read-only probe: dpkg status, apt candidates and the cache age, in one command. */
export function aptGatherCommand(args: AptArgs): ShellCommand {
  const names = [...new Set((args.name ?? []).map((n) => parseSpec(n).name))];
  const steps: ShellCommand[] = [
    sh`echo ${M} now $(date +%s)`,
    sh`echo ${M} cache $(stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null || stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0)`,
  ];
  if (names.length) {
    steps.push(sh`echo ${M} dpkg`);
    steps.push(sh`dpkg-query -W -f ${'${Package}\\t${Architecture}\\t${db:Status-Abbrev}\\t${Version}\\n'} -- ${names} 2>/dev/null`);
    steps.push(sh`echo ${M} policy`);
    steps.push(sh`LC_ALL=C apt-cache policy -- ${names} 2>/dev/null`);
  }
  if (args.deb !== undefined) {
    steps.push(sh`echo ${M} deb`);
    steps.push(sh`dpkg-deb -f ${args.deb} Package Version Architecture 2>&1 | sed 's/^/deb: /'`);
    steps.push(sh`echo ${M} dpkg`);
    steps.push(
      sh`dpkg-query -W -f ${'${Package}\\t${Architecture}\\t${db:Status-Abbrev}\\t${Version}\\n'} -- "$(dpkg-deb -f ${args.deb} Package 2>/dev/null)" 2>/dev/null`,
    );
  }
  steps.push(sh`true`);
  return joinCommands(steps, '; ');
}

/** Parse the probe's sections. */
export function parseAptGather(stdout: string): AptState {
  const state: AptState = { dpkg: [], policy: {}, cacheTime: 0, now: 0 };
  let section = '';
  let current: PolicyEntry | undefined;
  const debFields: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith(M + ' ')) {
      const [key, value] = line.slice(M.length + 1).split(' ');
      if (key === 'now') state.now = Number(value) || 0;
      else if (key === 'cache') state.cacheTime = Number(value) || 0;
      else section = key!;
      continue;
    }
    if (section === 'dpkg') {
      const [name, arch, status, version] = line.split('\t');
      if (name && status !== undefined) state.dpkg.push({ name, arch: arch ?? '', status, version: version ?? '' });
    } else if (section === 'policy') {
      const head = /^(\S+):$/.exec(line);
      if (head) {
        current = { versions: [] };
        state.policy[head[1]!] = current;
      } else if (current) {
        const inst = /^\s+Installed: (\S+)/.exec(line);
        const cand = /^\s+Candidate: (\S+)/.exec(line);
        const ver = /^\s+(?:\*\*\* )?(\S+) \d+$/.exec(line);
        if (inst) current.installed = inst[1] === '(none)' ? undefined : inst[1];
        else if (cand) current.candidate = cand[1] === '(none)' ? undefined : cand[1];
        else if (ver && !line.includes('Version table')) current.versions.push(ver[1]!);
      }
    } else if (section === 'deb') {
      if (line.startsWith('deb: ')) debFields.push(line.slice(5));
    }
  }
  if (debFields.length) {
    const f = Object.fromEntries(debFields.map((l) => [l.split(':')[0]!, l.slice(l.indexOf(':') + 1).trim()]));
    state.deb = f.Package ? { name: f.Package, version: f.Version ?? '', arch: f.Architecture ?? '' } : { error: debFields.join(' ') };
  }
  return state;
}

/** The packages an apt-get run (real or -s) installs, upgrades and removes, from its output. */
export function parseAptOutput(stdout: string): Simulation {
  const installed = new Set<string>();
  const removed = new Set<string>();
  for (const line of stdout.split('\n')) {
    const inst = /^(?:Inst (\S+)|Setting up (\S+) \()/.exec(line);
    const rem = /^(?:(?:Remv|Purg) (\S+)|Removing (\S+) \(|Purging configuration files for (\S+) \()/.exec(line);
    if (inst) installed.add((inst[1] ?? inst[2])!.replace(/:[a-z0-9]+$/, ''));
    if (rem) removed.add((rem[1] ?? rem[2] ?? rem[3])!.replace(/:[a-z0-9]+$/, ''));
  }
  return { installed: [...installed].sort(), removed: [...removed].sort() };
}

// The apt-get verbs (without update) that the plan will run, for the simulation and the apply.
function actionCommands(state: AptState, args: AptArgs, specs: Spec[], simulate = false): ShellCommand[] {
  const out: ShellCommand[] = [];
  const opts = aptOptions(args);
  if (args.state === 'fixed') out.push(sh`-f install`);
  if (args.deb !== undefined && state.deb && 'name' in state.deb) {
    const d = dpkgOf(state, state.deb.name);
    if (!(isInstalled(d) && d!.version === state.deb.version))
      out.push(sh`install -- ${args.deb.includes('/') ? args.deb : `./${args.deb}`}`);
  }
  const action = packageAction(args, specs);
  if (action) out.push(action);
  if (args.upgrade !== 'no') out.push(sh`${raw(UPGRADE_COMMAND[args.upgrade])}`);
  if (args.autoremove && (args.name ?? []).length === 0) out.push(sh`${raw(args.purge ? 'autoremove --purge' : 'autoremove')}`);
  const sim = simulate ? raw(' -s -o Debug::NoLocking=1') : raw('');
  return out.map((verb) => sh`${APT_GET} -y -q${sim} ${opts} ${verb}`);
}

async function gatherApt(ctx: ModuleContext, args: AptArgs): Promise<AptState> {
  const r = await ctx.run(aptGatherCommand(args));
  const state = parseAptGather(r.stdout);
  // What apt-get would do, simulated (read-only): which packages a change pulls in or removes.
  const { specs } = pendingSpecs(state, args);
  const commands = actionCommands(state, args, specs, true);
  if (commands.length) {
    const sim = await ctx.run(sh`export LC_ALL=C; ${joinCommands(commands, ' && ')}`);
    state.simulation = parseAptOutput(sim.stdout);
    if (sim.rc !== 0)
      state.simulation.error =
        (sim.stderr || sim.stdout)
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('E:'))
          .join(' ') || `rc=${sim.rc}`;
  }
  return state;
}

/** The plan of apt: pure, from the probed state and the arguments. */
export function planApt(state: AptState, args: AptArgs): Plan {
  if (args.state === 'build-dep') return planFailure('state=build-dep is not supported by tsplay');
  if (args.deb !== undefined && state.deb && 'error' in state.deb) return planFailure(`Unable to install package: ${state.deb.error}`);
  const { specs, problems } = pendingSpecs(state, args);
  if (problems.length) return planFailure(problems.join('; '));
  const base = { cache_updated: false, cache_update_time: state.cacheTime };
  const names = args.name ?? [];
  const nothingElse = names.length === 0 && args.upgrade === 'no' && args.deb === undefined && !args.autoremove && args.state !== 'fixed';
  const updateCache = cacheNeedsUpdate(state, args);

  const changes: Change[] = [];
  const commands = actionCommands(state, args, specs);
  const sim = state.simulation;
  // Simulated verbs that do nothing (upgrade with nothing to upgrade) are not changes.
  const simulatedNothing =
    sim !== undefined &&
    !sim.error &&
    sim.installed.length === 0 &&
    sim.removed.length === 0 &&
    specs.length === 0 &&
    !(args.deb !== undefined && commands.length > 0);
  const update = sh`${APT_GET} -q update`;
  if (commands.length && !simulatedNothing) {
    const what =
      args.state === 'absent'
        ? `remove ${specs.map((s) => s.name).join(', ') || 'unused packages'}`
        : specs.length
          ? `${args.state === 'latest' ? 'install or upgrade' : 'install'} ${specs.map((s) => s.spec).join(', ')}`
          : args.upgrade !== 'no'
            ? `upgrade (${args.upgrade})`
            : args.deb !== undefined
              ? `install ${args.deb}`
              : args.state === 'fixed'
                ? 'fix broken dependencies'
                : 'remove unused packages';
    const also =
      sim && !sim.error
        ? [
            ...sim.installed.filter((p) => !specs.some((s) => s.name === p)).map((p) => `+${p}`),
            ...sim.removed.filter((p) => !specs.some((s) => s.name === p)).map((p) => `-${p}`),
          ]
        : [];
    changes.push({
      summary: `${updateCache ? 'update the apt cache, then ' : ''}${what}${also.length ? ` (also ${also.join(' ')})` : ''}`,
      commands: [{ cmd: joinCommands(updateCache ? [update, ...commands] : commands, ' && ') }],
    });
    const predicted =
      sim && !sim.error
        ? { installed: sim.installed, removed: sim.removed }
        : {
            installed: args.state === 'absent' ? [] : specs.map((s) => s.name),
            removed: args.state === 'absent' ? specs.map((s) => s.name) : [],
          };
    return { changes, result: { ...base, ...predicted, ...(updateCache ? { cache_updated: true } : {}) } };
  }
  if (nothingElse && updateCache) {
    return {
      changes: [{ summary: 'update the apt cache', commands: [{ cmd: update }] }],
      result: { ...base, cache_updated: true },
      // Without cache_valid_time the cache is updated on every run, as Ansible does.
      alwaysChanges: args.cache_valid_time === 0,
    };
  }
  // `name: []` counts as given (a role's empty package list): a no-op, as in Ansible.
  if (nothingElse && args.name === undefined && !args.update_cache && args.cache_valid_time === 0) {
    return planFailure('one of the following is required: name, deb, upgrade, update_cache, autoremove');
  }
  const reason =
    names.length === 0
      ? updateCache || args.cache_valid_time === 0
        ? 'nothing to upgrade or remove'
        : `the apt cache is younger than ${args.cache_valid_time}s`
      : args.state === 'absent'
        ? `${names.join(', ')} not installed`
        : args.state === 'latest'
          ? `${names.join(', ')} installed at the newest version`
          : `${names.join(', ')} already installed`;
  return noop(reason, { ...base, installed: [], removed: [] });
}

export default defineModule<AptArgs, AptState>({
  name: 'apt',
  aliases: ['ansible.builtin.apt'],
  description:
    'Manage Debian packages with apt-get: install (name, name=version, a .deb on the host), remove or purge, upgrade to the newest version or the whole system, update the cache (cache_valid_time), autoremove. Non-interactive, waits for the dpkg lock (lock_timeout), and reports the packages it installed and removed. Check mode names them too (apt-get -s).',
  schema: {
    type: 'object',
    properties: {
      name: {
        type: 'array',
        items: { type: 'string' },
        aliases: ['package', 'pkg'],
        description: 'Package names, optionally name=version (version may end with *).',
      },
      state: {
        type: 'string',
        enum: ['absent', 'build-dep', 'latest', 'present', 'fixed'],
        default: 'present',
        description: 'present, absent, latest (newest candidate), fixed (apt-get -f install first).',
      },
      update_cache: {
        type: 'boolean',
        default: false,
        aliases: ['update-cache'],
        description: 'Run apt-get update first (before a package change, or on its own).',
      },
      update_cache_retries: { type: 'integer', default: 5, description: 'Accepted for compatibility.' },
      update_cache_retry_max_delay: { type: 'integer', default: 12, description: 'Accepted for compatibility.' },
      cache_valid_time: {
        type: 'integer',
        default: 0,
        description: 'Update the cache only when it is older than this many seconds (implies update_cache).',
      },
      upgrade: {
        type: 'string',
        enum: ['no', 'yes', 'safe', 'full', 'dist'],
        default: 'no',
        description: 'yes/safe: apt-get upgrade --with-new-pkgs; full/dist: apt-get dist-upgrade.',
      },
      autoremove: { type: 'boolean', default: false, description: 'Remove packages installed as dependencies that are no longer needed.' },
      autoclean: { type: 'boolean', default: false, description: 'Accepted for compatibility.' },
      clean: { type: 'boolean', default: false, description: 'Accepted for compatibility.' },
      purge: { type: 'boolean', default: false, description: 'With state=absent (or autoremove), remove configuration files too.' },
      install_recommends: {
        type: 'boolean',
        aliases: ['install-recommends'],
        description: "true/false: install recommended packages or not; unset: apt's configuration decides.",
      },
      allow_downgrade: {
        type: 'boolean',
        default: false,
        aliases: ['allow-downgrade', 'allow_downgrades', 'allow-downgrades'],
        description: 'Allow name=version to install an older version.',
      },
      allow_unauthenticated: {
        type: 'boolean',
        default: false,
        aliases: ['allow-unauthenticated'],
        description: 'Install packages that cannot be authenticated.',
      },
      allow_change_held_packages: { type: 'boolean', default: false, description: 'Allow changing held packages.' },
      only_upgrade: { type: 'boolean', default: false, description: 'Only upgrade installed packages, never install new ones.' },
      default_release: { type: 'string', aliases: ['default-release'], description: 'apt-get -t: the release to install from.' },
      deb: { type: 'string', description: 'Path of a .deb file on the host to install (URLs are not supported).' },
      dpkg_options: { type: 'string', default: 'force-confdef,force-confold', description: 'Comma-separated dpkg options (without --).' },
      force: { type: 'boolean', default: false, description: 'Accepted for compatibility.' },
      force_apt_get: { type: 'boolean', default: false, description: 'Ignored: apt-get is always used.' },
      lock_timeout: { type: 'integer', default: 60, description: 'Seconds to wait for the dpkg lock.' },
      fail_on_autoremove: { type: 'boolean', default: false, description: 'Accepted for compatibility.' },
      policy_rc_d: { type: 'integer', description: 'Accepted for compatibility.' },
    },
    mutuallyExclusive: [['deb', 'name']],
    additionalProperties: false,
  },
  examples: `- name: Install the lab's package, updating the cache first
  apt:
    name: tsplay-lab-hello
    update_cache: yes

- name: Install a specific version
  apt:
    name: dnsmasq=2.89*

- name: Remove a package and its configuration
  apt:
    name: [dnsmasq, hostapd]
    state: absent
    purge: yes

- name: Update the cache at most once an hour
  apt:
    update_cache: yes
    cache_valid_time: 3600

- name: Upgrade the system
  apt:
    upgrade: dist`,
  gather: gatherApt,
  plan: planApt,
  async apply(ctx, changes, args, current) {
    const cmd = changes[0]!.commands[0]!.cmd;
    const r = await ctx.run(sh`export LC_ALL=C; ${cmd}`);
    const done = parseAptOutput(r.stdout);
    const updated = /apt-get -q update/.test(cmd.text);
    const result: Record<string, unknown> = {
      stdout: r.stdout,
      stderr: r.stderr,
      stdout_lines: r.stdout.split('\n').filter((l, i, a) => l !== '' || i < a.length - 1),
      installed: done.installed,
      removed: done.removed,
      cache_updated: updated,
      cache_update_time: updated ? Math.floor(Date.now() / 1000) : current.cacheTime,
    };
    if (r.rc !== 0) {
      const err =
        (r.stderr || r.stdout)
          .trim()
          .split('\n')
          .filter((l) => /^E:/.test(l))
          .join('\n') || (r.stderr || r.stdout).trim();
      return { failed: `'${cmd.display}' failed: ${err}`, result: { ...result, rc: r.rc } };
    }
    void args;
    return { result };
  },
});
