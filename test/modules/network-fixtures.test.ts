// Table-driven plan tests of the network modules, in the format of fixtures.test.ts:
// test/modules/fixtures/<module>/<case>.json = args + gathered state -> expected plan. "current" is
// the module's state as its gather returns it; for sysctl, "file" is a probed path in short form
// ({ "text" } or { "exists": false }). Also: the gather commands parse what real hosts print.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnyModuleDefinition, Plan } from '../../engine/module.js';
import type { FileFact } from '../../engine/file-fact.js';
import iptablesEnsure, { iptablesGatherCommand, normalizeSave, parseIptablesGather } from '../../modules/iptables-ensure.js';
import nmcli, { parseNmcliGather } from '../../modules/nmcli.js';
import routeEnsure, { parseNmRoutes, parseRouteGather, routeGatherCommand } from '../../modules/route-ensure.js';
import sysctl, { parseSysctlConf, parseSysctlGather, sysctlGatherCommand } from '../../modules/sysctl.js';
import { completeArgs, expectPlan } from './harness.js';

interface Case {
  description: string;
  args: Record<string, unknown>;
  current: Record<string, unknown>;
  expect: { noop?: true; changes?: { summary: string }[]; after?: string; failed?: string; publishes?: Record<string, unknown> };
  result?: Record<string, unknown>;
  /** A check run: what earlier tasks' plans published (Plan.publishes). */
  predicted?: Record<string, unknown>;
}

const IDENTITY = { uid: 0, gid: 0, user: 'root', group: 'root', umask: '0022' };

function fileFact(short: { text?: string; exists?: boolean; path?: string }): FileFact {
  const exists = short.exists ?? true;
  const base = { path: short.path ?? '/etc/sysctl.conf', exists, parentExists: true, identity: IDENTITY } as FileFact;
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
  'iptables-ensure': iptablesEnsure,
  nmcli,
  'route-ensure': routeEnsure,
  sysctl,
};

function state(name: string, current: Record<string, unknown>): unknown {
  if (name === 'sysctl') return { ...current, file: fileFact(current.file as { text?: string }) };
  return current;
}

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
        const current = state(name, c.current);
        const plan: Plan = module.plan(current, args, new Map(Object.entries(c.predicted ?? {})));
        expectPlan(plan, c);
        if (c.expect.publishes) expect(plan.publishes).toEqual(c.expect.publishes);
        // every command is built with sh: secrets never show in what may be printed
        for (const change of plan.changes) for (const cmd of change.commands) expect(cmd.cmd.display).not.toContain('secretpass');
      });
    }
  });
}

// One probe's line as probeAll's command prints it (engine/probe.ts).
const line = (key: string, rc: number, out: string) => `__tsplay_probe__ ${key} ${Buffer.from(out).toString('base64')} ${rc}`;

