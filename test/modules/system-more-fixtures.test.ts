// Plan tests of getent, package_facts, pip, timezone, alternatives and modprobe: table-driven
// cases in test/modules/fixtures/<module>/<case>.json (args + gathered state -> changes or no-op,
// in the format of fixtures.test.ts), and the parsers of what the gathers read on real hosts.
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExecResult, Plan } from '../../engine/module.js';
import getent, { getentFacts } from '../../modules/getent.js';
import pip, {
  compareVersions,
  isSatisfied,
  parseRequirement,
  parseVersion,
  pipGatherCommand,
  parsePipGather,
  recoverPackageNames,
  type PipState,
} from '../../modules/pip.js';
import timezone, { editFirstLine, timezoneGatherCommand, type TimezoneState } from '../../modules/timezone.js';
import type { FileFact } from '../../engine/file-fact.js';
import alternatives, { parseDisplay, type AlternativesState } from '../../modules/alternatives.js';
import modprobe, { isLoaded, modprobeGatherCommand, parseModprobeGather, type ModprobeState } from '../../modules/modprobe.js';
import packageFacts, { parseInstalledFiles, parsePackageFacts, parsePackageFiles } from '../../modules/package_facts.js';
import { completeArgs, expectPlan, harness } from './harness.js';

interface Case {
  description: string;
  args: Record<string, unknown>;
  current: Record<string, unknown>;
  expect: { noop?: true; changes?: { summary: string }[]; after?: string; failed?: string };
  result?: Record<string, unknown>;
}

// each module's plan from a case's gathered state and raw arguments
const planners: Record<string, (current: unknown, raw: Record<string, unknown>) => Plan> = {
  getent: (c, a) => getent.plan(c as ExecResult, completeArgs(getent, a)),
  pip: (c, a) => pip.plan(c as PipState, completeArgs(pip, a)),
};
const root = join(import.meta.dirname, 'fixtures');

for (const name of Object.keys(planners)) {
  const dir = join(root, name);
  describe.skipIf(!existsSync(dir))(`${name} plans`, () => {
    for (const caseFile of (existsSync(dir) ? readdirSync(dir) : []).filter((f) => f.endsWith('.json')).sort()) {
      const c = JSON.parse(readFileSync(join(dir, caseFile), 'utf8')) as Case;
      it(`${caseFile.replace(/\.json$/, '')}: ${c.description}`, () => {
        const plan = planners[name]!(c.current, c.args);
        expectPlan(plan, c);
      });
    }
  });
}

describe('getent parsing', () => {
  it('splits on ":" for passwd-like databases and on whitespace runs otherwise; repeats become a list', () => {
    expect(getentFacts('root:x:0:0:root:/root:/bin/bash\n', ':')).toEqual({ root: ['x', '0', '0', 'root', '/root', '/bin/bash'] });
    expect(getentFacts('127.0.0.1       localhost\n::1  localhost ip6-localhost\n', undefined)).toEqual({
      '127.0.0.1': ['localhost'],
      '::1': ['localhost', 'ip6-localhost'],
    });
    expect(getentFacts('a 1\na 2\na 3\n', undefined)).toEqual({ a: [['1'], ['2'], ['3']] });
  });
});

