// Plan tests of ufw: arguments + what the gather read (ufw status, the rule tuples of
// user.rules/user6.rules, /etc/default/ufw, ufw.conf) -> the ufw commands, or a no-op and why. The
// tuples are the ones ufw 0.36 (Debian 12) wrote for these rules; the gather's parser is tested
// on the probe output format.
import { describe, expect, it } from 'vitest';
import ufw, { insertPosition, parseTuple, parseUfwGather, ruleAddress, type UfwState, type UfwTuple } from '../../modules/ufw.js';
import { completeArgs, expectPlan } from './harness.js';

const tuple = (line: string): UfwTuple => {
  const t = parseTuple(line);
  if (!t) throw new Error(`not a tuple: ${line}`);
  return t;
};

const DEFAULTS = { IPV6: 'yes', DEFAULT_INPUT_POLICY: 'DROP', DEFAULT_OUTPUT_POLICY: 'ACCEPT', DEFAULT_FORWARD_POLICY: 'DROP' };

function state(over: Partial<UfwState> = {}): UfwState {
  return {
    tool: true,
    status: { rc: 0, out: 'Status: inactive\n' },
    rules4: [],
    rules6: [],
    defaults: DEFAULTS,
    conf: { ENABLED: 'no', LOGLEVEL: 'low' },
    ...over,
  };
}

const SSH = {
  rules4: [tuple('### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in')],
  rules6: [tuple('### tuple ### allow tcp 22 ::/0 any ::/0 in')],
};
const ACTIVE = { status: { rc: 0, out: 'Status: active\nLogging: on (low)\n' }, conf: { ENABLED: 'yes', LOGLEVEL: 'low' } };

interface Case {
  description: string;
  args: Record<string, unknown>;
  current: UfwState;
  expect: { noop?: true; changes?: { summary: string }[]; failed?: string };
  commands?: string[];
}

