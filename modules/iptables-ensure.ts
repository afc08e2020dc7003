// iptables-ensure: one iptables rule present or absent, a chain's policy, or a flush, with the
// arguments of ansible.builtin.iptables. Presence is asked of iptables itself (`-C`), never
// found by comparing text. `persist: true` saves the rule set the way our users' guides do:
// netfilter-persistent when installed, else iptables-save to /etc/iptables/rules.v4 (rules.v6)
// plus a oneshot unit that restores it at boot. One remote command gathers everything.
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
  type Predicted,
  type ShellCommand,
} from '../engine/index.js';

/** iptables-ensure's arguments, complete after validation. */
export interface IptablesArgs {
  table: 'filter' | 'nat' | 'mangle' | 'raw' | 'security';
  state: 'present' | 'absent';
  action: 'append' | 'insert';
  rule_num?: string;
  ip_version: 'ipv4' | 'ipv6';
  chain?: string;
  protocol?: string;
  source?: string;
  destination?: string;
  match: string[];
  jump?: string;
  goto?: string;
  log_prefix?: string;
  log_level?: string;
  to_destination?: string;
  destination_ports: string[];
  to_source?: string;
  in_interface?: string;
  out_interface?: string;
  source_port?: string;
  destination_port?: string;
  to_ports?: string;
  ctstate: string[];
  src_range?: string;
  dst_range?: string;
  limit?: string;
  limit_burst?: string;
  reject_with?: string;
  icmp_type?: string;
  comment?: string;
  policy?: 'ACCEPT' | 'DROP' | 'QUEUE' | 'RETURN';
  flush: boolean;
  chain_management: boolean;
  wait?: string;
  numeric: boolean;
  persist: boolean;
}

/** The outcome of one probe in the gather: its exit code and output. */
export interface ProbeResult {
  rc: number;
  out: string;
}

/** What the gather found. Probes that were not needed are absent. */
export interface IptablesState {
  /** `iptables -C` for the rule: rc 0 present, 1 absent, other: an error. */
  check?: ProbeResult;
  /** `iptables -S CHAIN` (or the whole table for a flush without chain): rc != 0 when the chain is missing. */
  chain?: ProbeResult;
  /** persist: `command -v netfilter-persistent`. */
  netfilterPersistent?: ProbeResult;
  /** persist: the saved rules file. */
  saved?: ProbeResult;
  /** persist: what iptables-save prints now. */
  live?: ProbeResult;
  /** persist without netfilter-persistent: the restore unit's file. */
  unit?: ProbeResult;
  /** persist without netfilter-persistent: `systemctl is-enabled` of the restore unit. */
  enabled?: ProbeResult;
}

/** The unit that restores the saved rules at boot when netfilter-persistent is not installed. */
export const RESTORE_UNIT = 'tsplay-iptables-restore.service';
export const RESTORE_UNIT_PATH = `/etc/systemd/system/${RESTORE_UNIT}`;

/** The restore unit, ordered as netfilter-persistent's own: before the network comes up. */
export const RESTORE_UNIT_TEXT = `# Written by tsplay (iptables-ensure persist: true): restores the saved firewall at boot.
[Unit]
Description=Restore the iptables rules saved in /etc/iptables
DefaultDependencies=no
Wants=network-pre.target local-fs.target
Before=network-pre.target shutdown.target
After=local-fs.target
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'if [ -s /etc/iptables/rules.v4 ]; then iptables-restore /etc/iptables/rules.v4 || exit 1; fi; if [ -s /etc/iptables/rules.v6 ]; then ip6tables-restore /etc/iptables/rules.v6 || exit 1; fi'

[Install]
WantedBy=multi-user.target
`;

function rulesFile(v: IptablesArgs['ip_version']): string {
  return v === 'ipv6' ? '/etc/iptables/rules.v6' : '/etc/iptables/rules.v4';
}

function binary(v: IptablesArgs['ip_version']): string {
  return v === 'ipv6' ? 'ip6tables' : 'iptables';
}