describe('package_facts parsing', () => {
  const files = [
    'Package files:',
    ' 100 /var/lib/dpkg/status',
    '     release a=now',
    ' 500 http://deb.debian.org/debian bookworm/main amd64 Packages',
    '     release v=12.15,o=Debian,a=oldstable,n=bookworm,l=Debian,c=main,b=amd64',
    '     origin deb.debian.org',
    ' 500 http://archive.raspberrypi.com/debian bookworm/main arm64 Packages',
    '     release o=Raspberry Pi Foundation,a=stable,n=bookworm,l=Raspberry Pi Foundation,c=main,b=arm64',
    'Pinned packages:',
  ].join('\n');
  const policy = [
    'coreutils:',
    '  Installed: 9.1-1',
    '  Candidate: 9.1-1',
    '  Version table:',
    ' *** 9.1-1 500',
    '        500 http://deb.debian.org/debian bookworm/main amd64 Packages',
    '        100 /var/lib/dpkg/status',
    'dpkg:',
    '  Installed: 1.21.22',
    '  Candidate: 1.21.23',
    '  Version table:',
    '     1.21.23 500',
    '        500 http://deb.debian.org/debian bookworm/main amd64 Packages',
    ' *** 1.21.22 100',
    '        100 /var/lib/dpkg/status',
    'libc6:i386:',
    '  Installed: 2.36-9',
    '  Version table:',
    ' *** 2.36-9 500',
    '        500 http://archive.raspberrypi.com/debian bookworm/main arm64 Packages',
  ].join('\n');

  it("reads each package file's origin and the first file of each installed version", () => {
    expect(parsePackageFiles(files).get('http://deb.debian.org/debian bookworm/main amd64 Packages')).toBe('Debian');
    expect(parsePackageFiles(files).get('/var/lib/dpkg/status')).toBe('');
    expect(parseInstalledFiles(policy)).toEqual(
      new Map([
        ['coreutils', 'http://deb.debian.org/debian bookworm/main amd64 Packages'],
        ['dpkg', '/var/lib/dpkg/status'],
        ['libc6:i386', 'http://archive.raspberrypi.com/debian bookworm/main arm64 Packages'],
      ]),
    );
  });

  it('names foreign-architecture packages name:arch, leaves out removed ones, prefers the archive section', () => {
    const list = [
      'ii \tcoreutils\tamd64\t9.1-1\tutils',
      'ii \tdpkg\tamd64\t1.21.22\tadmin',
      'ii \tlibc6\ti386\t2.36-9\tlibs',
      'rc \told\tamd64\t1.0\tmisc',
      'ii \ttk-dev\tamd64\t8.6.13\tlibdevel',
    ].join('\n');
    const M = '__tsplay_pkgs__\n';
    const out = `amd64\n${list}\n${M}${files}\n${M}${policy}\n${M}tk-dev\t8.6.13\tdevel\n`;
    const state = parsePackageFacts(out);
    expect(Object.keys(state.packages).sort()).toEqual(['coreutils', 'dpkg', 'libc6:i386', 'tk-dev']);
    expect(state.packages.coreutils).toEqual([
      { name: 'coreutils', version: '9.1-1', arch: 'amd64', category: 'utils', origin: 'Debian', source: 'apt' },
    ]);
    expect(state.packages.dpkg![0]!.origin).toBe('');
    expect(state.packages['libc6:i386']![0]!.origin).toBe('Raspberry Pi Foundation');
    expect(state.packages['tk-dev']![0]!.category).toBe('devel');
    const plan = packageFacts.plan(state, completeArgs(packageFacts, {}));
    expect(plan.changes).toEqual([]);
    expect((plan.result!.ansible_facts as { packages: unknown }).packages).toBe(state.packages);
  });

  it('fails as Ansible does without dpkg, or for a manager it does not read', () => {
    const none = parsePackageFacts('no-dpkg\n');
    expect(packageFacts.plan(none, completeArgs(packageFacts, {})).failed).toContain('Could not detect a supported package manager');
    expect(packageFacts.plan({ packages: {} }, completeArgs(packageFacts, { manager: 'yum' })).failed).toBe(
      'Unsupported package managers requested: yum',
    );
    expect(packageFacts.plan({ packages: {} }, completeArgs(packageFacts, { manager: 'rpm' })).failed).toContain("['rpm']");
  });
});

