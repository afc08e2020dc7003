// ufw: the host firewall through ufw (community.general.ufw): enabled or disabled, default
// policies, logging, and rules added or deleted. One remote command reads `ufw status`, the rule
// tuples ufw keeps in /etc/ufw/user.rules and user6.rules, /etc/default/ufw and /etc/ufw/ufw.conf;
// the plan renders the wanted rule to ufw's tuple form and compares, so it names exactly the ufw
// commands that will run (none when the host already is as asked).
import {
  defineModule,
  noop,
  parseProbeAll,
  planFailure,
  probeAllCommand,
  sh,
  type Change,
  type Plan,
  type ShellCommand,
} from '../engine/index.js';

/** ufw's arguments, complete after validation. */
export interface UfwArgs {
  state?: 'enabled' | 'disabled' | 'reloaded' | 'reset';
  default?: 'allow' | 'deny' | 'reject';
  logging?: 'on' | 'off' | 'low' | 'medium' | 'high' | 'full';
  direction?: 'in' | 'incoming' | 'out' | 'outgoing' | 'routed';
  delete: boolean;
  route: boolean;
  insert?: number;
  insert_relative_to: 'zero' | 'first-ipv4' | 'last-ipv4' | 'first-ipv6' | 'last-ipv6';
  rule?: 'allow' | 'deny' | 'limit' | 'reject';
  interface?: string;
  interface_in?: string;
  interface_out?: string;
  log: boolean;
  from_ip: string;
  from_port?: string;
  to_ip: string;
  to_port?: string;
  proto?: 'any' | 'tcp' | 'udp' | 'ipv6' | 'esp' | 'ah' | 'gre' | 'igmp';
  name?: string;
  comment?: string;
}

/** One rule as ufw stores it (a `### tuple ###` line of user.rules / user6.rules). */
export interface UfwTuple {
  action: string;
  proto: string;
  dport: string;
  dst: string;
  sport: string;
  src: string;
  /** The application profiles, '-' for none. */
  dapp: string;
  sapp: string;
  /** in, out, in_eth0, ... */
  direction: string;
  /** The comment, hex-encoded as ufw stores it; '' for none. */
  comment: string;
}

/** What the gather found. */
export interface UfwState {
  /** ufw was found. */
  tool: boolean;
  /** `ufw status verbose`: exit code and output (ufw refuses to run without root). */
  status: { rc: number; out: string };
  /** The rules of user.rules (IPv4) and user6.rules (IPv6). */
  rules4: UfwTuple[];
  rules6: UfwTuple[];
  /** /etc/default/ufw and /etc/ufw/ufw.conf as KEY=value pairs (quotes removed). */
  defaults: Record<string, string>;
  conf: Record<string, string>;
}

/** The gather as one command (see probeAll). */
export function ufwGatherCommand(): ShellCommand {
  return probeAllCommand({
    tool: sh`command -v ufw`,
    status: sh`LC_ALL=C ufw status verbose 2>&1`,
    rules4: sh`grep -h '^### tuple' /etc/ufw/user.rules`,
    rules6: sh`grep -h '^### tuple' /etc/ufw/user6.rules`,
    defaults: sh`cat /etc/default/ufw`,
    conf: sh`cat /etc/ufw/ufw.conf`,
  });
}

/** A `### tuple ###` line as its fields; undefined for a route rule or a line it cannot read. */
export function parseTuple(line: string): UfwTuple | undefined {
  const words = line
    .replace(/^### tuple ###\s*/, '')
    .trim()
    .split(/\s+/);
  const comment = words.at(-1)?.startsWith('comment=') ? words.pop()!.slice('comment='.length) : '';
  if (words.length !== 7 && words.length !== 9) return undefined;
  const [action, proto, dport, dst, sport, src] = words as [string, string, string, string, string, string];
  const [dapp, sapp] = words.length === 9 ? [words[6]!, words[7]!] : ['-', '-'];
  return { action, proto, dport, dst, sport, src, dapp, sapp, direction: words.at(-1)!, comment };
}

function parseShellVars(text: string | undefined): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of (text ?? '').split('\n')) {
    const m = /^\s*([A-Z_0-9]+)=(.*)$/.exec(line);
    if (m)
      vars[m[1]!] = m[2]!
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .replace(/^'(.*)'$/, '$1');
  }
  return vars;
}

