// systemd: a unit started, stopped, restarted or reloaded, enabled or not, masked or not, as
// ansible.builtin.systemd_service does it. The gather is one `systemctl show` + `is-enabled`; the
// result's `status` is the unit's properties, as Ansible returns them.
import {
  defineModule,
  joinCommands,
  noop,
  planFailure,
  raw,
  runChangesAsOne,
  sh,
  type Change,
  type ExecResult,
  type ModuleContext,
  type Plan,
  type RawShell,
  type ShellCommand,
} from '../engine/index.js';

/** systemd's arguments, complete after validation. */
export interface SystemdArgs {
  name?: string;
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  enabled?: boolean;
  force?: boolean;
  masked?: boolean;
  daemon_reload: boolean;
  daemon_reexec: boolean;
  scope: 'system' | 'user' | 'global';
  no_block: boolean;
}

/** What the gather found about the unit. */
export interface SystemdState {
  /** `systemctl show` of the unit: every property (empty without a name). */
  status: Record<string, string>;
  /** `systemctl is-enabled`: its first line and exit code. */
  enabled: { state: string; rc: number };
}

const M = '__tsplay_systemd__';

function scopeFlag(args: Pick<SystemdArgs, 'scope'>): RawShell {
  return args.scope === 'user' ? raw(' --user') : args.scope === 'global' ? raw(' --global') : raw('');
}

/** The read-only probe of one unit, in one command. */
export function systemdGatherCommand(args: SystemdArgs): ShellCommand {
  if (args.name === undefined) return sh`true`;
  const s = scopeFlag(args);
  // `systemctl --global show` is not a thing: global units are read from the system manager.
  const show = args.scope === 'global' ? raw('') : s;
  return joinCommands(
    [
      sh`echo ${M} show`,
      sh`systemctl${show} show -- ${args.name} 2>&1`,
      sh`echo ${M} enabled`,
      sh`e=$(systemctl${s} is-enabled -- ${args.name} 2>&1); r=$?; echo "$r"; printf '%s\\n' "$e"`,
      sh`true`,
    ],
    '; ',
  );
}

/** Parse the probe's output. */
export function parseSystemdGather(stdout: string): SystemdState {
  const state: SystemdState = { status: {}, enabled: { state: '', rc: 1 } };
  let section = '';
  const enabledLines: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith(M + ' ')) {
      section = line.slice(M.length + 1);
      continue;
    }
    if (section === 'show') {
      const i = line.indexOf('=');
      if (i > 0) state.status[line.slice(0, i)] = line.slice(i + 1);
    } else if (section === 'enabled' && line !== '') enabledLines.push(line);
  }
  state.enabled = { rc: Number(enabledLines[0] ?? 1), state: (enabledLines[1] ?? '').trim() };
  return state;
}

export async function gatherSystemd(ctx: ModuleContext, args: SystemdArgs): Promise<SystemdState> {
  const r: ExecResult = await ctx.run(systemdGatherCommand(args));
  return parseSystemdGather(r.stdout);
}

const RUNNING = new Set(['active', 'activating', 'reloading']);

const RELOAD = 'reload the systemd manager configuration';