describe('pip versions and requirements', () => {
  const v = (s: string) => parseVersion(s)!;
  it('orders PEP 440 versions as packaging does', () => {
    const order = ['1.0.dev1', '1.0a1', '1.0a2.dev1', '1.0b1', '1.0rc1', '1.0', '1.0.post1', '1.0.1', '1.1', '2!0.1'];
    for (let i = 0; i + 1 < order.length; i++) expect(compareVersions(v(order[i]!), v(order[i + 1]!)), order[i]).toBe(-1);
    expect(compareVersions(v('1.0'), v('1.0.0'))).toBe(0);
    expect(compareVersions(v('1.0-1'), v('1.0.post1'))).toBe(0);
  });

  it('parses requirements as pip does, and knows when only pip can tell', () => {
    expect(parseRequirement('Flask_Login[extra] >= 0.6, <1 ; python_version > "3"')).toEqual({
      text: 'Flask_Login[extra] >= 0.6, <1 ; python_version > "3"',
      canonical: 'flask-login',
      specs: [
        ['>=', '0.6'],
        ['<', '1'],
      ],
    });
    expect(parseRequirement('./dist/app-1.0.tar.gz').canonical).toBeUndefined();
    expect(parseRequirement('https://host.invalid/x/My.Pkg-2.0-py3-none-any.whl')).toMatchObject({
      canonical: 'my-pkg',
      wheelVersion: '2.0',
    });
    expect(isSatisfied(parseRequirement('git+https://host.invalid/r.git'), {})).toBeUndefined();
    expect(isSatisfied(parseRequirement('a!=1.0'), { a: '1.0' })).toBe(false);
    expect(isSatisfied(parseRequirement('a===1.0'), { a: '1.0' })).toBe(true);
    expect(isSatisfied(parseRequirement('a~=1.4'), { a: '2.0' })).toBe(false);
    expect(recoverPackageNames(['django>1.11.1', '<1.11.3', 'ipaddress', 'pkg[a', 'b]>1', '<2'])).toEqual([
      'django>1.11.1,<1.11.3',
      'ipaddress',
      'pkg[a,b]>1,<2',
    ]);
  });

  it('gathers in one command: the venv, the pip found, its list and (for latest) the outdated ones', () => {
    const args = completeArgs(pip, {
      name: 'six',
      state: 'latest',
      virtualenv: 'venv',
      chdir: '/srv/app',
      extra_args: '--no-index -f /w --user',
    });
    const cmd = pipGatherCommand(args).text;
    expect(cmd).toContain('test -e /srv/app/venv/bin/activate');
    expect(cmd).toContain('tsplay_pip list --outdated --format=json --no-index -f /w\n');
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    const out = [
      `__tsplay_probe__ cwd ${b64('')} 0`,
      `__tsplay_probe__ venv ${b64('')} 0`,
      `__tsplay_probe__ pip ${b64('/srv/app/venv/bin/pip3\n')} 0`,
      `__tsplay_probe__ list ${b64('[{"name": "Six", "version": "1.15.0"}]')} 0`,
      `__tsplay_probe__ outdated ${b64('[{"name": "six", "version": "1.15.0", "latest_version": "1.16.0"}]')} 0`,
    ].join('\n');
    expect(parsePipGather(out, '', args)).toEqual({
      venvExists: true,
      pip: ['/srv/app/venv/bin/pip3'],
      installed: { six: '1.15.0' },
      outdated: ['six'],
    });
  });
});

// A file as the file probe reports it: { text } for an existing file, undefined for a missing one.
function fileOf(path: string, text?: string): FileFact {
  const identity = { uid: 0, gid: 0, user: 'root', group: 'root', umask: '0022' };
  const base = { path, exists: text !== undefined, parentExists: true, identity } as FileFact;
  if (text === undefined) return base;
  const content = Buffer.from(text).toString('base64');
  return { ...base, type: 'file', mode: '0644', owner: 'root', group: 'root', uid: 0, gid: 0, size: text.length, content } as FileFact;
}