// Ansible's append_param: a value starting with '!' negates the option.
function param(words: string[], value: string | undefined, flag: string): void {
  if (value === undefined || value === '') return;
  if (value.startsWith('!')) words.push('!', flag, value.slice(1).trim());
  else words.push(flag, value);
}

/** The rule's words, in the order ansible.builtin.iptables builds them. */
export function ruleWords(a: IptablesArgs): string[] {
  const w: string[] = [];
  param(w, a.protocol, '-p');
  param(w, a.source, '-s');
  param(w, a.destination, '-d');
  for (const m of a.match) w.push('-m', m);
  param(w, a.jump, '-j');
  param(w, a.log_prefix, '--log-prefix');
  param(w, a.log_level, '--log-level');
  param(w, a.to_destination, '--to-destination');
  if (a.destination_ports.length) {
    if (!a.match.includes('multiport')) w.push('-m', 'multiport');
    w.push('--dports', a.destination_ports.join(','));
  }
  param(w, a.to_source, '--to-source');
  param(w, a.goto, '-g');
  param(w, a.in_interface, '-i');
  param(w, a.out_interface, '-o');
  param(w, a.source_port, '--source-port');
  param(w, a.destination_port, '--destination-port');
  param(w, a.to_ports, '--to-ports');
  if (a.ctstate.length) {
    if (a.match.includes('state')) w.push('--state', a.ctstate.join(','));
    else {
      if (!a.match.includes('conntrack')) w.push('-m', 'conntrack');
      w.push('--ctstate', a.ctstate.join(','));
    }
  }
  if (a.src_range !== undefined || a.dst_range !== undefined) {
    if (!a.match.includes('iprange')) w.push('-m', 'iprange');
    param(w, a.src_range, '--src-range');
    param(w, a.dst_range, '--dst-range');
  }
  param(w, a.limit, '--limit');
  param(w, a.limit_burst, '--limit-burst');
  param(w, a.reject_with, '--reject-with');
  param(w, a.icmp_type, a.ip_version === 'ipv6' ? '--icmpv6-type' : '--icmp-type');
  if (a.comment !== undefined) {
    if (!a.match.includes('comment')) w.push('-m', 'comment');
    w.push('--comment', a.comment);
  }
  return w;
}

// `iptables [-w] -t TABLE`: the start of every command.
function base(a: IptablesArgs): ShellCommand {
  return sh`${binary(a.ip_version)}${a.wait !== undefined ? sh` -w ${a.wait}` : raw('')} -t ${a.table}`;
}

/** What the arguments ask for: a flush, a policy, or a rule. */
export function mode(a: IptablesArgs): 'flush' | 'policy' | 'rule' {
  return a.flush ? 'flush' : a.policy !== undefined ? 'policy' : 'rule';
}

/** The probes the gather needs, named as the state's fields (see probeAll). */
export function iptablesProbes(a: IptablesArgs): Partial<Record<keyof IptablesState, ShellCommand>> {
  const probes: Partial<Record<keyof IptablesState, ShellCommand>> = {};
  const m = mode(a);
  if (m === 'flush') probes.chain = a.chain ? sh`${base(a)} -S ${a.chain}` : sh`${base(a)} -S`;
  else if (a.chain !== undefined) {
    probes.chain = sh`${base(a)} -S ${a.chain}`;
    if (m === 'rule') probes.check = sh`${base(a)} -C ${a.chain} ${ruleWords(a)}`;
  }
  if (a.persist) {
    const save = `${binary(a.ip_version)}-save`;
    probes.netfilterPersistent = sh`command -v netfilter-persistent`;
    probes.saved = sh`cat ${rulesFile(a.ip_version)}`;
    probes.live = sh`${save}`;
    probes.unit = sh`cat ${RESTORE_UNIT_PATH}`;
    probes.enabled = sh`systemctl is-enabled ${RESTORE_UNIT}`;
  }
  return probes;
}

/** The single gather command: every needed probe, in one round trip. */
export function iptablesGatherCommand(a: IptablesArgs): ShellCommand {
  return probeAllCommand(iptablesProbes(a));
}

