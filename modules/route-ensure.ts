// route-ensure: an `ip route` present or absent, applied live with `ip route replace` / `del` and
// found by reading `ip -j route`. `persist: true` keeps it across reboots: in the
// NetworkManager profile of the device when NM manages it, else in a small systemd oneshot unit.
// One remote command gathers the routes, the device's NM profile and the unit.
import {
  parseProbeAll,
  probeAllCommand,
  atomicWriteCommand,
  changesFailed,
  defineModule,
  joinCommands,
  noop,
  planFailure,
  raw,
  runChangesAsOne,
  sh,
  type Change,
  type Plan,
  type ShellCommand,
} from '../engine/index.js';

/** route-ensure's arguments, complete after validation. */
export interface RouteArgs {
  dest: string;
  gateway?: string;
  dev?: string;
  proto?: string;
  metric?: number;
  src?: string;
  table?: string;
  scope?: string;
  state: 'present' | 'absent';
  persist: boolean;
}

/** One route as `ip -j -d route` prints it. */
export interface IpRoute {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  table?: string;
}

/** The device's NetworkManager state, when nmcli is there and a device is known. */
export interface NmDevice {
  /** GENERAL.STATE: "100 (connected)". */
  state: string;
  /** The active profile's UUID and name; empty when none. */
  uuid: string;
  connection: string;
  /** The profile's ipv4.routes (or ipv6.routes) as `nmcli -g` prints them. */
  routes?: string;
}

/** What the gather found. */
export interface RouteState {
  /** Routes to exactly dest in the table. */
  routes: IpRoute[];
  /** `ip route show` failed (bad table, bad address): its message. */
  routesError?: string;
  /** persist: the device the route uses (dev, or found with `ip route get gateway`). */
  device?: string;
  /** persist: the device in NetworkManager. */
  nm?: NmDevice;
  /** persist: the unit file's text, when it exists. */
  unit?: string;
  /** persist: `systemctl is-enabled` of the unit. */
  unitEnabled?: string;
}

const isV6 = (a: RouteArgs) => a.dest.includes(':') || (a.gateway ?? '').includes(':');
const family = (a: RouteArgs) => (isV6(a) ? raw(' -6') : raw(''));

/** dest as `ip -j route` prints it: 'default' for 0.0.0.0/0, no /32 on a host route. */
export function normalizeDest(dest: string): string {
  if (dest === '0.0.0.0/0' || dest === '::/0' || dest === 'default') return 'default';
  return dest.replace(/\/(32|128)$/, (m, n) => ((n === '32' && !dest.includes(':')) || (n === '128' && dest.includes(':')) ? '' : m));
}

/** The systemd unit that adds this route at boot when NetworkManager does not manage its device. */
export function unitName(a: RouteArgs): string {
  const slug = `${normalizeDest(a.dest)}${a.table && a.table !== 'main' ? `-table-${a.table}` : ''}`.replace(/[^A-Za-z0-9]+/g, '-');
  return `tsplay-route-${slug}.service`;
}

// The route's words after the destination, as `ip route` takes them.
function routeWords(a: RouteArgs): string[] {
  const w: string[] = [];
  if (a.gateway !== undefined) w.push('via', a.gateway);
  if (a.dev !== undefined) w.push('dev', a.dev);
  if (a.proto !== undefined) w.push('proto', a.proto);
  if (a.metric !== undefined) w.push('metric', String(a.metric));
  if (a.src !== undefined) w.push('src', a.src);
  if (a.table !== undefined) w.push('table', a.table);
  if (a.scope !== undefined) w.push('scope', a.scope);
  return w;
}

/** The unit's text: a oneshot that replaces the route once the network is online. */
export function unitText(a: RouteArgs): string {
  const ip = ['/sbin/ip', ...(isV6(a) ? ['-6'] : []), 'route', 'replace', normalizeDest(a.dest), ...routeWords(a)].join(' ');
  return `# Written by tsplay (route-ensure persist: true).
[Unit]
Description=Route to ${normalizeDest(a.dest)}
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${ip}
Restart=on-failure
RestartSec=3

[Install]
WantedBy=multi-user.target
`;
}