const cases: Case[] = [
  {
    description: 'enabled on an inactive ufw: ufw -f enable',
    args: { state: 'enabled' },
    current: state(),
    expect: { changes: [{ summary: 'enable ufw' }] },
    commands: ['ufw -f enable'],
  },
  { description: 'enabled on an active ufw: no change', args: { state: 'enabled' }, current: state(ACTIVE), expect: { noop: true } },
  {
    description: 'disabled on an active ufw',
    args: { state: 'disabled' },
    current: state(ACTIVE),
    expect: { changes: [{ summary: 'disable ufw' }] },
    commands: ['ufw -f disable'],
  },
  { description: 'disabled on an inactive ufw: no change', args: { state: 'disabled' }, current: state(), expect: { noop: true } },
  {
    description: 'reloaded always changes, as in Ansible',
    args: { state: 'reloaded' },
    current: state(ACTIVE),
    expect: { changes: [{ summary: 'reload ufw' }] },
  },
  {
    description: 'reset always changes',
    args: { state: 'reset' },
    current: state(),
    expect: { changes: [{ summary: 'reset ufw to its installation defaults' }] },
    commands: ['ufw -f reset'],
  },
  {
    description: 'default deny (incoming) when /etc/default/ufw already drops: no change, even while inactive',
    args: { default: 'deny' },
    current: state(),
    expect: { noop: true },
  },
  {
    description: 'policy deny outgoing: the output policy is ACCEPT',
    args: { policy: 'deny', direction: 'outgoing' },
    current: state(),
    expect: { changes: [{ summary: 'default deny outgoing (was allow)' }] },
    commands: ['ufw default deny outgoing'],
  },
  {
    description: 'default allow routed',
    args: { default: 'allow', direction: 'routed' },
    current: state(),
    expect: { changes: [{ summary: 'default allow routed (was deny)' }] },
  },
  {
    description: 'default with direction in: Ansible refuses it',
    args: { default: 'deny', direction: 'in' },
    current: state(),
    expect: { failed: 'For default, direction must be one of "outgoing", "incoming" and "routed"' },
  },
  {
    description: 'allow 22/tcp on a host without rules: one ufw command adds both families',
    args: { rule: 'allow', port: '22', proto: 'tcp' },
    current: state(),
    expect: { changes: [{ summary: 'add rule: allow from any to any port 22 proto tcp' }] },
    commands: ['ufw allow from any to any port 22 proto tcp'],
  },
  {
    description: 'allow 22/tcp already there (v4 and v6): no change',
    args: { rule: 'allow', port: '22', proto: 'tcp' },
    current: state(SSH),
    expect: { noop: true },
  },
  {
    description: 'allow 22/tcp with only the IPv4 rule: ufw adds the IPv6 one',
    args: { rule: 'allow', port: '22', proto: 'tcp' },
    current: state({ rules4: SSH.rules4 }),
    expect: { changes: [{ summary: 'add rule: allow from any to any port 22 proto tcp' }] },
  },
  {
    description: 'allow 22/tcp with only the IPv4 rule and IPV6=no: no change',
    args: { rule: 'allow', port: '22', proto: 'tcp' },
    current: state({ rules4: SSH.rules4, defaults: { ...DEFAULTS, IPV6: 'no' } }),
    expect: { noop: true },
  },
  {
    description: 'deny 22/tcp where allow 22/tcp exists: ufw turns that rule into deny',
    args: { rule: 'deny', port: '22', proto: 'tcp' },
    current: state(SSH),
    expect: { changes: [{ summary: 'add rule: deny from any to any port 22 proto tcp' }] },
  },
  {
    description: 'limit from a network written with host bits: ufw stores 10.0.0.0/8, found',
    args: { rule: 'limit', port: '2222', proto: 'tcp', from_ip: '10.1.2.3/8', comment: 'ssh alt' },
    current: state({ rules4: [tuple('### tuple ### limit tcp 2222 0.0.0.0/0 any 10.0.0.0/8 in comment=73736820616c74')] }),
    expect: { noop: true },
  },
  {
    description: 'the same rule with another comment: ufw updates the comment',
    args: { rule: 'limit', port: '2222', proto: 'tcp', from_ip: '10.0.0.0/8', comment: 'new' },
    current: state({ rules4: [tuple('### tuple ### limit tcp 2222 0.0.0.0/0 any 10.0.0.0/8 in comment=73736820616c74')] }),
    expect: { changes: [{ summary: 'add rule: limit from 10.0.0.0/8 to any port 2222 proto tcp comment new' }] },
  },
  {
    description: 'the same rule given without a comment: ufw removes the comment, so a change',
    args: { rule: 'limit', port: '2222', proto: 'tcp', from_ip: '10.0.0.0/8' },
    current: state({ rules4: [tuple('### tuple ### limit tcp 2222 0.0.0.0/0 any 10.0.0.0/8 in comment=73736820616c74')] }),
    expect: { changes: [{ summary: 'add rule: limit from 10.0.0.0/8 to any port 2222 proto tcp' }] },
  },
  {
    description: 'a netmask and a /32 host as ufw stores them',
    args: { rule: 'allow', from_ip: '192.168.1.5/32', to_ip: '10.0.0.7/255.255.255.0' },
    current: state({ rules4: [tuple('### tuple ### allow any any 10.0.0.0/24 any 192.168.1.5 in')] }),
    expect: { noop: true },
  },
  {
    description: 'IPv6 source on an interface: only the IPv6 rule, compressed, host bits kept',
    args: { rule: 'deny', to_port: '53', proto: 'udp', from: 'fd00:0:0::1/64', direction: 'in', interface: 'lo' },
    current: state({ rules6: [tuple('### tuple ### deny udp 53 ::/0 any fd00::1/64 in_lo')] }),
    expect: { noop: true },
  },
  {
    description: 'an application profile with log: found by its name',
    args: { rule: 'allow', name: 'OpenSSH', log: true },
    current: state({
      rules4: [tuple('### tuple ### allow_log tcp 22 0.0.0.0/0 any 0.0.0.0/0 OpenSSH - in')],
      rules6: [tuple('### tuple ### allow_log tcp 22 ::/0 any ::/0 OpenSSH - in')],
    }),
    expect: { noop: true },
  },
  {
    description: 'an application profile with a space in its name is stored with %20',
    args: { rule: 'allow', name: 'WWW Full' },
    current: state(),
    expect: { changes: [{ summary: 'add rule: allow from any to any app WWW Full' }] },
    commands: ["ufw allow from any to any app 'WWW Full'"],
  },
  {
    description: 'out on an interface',
    args: { rule: 'allow', direction: 'out', interface: 'eth0', to_port: '53', proto: 'udp' },
    current: state({ rules4: [tuple('### tuple ### allow udp 53 0.0.0.0/0 any 0.0.0.0/0 out_eth0')] }),
    expect: { changes: [{ summary: 'add rule: allow out on eth0 from any to any port 53 proto udp' }] },
  },
  {
    description: 'insert as rule 1',
    args: { rule: 'deny', from_ip: '10.9.9.9', insert: 1 },
    current: state(SSH),
    expect: { changes: [{ summary: 'add rule: deny from 10.9.9.9 to any' }] },
    commands: ['ufw insert 1 deny from 10.9.9.9 to any'],
  },
  {
    description: 'insert 0 relative to first-ipv6 on an active ufw with 1 IPv4 and 1 IPv6 rule: rule 2',
    args: { rule: 'deny', from_ip: 'fd00::9', insert: 0, insert_relative_to: 'first-ipv6' },
    current: state({ ...ACTIVE, ...SSH }),
    expect: { changes: [{ summary: 'add rule: deny from fd00::9 to any' }] },
    commands: ['ufw insert 2 deny from fd00::9 to any'],
  },
  {
    description: 'insert relative to last-ipv4 past the last rule: appended, as Ansible does',
    args: { rule: 'deny', from_ip: '10.9.9.9', insert: 5, insert_relative_to: 'last-ipv4' },
    current: state({ ...ACTIVE, ...SSH }),
    expect: { changes: [{ summary: 'add rule: deny from 10.9.9.9 to any' }] },
    commands: ['ufw deny from 10.9.9.9 to any'],
  },
  {
    description: 'delete an existing rule',
    args: { rule: 'allow', port: '22', proto: 'tcp', delete: true },
    current: state(SSH),
    expect: { changes: [{ summary: 'delete rule: allow from any to any port 22 proto tcp' }] },
    commands: ['ufw delete allow from any to any port 22 proto tcp'],
  },
  {
    description: 'delete a rule that is not there: no change',
    args: { rule: 'allow', port: '80', delete: true },
    current: state(SSH),
    expect: { noop: true },
  },
  {
    description: 'logging medium when low',
    args: { logging: 'medium' },
    current: state(),
    expect: { changes: [{ summary: 'logging medium (was low)' }] },
    commands: ['ufw logging medium'],
  },
  { description: 'logging on when at any level: no change', args: { logging: 'on' }, current: state(), expect: { noop: true } },
  {
    description: 'logging on when off',
    args: { logging: 'on' },
    current: state({ conf: { LOGLEVEL: 'off' } }),
    expect: { changes: [{ summary: 'logging on (was off)' }] },
  },
  {
    description: 'state, default and rule in one task: in Ansible order',
    args: { state: 'enabled', default: 'reject', rule: 'allow', port: '22', proto: 'tcp' },
    current: state(),
    expect: {
      changes: [
        { summary: 'enable ufw' },
        { summary: 'default reject incoming (was deny)' },
        { summary: 'add rule: allow from any to any port 22 proto tcp' },
      ],
    },
  },
  {
    description: 'mixed address families: ufw refuses them',
    args: { rule: 'allow', from_ip: '10.0.0.1', to_ip: 'fd00::1' },
    current: state(),
    expect: { failed: 'mixed IP versions' },
  },
  {
    description: 'interface without direction: Ansible requires direction',
    args: { rule: 'allow', interface: 'eth0' },
    current: state(),
    expect: { failed: "missing parameter(s) required by 'interface': direction" },
  },
  {
    description: 'a route rule between two interfaces: route: and in_X!out_Y in the tuple, found',
    args: { rule: 'allow', route: true, interface_in: 'eth1', interface_out: 'eth0' },
    current: state({
      rules4: [tuple('### tuple ### route:allow any any 0.0.0.0/0 any 0.0.0.0/0 in_eth1!out_eth0')],
      rules6: [tuple('### tuple ### route:allow any any ::/0 any ::/0 in_eth1!out_eth0')],
    }),
    expect: { noop: true },
  },
  {
    description: 'a route rule added: ufw route ...',
    args: { rule: 'allow', route: true, interface_in: 'eth1', from_ip: '10.0.0.0/8', port: '80', proto: 'tcp' },
    current: state(),
    expect: { changes: [{ summary: 'add rule: route allow in on eth1 from 10.0.0.0/8 to any port 80 proto tcp' }] },
    commands: ['ufw route allow in on eth1 from 10.0.0.0/8 to any port 80 proto tcp'],
  },
  {
    description: 'a route rule deleted: ufw route delete ...',
    args: { rule: 'deny', route: true, direction: 'out', interface: 'eth0', delete: true },
    current: state({ rules4: [tuple('### tuple ### route:deny any any 0.0.0.0/0 any 0.0.0.0/0 out_eth0')] }),
    expect: { changes: [{ summary: 'delete rule: route deny out on eth0 from any to any' }] },
    commands: ['ufw route delete deny out on eth0 from any to any'],
  },
  {
    description: 'a plain (not routed) rule does not match the route rule of the same addresses',
    args: { rule: 'allow', direction: 'out', interface: 'eth0' },
    current: state({
      rules4: [tuple('### tuple ### route:allow any any 0.0.0.0/0 any 0.0.0.0/0 out_eth0')],
      defaults: { ...DEFAULTS, IPV6: 'no' },
    }),
    expect: { changes: [{ summary: 'add rule: allow out on eth0 from any to any' }] },
  },
  {
    description: 'ufw not installed',
    args: { state: 'enabled' },
    current: state({ tool: false }),
    expect: { failed: 'Failed to find required executable "ufw"' },
  },
  {
    description: 'not root: ufw status says so',
    args: { state: 'enabled' },
    current: state({ status: { rc: 1, out: 'ERROR: You need to be root to run this script\n' } }),
    expect: { failed: 'You need to be root' },
  },
];