const FIELDS: (keyof IptablesState)[] = ['check', 'chain', 'netfilterPersistent', 'saved', 'live', 'unit', 'enabled'];

/** Parse the gather's output: each probe's exit code and output, trailing newlines dropped. */
export function parseIptablesGather(stdout: string): IptablesState {
  const probed = parseProbeAll<keyof IptablesState>(stdout);
  const state: IptablesState = {};
  for (const field of FIELDS) {
    const r = probed[field];
    if (r) state[field] = { rc: r.rc, out: r.out.replace(/\n+$/, '') };
  }
  return state;
}

/** iptables-save output without comments and counters: what must match for the saved set to be current. */
export function normalizeSave(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]').replace(/^(-[AI] .*?) -c \d+ \d+/, '$1'))
    .join('\n');
}

/** One table's part (`*nat` .. `COMMIT`) of iptables-save output, normalized; '' when it has none. */
export function tableOf(text: string, table: string): string {
  const lines = normalizeSave(text).split('\n');
  const start = lines.indexOf(`*${table}`);
  if (start < 0) return '';
  const end = lines.indexOf('COMMIT', start);
  return lines.slice(start, end < 0 ? undefined : end + 1).join('\n');
}

// The changes that make the rule set survive a reboot, given whether the rules change now.
// Whether the saved set is current is judged on this task's table only: a drift elsewhere (a rule
// of another table missing live) is fixed by the task that owns it, whose save makes the file
// current for the tasks after it; judged on the whole file, check mode predicted a save in every
// task of the play, where the real run made one.
// In a check run, an earlier task that saves the rule set (or installs the restore unit) makes it
// current for the tasks after it, as the real run's first save does (Plan.publishes).
const savedKey = (file: string) => `iptables-ensure:saved:${file}`;
const UNIT_KEY = 'iptables-ensure:restore-unit';

function persistChanges(
  cur: IptablesState,
  a: IptablesArgs,
  rulesChange: boolean,
  predicted: Predicted,
): { changes: Change[]; publishes: Record<string, unknown> } {
  const file = rulesFile(a.ip_version);
  const changes: Change[] = [];
  const publishes: Record<string, unknown> = {};
  const nfp = cur.netfilterPersistent?.rc === 0;
  const table = a.table ?? 'filter';
  const savedCurrent =
    predicted.get(savedKey(file)) === true ||
    (cur.saved?.rc === 0 && tableOf(cur.saved.out, table) === tableOf(cur.live?.out ?? '', table));
  if (rulesChange || !savedCurrent) {
    publishes[savedKey(file)] = true;
    const save = `${binary(a.ip_version)}-save`;
    changes.push({
      summary: nfp ? 'save the rule set (netfilter-persistent save)' : `save the rule set to ${file}`,
      commands: [
        {
          cmd: nfp
            ? sh`netfilter-persistent save`
            : sh`mkdir -p /etc/iptables && t=$(mktemp /etc/iptables/.rules.XXXXXX) && { ${save} > "$t" && chmod 0644 "$t" && mv -f "$t" ${file}; } || { rm -f "$t"; exit 1; }`,
        },
      ],
      // without iptables-save's timestamps and counters, which differ on every call
      ...(rulesChange
        ? {}
        : {
            diff: {
              before: cur.saved?.rc === 0 ? normalizeSave(cur.saved.out) + '\n' : '',
              after: normalizeSave(cur.live?.out ?? '') + '\n',
              beforeHeader: file,
              afterHeader: `${file} (${save})`,
            },
          }),
    });
  }
  if (!nfp) {
    const predictedUnit = predicted.get(UNIT_KEY) === true;
    const unitOk = predictedUnit || (cur.unit?.rc === 0 && cur.unit.out.trim() === RESTORE_UNIT_TEXT.trim());
    const enabled = predictedUnit || (cur.enabled?.rc === 0 && cur.enabled.out.trim() === 'enabled');
    if (!unitOk || !enabled) {
      publishes[UNIT_KEY] = true;
      const steps: ShellCommand[] = [];
      if (!unitOk)
        steps.push(
          sh`(${atomicWriteCommand(RESTORE_UNIT_PATH, { mode: '0644', content: RESTORE_UNIT_TEXT, reportStat: false })}) && systemctl daemon-reload`,
        );
      steps.push(sh`systemctl enable --quiet ${RESTORE_UNIT}`);
      changes.push({
        summary: `${unitOk ? 'enable' : 'install and enable'} ${RESTORE_UNIT} (restores ${file} at boot)`,
        commands: [{ cmd: joinCommands(steps, ' && '), ...(unitOk ? {} : { stdin: RESTORE_UNIT_TEXT }) }],
        ...(unitOk
          ? {}
          : {
              diff: {
                before: cur.unit?.rc === 0 ? cur.unit.out : '',
                after: RESTORE_UNIT_TEXT,
                beforeHeader: RESTORE_UNIT_PATH,
                afterHeader: RESTORE_UNIT_PATH,
              },
            }),
      });
    }
  }
  return { changes, publishes };
}