/** The single gather command: the routes and, for persist, the device, its NM profile and the unit (see probeAll). */
export function routeGatherCommand(a: RouteArgs): ShellCommand {
  const table = a.table ?? 'main';
  const probes: Record<string, ShellCommand> = {
    routes: sh`ip${family(a)} -j -d route show table ${table} to exact ${normalizeDest(a.dest)}`,
  };
  if (!a.persist) return probeAllCommand(probes);
  const unit = unitName(a);
  // the device the route uses, for every probe
  const setup =
    a.dev !== undefined
      ? sh`d=${a.dev}`
      : a.gateway !== undefined
        ? sh`d=$(ip${family(a)} -o route get ${a.gateway} 2>/dev/null | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p')`
        : sh`d=`;
  const nm = sh`[ -n "$d" ] && command -v nmcli >/dev/null 2>&1`;
  const routes = isV6(a) ? 'ipv6.routes' : 'ipv4.routes';
  probes.dev = sh`printf %s "$d"`;
  probes.nmdev = sh`${nm} && nmcli -g GENERAL.STATE,GENERAL.CON-UUID,GENERAL.CONNECTION dev show "$d"`;
  probes.nmroutes = sh`${nm} && { u=$(nmcli -g GENERAL.CON-UUID dev show "$d" 2>/dev/null); [ -n "$u" ]; } && nmcli -g ${routes} con show uuid "$u"`;
  probes.unit = sh`cat ${`/etc/systemd/system/${unit}`}`;
  probes.enabled = sh`systemctl is-enabled ${unit}`;
  return probeAllCommand(probes, { setup });
}

/** Parse the gather's output (each probe's output as the shell's $(...) gives it: trailing newlines dropped). */
export function parseRouteGather(stdout: string): RouteState {
  const state: RouteState = { routes: [] };
  const probed = parseProbeAll(stdout);
  const get = (key: string) => {
    const r = probed[key];
    return r && { ok: r.rc === 0, rc: r.rc, out: r.out.replace(/\n+$/, '') };
  };
  const routes = get('routes');
  if (routes) {
    if (!routes.ok) state.routesError = routes.out.trim() || `rc=${routes.rc}`;
    else state.routes = routes.out.trim() ? (JSON.parse(routes.out) as IpRoute[]) : [];
  }
  const dev = get('dev');
  if (dev) state.device = dev.out.split(' ')[0] || undefined;
  const nmdev = get('nmdev');
  if (nmdev?.ok) {
    const [st = '', uuid = '', connection = ''] = nmdev.out.split('\n');
    state.nm = { state: st, uuid, connection: unescapeNm(connection) };
  }
  const nmroutes = get('nmroutes');
  if (nmroutes?.ok && state.nm) state.nm.routes = nmroutes.out.replace(/\n$/, '');
  const unit = get('unit');
  if (unit?.ok) state.unit = unit.out;
  const enabled = get('enabled');
  if (enabled) state.unitEnabled = enabled.out.trim();
  return state;
}