describe('ufw plans', () => {
  for (const c of cases) {
    it(c.description, () => {
      const plan = ufw.plan(c.current, completeArgs(ufw, c.args));
      expectPlan(plan, c);
      if (c.commands) expect(plan.changes.flatMap((x) => x.commands.map((k) => k.cmd.text))).toEqual(c.commands);
    });
  }
});

describe('ufw insert positions, counted as Ansible counts ufw status numbered', () => {
  const cur = state({ rules4: [SSH.rules4[0]!, SSH.rules4[0]!], rules6: [SSH.rules6[0]!] });
  it('counts IPv4 rules first, then IPv6; nothing is numbered while ufw is inactive', () => {
    expect(insertPosition(cur, true, 7, 'zero')).toBe(7);
    expect(insertPosition(cur, true, 0, 'first-ipv4')).toBe(1);
    expect(insertPosition(cur, true, 0, 'last-ipv4')).toBe(2);
    expect(insertPosition(cur, true, 0, 'first-ipv6')).toBe(3);
    expect(insertPosition(cur, true, -1, 'last-ipv6')).toBe(2);
    expect(insertPosition(cur, true, 1, 'last-ipv6')).toBeUndefined();
    expect(insertPosition(state(), true, 0, 'last-ipv6')).toBeUndefined();
    expect(insertPosition(cur, false, 0, 'first-ipv4')).toBeUndefined();
  });
});