/** The plan of iptables-ensure: pure, from the probes and the arguments. */
export function planIptables(cur: IptablesState, a: IptablesArgs, predicted: Predicted = new Map()): Plan {
  const words = ruleWords(a);
  const result = {
    chain: a.chain ?? null,
    flush: a.flush,
    ip_version: a.ip_version,
    rule: words.join(' '),
    state: a.state,
    table: a.table,
  };
  const where = `${a.table}/${a.chain ?? '*'}`;
  const m = mode(a);
  const changes: Change[] = [];

  if (m === 'flush') {
    if (cur.chain && cur.chain.rc !== 0) return planFailure(`cannot list ${where}: ${cur.chain.out.trim()}`, result);
    const rules = (cur.chain?.out ?? '').split('\n').filter((l) => l.startsWith('-A '));
    if (rules.length) {
      changes.push({
        summary: `flush ${rules.length} rule(s) from ${where}`,
        commands: [{ cmd: a.chain ? sh`${base(a)} -F ${a.chain}` : sh`${base(a)} -F` }],
        diff: { before: rules.join('\n') + '\n', after: '', beforeHeader: where, afterHeader: where },
      });
    }
  } else {
    if (a.chain === undefined) return planFailure(`chain is required${m === 'policy' ? ' with policy' : ' unless flush is set'}`, result);
    const chainExists = cur.chain?.rc === 0;
    if (m === 'policy') {
      if (!chainExists) return planFailure(`chain ${a.chain} does not exist in table ${a.table}: ${cur.chain?.out.trim() ?? ''}`, result);
      const first = cur.chain!.out.split('\n')[0] ?? '';
      const current = /^-P \S+ (\S+)/.exec(first)?.[1];
      if (current === undefined) return planFailure(`${where} is a user-defined chain: it has no policy`, result);
      if (current !== a.policy) {
        changes.push({
          summary: `set policy of ${where}: ${current} -> ${a.policy}`,
          commands: [{ cmd: sh`${base(a)} -P ${a.chain} ${a.policy!}` }],
          diff: {
            before: `${first}\n`,
            after: `-P ${a.chain} ${a.policy}\n`,
            beforeHeader: `${where} policy`,
            afterHeader: `${where} policy`,
          },
        });
      }
    } else {
      if (!chainExists && a.state === 'present' && !a.chain_management) {
        return planFailure(`chain ${a.chain} does not exist in table ${a.table} (set chain_management: true to create it)`, result);
      }
      const check = cur.check;
      if (chainExists && (!check || check.rc > 1))
        return planFailure(`${binary(a.ip_version)} -C failed: ${check?.out.trim() || `rc=${check?.rc}`}`, result);
      const present = chainExists && check!.rc === 0;
      const rule = `${words.join(' ')}`;
      if (a.state === 'present' && !present) {
        const steps: ShellCommand[] = [];
        if (!chainExists) steps.push(sh`${base(a)} -N ${a.chain}`);
        steps.push(
          a.action === 'insert'
            ? sh`${base(a)} -I ${a.chain}${a.rule_num !== undefined ? sh` ${a.rule_num}` : raw('')} ${words}`
            : sh`${base(a)} -A ${a.chain} ${words}`,
        );
        changes.push({
          summary: `${a.action === 'insert' ? 'insert' : 'append'} rule to ${where}${chainExists ? '' : ' (new chain)'}: ${rule}`,
          commands: [{ cmd: joinCommands(steps, ' && ') }],
          diff: { before: '', after: `-A ${a.chain} ${rule}\n`, beforeHeader: where, afterHeader: where },
        });
      } else if (a.state === 'absent' && present) {
        changes.push({
          summary: `delete rule from ${where}: ${rule}`,
          commands: [{ cmd: sh`${base(a)} -D ${a.chain} ${words}` }],
          diff: { before: `-A ${a.chain} ${rule}\n`, after: '', beforeHeader: where, afterHeader: where },
        });
      }
    }
  }

  let publishes: Record<string, unknown> = {};
  if (a.persist) {
    const p = persistChanges(cur, a, changes.length > 0, predicted);
    changes.push(...p.changes);
    publishes = p.publishes;
  }
  const persisted = a.persist ? ` (saved to ${cur.netfilterPersistent?.rc === 0 ? 'netfilter-persistent' : rulesFile(a.ip_version)})` : '';
  const persistResult = a.persist ? { persisted_with: cur.netfilterPersistent?.rc === 0 ? 'netfilter-persistent' : RESTORE_UNIT } : {};
  if (changes.length === 0) {
    const why =
      m === 'flush'
        ? `${where} has no rules`
        : m === 'policy'
          ? `policy of ${where} is already ${a.policy}`
          : a.state === 'present'
            ? `rule already in ${where}`
            : `rule not in ${where}`;
    return noop(why + persisted, { ...result, ...persistResult });
  }
  return { changes, result: { ...result, ...persistResult }, publishes };
}