// nmcli -g escapes ':' and '\' in values.
function unescapeNm(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/** One route of an NM profile: "10.0.0.0/24 10.0.0.1 100 table=5". */
export interface NmRoute {
  dest: string;
  nextHop?: string;
  metric?: number;
  attrs: Record<string, string>;
  text: string;
}

/** Parse `nmcli -g ipv4.routes` output. */
export function parseNmRoutes(text: string): NmRoute[] {
  if (text.trim() === '') return [];
  return unescapeNm(text)
    .split(/,\s*/)
    .map((entry) => {
      const [dest = '', ...rest] = entry.trim().split(/\s+/);
      const r: NmRoute = { dest, attrs: {}, text: entry.trim() };
      for (const t of rest) {
        if (t.includes('=')) r.attrs[t.slice(0, t.indexOf('='))] = t.slice(t.indexOf('=') + 1);
        else if (/^\d+$/.test(t)) r.metric = Number(t);
        else r.nextHop = t;
      }
      return r;
    });
}

// The route as NM writes it in a profile.
function nmRouteText(a: RouteArgs): string {
  const dest = normalizeDest(a.dest) === 'default' ? (isV6(a) ? '::/0' : '0.0.0.0/0') : a.dest;
  const parts = [dest];
  if (a.gateway !== undefined) parts.push(a.gateway);
  if (a.metric !== undefined) parts.push(String(a.metric));
  if (a.src !== undefined) parts.push(`src=${a.src}`);
  if (a.table !== undefined && a.table !== 'main') parts.push(`table=${a.table}`);
  return parts.join(' ');
}

function nmMatches(r: NmRoute, a: RouteArgs): boolean {
  const same = (x: string) =>
    normalizeDest(x) === normalizeDest(a.dest) ||
    (x.includes('/') && normalizeDest(x) === normalizeDest(`${a.dest}/${isV6(a) ? 128 : 32}`));
  return (
    same(r.dest) &&
    (a.gateway === undefined || r.nextHop === a.gateway) &&
    (a.metric === undefined || r.metric === a.metric) &&
    (a.src === undefined || r.attrs.src === a.src) &&
    ((a.table ?? 'main') === 'main' ? r.attrs.table === undefined || r.attrs.table === '254' : r.attrs.table === a.table)
  );
}

/** The live route matches every attribute the arguments give. */
export function routeMatches(r: IpRoute, a: RouteArgs): boolean {
  if (r.type !== undefined && r.type !== 'unicast') return false;
  return (
    (a.gateway === undefined || r.gateway === a.gateway) &&
    (a.dev === undefined || r.dev === a.dev) &&
    (a.proto === undefined || r.protocol === a.proto) &&
    (a.metric === undefined || (r.metric ?? 0) === a.metric) &&
    (a.src === undefined || r.prefsrc === a.src) &&
    (a.scope === undefined || r.scope === a.scope)
  );
}

function describe(r: IpRoute): string {
  return [
    r.dst,
    r.gateway && `via ${r.gateway}`,
    r.dev && `dev ${r.dev}`,
    r.protocol && `proto ${r.protocol}`,
    r.metric !== undefined && `metric ${r.metric}`,
    r.prefsrc && `src ${r.prefsrc}`,
  ]
    .filter(Boolean)
    .join(' ');
}

// NM manages the device with a profile of its own (not an external, generated one).
function nmManaged(nm: NmDevice | undefined): nm is NmDevice {
  if (!nm || !nm.uuid) return false;
  const code = Number(/^(\d+)/.exec(nm.state)?.[1] ?? 0);
  return code >= 30 && !nm.state.includes('externally');
}

/** The plan of route-ensure: pure, from the gathered routes and the arguments. */
export function planRoute(cur: RouteState, a: RouteArgs): Plan {
  const dest = normalizeDest(a.dest);
  const words = routeWords(a);
  const text = [dest, ...words].join(' ');
  if (cur.routesError !== undefined) return planFailure(`cannot read routes to ${dest}: ${cur.routesError}`);
  if (a.persist) {
    const bad = [dest, ...words].find((w) => !/^[A-Za-z0-9_.:/-]+$/.test(w));
    if (bad !== undefined) return planFailure(`persist: cannot keep ${JSON.stringify(bad)} in a route (letters, digits, . : / - _ only)`);
  }
  const matching = cur.routes.filter((r) => routeMatches(r, a));
  const changes: Change[] = [];
  if (a.state === 'present' && matching.length === 0) {
    const before = cur.routes.map(describe).join('\n');
    changes.push({
      summary: `${cur.routes.length ? 'replace' : 'add'} route ${text}`,
      commands: [{ cmd: sh`ip${family(a)} route replace ${dest} ${words}` }],
      diff: {
        before: before ? before + '\n' : '',
        after: text + '\n',
        beforeHeader: `routes to ${dest}`,
        afterHeader: `routes to ${dest}`,
      },
    });
  } else if (a.state === 'absent' && matching.length > 0) {
    for (const r of matching) {
      const del: string[] = [];
      if (r.gateway) del.push('via', r.gateway);
      if (r.dev) del.push('dev', r.dev);
      if (r.metric !== undefined) del.push('metric', String(r.metric));
      del.push('table', a.table ?? 'main');
      changes.push({
        summary: `delete route ${describe(r)}`,
        commands: [{ cmd: sh`ip${family(a)} route del ${dest} ${del}` }],
        diff: { before: describe(r) + '\n', after: '', beforeHeader: `routes to ${dest}`, afterHeader: `routes to ${dest}` },
      });
    }
  }

  let persisted: Record<string, unknown> = {};
  if (a.persist) {
    const unit = unitName(a);
    const unitPath = `/etc/systemd/system/${unit}`;
    const hasUnit = cur.unit !== undefined || cur.unitEnabled === 'enabled';
    if (nmManaged(cur.nm)) {
      const nm = cur.nm;
      const key = isV6(a) ? 'ipv6.routes' : 'ipv4.routes';
      const nmRoutes = parseNmRoutes(nm.routes ?? '');
      const found = nmRoutes.filter((r) => nmMatches(r, a));
      persisted = { persisted_with: 'NetworkManager', connection: nm.connection };
      if (a.state === 'present' && found.length === 0) {
        changes.push({
          summary: `add route ${nmRouteText(a)} to NetworkManager profile ${nm.connection}`,
          commands: [{ cmd: sh`nmcli connection modify uuid ${nm.uuid} ${'+' + key} ${nmRouteText(a)}` }],
          diff: {
            before: (nm.routes ?? '') + '\n',
            after: [...nmRoutes.map((r) => r.text), nmRouteText(a)].join(', ') + '\n',
            beforeHeader: `${nm.connection} ${key}`,
            afterHeader: `${nm.connection} ${key}`,
          },
        });
      } else if (a.state === 'absent' && found.length > 0) {
        changes.push({
          summary: `remove route ${found.map((r) => r.text).join(', ')} from NetworkManager profile ${nm.connection}`,
          commands: found.map((r) => ({ cmd: sh`nmcli connection modify uuid ${nm.uuid} ${'-' + key} ${r.text}` })),
        });
      }
    } else {
      persisted = { persisted_with: 'systemd', unit };
      if (a.state === 'present') {
        const want = unitText(a);
        const textOk = cur.unit !== undefined && cur.unit.trim() === want.trim();
        if (!textOk || cur.unitEnabled !== 'enabled') {
          const steps: ShellCommand[] = [];
          if (!textOk)
            steps.push(
              sh`(${atomicWriteCommand(unitPath, { mode: '0644', content: want, reportStat: false })}) && systemctl daemon-reload`,
            );
          steps.push(sh`systemctl enable --quiet ${unit}`);
          changes.push({
            summary: `${textOk ? 'enable' : 'install and enable'} ${unit} (adds the route at boot)`,
            commands: [{ cmd: joinCommands(steps, ' && '), ...(textOk ? {} : { stdin: want }) }],
            ...(textOk ? {} : { diff: { before: cur.unit ?? '', after: want, beforeHeader: unitPath, afterHeader: unitPath } }),
          });
        }
      }
    }
    if (a.state === 'absent' && hasUnit) {
      changes.push({
        summary: `remove ${unit}`,
        commands: [{ cmd: sh`systemctl disable --quiet ${unit}; rm -f ${unitPath} && systemctl daemon-reload` }],
        diff: { before: cur.unit ?? '', after: '', beforeHeader: unitPath, afterHeader: unitPath },
      });
    }
  }

  const result = { dest, state: a.state, routes: cur.routes.map(describe), ...persisted };
  if (changes.length === 0) {
    const how =
      persisted.persisted_with === 'NetworkManager'
        ? ` and in profile ${String(persisted.connection)}`
        : persisted.persisted_with === 'systemd'
          ? ` and in ${String(persisted.unit)}`
          : '';
    return noop(
      a.state === 'present' ? `route ${text} already present${how}` : `no route ${text}${a.persist ? ' (nor kept for boot)' : ''}`,
      result,
    );
  }
  return { changes, result };
}

export default defineModule<RouteArgs, RouteState>({
  name: 'route-ensure',
  // changes how the host is reached: applied under the engine's rollback guard
  network: true,
  description:
    'Ensure an ip route is present or absent, applied live with `ip route replace` / `ip route del` and checked with `ip -j route`. persist: true keeps it across reboots: in the NetworkManager profile of the device when NM manages it (nmcli connection modify +ipv4.routes), else in a systemd oneshot unit tsplay-route-<dest>.service; the result says which (persisted_with).',
  schema: {
    type: 'object',
    properties: {
      dest: {
        type: 'string',
        aliases: ['to', 'name'],
        description: "Destination network in CIDR notation (10.0.0.0/24), a host address, or 'default'.",
      },
      gateway: { type: 'string', aliases: ['via'], description: 'The next hop.' },
      dev: { type: 'string', aliases: ['interface'], description: 'The output device.' },
      proto: { type: 'string', description: 'Routing protocol identifier (static, boot, ...); only compared when given.' },
      metric: { type: 'integer', minimum: 0, description: 'The route metric (priority); only compared when given.' },
      src: { type: 'string', description: 'Preferred source address.' },
      table: { type: 'string', description: 'Routing table (name or number); default main.' },
      scope: { type: 'string', description: 'Route scope: global, link, host.' },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present', description: 'Whether the route should exist.' },
      persist: {
        type: 'boolean',
        default: false,
        description: 'Keep the route across reboots (NetworkManager profile or a systemd unit).',
      },
    },
    required: ['dest'],
    additionalProperties: false,
  },
  examples: `- name: Reach the lab network through the cluster gateway, also after a reboot
  route-ensure:
    dest: 10.50.0.0/16
    via: 10.213.1.254
    metric: 50
    persist: true
  become: true

- name: Default route on eth0
  route-ensure:
    dest: default
    gateway: 192.168.1.1
    dev: eth0

- name: Remove a route
  route-ensure:
    dest: 10.99.0.0/24
    state: absent
    persist: true`,
  async gather(ctx, args) {
    const r = await ctx.run(routeGatherCommand(args));
    return parseRouteGather(r.stdout);
  },
  plan: planRoute,
  async apply(ctx, changes) {
    const r = await runChangesAsOne(ctx, changes);
    if (r.rc !== 0) return changesFailed(changes, r);
    return {};
  },
});