describe('ufw arguments', () => {
  it('rejects what Ansible rejects before touching a host', () => {
    expect(() => completeArgs(ufw, { direction: 'in' })).toThrow('one of the following is required: state, default, rule, logging');
    expect(() => completeArgs(ufw, { rule: 'allow', name: 'OpenSSH', proto: 'tcp' })).toThrow('mutually exclusive: name|proto|logging');
    expect(() => completeArgs(ufw, { rule: 'allow', direction: 'in', interface_in: 'eth0' })).toThrow(
      'mutually exclusive: direction|interface_in',
    );
    expect(() => completeArgs(ufw, { rule: 'permit' })).toThrow();
  });
});

describe('ufw parsing', () => {
  it('reads tuples with and without applications, comments and routes', () => {
    expect(tuple('### tuple ### limit_log tcp 22 0.0.0.0/0 1000 10.0.0.0/8 in_eth0 comment=6869')).toEqual({
      action: 'limit_log',
      proto: 'tcp',
      dport: '22',
      dst: '0.0.0.0/0',
      sport: '1000',
      src: '10.0.0.0/8',
      dapp: '-',
      sapp: '-',
      direction: 'in_eth0',
      comment: '6869',
    });
    expect(tuple('### tuple ### allow tcp 22 ::/0 any ::/0 OpenSSH - in')).toMatchObject({ dapp: 'OpenSSH', sapp: '-', direction: 'in' });
    expect(tuple('### tuple ### route:allow any any 0.0.0.0/0 any 0.0.0.0/0 in_eth1!out_eth0')).toMatchObject({
      action: 'route:allow',
      direction: 'in_eth1!out_eth0',
    });
    expect(parseTuple('### tuple ### allow tcp 22')).toBeUndefined();
  });

  it('normalises addresses as ufw stores them', () => {
    expect(ruleAddress('any')).toEqual({ v4: '0.0.0.0/0', v6: '::/0' });
    expect(ruleAddress('10.1.2.3/8')).toMatchObject({ family: 4, v4: '10.0.0.0/8' });
    expect(ruleAddress('10.1.2.3/32')).toMatchObject({ family: 4, v4: '10.1.2.3' });
    expect(ruleAddress('FD00::0001')).toMatchObject({ family: 6, v6: 'fd00::1' });
    expect(ruleAddress('2001:db8:0:0:1:0:0:1')).toMatchObject({ family: 6, v6: '2001:db8::1:0:0:1' });
    expect(ruleAddress('fd00::1/128')).toMatchObject({ family: 6, v6: 'fd00::1' });
    expect(ruleAddress('300.1.1.1')).toEqual({ error: "Bad address '300.1.1.1'" });
  });

  it('reads the probe output: status, both rules files, and the two config files', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const line = (name: string, out: string, rc = 0) => `__tsplay_probe__ ${name} ${b64(out)} ${rc}`;
    const out = [
      line('tool', '/usr/sbin/ufw\n'),
      line('status', 'Status: active\n'),
      line('rules4', '### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n'),
      line('rules6', '', 1),
      line('defaults', '# comment\nIPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\n'),
      line('conf', 'ENABLED=yes\nLOGLEVEL=low\n'),
    ].join('\n');
    const s = parseUfwGather(out);
    expect(s.tool).toBe(true);
    expect(s.status).toEqual({ rc: 0, out: 'Status: active\n' });
    expect(s.rules4).toHaveLength(1);
    expect(s.rules6).toEqual([]);
    expect(s.defaults).toEqual({ IPV6: 'yes', DEFAULT_INPUT_POLICY: 'DROP' });
    expect(s.conf).toEqual({ ENABLED: 'yes', LOGLEVEL: 'low' });
  });
});
