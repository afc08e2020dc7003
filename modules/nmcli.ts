// nmcli: a NetworkManager connection profile with community.general.nmcli's argument names:
// created, modified (only the settings that differ from what `nmcli -t con show` reports, once
// NM's formats are normalised), deleted, and brought up or down. One remote command gathers the
// profile list and the profile's settings; one more applies.
import {
  parseProbeAll,
  probeAllCommand,
  changesFailed,
  defineModule,
  noop,
  planFailure,
  runChangesAsOne,
  Secret,
  sh,
  type Change,
  type Plan,
  type Predicted,
  type ShellCommand,
} from '../engine/index.js';

/** nmcli's arguments, complete after validation. */
export interface NmcliArgs {
  conn_name: string;
  ifname?: string;
  type?: 'ethernet' | 'wifi' | 'bridge' | 'bridge-slave';
  ip4?: string[];
  gw4?: string;
  dns4?: string[];
  dns4_search?: string[];
  method4?: 'auto' | 'link-local' | 'manual' | 'shared' | 'disabled';
  routes4?: string[];
  route_metric4?: number;
  never_default4: boolean;
  autoconnect: boolean;
  master?: string;
  stp?: boolean;
  ssid?: string;
  wifi?: Record<string, unknown>;
  wifi_sec?: Record<string, unknown>;
  state: 'present' | 'absent' | 'up' | 'down';
}

/** A profile as `nmcli -t -f NAME,UUID,TYPE,DEVICE con show` lists it. */
export interface NmProfile {
  name: string;
  uuid: string;
  type: string;
  device: string;
}

/** What the gather found. */
export interface NmcliState {
  /** nmcli could not be run (not installed, NM not running): its message. */
  error?: string;
  /** Every profile on the host. */
  profiles: NmProfile[];
  /** The settings of the profile named conn_name (`key -> value`), when it exists. */
  settings?: Record<string, string>;
  /** How many profiles carry that name. */
  count: number;
}

/** community.general's types as NetworkManager names them in connection.type. */
const NM_TYPE: Record<NonNullable<NmcliArgs['type']>, string> = {
  ethernet: '802-3-ethernet',
  wifi: '802-11-wireless',
  bridge: 'bridge',
  'bridge-slave': '802-3-ethernet',
};

/** Settings whose values are secrets: masked in commands, summaries and diffs. */
const SECRET = /(psk|wep-key\d|password|leap-password)$/;

/** The single gather command: the profile list, then the named profile with its secrets. */
export function nmcliGatherCommand(a: NmcliArgs): ShellCommand {
  return probeAllCommand({
    list: sh`nmcli -t -f NAME,UUID,TYPE,DEVICE connection show`,
    show: sh`nmcli -s -t connection show id ${a.conn_name}`,
  });
}

// Split an nmcli terse line on unescaped ':' and unescape '\:' and '\\'.
function splitTerse(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) cur += line[++i];
    else if (c === ':') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Parse the gather's output. */