function tzState(over: Partial<TimezoneState> & { timezone?: string; rcS?: string }): TimezoneState {
  const { timezone: tz, rcS, ...rest } = over;
  return {
    zoneExists: true,
    timezoneFile: fileOf('/etc/timezone', tz),
    rcS: fileOf('/etc/default/rcS', rcS),
    localtime: 'link /usr/share/zoneinfo/Etc/UTC',
    dpkgReconfigure: true,
    hwclockTool: true,
    ...rest,
  };
}

describe('timezone plans', () => {
  const plan = (state: TimezoneState, args: Record<string, unknown>) => timezone.plan(state, completeArgs(timezone, args));
  const summaries = (p: Plan) => p.changes.map((c) => c.summary);

  it('without systemd: /etc/timezone and the /etc/localtime link, both checked', () => {
    const p = plan(tzState({ timezone: 'Etc/UTC\n' }), { name: 'Europe/Paris' });
    expect(summaries(p)).toEqual(['write Europe/Paris to /etc/timezone', 'link /etc/localtime to /usr/share/zoneinfo/Europe/Paris']);
    expect(p.changes[1]!.commands[0]!.cmd.text).toBe(
      'ln -sf /usr/share/zoneinfo/Europe/Paris /etc/localtime && dpkg-reconfigure --frontend noninteractive tzdata',
    );
    expect(p.result).toEqual({ diff: { before: { name: 'Etc/UTC' }, after: { name: 'Europe/Paris' } } });
    // /etc/timezone already says it, but the link points elsewhere: the link's zone is current
    const stale = plan(tzState({ timezone: 'Europe/Paris\n' }), { name: 'Europe/Paris' });
    expect(stale.result).toEqual({ diff: { before: { name: 'Etc/UTC' }, after: { name: 'Europe/Paris' } } });
    expect(stale.changes).toHaveLength(2);
    const done = plan(tzState({ timezone: 'Europe/Paris\n', localtime: 'link /usr/share/zoneinfo/Europe/Paris' }), {
      name: 'Europe/Paris',
    });
    expect(done.changes).toEqual([]);
    // a copied zone file equal to the zone's counts; a broken link does not
    expect(plan(tzState({ timezone: 'Europe/Paris\n', localtime: 'same' }), { name: 'Europe/Paris' }).changes).toEqual([]);
    expect(plan(tzState({ timezone: 'Europe/Paris\n', localtime: 'broken' }), { name: 'Europe/Paris' }).result).toEqual({
      diff: { before: { name: 'n/a' }, after: { name: 'Europe/Paris' } },
    });
  });

  it('with systemd: timedatectl reads and sets the zone and the RTC mode', () => {
    const status =
      '               Local time: Sat 2026-12-05 05:40:00 UTC\n                Time zone: Etc/UTC (UTC, +0000)\n          RTC in local TZ: no\n';
    const p = plan(tzState({ timedatectl: status }), { name: 'Europe/Paris', hwclock: 'local' });
    expect(p.changes.map((c) => c.commands[0]!.cmd.text)).toEqual([
      'timedatectl set-local-rtc yes',
      'timedatectl set-timezone Europe/Paris',
    ]);
    expect(p.result).toEqual({ diff: { before: { hwclock: 'UTC', name: 'Etc/UTC' }, after: { hwclock: 'local', name: 'Europe/Paris' } } });
    expect(plan(tzState({ timedatectl: status }), { name: 'Etc/UTC', rtc: 'UTC' }).changes).toEqual([]);
  });

  it('hwclock without systemd: UTC= in /etc/default/rcS, then /etc/adjtime, set with hwclock --systohc', () => {
    const p = plan(tzState({ rcS: '# defaults\nUTC=yes\n', adjtime: '0.0 0 0.0\n0\nUTC\n' }), { hwclock: 'local' });
    expect(summaries(p)).toEqual(['set UTC=no in /etc/default/rcS', 'set the hardware clock to local']);
    expect(p.changes[0]!.diff!.after).toBe('hwclock: local\n');
    expect(p.changes[1]!.commands[0]!.cmd.text).toBe('hwclock --systohc --localtime');
    expect(plan(tzState({ rcS: 'UTC=no\n', adjtime: '0.0 0 0.0\n0\nLOCAL\n' }), { hwclock: 'local' }).changes).toEqual([]);
    // rcS agrees but adjtime does not: adjtime is the truth
    expect(plan(tzState({ rcS: 'UTC=no\n', adjtime: '0.0 0 0.0\n0\nUTC\n' }), { hwclock: 'local' }).changes).toHaveLength(2);
  });

  it("fails with Ansible's messages", () => {
    expect(plan(tzState({ zoneExists: false }), { name: 'Nowhere/Atlantis' }).failed).toBe(
      'Error message:\ngiven timezone "Nowhere/Atlantis" is not available',
    );
    expect(plan(tzState({ hwclockTool: false }), { name: 'Etc/UTC' }).failed).toBe('Failed to find required executable "hwclock" in paths');
    expect(() => completeArgs(timezone, {})).toThrow('one of the following is required: hwclock, name');
  });

  it('edits a config file as Ansible does: the first match replaced, other matches removed', () => {
    expect(editFirstLine('a\nUTC=yes\nb\nUTC=no\n', /^UTC\s*=/, 'UTC=no\n')).toEqual({ text: 'a\nUTC=no\nb\n', deleted: 2 });
    expect(editFirstLine('', /^(\S+)/, 'Etc/UTC\n')).toEqual({ text: 'Etc/UTC\n', deleted: 0 });
  });

  it('gathers in one command on this machine (read only)', async () => {
    const args = completeArgs(timezone, { name: 'Etc/UTC' });
    expect(timezoneGatherCommand(args).text).toContain('test -f /usr/share/zoneinfo/Etc/UTC');
    const h = harness(tmpdir());
    const state = await timezone.gather(h.ctx, args);
    expect(h.commands).toHaveLength(1);
    expect(state.zoneExists).toBe(true);
    expect(state.timezoneFile.exists).toBe(existsSync('/etc/timezone'));
    const link = lstatSync('/etc/localtime', { throwIfNoEntry: false });
    if (link?.isSymbolicLink()) expect(state.localtime).toBe(`link ${readlinkSync('/etc/localtime')}`);
  });
});

