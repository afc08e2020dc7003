// Table-driven plan tests of the system modules, in the format of fixtures.test.ts:
// test/modules/fixtures/<module>/<case>.json = args + gathered state -> expected plan. "current" is
// the module's state as its gather returns it; for replace, a probed path in short form
// ({ "text" } or { "exists": false }). Also: the gathers parse what real hosts print, and the
// probes that can run on this machine (facts, wait_for) are run here.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnyModuleDefinition, Plan } from '../../engine/module.js';
import { shellSplit } from '../../engine/sh.js';
import type { FileFact } from '../../engine/file-fact.js';
import apt, { aptGatherCommand, parseAptGather, parseAptOutput } from '../../modules/apt.js';
import group, { parseGroupLine } from '../../modules/group.js';
import hostname, { parseHostnameGather } from '../../modules/hostname.js';
import packageModule from '../../modules/package.js';
import reboot, { rebootCommand } from '../../modules/reboot.js';
import replace, { replaceText } from '../../modules/replace.js';
import script, { splitScriptLine } from '../../modules/script.js';
import service from '../../modules/service.js';
import serviceFacts, { serviceFactsProbe } from '../../modules/service_facts.js';
import setup, { factSubsets, netmask, networkFacts, systemFacts } from '../../modules/setup.js';
import systemd, { parseSystemdGather, systemdGatherCommand } from '../../modules/systemd.js';
import user, { parseGroupLines, parsePasswdLine, parseShadowLine, planUser } from '../../modules/user.js';
import waitFor from '../../modules/wait_for.js';
import waitForConnection from '../../modules/wait_for_connection.js';
import { completeArgs, harness, runModule, expectPlan } from './harness.js';

interface Case {
  description: string;
  args: Record<string, unknown>;
  current: Record<string, unknown>;
  expect: { noop?: true; changes?: { summary: string }[]; after?: string; failed?: string };
  result?: Record<string, unknown>;
}

const IDENTITY = { uid: 0, gid: 0, user: 'root', group: 'root', umask: '0022' };

function fileFact(short: { text?: string; exists?: boolean; path?: string }): FileFact {
  const exists = short.exists ?? true;
  const base = { path: short.path ?? '/etc/test.conf', exists, parentExists: true, identity: IDENTITY } as FileFact;
  if (!exists) return base;
  const content = Buffer.from(short.text ?? '').toString('base64');
  return {
    ...base,
    type: 'file',
    mode: '0644',
    owner: 'root',
    group: 'root',
    uid: 0,
    gid: 0,
    size: (short.text ?? '').length,
    content,
  } as FileFact;
}

const modules: Record<string, AnyModuleDefinition> = {
  apt,
  group,
  hostname,
  package: packageModule,
  reboot,
  replace,
  script,
  service,
  systemd,
  user,
  wait_for: waitFor,
  wait_for_connection: waitForConnection,
};
const root = join(import.meta.dirname, 'fixtures');

for (const name of Object.keys(modules)) {
  describe(`${name} plans`, () => {
    for (const caseFile of readdirSync(join(root, name))
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const c = JSON.parse(readFileSync(join(root, name, caseFile), 'utf8')) as Case;
      it(`${caseFile.replace(/\.json$/, '')}: ${c.description}`, () => {
        const module = modules[name]!;
        const args = completeArgs(module, c.args);
        const current = name === 'replace' ? fileFact(c.current) : c.current;
        const plan: Plan = module.plan(current, args);
        expectPlan(plan, c);
      });
    }
  });
}