export function parseNmcliGather(stdout: string): NmcliState {
  // each probe's output as the shell's $(...) gives it: trailing newlines dropped
  const probes: Record<string, { rc: number; out: string }> = {};
  for (const [key, r] of Object.entries(parseProbeAll(stdout))) probes[key] = { rc: r!.rc, out: r!.out.replace(/\n+$/, '') };
  const list = probes.list;
  if (!list || list.rc !== 0) return { error: list?.out.trim() || 'nmcli did not run', profiles: [], count: 0 };
  const profiles = list.out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [name = '', uuid = '', type = '', device = ''] = splitTerse(l);
      return { name, uuid, type, device };
    });
  const state: NmcliState = { profiles, count: 0 };
  const show = probes.show;
  if (show && show.rc === 0) {
    // several profiles with that name are printed one after the other, each from connection.id
    const settings: Record<string, string> = {};
    for (const line of show.out.split('\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const key = line.slice(0, colon);
      if (key === 'connection.id') state.count++;
      if (state.count > 1) continue;
      settings[key] = line.slice(colon + 1);
    }
    state.settings = settings;
  }
  return state;
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

function settingValue(v: unknown): string {
  if (typeof v === 'boolean') return yesNo(v);
  if (Array.isArray(v)) return v.map(String).join(',');
  return String(v);
}

/** An IPv4 address with its prefix, as NM prints it (a bare address is a /32). */
function withPrefix(addr: string): string {
  return addr.includes('/') ? addr.trim() : `${addr.trim()}/32`;
}

/** The settings the arguments ask for, in NM's names and formats (only what was given, plus the defaults). */
export function wantedSettings(a: NmcliArgs): Record<string, string> {
  const s: Record<string, string> = {};
  if (a.ifname !== undefined) s['connection.interface-name'] = a.ifname;
  s['connection.autoconnect'] = yesNo(a.autoconnect);
  const slave = a.type === 'bridge-slave' || a.master !== undefined;
  if (a.master !== undefined) {
    s['connection.master'] = a.master;
    s['connection.slave-type'] = 'bridge';
  }
  if (!slave) {
    const method = a.method4 ?? (a.ip4 !== undefined && a.ip4.length > 0 ? 'manual' : undefined);
    if (method !== undefined) s['ipv4.method'] = method;
    if (a.ip4 !== undefined) s['ipv4.addresses'] = a.ip4.map(withPrefix).join(', ');
    if (a.gw4 !== undefined) s['ipv4.gateway'] = a.gw4;
    if (a.dns4 !== undefined) s['ipv4.dns'] = a.dns4.map((d) => d.trim()).join(',');
    if (a.dns4_search !== undefined) s['ipv4.dns-search'] = a.dns4_search.map((d) => d.trim()).join(',');
    if (a.routes4 !== undefined) s['ipv4.routes'] = a.routes4.map((r) => r.trim().split(/\s+/).join(' ')).join(', ');
    if (a.route_metric4 !== undefined) s['ipv4.route-metric'] = String(a.route_metric4);
    s['ipv4.never-default'] = yesNo(a.never_default4);
  }
  if (a.stp !== undefined && a.type === 'bridge') s['bridge.stp'] = yesNo(a.stp);
  if (a.ssid !== undefined) s['802-11-wireless.ssid'] = a.ssid;
  for (const [k, v] of Object.entries(a.wifi ?? {})) s[`802-11-wireless.${k}`] = settingValue(v);
  for (const [k, v] of Object.entries(a.wifi_sec ?? {})) s[`802-11-wireless-security.${k}`] = settingValue(v);
  return s;
}

// Values compared as NM means them: lists without spacing differences, addresses with a prefix,
// routes in any order, an unset value the same as an empty one.
function normalize(key: string, value: string): string {
  const v = value.trim();
  if (key === 'ipv4.addresses')
    return v
      .split(/\s*,\s*/)
      .filter(Boolean)
      .map(withPrefix)
      .join(',');
  if (key === 'ipv4.dns' || key === 'ipv4.dns-search')
    return v
      .split(/[\s,]+/)
      .filter(Boolean)
      .join(',');
  if (key === 'ipv4.routes')
    return v
      .split(/\s*,\s*/)
      .filter(Boolean)
      .map((r) => r.split(/\s+/).join(' '))
      .sort()
      .join(',');
  if (key === 'ipv4.route-metric' && v === '') return '-1';
  if (/^(yes|true|on)$/i.test(v)) return 'yes';
  if (/^(no|false|off)$/i.test(v)) return 'no';
  return v.replace(/^--$/, '');
}

// connection.master may be stored as the master's UUID or its name.
function sameMaster(current: string, wanted: string, profiles: NmProfile[]): boolean {
  if (current === wanted) return true;
  const byUuid = profiles.find((p) => p.uuid === current);
  const byName = profiles.find((p) => p.name === wanted);
  return (byUuid !== undefined && byUuid.name === wanted) || (byName !== undefined && byName.uuid === current);
}

function show(key: string, value: string): string {
  return SECRET.test(key) && value !== '' ? '********' : value;
}

// `key value` pairs for nmcli add/modify, secrets kept as Secret so they are never printed.
function settingWords(settings: [string, string][]): (string | Secret)[] {
  return settings.flatMap(([k, v]) => [k, SECRET.test(k) ? new Secret(v) : v]);
}

/** The key under which a check run's plans tell the later ones what a profile will be (Plan.publishes). */
const predictedKey = (name: string) => `nmcli:${name}`;

// In a check run, the profile as the earlier tasks' plans leave it (deleted: null; created or
// modified: its settings), so that replacing a profile by one of another type can be checked.
function withPredicted(cur: NmcliState, name: string, predicted?: Predicted): NmcliState {
  if (cur.error !== undefined || !predicted?.has(predictedKey(name))) return cur;
  const p = predicted.get(predictedKey(name)) as Record<string, string> | null;
  return p === null ? { ...cur, settings: undefined, count: 0 } : { ...cur, settings: p, count: 1 };
}

/** The plan of nmcli: pure, from the gathered profile and the arguments. */
export function planNmcli(gathered: NmcliState, a: NmcliArgs, predicted?: Predicted): Plan {
  const name = a.conn_name;
  const cur = withPredicted(gathered, name, predicted);
  if (cur.error !== undefined) return planFailure(`cannot run nmcli: ${cur.error}`);
  if (cur.count > 1)
    return planFailure(`${cur.count} connection profiles are named ${name}; delete the extra ones (nmcli connection delete uuid ...)`);
  const exists = cur.settings !== undefined;
  const active = exists && ['activated', 'activating'].includes(cur.settings!['GENERAL.STATE'] ?? '');
  const result: Record<string, unknown> = { conn_name: name, state: a.state };
  const changes: Change[] = [];
  const id = sh`id ${name}`;

  if (a.state === 'absent') {
    if (!exists) return noop(`no connection profile named ${name}`, result);
    return {
      changes: [{ summary: `delete connection ${name}`, commands: [{ cmd: sh`nmcli connection delete ${id}` }] }],
      result,
      publishes: { [predictedKey(name)]: null },
    };
  }
  if (a.state === 'down') {
    if (!exists) return planFailure(`no connection profile named ${name}`, result);
    if (!active) return noop(`connection ${name} is not active`, result);
    return {
      changes: [{ summary: `bring connection ${name} down`, commands: [{ cmd: sh`nmcli connection down ${id}` }] }],
      result,
      publishes: { [predictedKey(name)]: { ...cur.settings!, 'GENERAL.STATE': '' } },
    };
  }

  const wanted = wantedSettings(a);
  let modified = false;
  let after: Record<string, string> = { ...cur.settings };
  if (!exists) {
    if (a.type === undefined) return planFailure(`type is required to create connection ${name}`, result);
    if (a.type === 'wifi' && a.ssid === undefined) return planFailure('ssid is required to create a wifi connection', result);
    const settings = Object.entries(wanted).filter(
      ([k]) =>
        k !== 'connection.interface-name' && k !== 'connection.slave-type' && k !== 'connection.master' && k !== '802-11-wireless.ssid',
    );
    const head: unknown[] = ['type', a.type, 'con-name', name];
    if (a.ifname !== undefined) head.push('ifname', a.ifname);
    if (a.master !== undefined) head.push('master', a.master);
    if (a.ssid !== undefined) head.push('ssid', a.ssid);
    changes.push({
      summary: `add ${a.type} connection ${name}${a.ifname ? ` on ${a.ifname}` : ''}`,
      commands: [{ cmd: sh`nmcli connection add ${head} ${settingWords(settings)}` }],
      diff: {
        before: '',
        after: Object.entries(wanted)
          .map(([k, v]) => `${k}: ${show(k, v)}\n`)
          .join(''),
        beforeHeader: `connection ${name}`,
        afterHeader: `connection ${name}`,
      },
    });
    modified = true;
    after = { ...wanted, 'connection.id': name, 'connection.type': NM_TYPE[a.type] };
  } else {
    const settings = cur.settings!;
    if (a.type !== undefined) {
      const type = settings['connection.type'] ?? '';
      if (type !== NM_TYPE[a.type])
        return planFailure(`connection ${name} exists with type ${type}, not ${a.type}; delete it first to change its type`, result);
    }
    const differ: [string, string][] = [];
    for (const [k, v] of Object.entries(wanted)) {
      const now = settings[k];
      if (k === 'connection.master' && now !== undefined && sameMaster(now, v, cur.profiles)) continue;
      if (now === undefined || normalize(k, now) !== normalize(k, v)) differ.push([k, v]);
    }
    if (differ.length) {
      changes.push({
        summary: `modify connection ${name}: ${differ.map(([k]) => k).join(', ')}`,
        commands: [{ cmd: sh`nmcli connection modify ${id} ${settingWords(differ)}` }],
        diff: {
          before: differ.map(([k]) => `${k}: ${show(k, settings[k] ?? '')}\n`).join(''),
          after: differ.map(([k, v]) => `${k}: ${show(k, v)}\n`).join(''),
          beforeHeader: `connection ${name}`,
          afterHeader: `connection ${name}`,
        },
      });
      modified = true;
      result.changed_settings = differ.map(([k]) => k);
      after = { ...after, ...Object.fromEntries(differ) };
    }
  }
  if (a.state === 'up' && (modified || !active)) {
    changes.push({
      summary: `bring connection ${name} up${active ? ' again (settings changed)' : ''}`,
      commands: [{ cmd: sh`nmcli connection up ${id}` }],
    });
  }
  if (changes.length === 0)
    return noop(`connection ${name} already has the wanted settings${a.state === 'up' ? ' and is active' : ''}`, result);
  if (a.state === 'up') after['GENERAL.STATE'] = 'activated';
  return { changes, result, publishes: { [predictedKey(name)]: after } };
}

export default defineModule<NmcliArgs, NmcliState>({
  name: 'nmcli',
  aliases: ['community.general.nmcli'],
  // changes how the host is reached: applied under the engine's rollback guard
  network: true,
  description:
    "Manage a NetworkManager connection profile with community.general.nmcli's arguments: create it, change only the settings that differ from what nmcli reports, delete it, and with state=up bring it up when it changed or is not active (state=down: take it down).",
  schema: {
    type: 'object',
    properties: {
      conn_name: { type: 'string', description: 'The name of the connection profile (connection.id).' },
      ifname: { type: 'string', description: 'The interface the profile is bound to (connection.interface-name).' },
      type: {
        type: 'string',
        enum: ['ethernet', 'wifi', 'bridge', 'bridge-slave'],
        description: 'The connection type; required to create a profile.',
      },
      ip4: {
        type: 'array',
        items: { type: 'string' },
        description: 'IPv4 addresses in CIDR notation (a string or a list): 10.213.1.1/24. Implies method4=manual.',
      },
      gw4: { type: 'string', description: 'The IPv4 gateway.' },
      dns4: { type: 'array', items: { type: 'string' }, description: 'IPv4 DNS servers.' },
      dns4_search: { type: 'array', items: { type: 'string' }, description: 'DNS search domains.' },
      method4: {
        type: 'string',
        enum: ['auto', 'link-local', 'manual', 'shared', 'disabled'],
        description: 'The IPv4 method (ipv4.method); manual when ip4 is given.',
      },
      routes4: {
        type: 'array',
        items: { type: 'string' },
        description: "Static routes: '10.50.0.0/16 10.213.1.254' or with a metric '10.50.0.0/16 10.213.1.254 50'.",
      },
      route_metric4: { type: 'integer', description: 'Metric of the routes of this profile (ipv4.route-metric).' },
      never_default4: { type: 'boolean', default: false, description: 'Never use this connection as the default IPv4 route.' },
      autoconnect: { type: 'boolean', default: true, description: 'Activate the profile automatically (connection.autoconnect).' },
      master: { type: 'string', description: 'The master connection (a bridge) of a bridge-slave or of a Wi-Fi access point bridged.' },
      stp: {
        type: 'boolean',
        description:
          "type=bridge: the Spanning Tree Protocol (bridge.stp). Unset: left as it is (NetworkManager's default is on; Ansible's module sets yes); false starts forwarding on a new port at once instead of after about 30 s.",
      },
      ssid: { type: 'string', description: 'The Wi-Fi network name (802-11-wireless.ssid).' },
      wifi: {
        type: 'object',
        description: '802-11-wireless settings without the prefix: mode (ap, infrastructure), band (a, bg), channel, hidden, ...',
      },
      wifi_sec: {
        type: 'object',
        description: '802-11-wireless-security settings without the prefix: key-mgmt (wpa-psk), psk, proto, pairwise, group, ...',
      },
      state: {
        type: 'string',
        enum: ['present', 'absent', 'up', 'down'],
        default: 'present',
        description: 'present/absent: the profile exists or not; up: present and active (re-activated when it changed); down: not active.',
      },
    },
    required: ['conn_name'],
    additionalProperties: false,
  },
  examples: `- name: Static address for the cluster network on eth0, active now
  nmcli:
    conn_name: cluster
    ifname: eth0
    type: ethernet
    ip4: 10.213.1.1/24
    never_default4: true
    state: up
  become: true

- name: Wi-Fi access point on wlan0, sharing the connection
  community.general.nmcli:
    conn_name: hotspot
    ifname: wlan0
    type: wifi
    ssid: cluster-ap
    wifi:
      mode: ap
      band: bg
      channel: 6
    wifi_sec:
      key-mgmt: wpa-psk
      psk: "{{ hotspot_password }}"
    method4: shared
    state: up

- name: Bridge eth0 into br0
  nmcli:
    conn_name: br0-port
    type: bridge-slave
    ifname: eth0
    master: br0

- name: Remove the profile
  nmcli:
    conn_name: old-wifi
    state: absent`,
  async gather(ctx, args) {
    const r = await ctx.run(nmcliGatherCommand(args));
    return parseNmcliGather(r.stdout);
  },
  plan: planNmcli,
  async apply(ctx, changes) {
    const r = await runChangesAsOne(ctx, changes);
    if (r.rc !== 0) return changesFailed(changes, r);
    return {};
  },
});