describe('alternatives', () => {
  const display = [
    'pager - manual mode',
    '  link best version is /usr/bin/less',
    '  link currently points to /bin/more',
    '  link pager is /usr/bin/pager',
    '  slave pager.1.gz is /usr/share/man/man1/pager.1.gz',
    '/bin/more - priority 50',
    '  slave pager.1.gz: /usr/share/man/man1/more.1.gz',
    '/usr/bin/less - priority 77',
    '  slave pager.1.gz: /usr/share/man/man1/less.1.gz',
    '',
  ].join('\n');
  const group = (): AlternativesState => ({ tool: true, pathExists: true, ...parseDisplay(display) });
  const plan = (state: AlternativesState, args: Record<string, unknown>) => alternatives.plan(state, completeArgs(alternatives, args));
  const commands = (p: Plan) => p.changes.map((c) => c.commands[0]!.cmd.text);

  it('reads the mode, the current path, the link and each alternative with its followers', () => {
    expect(parseDisplay(display)).toEqual({
      mode: 'manual',
      current: '/bin/more',
      link: '/usr/bin/pager',
      alternatives: {
        '/bin/more': {
          priority: 50,
          subcommands: [{ name: 'pager.1.gz', path: '/usr/share/man/man1/more.1.gz', link: '/usr/share/man/man1/pager.1.gz' }],
        },
        '/usr/bin/less': {
          priority: 77,
          subcommands: [{ name: 'pager.1.gz', path: '/usr/share/man/man1/less.1.gz', link: '/usr/share/man/man1/pager.1.gz' }],
        },
      },
    });
    expect(parseDisplay('')).toEqual({ alternatives: {} });
  });

  it('selects, installs, sets auto mode and removes only when needed', () => {
    expect(commands(plan(group(), { name: 'pager', path: '/usr/bin/less' }))).toEqual(['update-alternatives --set pager /usr/bin/less']);
    expect(plan(group(), { name: 'pager', path: '/bin/more' }).changes).toEqual([]);
    expect(plan(group(), { name: 'pager', path: '/bin/more', state: 'present' }).changes).toEqual([]);
    // a new priority reinstalls, keeping the followers it has
    expect(commands(plan(group(), { name: 'pager', path: '/bin/more', priority: 60, state: 'present' }))).toEqual([
      'update-alternatives --install /usr/bin/pager pager /bin/more 60 --slave /usr/share/man/man1/pager.1.gz pager.1.gz /usr/share/man/man1/more.1.gz',
    ]);
    // a new alternative, the group's link and the fallback priority
    const added = plan(group(), { name: 'pager', path: '/usr/bin/most', state: 'present' });
    expect(commands(added)).toEqual(['update-alternatives --install /usr/bin/pager pager /usr/bin/most 50']);
    expect(added.result!.msg).toBe("Install alternative '/usr/bin/most' for 'pager'.");
    expect(commands(plan(group(), { name: 'pager', path: '/bin/more', state: 'auto' }))).toEqual(['update-alternatives --auto pager']);
    expect(commands(plan(group(), { name: 'pager', path: '/bin/more', state: 'absent' }))).toEqual([
      'update-alternatives --remove pager /bin/more',
    ]);
    expect(plan(group(), { name: 'pager', path: '/usr/bin/most', state: 'absent' }).changes).toEqual([]);
    // other followers than the ones installed: reinstall with them
    const subs = [{ name: 'pager.1.gz', path: '/usr/share/man/man1/more.1.gz', link: '/usr/share/man/man1/pager.1.gz' }];
    expect(plan(group(), { name: 'pager', path: '/bin/more', subcommands: subs }).changes).toEqual([]);
    expect(plan(group(), { name: 'pager', path: '/bin/more', slaves: [] }).changes).toHaveLength(1);
  });

  it("fails with Ansible's messages", () => {
    const unknown: AlternativesState = { tool: true, pathExists: true, alternatives: {} };
    expect(plan(unknown, { name: 'x', path: '/bin/true' }).failed).toBe(
      'Needed to install the alternative, but unable to do so as we are missing the link',
    );
    expect(plan({ ...unknown, pathExists: false }, { name: 'x', path: '/nope', link: '/usr/bin/x' }).failed).toBe(
      'Specified path /nope does not exist',
    );
    expect(plan({ ...unknown, tool: false }, { name: 'x', path: '/bin/true' }).failed).toContain('update-alternatives');
  });
});