const list = (description: string) => ({ type: 'array', items: { type: 'string' }, default: [], description });

export default defineModule<IptablesArgs, IptablesState>({
  name: 'iptables-ensure',
  aliases: ['iptables', 'ansible.builtin.iptables'],
  // changes how the host is reached: applied under the engine's rollback guard
  network: true,
  description:
    "Ensure one iptables (ip6tables) rule is present or absent, set a built-in chain's policy, or flush a chain, with the arguments of ansible.builtin.iptables. Presence is checked with iptables -C. persist: true saves the rule set so it survives a reboot (netfilter-persistent when installed, else iptables-save to /etc/iptables/rules.v4 and a oneshot unit that restores it at boot).",
  schema: {
    type: 'object',
    properties: {
      table: {
        type: 'string',
        enum: ['filter', 'nat', 'mangle', 'raw', 'security'],
        default: 'filter',
        description: 'The packet matching table the rule belongs to.',
      },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present', description: 'Whether the rule should be there.' },
      action: {
        type: 'string',
        enum: ['append', 'insert'],
        default: 'append',
        description: 'Append the rule (-A) or insert it (-I) when it is missing; an existing rule is never moved.',
      },
      rule_num: { type: 'string', description: 'With action=insert: the position to insert at (1 is the top).' },
      ip_version: { type: 'string', enum: ['ipv4', 'ipv6'], default: 'ipv4', description: 'iptables (ipv4) or ip6tables (ipv6).' },
      chain: { type: 'string', description: 'The chain: INPUT, FORWARD, OUTPUT, PREROUTING, POSTROUTING or a user-defined one.' },
      protocol: { type: 'string', description: "The rule's protocol (tcp, udp, icmp, all); '!' in front negates." },
      source: { type: 'string', aliases: ['src'], description: 'Source address[/mask]; "!" in front negates.' },
      destination: { type: 'string', aliases: ['dst'], description: 'Destination address[/mask]; "!" in front negates.' },
      match: list('Match extensions to load (-m), in order: conntrack, multiport, comment, ...'),
      jump: { type: 'string', description: 'The target: ACCEPT, DROP, MASQUERADE, SNAT, DNAT, REDIRECT, LOG, a user chain.' },
      goto: { type: 'string', description: 'Continue processing in this user chain (-g).' },
      log_prefix: { type: 'string', description: 'With jump=LOG: the prefix of log messages.' },
      log_level: { type: 'string', description: 'With jump=LOG: the syslog level.' },
      to_destination: { type: 'string', description: 'With jump=DNAT: the new destination address[:port].' },
      destination_ports: list('Destination ports or ranges, matched with -m multiport --dports.'),
      to_source: { type: 'string', description: 'With jump=SNAT: the new source address[:port].' },
      in_interface: { type: 'string', description: 'Interface the packet came in on (-i); "!" negates, "+" is a wildcard.' },
      out_interface: { type: 'string', description: 'Interface the packet goes out on (-o).' },
      source_port: { type: 'string', description: 'Source port or range (with protocol tcp/udp).' },
      destination_port: { type: 'string', description: 'Destination port or range (with protocol tcp/udp).' },
      to_ports: { type: 'string', description: 'With jump=REDIRECT or MASQUERADE: the port(s) to use.' },
      ctstate: list('Connection states matched with -m conntrack --ctstate: NEW, ESTABLISHED, RELATED, INVALID, ...'),
      src_range: { type: 'string', description: 'Source IP range (-m iprange --src-range).' },
      dst_range: { type: 'string', description: 'Destination IP range (-m iprange --dst-range).' },
      limit: { type: 'string', description: 'Maximum average rate (-m limit is not added; give match: [limit]): 3/hour.' },
      limit_burst: { type: 'string', description: 'Maximum initial burst with limit.' },
      reject_with: { type: 'string', description: 'With jump=REJECT: the error packet (icmp-port-unreachable, tcp-reset, ...).' },
      icmp_type: { type: 'string', description: 'ICMP type with protocol icmp (icmpv6 for ipv6).' },
      comment: { type: 'string', description: 'A comment on the rule (-m comment --comment).' },
      policy: {
        type: 'string',
        enum: ['ACCEPT', 'DROP', 'QUEUE', 'RETURN'],
        description: "Set the chain's policy; the rule arguments are then ignored.",
      },
      flush: {
        type: 'boolean',
        default: false,
        description: 'Flush the chain (or, without chain, the whole table); changed only when it held rules.',
      },
      chain_management: { type: 'boolean', default: false, description: 'Create the chain (-N) when it does not exist and state=present.' },
      wait: { type: 'string', description: 'Seconds to wait for the xtables lock (-w).' },
      numeric: { type: 'boolean', default: false, description: 'Accepted for compatibility (only affects listing in Ansible).' },
      persist: { type: 'boolean', default: false, description: 'Save the rule set so it survives a reboot (tsplay extension).' },
    },
    additionalProperties: false,
  },
  examples: `- name: NAT the cluster network out of the upstream interface, surviving reboots
  iptables:
    table: nat
    chain: POSTROUTING
    out_interface: wlan0
    jump: MASQUERADE
    persist: true
  become: true

- name: Forward replies back into the cluster
  iptables-ensure:
    chain: FORWARD
    in_interface: wlan0
    out_interface: eth0
    ctstate: [RELATED, ESTABLISHED]
    jump: ACCEPT
    persist: true

- name: Allow SSH, inserted at the top of INPUT
  ansible.builtin.iptables:
    chain: INPUT
    protocol: tcp
    destination_port: '22'
    jump: ACCEPT
    action: insert
    rule_num: '1'
    comment: ssh

- name: Drop forwarded traffic by default
  iptables:
    chain: FORWARD
    policy: DROP

- name: Remove a rule
  iptables:
    chain: INPUT
    source: 10.0.0.66
    jump: DROP
    state: absent`,
  async gather(ctx, args) {
    const r = await ctx.run(iptablesGatherCommand(args));
    return parseIptablesGather(r.stdout);
  },
  plan: planIptables,
  async apply(ctx, changes) {
    const r = await runChangesAsOne(ctx, changes);
    if (r.rc !== 0) return changesFailed(changes, r);
    return {};
  },
});