describe('system module gathers and helpers', () => {
  it('apt: parses dpkg-query, apt-cache policy and the cache age', () => {
    const out = [
      '__tsplay_apt__ now 2000',
      '__tsplay_apt__ cache 1000',
      '__tsplay_apt__ dpkg',
      'hello\tamd64\tii \t1.0-1',
      '__tsplay_apt__ policy',
      'hello:',
      '  Installed: 1.0-1',
      '  Candidate: 1.1-1',
      '  Version table:',
      '     1.1-1 500',
      '        500 http://10.213.0.254/debian ./ Packages',
      ' *** 1.0-1 100',
      '        100 /var/lib/dpkg/status',
    ].join('\n');
    expect(parseAptGather(out)).toEqual({
      now: 2000,
      cacheTime: 1000,
      dpkg: [{ name: 'hello', arch: 'amd64', status: 'ii ', version: '1.0-1' }],
      policy: { hello: { installed: '1.0-1', candidate: '1.1-1', versions: ['1.1-1', '1.0-1'] } },
    });
    expect(aptGatherCommand(completeArgs(apt, { name: ['a b', 'c=1.0'] })).text).toContain(
      "dpkg-query -W -f '${Package}\\t${Architecture}\\t${db:Status-Abbrev}\\t${Version}\\n' -- 'a b' c",
    );
  });

  it('apt: reads what apt-get installed and removed, simulated or real', () => {
    expect(parseAptOutput('Inst libx (1 Debian:12) []\nInst hello (1.0 x [all])\nConf hello (1.0)\nRemv old [2]\n')).toEqual({
      installed: ['hello', 'libx'],
      removed: ['old'],
    });
    expect(
      parseAptOutput(
        'Unpacking hello (1.0) ...\nSetting up hello (1.0) ...\nSetting up libz:amd64 (2) ...\nRemoving old (2) ...\nPurging configuration files for old (2) ...\n',
      ),
    ).toEqual({
      installed: ['hello', 'libz'],
      removed: ['old'],
    });
  });

  it('apt: the apply is one noninteractive apt-get line that waits for the dpkg lock', () => {
    const args = completeArgs(apt, { name: 'hello', update_cache: true, install_recommends: false, lock_timeout: 30 });
    const plan = apt.plan({ dpkg: [], policy: {}, cacheTime: 0, now: 10 }, args);
    const text = plan.changes[0]!.commands[0]!.cmd.text;
    expect(text).toMatch(/^DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a apt-get -q update && DEBIAN_FRONTEND=noninteractive/);
    expect(text).toContain(
      'apt-get -y -q -o DPkg::Lock::Timeout=30 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold --no-install-recommends install --no-upgrade -- hello',
    );
  });

  it('systemd: parses systemctl show and is-enabled; restarted is always a change', () => {
    const s = parseSystemdGather(
      '__tsplay_systemd__ show\nId=x.service\nLoadState=loaded\nActiveState=active\nExecStart={ path=/bin/sh ; argv[]=/bin/sh -c a=b }\n__tsplay_systemd__ enabled\n1\ndisabled\n',
    );
    expect(s).toEqual({
      status: { Id: 'x.service', LoadState: 'loaded', ActiveState: 'active', ExecStart: '{ path=/bin/sh ; argv[]=/bin/sh -c a=b }' },
      enabled: { state: 'disabled', rc: 1 },
    });
    expect(systemdGatherCommand(completeArgs(systemd, { name: 'x', scope: 'user' })).text).toContain('systemctl --user show -- x');
    expect(systemd.plan(s, completeArgs(systemd, { name: 'x', state: 'restarted' })).alwaysChanges).toBe(true);
    expect(systemd.plan(s, completeArgs(systemd, { name: 'x', state: 'started', no_block: true })).alwaysChanges).toBeFalsy();
    // daemon_reload alone is no change in Ansible's module (reported ok), a start is one
    expect(systemd.plan(s, completeArgs(systemd, { daemon_reload: true })).unreported).toBe(true);
    expect(systemd.plan(s, completeArgs(systemd, { name: 'x', state: 'stopped', daemon_reload: true })).unreported).toBe(false);
  });

  it('service_facts: run state from list-units, enablement from list-unit-files, as Ansible names them', () => {
    const stdout = [
      'dbus.service                         loaded    active   running D-Bus System Message Bus',
      'dnsmasq.service                      loaded    active   running dnsmasq - A lightweight DHCP and caching DNS server',
      '● tsplay-bad.service                 loaded    failed   failed  a unit that failed',
      'ssh.service                          loaded    inactive dead    OpenBSD Secure Shell server',
      'systemd-tmpfiles-setup.service       loaded    active   exited  Create Volatile Files and Directories',
      'nosuch.service                       not-found inactive dead    nosuch.service',
      '--tsplay-unit-files--',
      'dbus.service                          static          -',
      'dnsmasq.service                       enabled         enabled',
      'getty@.service                        enabled         enabled',
      'ssh.service                           disabled        enabled',
      'tsplay-bad.service                    enabled         enabled',
      'nftables.service                      masked          enabled',
      'systemd-tmpfiles-setup.service        static          -',
      '',
    ].join('\n');
    const state = serviceFactsProbe.process({ rc: 0, stdout, stderr: '' }, undefined);
    expect(state.services['dnsmasq.service']).toEqual({ name: 'dnsmasq.service', state: 'running', status: 'enabled', source: 'systemd' });
    expect(state.services['dbus.service']).toMatchObject({ state: 'running', status: 'static' });
    expect(state.services['tsplay-bad.service']).toMatchObject({ state: 'failed', status: 'enabled' });
    expect(state.services['ssh.service']).toMatchObject({ state: 'stopped', status: 'disabled' });
    expect(state.services['systemd-tmpfiles-setup.service']).toMatchObject({ state: 'stopped', status: 'static' });
    expect(state.services['nftables.service']).toMatchObject({ state: 'stopped', status: 'masked' });
    expect(state.services['nosuch.service']).toMatchObject({ state: 'stopped', status: 'not-found' });
    expect(state.services['getty@.service']).toMatchObject({ state: 'unknown', status: 'enabled' });
    const plan = serviceFacts.plan(state, {});
    expect(plan.changes).toEqual([]);
    expect((plan.result!.ansible_facts as { services: Record<string, unknown> }).services).toBe(state.services);
    const none = serviceFactsProbe.process({ rc: 0, stdout: 'no-systemctl\n', stderr: '' }, undefined);
    expect(serviceFacts.plan(none, {}).failed).toContain('systemctl was not found');
  });

  it('setup: interfaces, addresses and default_ipv4 from ip -j', () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');
    const links = [
      {
        ifname: 'lo',
        link_type: 'loopback',
        address: '00:00:00:00:00:00',
        mtu: 65536,
        operstate: 'UNKNOWN',
        addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }],
      },
      {
        ifname: 'wlan0',
        link_type: 'ether',
        address: '02:74:73:00:00:0a',
        mtu: 1500,
        operstate: 'UP',
        addr_info: [
          { family: 'inet', local: '10.213.0.10', prefixlen: 24, broadcast: '10.213.0.255', scope: 'global' },
          { family: 'inet', local: '10.213.0.11', prefixlen: 24, broadcast: '10.213.0.255', scope: 'global', secondary: true },
        ],
      },
      { ifname: 'eth0', link_type: 'ether', address: '02:74:73:00:01:01', mtu: 1500, operstate: 'DOWN', addr_info: [] },
      {
        ifname: 'br0',
        link_type: 'ether',
        address: '02:00:00:00:00:01',
        mtu: 1500,
        operstate: 'UP',
        linkinfo: { info_kind: 'bridge' },
        addr_info: [],
      },
    ];
    const f = networkFacts(b64(links), b64([{ dst: 'default', gateway: '10.213.0.254', dev: 'wlan0', metric: 600 }]));
    expect(f.interfaces).toEqual(['lo', 'wlan0', 'eth0', 'br0']);
    expect(f.wlan0).toMatchObject({
      macaddress: '02:74:73:00:00:0a',
      mtu: 1500,
      active: true,
      type: 'ether',
      ipv4: { address: '10.213.0.10', netmask: '255.255.255.0', network: '10.213.0.0', broadcast: '10.213.0.255' },
    });
    expect((f.wlan0 as Record<string, unknown>).ipv4_secondaries).toEqual([
      { address: '10.213.0.11', broadcast: '10.213.0.255', netmask: '255.255.255.0', network: '10.213.0.0', prefix: '24' },
    ]);
    expect(f.eth0).toMatchObject({ active: false, macaddress: '02:74:73:00:01:01' });
    expect(f.br0).toMatchObject({ type: 'bridge' });
    expect(f.default_ipv4).toEqual({
      address: '10.213.0.10',
      broadcast: '10.213.0.255',
      netmask: '255.255.255.0',
      network: '10.213.0.0',
      prefix: '24',
      gateway: '10.213.0.254',
      interface: 'wlan0',
      macaddress: '02:74:73:00:00:0a',
      mtu: 1500,
      type: 'ether',
      alias: 'wlan0',
    });
    expect(f.all_ipv4_addresses).toEqual(['10.213.0.10', '10.213.0.11']);
    expect(netmask(0)).toBe('0.0.0.0');
    expect(netmask(32)).toBe('255.255.255.255');
    expect(factSubsets(['!all'])).toEqual({ network: false });
    expect(factSubsets(['min'])).toEqual({ network: false });
    expect(factSubsets(['!all', 'network'])).toEqual({ network: true });
    expect(factSubsets(undefined)).toEqual({ network: true });
  });

  it('setup: one command on this machine gives interfaces with MACs; !all skips them', async () => {
    const h = harness(tmpdir());
    const full = await runModule(h, setup, {});
    expect(full.gatherCommands).toBe(1);
    const facts = full.plan.result!.ansible_facts as Record<string, unknown>;
    expect(facts.interfaces).toContain('lo');
    expect(facts.lo).toMatchObject({ type: 'loopback', active: true, ipv4: { address: '127.0.0.1', netmask: '255.0.0.0' } });
    expect(facts.distribution).toBeTruthy();
    const min = await runModule(h, setup, { gather_subset: '!all' });
    expect((min.plan.result!.ansible_facts as Record<string, unknown>).lo).toBeUndefined();
    const filtered = await runModule(h, setup, { filter: 'ansible_lo' });
    expect(Object.keys(filtered.plan.result!.ansible_facts as object)).toEqual(['lo']);
  });

  it('setup: python facts from the host python3 in the same command, none without python3', async () => {
    const stdout = (extra: string) => `hostname=h\nsystem=Linux\n${extra}`;
    const line =
      'python={"version": {"major": 3, "minor": 11, "micro": 2, "releaselevel": "final", "serial": 0}, "version_info": [3, 11, 2, "final", 0], "executable": "/usr/bin/python3", "has_sslcontext": true, "type": "cpython", "python_version": "3.11.2"}\n';
    const facts = systemFacts.process({ rc: 0, stdout: stdout(line), stderr: '' }, undefined);
    expect(facts.python).toEqual({
      version: { major: 3, minor: 11, micro: 2, releaselevel: 'final', serial: 0 },
      version_info: [3, 11, 2, 'final', 0],
      executable: '/usr/bin/python3',
      has_sslcontext: true,
      type: 'cpython',
    });
    expect(facts.python_version).toBe('3.11.2');
    const none = systemFacts.process({ rc: 0, stdout: stdout(''), stderr: '' }, undefined);
    expect(none.python).toBeUndefined();
    expect('python_version' in none).toBe(false);
    // on this machine (python3 is installed for ansible): the real probe, still one command
    const full = await runModule(harness(tmpdir()), setup, { gather_subset: '!all' });
    expect(full.gatherCommands).toBe(1);
    const python = (full.plan.result!.ansible_facts as Record<string, { version?: { major?: number } }>).python;
    expect(python?.version?.major).toBe(3);
  });

  it('replace: Python re.subn semantics (empty matches, $ before a final newline, (?i))', () => {
    expect(replaceText('ab\n', { regexp: 'x*', replace: '-' }).text).toBe('-a-b-\n-');
    expect(replaceText('a\nb\n', { regexp: '$', replace: ';' }).text).toBe('a;\nb;\n;');
    expect(replaceText('Hello\n', { regexp: '(?i)hello', replace: 'bye' }).text).toBe('bye\n');
    expect(replaceText('k=1\nk=2\n', { regexp: '^k=(?P<v>\\d)$', replace: 'k=\\g<v>0' }).text).toBe('k=10\nk=20\n');
  });

  it('replace: runs on a real file, writes once, then converges', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-replace-'));
    const path = join(dir, 'conf');
    writeFileSync(path, 'server a iburst\nserver b iburst\n');
    const h = harness(dir);
    const args = { path, regexp: '^server (\\S+) iburst$', replace: 'server x # \\1', backup: true };
    const first = await runModule(h, replace, args);
    expect(first.gatherCommands + first.applyCommands).toBe(2);
    expect(first.outcome?.result?.backup_file).toMatch(/conf\.\d+\..*~$/);
    expect(readFileSync(path, 'utf8')).toBe('server x # a\nserver x # b\n');
    const second = await runModule(h, replace, args);
    expect(second.plan.changes).toEqual([]);
  });

  it('group and user: parse getent passwd, shadow and group lines', () => {
    expect(parseGroupLine('staff:x:50:ann,bob\n')).toEqual({ name: 'staff', gid: 50, members: ['ann', 'bob'] });
    expect(parseGroupLine('')).toBeUndefined();
    expect(parsePasswdLine('ann:x:1001:1001:Ann A,,,:/home/ann:/bin/bash\n')).toEqual({
      name: 'ann',
      uid: 1001,
      gid: 1001,
      comment: 'Ann A,,,',
      home: '/home/ann',
      shell: '/bin/bash',
    });
    expect(parseShadowLine('ann:!$6$s$h:20000:0:99999:7:::\n')).toEqual({ password: '!$6$s$h', min: 0, max: 99999, expire: -1 });
    expect(parseShadowLine('ann:*:20000:::::19675:')).toMatchObject({ expire: 19675, min: -1 });
    expect(parseGroupLines('root:x:0:\nsudo:x:27:ann,bob\n').map((g) => g.members)).toEqual([[], ['ann', 'bob']]);
  });

  it('user: the hash goes to chpasswd -e on stdin of a builtin, masked wherever the command is shown', () => {
    const hash = '$6$salt$IxDD3jeSOb5eB1CX5LBsq';
    const plan = planUser({ groups: [], homeExists: false }, completeArgs(user, { name: 'bob', password: hash, password_lock: true }));
    const [useradd, chpasswd] = plan.changes[0]!.commands.map((c) => c.cmd);
    expect(useradd!.text).toBe('useradd -m -- bob');
    expect(chpasswd!.text).toBe(`printf '%s:%s\\n' bob '!${hash}' | chpasswd -e`);
    expect(chpasswd!.display).not.toContain(hash);
    expect(JSON.stringify(plan)).not.toContain(hash);
  });

  it('script: the first word is the script, the rest stays as written for the shell', () => {
    expect(splitScriptLine('  files/x.sh a "b c" $HOME ')).toEqual({ script: 'files/x.sh', rest: 'a "b c" $HOME' });
    expect(splitScriptLine("'my dir/x.sh'")).toEqual({ script: 'my dir/x.sh', rest: '' });
    expect(splitScriptLine('my\\ x.sh -v')).toEqual({ script: 'my x.sh', rest: '-v' });
  });

  it('script: runs a controller file on this machine in one round trip and leaves no temp file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-script-'));
    mkdirSync(join(dir, 'files'));
    writeFileSync(
      join(dir, 'files', 'x.sh'),
      '#!/bin/sh\necho "0=$(basename "$0") args=$# 1=$1 2=$2 pwd=$(pwd)"\necho err >&2\n[ -z "$SHOW" ] || echo "$0"\nexit ${RC:-0}\n',
    );
    const tmp = mkdtempSync(join(tmpdir(), 'tsplay-script-tmp-'));
    const h = harness(dir);
    // the local connection's shell inherits TMPDIR: the script's private directory goes there
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    const r = await runModule(h, script, { cmd: 'x.sh "a b" $TSPLAY_NOT_SET', chdir: '/' }).finally(() =>
      saved === undefined ? delete process.env.TMPDIR : (process.env.TMPDIR = saved),
    );
    expect(r.gatherCommands + r.applyCommands).toBe(1);
    expect(r.outcome?.failed).toBeUndefined();
    expect(r.outcome?.result).toMatchObject({
      rc: 0,
      stdout: '0=x.sh args=1 1=a b 2= pwd=/\n',
      stderr: 'err\n',
      stdout_lines: ['0=x.sh args=1 1=a b 2= pwd=/'],
      stderr_lines: ['err'],
    });
    // where it ran: a private directory under TMPDIR, gone afterwards
    process.env.TMPDIR = tmp;
    const shown = await runModule(h, script, { cmd: 'x.sh', executable: 'SHOW=1 sh' }).finally(() =>
      saved === undefined ? delete process.env.TMPDIR : (process.env.TMPDIR = saved),
    );
    expect((shown.outcome?.result?.stdout_lines as string[])[1]).toMatch(new RegExp(`^${tmp}/tsplay-script\\.\\w+/x\\.sh$`));
    const failing = await runModule(h, script, { cmd: 'x.sh', executable: 'RC=3 sh' });
    expect(failing.outcome).toMatchObject({ failed: 'non-zero return code', result: { rc: 3, changed: true } });
    expect(readdirSync(tmp)).toEqual([]);
    const skipped = await runModule(h, script, { cmd: 'nosuch.sh', creates: dir });
    expect(skipped.plan.result).toMatchObject({ skipped: true, msg: `${dir} exists, matching creates option` });
  });

  it('package: on this Debian machine, detects apt without facts and plans as apt', async () => {
    const h = harness(tmpdir());
    const r = await runModule(h, packageModule, { name: 'coreutils' });
    expect(r.current.manager).toBe('apt');
    expect(r.plan.changes).toEqual([]);
    const facts = harness(tmpdir(), { ansible_facts: { pkg_mgr: 'apt' } });
    const f = await runModule(facts, packageModule, { name: 'coreutils', state: 'latest', update_cache: false });
    expect(f.plan.failed).toBeUndefined();
    expect(facts.commands.some((c) => c.text.includes('command -v apt-get'))).toBe(false);
  });

  it('hostname: parses the probe', () => {
    expect(
      parseHostnameGather(
        '__tsplay_hostname__ current node1\n__tsplay_hostname__ permanent raspberrypi\n__tsplay_hostname__ hostnamectl\n',
      ),
    ).toEqual({ current: 'node1', permanent: 'raspberrypi', hostnamectl: true });
  });

  it('wait_for: waits on this machine for a file and its content, and times out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-wait-'));
    const path = join(dir, 'ready');
    setTimeout(() => writeFileSync(path, 'state: ready 42\n'), 1200);
    const h = harness(dir);
    const t = Date.now();
    const r = await runModule(h, waitFor, { path, search_regex: 'ready (?P<n>\\d+)', timeout: 10 });
    expect(r.plan.failed).toBeUndefined();
    expect(Date.now() - t).toBeGreaterThanOrEqual(1000);
    expect(r.plan.result).toMatchObject({ match_groupdict: { n: '42' }, match_groups: ['42'] });
    const gone = await runModule(h, waitFor, { path: join(dir, 'nosuch'), state: 'absent', timeout: 2 });
    expect(gone.plan.failed).toBeUndefined();
    const never = await runModule(h, waitFor, { path: join(dir, 'nosuch'), timeout: 1 });
    expect(never.plan.failed).toBe(`Timeout when waiting for file ${join(dir, 'nosuch')}`);
    const closed = await runModule(h, waitFor, { port: 1, state: 'stopped', timeout: 2 });
    expect(closed.plan.failed).toBeUndefined();
  });

  it('reboot: the reboot runs detached, after the delay, with the message quoted', () => {
    const args = completeArgs(reboot, { pre_reboot_delay: 3, msg: "it's time" });
    const words = shellSplit(rebootCommand(args).text);
    expect(words.slice(0, 3)).toEqual(['nohup', 'sh', '-c']);
    expect(words.slice(4)).toEqual(['</dev/null', '>/dev/null', '2>&1', '&']);
    expect(shellSplit(words[3]!)).toEqual(['sleep', '3;', 'shutdown', '-r', 'now', "it's time", '||', 'systemctl', 'reboot']);
    expect(reboot.plan({ bootId: 'a' }, args).alwaysChanges).toBe(true);
  });
});