const parseTuples = (out: string | undefined) =>
  (out ?? '')
    .split('\n')
    .filter((l) => l.startsWith('### tuple'))
    .flatMap((l) => parseTuple(l) ?? []);

/** Parse the gather's output. */
export function parseUfwGather(stdout: string): UfwState {
  const p = parseProbeAll<'tool' | 'status' | 'rules4' | 'rules6' | 'defaults' | 'conf'>(stdout);
  return {
    tool: p.tool?.rc === 0,
    status: { rc: p.status?.rc ?? 127, out: p.status?.out ?? '' },
    rules4: parseTuples(p.rules4?.out),
    rules6: parseTuples(p.rules6?.out),
    defaults: parseShellVars(p.defaults?.out),
    conf: parseShellVars(p.conf?.out),
  };
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}|\d+\.\d+\.\d+\.\d+))?$/;

// The prefix length of a dotted netmask (255.255.255.0 -> 24); NaN when it is not one.
function maskBits(mask: string): number {
  const value = mask.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const bits = value.toString(2).padStart(32, '0');
  return /^1*0*$/.test(bits) && bits.length === 32 ? (bits.indexOf('0') === -1 ? 32 : bits.indexOf('0')) : NaN;
}

// An IPv4 address or network as ufw stores it: a host without /32, a network at its first address.
function normalizeIpv4(addr: string): string | undefined {
  const m = IPV4.exec(addr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  const bits = m[5] === undefined ? 32 : m[5].includes('.') ? maskBits(m[5]) : Number(m[5]);
  if (!(bits <= 32)) return undefined;
  const value = octets.reduce((a, o) => a * 256 + o, 0);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const net = (value & mask) >>> 0;
  const text = [24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.');
  return bits === 32 ? text : `${text}/${bits}`;
}

// The 8 groups of an IPv6 address, or undefined when it is not one.
function ipv6Groups(addr: string): number[] | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(addr) || addr.split('::').length > 2) return undefined;
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const part = (s: string | undefined) => (s ? s.split(':') : []);
  const h = part(head);
  const t = part(tail);
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  if (fill < 0 || (tail === undefined && h.length !== 8)) return undefined;
  const groups = [...h, ...Array<string>(fill).fill('0'), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

// An IPv6 address or network as ufw stores it: inet_ntop's text, a host without /128, and (unlike
// IPv4) a network keeps its host bits (fd00::1/64 stays so).
function normalizeIpv6(addr: string): string | undefined {
  const [ip, len, ...rest] = addr.split('/');
  if (rest.length > 0 || ip === undefined) return undefined;
  const groups = ipv6Groups(ip);
  const bits = len === undefined ? 128 : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!groups || !(bits >= 0 && bits <= 128)) return undefined;
  // the longest run of two or more zero groups becomes '::'
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  const text = best.len >= 2 ? `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}` : hex.join(':');
  return bits === 128 ? text : `${text}/${bits}`;
}

/** An address of a rule: its family (undefined for 'any') and its stored form per family. */
export function ruleAddress(addr: string): { family?: 4 | 6; v4: string; v6: string } | { error: string } {
  if (addr === 'any') return { v4: '0.0.0.0/0', v6: '::/0' };
  const v4 = normalizeIpv4(addr);
  if (v4 !== undefined) return { family: 4, v4, v6: v4 };
  const v6 = normalizeIpv6(addr);
  if (v6 !== undefined) return { family: 6, v4: v6, v6 };
  return { error: `Bad address '${addr}'` };
}

const hexComment = (c: string | undefined) => (c ? Buffer.from(c, 'utf8').toString('hex') : '');

/** The tuples ufw would store for the rule, per family; or why it cannot be rendered. */
export function wantedTuples(args: UfwArgs, ipv6Enabled: boolean): { v4?: UfwTuple; v6?: UfwTuple } | { error: string } {
  const from = ruleAddress(args.from_ip);
  const to = ruleAddress(args.to_ip);
  if ('error' in from) return from;
  if ('error' in to) return to;
  if (from.family && to.family && from.family !== to.family) return { error: 'Invalid address: mixed IP versions' };
  const family = from.family ?? to.family;
  const direction = args.interface_in
    ? `in_${args.interface_in}${args.interface_out ? `!out_${args.interface_out}` : ''}`
    : args.interface_out
      ? `out_${args.interface_out}`
      : `${args.direction ?? 'in'}${args.interface ? `_${args.interface}` : ''}`;
  const base = {
    action: `${args.route ? 'route:' : ''}${args.rule!}${args.log ? '_log' : ''}`,
    proto: args.proto ?? 'any',
    dport: args.to_port ?? 'any',
    sport: args.from_port ?? 'any',
    dapp: args.name ? args.name.replace(/ /g, '%20') : '-',
    sapp: '-',
    direction,
    comment: hexComment(args.comment),
  };
  return {
    ...(family !== 6 ? { v4: { ...base, dst: to.v4, src: from.v4 } } : {}),
    ...(family === 6 || (family === undefined && ipv6Enabled) ? { v6: { ...base, dst: to.v6, src: from.v6 } } : {}),
  };
}

// Same rule? An application rule's ports and protocol come from its profile, so they are not compared.
function sameRule(a: UfwTuple, b: UfwTuple): boolean {
  const app = b.dapp !== '-';
  return (
    a.action === b.action &&
    a.dst === b.dst &&
    a.src === b.src &&
    a.dapp === b.dapp &&
    a.sapp === b.sapp &&
    a.direction === b.direction &&
    (app || (a.proto === b.proto && a.dport === b.dport && a.sport === b.sport))
  );
}

/** The words of the rule after `ufw [delete | insert N]`, in Ansible's order. */
export function ruleWords(args: UfwArgs): string[] {
  const w: string[] = [args.rule!];
  if (args.direction) w.push(args.direction);
  if (args.interface) w.push('on', args.interface);
  if (args.interface_in) w.push('in', 'on', args.interface_in);
  if (args.interface_out) w.push('out', 'on', args.interface_out);
  if (args.log) w.push('log');
  w.push('from', args.from_ip);
  if (args.from_port) w.push('port', args.from_port);
  w.push('to', args.to_ip);
  if (args.to_port) w.push('port', args.to_port);
  if (args.proto) w.push('proto', args.proto);
  if (args.name) w.push('app', args.name);
  if (args.comment) w.push('comment', args.comment);
  return w;
}

/**
 * The rule number for `insert`, as Ansible computes it: relative to the first or last IPv4 or IPv6
 * rule of `ufw status numbered` (IPv4 rules first, then IPv6; no rules listed while ufw is
 * inactive); undefined (append) when that is past the last rule.
 */
export function insertPosition(
  cur: UfwState,
  active: boolean,
  insert: number,
  relativeTo: UfwArgs['insert_relative_to'],
): number | undefined {
  if (relativeTo === 'zero') return insert;
  const v4 = active ? cur.rules4.length : 0;
  const last = v4 + (active ? cur.rules6.length : 0);
  const base = {
    'first-ipv4': 1,
    'last-ipv4': v4 > 0 ? v4 : 1,
    'first-ipv6': v4 > 0 ? v4 + 1 : 1,
    'last-ipv6': last > v4 ? last : last + 1,
  }[relativeTo];
  const at = insert + base;
  return at > last ? undefined : at;
}

const POLICY: Record<string, string> = { DROP: 'deny', ACCEPT: 'allow', REJECT: 'reject' };
const POLICY_KEY = { incoming: 'DEFAULT_INPUT_POLICY', outgoing: 'DEFAULT_OUTPUT_POLICY', routed: 'DEFAULT_FORWARD_POLICY' } as const;

const change = (summary: string, cmd: ShellCommand): Change => ({ summary, commands: [{ cmd }] });

/** The plan of ufw: pure, from what the gather found. */
export function planUfw(cur: UfwState, args: UfwArgs): Plan {
  if (!cur.tool) return planFailure('Failed to find required executable "ufw" in paths');
  if (cur.status.rc !== 0) return planFailure(cur.status.out.trim() || `ufw status failed (rc ${cur.status.rc})`);
  if (args.interface && !args.direction) return planFailure("missing parameter(s) required by 'interface': direction");
  if (!args.route && args.interface_in && args.interface_out)
    return planFailure('Only route rules can combine interface_in and interface_out');
  const active = /^Status: active$/m.test(cur.status.out);
  const changes: Change[] = [];
  const same: string[] = [];

  if (args.state === 'enabled' || args.state === 'disabled') {
    const want = args.state === 'enabled';
    if (want !== active) changes.push(change(want ? 'enable ufw' : 'disable ufw', sh`ufw -f ${want ? 'enable' : 'disable'}`));
    else same.push(`ufw ${active ? 'active' : 'inactive'}`);
  } else if (args.state === 'reloaded') {
    changes.push(change('reload ufw', sh`ufw reload`));
  } else if (args.state === 'reset') {
    changes.push(change('reset ufw to its installation defaults', sh`ufw -f reset`));
  }

  if (args.default) {
    if (args.direction === 'in' || args.direction === 'out') {
      return planFailure('For default, direction must be one of "outgoing", "incoming" and "routed", or direction must not be specified.');
    }
    const direction = args.direction ?? 'incoming';
    const now = POLICY[cur.defaults[POLICY_KEY[direction]] ?? ''];
    if (now !== args.default) {
      changes.push(change(`default ${args.default} ${direction} (was ${now ?? 'unset'})`, sh`ufw default ${args.default} ${direction}`));
    } else same.push(`default ${now} ${direction}`);
  }

  if (args.rule) {
    if (args.direction !== undefined && args.direction !== 'in' && args.direction !== 'out') {
      return planFailure('For rules, direction must be one of "in" and "out", or direction must not be specified.');
    }
    const wanted = wantedTuples(args, (cur.defaults.IPV6 ?? 'yes') === 'yes');
    if ('error' in wanted) return planFailure(wanted.error);
    const pairs = [
      ...(wanted.v4 ? [{ want: wanted.v4, have: cur.rules4 }] : []),
      ...(wanted.v6 ? [{ want: wanted.v6, have: cur.rules6 }] : []),
    ];
    const words = ruleWords(args);
    const route = args.route ? ['route'] : [];
    const text = [...route, ...words].join(' ');
    if (args.delete) {
      if (pairs.some((p) => p.have.some((t) => sameRule(t, p.want))))
        changes.push(change(`delete rule: ${text}`, sh`ufw ${[...route, 'delete', ...words]}`));
      else same.push(`no rule ${text}`);
    } else {
      // a rule that exists with another comment (or none) gets this one: ufw updates it in place,
      // and a rule given without a comment loses the one it had
      const missing = pairs.filter((p) => {
        const found = p.have.find((t) => sameRule(t, p.want));
        return !found || found.comment !== p.want.comment;
      });
      if (missing.length > 0) {
        const at = args.insert === undefined ? undefined : insertPosition(cur, active, args.insert, args.insert_relative_to);
        const insert = at !== undefined ? ['insert', String(at)] : [];
        changes.push(change(`add rule: ${text}`, sh`ufw ${[...route, ...insert, ...words]}`));
      } else same.push(`rule ${text} present`);
    }
  }

  if (args.logging) {
    const level = cur.conf.LOGLEVEL ?? 'off';
    const ok = args.logging === 'on' ? level !== 'off' : level === args.logging;
    if (!ok) changes.push(change(`logging ${args.logging} (was ${level})`, sh`ufw logging ${args.logging}`));
    else same.push(`logging ${level}`);
  }

  const result = { commands: changes.flatMap((c) => c.commands.map((x) => x.cmd.display)) };
  return changes.length === 0 ? noop(same.join(', '), result) : { changes, result };
}

export default defineModule<UfwArgs, UfwState>({
  name: 'ufw',
  aliases: ['community.general.ufw'],
  description:
    'The host firewall through ufw: state (enabled, disabled, reloaded, reset), default policies, logging, and rules (allow, deny, limit, reject) added or deleted; compares with the rules ufw stores, so a second run changes nothing.',
  // enabling ufw or adding a deny rule can cut the host off: applied under the safe-network guard
  network: true,
  schema: {
    type: 'object',
    properties: {
      state: {
        type: 'string',
        enum: ['enabled', 'disabled', 'reloaded', 'reset'],
        description: 'enabled: on now and at boot; reloaded and reset always change.',
      },
      default: {
        type: 'string',
        enum: ['allow', 'deny', 'reject'],
        aliases: ['policy'],
        description: 'The default policy for direction (incoming by default).',
      },
      logging: { type: 'string', enum: ['on', 'off', 'low', 'medium', 'high', 'full'], description: 'The logging level.' },
      direction: {
        type: 'string',
        enum: ['in', 'incoming', 'out', 'outgoing', 'routed'],
        description: 'in/out for a rule; incoming/outgoing/routed for default.',
      },
      delete: { type: 'boolean', default: false, description: 'Delete the rule instead of adding it.' },
      route: { type: 'boolean', default: false, description: 'A routed (forwarded) rule: ufw route ...' },
      insert: { type: 'integer', description: 'Insert a new rule as rule number NUM (1 is the first).' },
      insert_relative_to: {
        type: 'string',
        enum: ['zero', 'first-ipv4', 'last-ipv4', 'first-ipv6', 'last-ipv6'],
        default: 'zero',
        description: 'What insert counts from: zero (absolute), or the first/last IPv4 or IPv6 rule.',
      },
      rule: { type: 'string', enum: ['allow', 'deny', 'limit', 'reject'], description: 'The rule to add (or delete).' },
      interface: { type: 'string', aliases: ['if'], description: "The interface of the rule, in the rule's direction (needs direction)." },
      interface_in: { type: 'string', aliases: ['if_in'], description: 'The input interface.' },
      interface_out: { type: 'string', aliases: ['if_out'], description: 'The output interface.' },
      log: { type: 'boolean', default: false, description: 'Log new connections that match the rule.' },
      from_ip: { type: 'string', default: 'any', aliases: ['from', 'src'], description: 'Source address or network.' },
      from_port: { type: 'string', description: 'Source port.' },
      to_ip: { type: 'string', default: 'any', aliases: ['dest', 'to'], description: 'Destination address or network.' },
      to_port: { type: 'string', aliases: ['port'], description: 'Destination port (22, 6000:6007, 80,443).' },
      proto: {
        type: 'string',
        enum: ['any', 'tcp', 'udp', 'ipv6', 'esp', 'ah', 'gre', 'igmp'],
        aliases: ['protocol'],
        description: 'The protocol.',
      },
      name: { type: 'string', aliases: ['app'], description: 'An application profile of /etc/ufw/applications.d (OpenSSH).' },
      comment: { type: 'string', description: 'A comment stored with the rule.' },
    },
    mutuallyExclusive: [
      ['name', 'proto', 'logging'],
      ['direction', 'interface_in'],
      ['direction', 'interface_out'],
    ],
    requiredOneOf: [['state', 'default', 'rule', 'logging']],
    additionalProperties: false,
  },
  examples: `- community.general.ufw:
    rule: allow
    port: "22"
    proto: tcp
- community.general.ufw:
    state: enabled
    policy: deny`,
  async gather(ctx) {
    const r = await ctx.run(ufwGatherCommand());
    return parseUfwGather(r.stdout);
  },
  plan: planUfw,
});