describe('modprobe', () => {
  const proc = 'br_netfilter 32768 0 - Live 0x0000000000000000\nbridge 311296 1 br_netfilter, Live 0x0000000000000000\n';
  const state = (over: Partial<ModprobeState> = {}): ModprobeState => ({
    tool: true,
    procModules: proc,
    builtin: '',
    modulesLoad: [],
    modprobeConf: [],
    ...over,
  });
  const plan = (s: ModprobeState, args: Record<string, unknown>) => modprobe.plan(s, completeArgs(modprobe, args));
  const summaries = (p: Plan) => p.changes.map((c) => c.summary);

  it('knows a loaded module from /proc/modules (- as _) or the built-in list', () => {
    expect(isLoaded(state(), 'br-netfilter')).toBe(true);
    expect(isLoaded(state(), 'overlay')).toBe(false);
    expect(isLoaded(state({ builtin: 'kernel/fs/overlayfs/overlay.ko\n' }), 'overlay')).toBe(true);
  });

  it('loads or unloads only when needed, with the parameters', () => {
    expect(plan(state(), { name: 'br_netfilter' }).changes).toEqual([]);
    const load = plan(state({ dryRun: { rc: 0, err: '' } }), { name: 'dummy', params: 'numdummies=2' });
    expect(load.changes.map((c) => c.commands[0]!.cmd.text)).toEqual(['modprobe dummy numdummies=2']);
    expect(load.result).toEqual({ name: 'dummy', params: 'numdummies=2', state: 'present' });
    expect(plan(state(), { name: 'br_netfilter', state: 'absent' }).changes.map((c) => c.commands[0]!.cmd.text)).toEqual([
      'modprobe -r br_netfilter',
    ]);
    expect(plan(state(), { name: 'dummy', state: 'absent' }).changes).toEqual([]);
  });

  it('fails as the dry run says, or without modprobe or /proc/modules', () => {
    const missing = plan(state({ dryRun: { rc: 1, err: 'modprobe: FATAL: Module nosuch not found in directory /lib/modules/6.1.0\n' } }), {
      name: 'nosuch',
    });
    expect(missing.failed).toContain('Module nosuch not found');
    expect(plan(state({ tool: false }), { name: 'x' }).failed).toContain('"modprobe"');
    expect(plan(state({ procModules: undefined }), { name: 'x' }).failed).toContain('/proc/modules');
  });

  it('persistent: present writes modules-load.d and modprobe.d, commenting out old options elsewhere', () => {
    const old = { path: '/etc/modprobe.d/local.conf', mode: '644', text: 'options bonding mode=1\noptions dummy numdummies=1\n' };
    const p = plan(state({ modprobeConf: [old] }), { name: 'dummy', state: 'absent', params: 'numdummies=2', persistent: 'present' });
    expect(summaries(p)).toEqual([
      'load dummy at boot (/etc/modules-load.d/dummy.conf)',
      'comment out options dummy in /etc/modprobe.d/local.conf',
      'set the options of dummy (/etc/modprobe.d/dummy.conf)',
    ]);
    expect(p.changes.map((c) => c.diff!.after)).toEqual([
      'dummy\n',
      'options bonding mode=1\n#options dummy numdummies=1\n',
      'options dummy numdummies=2\n',
    ]);
    const done = state({
      modulesLoad: [{ path: '/etc/modules-load.d/dummy.conf', mode: '644', text: 'dummy\n' }],
      modprobeConf: [{ path: '/etc/modprobe.d/dummy.conf', mode: '644', text: 'options dummy numdummies=2\n' }],
    });
    expect(plan(done, { name: 'dummy', state: 'absent', params: 'numdummies=2', persistent: 'present' }).changes).toEqual([]);
    expect(summaries(plan(done, { name: 'dummy', state: 'absent', persistent: 'absent' }))).toEqual([
      'comment out dummy in /etc/modules-load.d/dummy.conf',
      'comment out options dummy in /etc/modprobe.d/dummy.conf',
    ]);
  });

  it('gathers in one command; reads the files back', () => {
    const args = completeArgs(modprobe, { name: 'dummy', persistent: 'present' });
    const cmd = modprobeGatherCommand(args).text;
    expect(cmd).toContain('modprobe -n dummy');
    expect(cmd).toContain('/etc/modules-load.d/*');
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    const out = [
      `__tsplay_probe__ tool ${b64('/usr/sbin/modprobe\n')} 0`,
      `__tsplay_probe__ proc ${b64(proc)} 0`,
      `__tsplay_probe__ builtin ${b64('')} 0`,
      `__tsplay_probe__ dryrun ${b64('')} 0`,
      `__tsplay_probe__ load ${b64(`644 ${b64('dummy\n')} /etc/modules-load.d/my mods.conf\n`)} 0`,
      `__tsplay_probe__ conf ${b64('')} 0`,
    ].join('\n');
    expect(parseModprobeGather(out)).toEqual({
      tool: true,
      procModules: proc,
      builtin: '',
      dryRun: { rc: 0, err: '' },
      modulesLoad: [{ mode: '644', text: 'dummy\n', path: '/etc/modules-load.d/my mods.conf' }],
      modprobeConf: [],
    });
  });
});