/** The plan of systemd: pure. */
export function planSystemd(cur: SystemdState, args: SystemdArgs): Plan {
  const flag = scopeFlag(args);
  const block = args.no_block ? raw(' --no-block') : raw('');
  const changes: Change[] = [];
  const status = cur.status;
  const name = args.name;
  const result: Record<string, unknown> = name !== undefined ? { name, status } : {};
  let alwaysChanges = false;

  if (name === undefined) {
    if (args.state !== undefined || args.enabled !== undefined || args.masked !== undefined) {
      return planFailure('missing parameter(s) required by state, enabled or masked: name');
    }
    if (!args.daemon_reload && !args.daemon_reexec)
      return planFailure('one of the following is required: name, daemon_reload, daemon_reexec');
  }
  const notFound = name !== undefined && (status.LoadState === 'not-found' || status.LoadState === undefined);
  const reloadPending = status.NeedDaemonReload === 'yes';
  // A reload is only a change when the unit is stale or unknown, or with nothing else to do without a unit.
  if (args.daemon_reload && (name === undefined || notFound || reloadPending)) {
    changes.push({ summary: RELOAD, commands: [{ cmd: sh`systemctl${flag} daemon-reload` }] });
    if (name === undefined) alwaysChanges = true;
  }
  if (args.daemon_reexec) {
    changes.push({ summary: 're-execute the systemd manager', commands: [{ cmd: sh`systemctl${flag} daemon-reexec` }] });
    alwaysChanges = true;
  }
  // Ansible's module runs daemon-reload without calling it a change.
  const onlyReload = (all: Change[]) => all.length > 0 && all.every((c) => c.summary === RELOAD);
  if (name === undefined) return { changes, result, alwaysChanges, unreported: onlyReload(changes) };

  const willReload = changes.length > 0 && args.daemon_reload;
  if (notFound && !willReload && (args.state !== undefined || args.enabled !== undefined || args.masked === false)) {
    return planFailure(`Could not find the requested service ${name}: host`, result);
  }
  const maskedNow =
    status.LoadState === 'masked' || cur.enabled.state.startsWith('masked') || status.UnitFileState?.startsWith('masked') === true;
  if (args.masked !== undefined && args.masked !== maskedNow) {
    changes.push({
      summary: `${args.masked ? 'mask' : 'unmask'} ${name}`,
      commands: [{ cmd: sh`systemctl${flag} ${raw(args.masked ? 'mask' : 'unmask')} -- ${name}` }],
    });
  }
  const masked = args.masked ?? maskedNow;
  if (args.enabled !== undefined) {
    if (masked && args.enabled) return planFailure(`Unable to enable service ${name}: it is masked`, result);
    const e = cur.enabled.state;
    // static, generated and transient units are started by others: nothing to enable or disable.
    const fixed = ['static', 'generated', 'transient', 'indirect', 'alias'].includes(e);
    const isEnabled = cur.enabled.rc === 0 && !['indirect', 'alias'].includes(e);
    if (!fixed && args.enabled !== isEnabled) {
      changes.push({
        summary: `${args.enabled ? 'enable' : 'disable'} ${name}`,
        commands: [
          { cmd: sh`systemctl${flag} ${raw(args.enabled ? 'enable' : 'disable')}${args.force ? raw(' --force') : raw('')} -- ${name}` },
        ],
      });
    }
    result.enabled = args.enabled;
  }
  if (args.state !== undefined) {
    if (masked && args.state !== 'stopped')
      return planFailure(
        `Unable to ${args.state === 'started' ? 'start' : args.state.replace(/ed$/, '')} service ${name}: it is masked`,
        result,
      );
    if (args.scope === 'global') return planFailure('state is not supported with scope=global', result);
    const running = RUNNING.has(status.ActiveState ?? '');
    const deactivating = status.ActiveState === 'deactivating';
    let action: string | undefined;
    if (args.state === 'started' && (!running || notFound)) action = 'start';
    else if (args.state === 'stopped' && (running || deactivating)) action = 'stop';
    else if (args.state === 'restarted') action = 'restart';
    else if (args.state === 'reloaded') action = running ? 'reload' : 'start';
    if (action) {
      changes.push({ summary: `${action} ${name}`, commands: [{ cmd: sh`systemctl${flag}${block} ${raw(action)} -- ${name}` }] });
      if (args.state === 'restarted' || args.state === 'reloaded') alwaysChanges = true;
    }
    result.state = args.state;
  }
  if (changes.length === 0) {
    const what = [
      args.state !== undefined ? `is ${args.state === 'started' ? 'running' : 'stopped'}` : '',
      args.enabled !== undefined ? (args.enabled ? 'enabled' : 'not enabled') : '',
      args.masked !== undefined ? (args.masked ? 'masked' : 'not masked') : '',
    ]
      .filter(Boolean)
      .join(', ');
    return noop(`${name} ${what || 'needs nothing'}`, result);
  }
  return { changes, result, alwaysChanges, unreported: onlyReload(changes) };
}

/** apply: every change in one command; a failure reports systemctl's message. */
export async function applySystemd(ctx: ModuleContext, changes: Change[]) {
  const r = await runChangesAsOne(ctx, changes);
  if (r.rc !== 0) {
    return {
      failed: `${changes.map((c) => c.summary).join(', ')}: ${(r.stderr || r.stdout).trim() || `rc=${r.rc}`}`,
      result: { rc: r.rc, stdout: r.stdout, stderr: r.stderr },
    };
  }
  return {};
}

export const systemdProperties = {
  name: { type: 'string', aliases: ['service', 'unit'], description: 'The unit (nginx or nginx.service).' },
  state: {
    type: 'string',
    enum: ['reloaded', 'restarted', 'started', 'stopped'],
    description: 'started/stopped only change when needed; restarted and reloaded always run.',
  },
  enabled: { type: 'boolean', description: 'Start the unit at boot.' },
} as const;

export default defineModule<SystemdArgs, SystemdState>({
  name: 'systemd',
  aliases: ['systemd_service', 'ansible.builtin.systemd', 'ansible.builtin.systemd_service'],
  description:
    "Control a systemd unit: started, stopped, restarted or reloaded, enabled at boot, masked, with a daemon-reload first when asked (and needed). Returns the unit's properties as status.",
  schema: {
    type: 'object',
    properties: {
      ...systemdProperties,
      force: { type: 'boolean', description: 'Override existing symlinks when enabling.' },
      masked: { type: 'boolean', description: 'Mask (true) or unmask (false) the unit.' },
      daemon_reload: {
        type: 'boolean',
        default: false,
        aliases: ['daemon-reload'],
        description: 'Reload the manager configuration first (when a unit file changed, or without a name).',
      },
      daemon_reexec: { type: 'boolean', default: false, aliases: ['daemon-reexec'], description: 'Re-execute the manager first.' },
      scope: {
        type: 'string',
        enum: ['system', 'user', 'global'],
        default: 'system',
        description: "The system manager, the calling user's, or all users' (enable/disable only).",
      },
      no_block: { type: 'boolean', default: false, description: 'Do not wait for the start or stop job to finish.' },
    },
    additionalProperties: false,
  },
  examples: `- name: Start and enable the service after writing its unit
  systemd:
    name: hello.service
    daemon_reload: true
    enabled: true
    state: started

- name: Restart dnsmasq
  ansible.builtin.systemd_service:
    name: dnsmasq
    state: restarted`,
  gather: gatherSystemd,
  plan: planSystemd,
  apply: (ctx, changes) => applySystemd(ctx, changes),
});