describe('network module gathers', () => {
  it('iptables: one command with -C and the chain listing; persist adds the save probes', () => {
    const args = completeArgs(iptablesEnsure, { table: 'nat', chain: 'POSTROUTING', out_interface: 'wlan0', jump: 'MASQUERADE' });
    expect(iptablesGatherCommand(args).text).toContain(
      '__tsplay_probe__ check; r=$( { { (iptables -t nat -C POSTROUTING -j MASQUERADE -o wlan0\n',
    );
    const persisted = completeArgs(iptablesEnsure, { ...args, persist: true, ip_version: 'ipv6' });
    expect(iptablesGatherCommand(persisted).text).toContain('__tsplay_probe__ live; r=$( { { (ip6tables-save\n');
    const parsed = parseIptablesGather([line('check', 1, 'iptables: Bad rule\n'), line('netfilterPersistent', 127, '')].join('\n'));
    expect(parsed).toEqual({ check: { rc: 1, out: 'iptables: Bad rule' }, netfilterPersistent: { rc: 127, out: '' } });
  });

  it('iptables: a saved rule set equals iptables-save output whatever the comments and counters', () => {
    expect(normalizeSave('# x\n*nat\n:POSTROUTING ACCEPT [5:300]\n-A POSTROUTING -o wlan0 -j MASQUERADE\nCOMMIT\n')).toBe(
      normalizeSave('*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wlan0 -j MASQUERADE\nCOMMIT\n# Completed\n'),
    );
  });

  it('route: reads ip -j -d route and the NM profile of the device', () => {
    const args = completeArgs(routeEnsure, { dest: '10.99.0.0/24', via: '10.213.0.254', persist: true });
    expect(routeGatherCommand(args).text).toContain('ip -j -d route show table main to exact 10.99.0.0/24');
    const out = [
      line(
        'routes',
        0,
        '[{"type":"unicast","dst":"10.99.0.0/24","gateway":"10.213.0.254","dev":"wlan0","protocol":"static","metric":50,"flags":[]}]\n',
      ),
      line('dev', 0, 'wlan0'),
      line('nmdev', 0, '100 (connected)\na5ad\npreconfigured\n'),
      line('nmroutes', 0, '10.99.0.0/24 10.213.0.254 50\n'),
      line('enabled', 1, 'Failed to get unit file state\n'),
    ].join('\n');
    const s = parseRouteGather(out);
    expect(s.device).toBe('wlan0');
    expect(s.nm).toEqual({ state: '100 (connected)', uuid: 'a5ad', connection: 'preconfigured', routes: '10.99.0.0/24 10.213.0.254 50' });
    expect(s.routes[0]!.metric).toBe(50);
    expect(parseNmRoutes('10.50.0.0/16 10.213.1.254 10, 10.0.0.0/8 10.1.1.1 table=100')).toMatchObject([
      { dest: '10.50.0.0/16', nextHop: '10.213.1.254', metric: 10 },
      { dest: '10.0.0.0/8', nextHop: '10.1.1.1', attrs: { table: '100' } },
    ]);
  });

  it('nmcli: parses the terse profile list (escaped colons) and the settings', () => {
    const out = [
      line('list', 0, 'my\\:net:514d:802-11-wireless:\npreconfigured:a5ad:802-3-ethernet:wlan0\n'),
      line('show', 0, 'connection.id:my:net\n802-11-wireless.ssid:my:net\nGENERAL.STATE:activated\n'),
    ].join('\n');
    const s = parseNmcliGather(out);
    expect(s.profiles[0]).toEqual({ name: 'my:net', uuid: '514d', type: '802-11-wireless', device: '' });
    expect(s.settings).toMatchObject({ '802-11-wireless.ssid': 'my:net', 'GENERAL.STATE': 'activated' });
    expect(s.count).toBe(1);
  });

  it('sysctl: the gather runs on this machine: the file, the live value, an unknown key', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tsplay-sysctl-')), 'sysctl.conf');
    writeFileSync(file, 'kernel.ostype = Linux\n');
    const gather = (name: string) => {
      const r = spawnSync('sh', ['-c', sysctlGatherCommand(completeArgs(sysctl, { name, value: '1', sysctl_file: file })).text], {
        encoding: 'utf8',
      });
      return parseSysctlGather(r.stdout, r.stderr, r.status ?? 1);
    };
    const known = gather('kernel.ostype');
    expect(known.live).toBe('Linux');
    expect(known.file).toMatchObject({ path: file, exists: true, content: Buffer.from('kernel.ostype = Linux\n').toString('base64') });
    expect(gather('kernel.no_such_key_tsplay')).toMatchObject({ liveError: expect.stringContaining('no_such_key_tsplay') });
  });

  it('sysctl: reads the file as sysctl does', () => {
    expect([...parseSysctlConf('# c\n; c\nnet.a = 1\n-net.b=2\nnet.a=3\n')]).toEqual([
      ['net.a', '3'],
      ['net.b', '2'],
    ]);
  });
});
