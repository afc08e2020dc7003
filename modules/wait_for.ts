// wait_for: wait, on the host, until a port opens or closes (or drains), or a file appears (with
// a pattern in it) or goes away, as ansible.builtin.wait_for does. Waiting reads and changes
// nothing, so it is the gather: one shell loop on the host; the plan only reads its verdict.
import {
  parseProbeAll,
  probeAllCommand,
  defineModule,
  joinCommands,
  noop,
  PatternError,
  planFailure,
  pythonRegex,
  raw,
  sh,
  type Plan,
  type ShellCommand,
} from '../engine/index.js';

/** wait_for's arguments, complete after validation. */
export interface WaitForArgs {
  host: string;
  port?: number;
  path?: string;
  state: 'started' | 'stopped' | 'present' | 'absent' | 'drained';
  search_regex?: string;
  timeout: number;
  delay: number;
  sleep: number;
  connect_timeout: number;
  exclude_hosts?: string[];
  active_connection_states: string[];
  msg?: string;
}

/** What the loop on the host reported. */
export interface WaitForState {
  /** The condition was met (false: timed out). */
  ok: boolean;
  /** Seconds from the start (including the delay). */
  elapsed: number;
  /** For a path with search_regex: the file's content when it matched (base64). */
  content?: string;
  /** The loop could not run (no bash or nc for a port): why. */
  error?: string;
}

const M = '__tsplay_wait_for__';

// The loop: `check` says whether the condition holds now; the loop ends when it does or at the timeout.
const LOOP = String.raw`start=$(date +%s); end=$((start + timeout))
[ "$delay" -gt 0 ] && sleep "$delay"
port_open() {
  if command -v bash >/dev/null 2>&1; then timeout "$ct" bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" 2>/dev/null
  elif command -v nc >/dev/null 2>&1; then nc -z -w "$ct" "$host" "$port" 2>/dev/null
  else echo "$M error neither bash nor nc is on the host to test a port"; exit 0; fi
}
port_says() {
  timeout "$ct" bash -c 'exec 3<>"/dev/tcp/$1/$2" && cat <&3' _ "$host" "$port" 2>/dev/null | grep -Pqz -- "$re"
}
drained() {
  [ "$(ss -Htn "( sport = :$port or dport = :$port )" 2>/dev/null | grep -Eic "^($states)[[:space:]]")" -eq 0 ]
}
while :; do
  if check; then echo "$M ok $(( $(date +%s) - start ))"; exit 0; fi
  [ "$(date +%s)" -ge "$end" ] && { echo "$M timeout $(( $(date +%s) - start ))"; exit 0; }
  sleep "$pause"
done`;

/** The condition to wait for, as a shell function body. */
function checkFunction(args: WaitForArgs): ShellCommand {
  const state = args.state;
  if (args.path !== undefined) {
    if (state === 'absent' || state === 'stopped') return sh`check() { [ ! -e "$path" ]; }`;
    if (args.search_regex !== undefined) return sh`check() { [ -r "$path" ] && grep -Pqz -- "$re" "$path" 2>/dev/null; }`;
    return sh`check() { [ -e "$path" ]; }`;
  }
  if (args.port !== undefined) {
    if (state === 'stopped' || state === 'absent') return sh`check() { ! port_open; }`;
    if (state === 'drained') return sh`check() { drained; }`;
    if (args.search_regex !== undefined) return sh`check() { port_says; }`;
    return sh`check() { port_open; }`;
  }
  return sh`check() { true; }`;
}

/** Ansible's (Linux /proc) TCP state names as ss prints them: ESTABLISHED -> ESTAB, FIN_WAIT1 -> FIN-WAIT-1. */
function ssState(state: string): string {
  const s = state.toUpperCase();
  if (s === 'ESTABLISHED') return 'ESTAB';
  return s.replace(/_/g, '-').replace(/WAIT(\d)$/, 'WAIT-$1');
}

/**
 * The one command that waits on the host: the loop, then (for a path with search_regex) the
 * file's content for the match groups (see probeAll).
 */
export function waitForCommand(args: WaitForArgs): ShellCommand {
  const vars = sh`M=${M} host=${args.host} port=${String(args.port ?? 0)} path=${args.path ?? ''} re=${args.search_regex !== undefined ? `(?m)${args.search_regex}` : ''} timeout=${String(args.timeout)} delay=${String(args.delay)} pause=${String(args.sleep)} ct=${String(args.connect_timeout)} states=${args.active_connection_states.map(ssState).join('|')} show=${args.path !== undefined && args.search_regex !== undefined && args.state !== 'absent' ? '1' : ''}`;
  return probeAllCommand(
    {
      wait: { cmd: joinCommands([checkFunction(args), sh`${raw(LOOP)}`], '\n'), stderr: 'pass' },
      content: sh`[ -n "$show" ] && [ -f "$path" ] && cat < "$path"`,
    },
    { setup: vars },
  );
}

/** Parse what the loop printed (and the file's content, read once the condition held). */
export function parseWaitFor(stdout: string): WaitForState {
  const probed = parseProbeAll<'wait' | 'content'>(stdout);
  const state: WaitForState = { ok: false, elapsed: 0 };
  for (const line of (probed.wait?.out ?? '').split('\n')) {
    if (!line.startsWith(M + ' ')) continue;
    const [key, ...rest] = line.slice(M.length + 1).split(' ');
    if (key === 'ok' || key === 'timeout') {
      state.ok = key === 'ok';
      state.elapsed = Number(rest[0]) || 0;
    } else if (key === 'error') state.error = rest.join(' ');
  }
  if (state.ok && probed.content?.rc === 0) state.content = probed.content.bytes.toString('base64');
  return state;
}

/** The plan of wait_for: the verdict of the loop, as Ansible words it. */
export function planWaitFor(cur: WaitForState, args: WaitForArgs): Plan {
  const base: Record<string, unknown> = {
    elapsed: cur.elapsed,
    state: args.state,
    ...(args.port !== undefined ? { port: args.port } : {}),
    ...(args.path !== undefined ? { path: args.path } : {}),
    ...(args.search_regex !== undefined ? { search_regex: args.search_regex } : {}),
  };
  if (cur.error) return planFailure(cur.error, base);
  if (!cur.ok) {
    const what =
      args.path !== undefined
        ? args.state === 'absent' || args.state === 'stopped'
          ? `Timeout when waiting for ${args.path} to be absent.`
          : args.search_regex !== undefined
            ? `Timeout when waiting for search string ${args.search_regex} in ${args.path}`
            : `Timeout when waiting for file ${args.path}`
        : args.port !== undefined
          ? args.state === 'stopped' || args.state === 'absent'
            ? `Timeout when waiting for ${args.host}:${args.port} to stop.`
            : args.state === 'drained'
              ? `Timeout when waiting for ${args.host}:${args.port} to drain`
              : args.search_regex !== undefined
                ? `Timeout when waiting for search string ${args.search_regex} in ${args.host}:${args.port}`
                : `Timeout when waiting for ${args.host}:${args.port}`
          : 'Timeout';
    return planFailure(args.msg ?? what, base);
  }
  const result: Record<string, unknown> = { ...base, match_groups: [], match_groupdict: {} };
  if (cur.content !== undefined && args.search_regex !== undefined) {
    try {
      const m = pythonRegex(args.search_regex, { multiline: true, ascii: true }).exec(Buffer.from(cur.content, 'base64').toString('utf8'));
      if (m) {
        result.match_groups = m.slice(1).map((g) => g ?? null);
        result.match_groupdict = { ...(m.groups ?? {}) };
      }
    } catch (e) {
      if (!(e instanceof PatternError)) throw e;
    }
  }
  return noop(`condition met after ${cur.elapsed}s`, result);
}

export default defineModule<WaitForArgs, WaitForState>({
  name: 'wait_for',
  aliases: ['ansible.builtin.wait_for'],
  description:
    'Wait on the host until a TCP port is open (started), closed (stopped) or without active connections (drained), or a file exists (present, optionally with search_regex in it) or is gone (absent); or just for `timeout` seconds. Never changes anything; runs in check mode too.',
  schema: {
    type: 'object',
    properties: {
      host: { type: 'string', default: '127.0.0.1', description: 'The host to connect to, from the managed host.' },
      port: { type: 'integer', description: 'The TCP port to wait for.' },
      path: { type: 'string', description: 'The file to wait for.' },
      state: {
        type: 'string',
        enum: ['absent', 'drained', 'present', 'started', 'stopped'],
        default: 'started',
        description: 'What to wait for.',
      },
      search_regex: { type: 'string', description: "A Python (PCRE) expression the file or the port's greeting must contain." },
      timeout: { type: 'integer', default: 300, description: 'Seconds to wait at most (the delay included).' },
      delay: { type: 'integer', default: 0, description: 'Seconds to wait before the first check.' },
      sleep: { type: 'integer', default: 1, description: 'Seconds between checks.' },
      connect_timeout: { type: 'integer', default: 5, description: 'Seconds to wait for a connection to open.' },
      exclude_hosts: { type: 'array', items: { type: 'string' }, description: 'Accepted for compatibility (drained counts every peer).' },
      active_connection_states: {
        type: 'array',
        items: { type: 'string' },
        default: ['ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'SYN_RECV', 'SYN_SENT', 'TIME_WAIT'],
        description: 'The TCP states that count as active for drained.',
      },
      msg: { type: 'string', description: 'The failure message instead of the default one.' },
    },
    mutuallyExclusive: [['port', 'path']],
    additionalProperties: false,
  },
  examples: `- name: Wait for sshd on the node to answer
  wait_for:
    host: 10.213.1.11
    port: 22
    timeout: 120

- name: Wait until the lease file names the node
  wait_for:
    path: /var/lib/misc/dnsmasq.leases
    search_regex: 'node1'`,
  gather: async (ctx, args) => {
    const r = await ctx.run(waitForCommand(args));
    const state = parseWaitFor(r.stdout);
    const wait = parseProbeAll<'wait'>(r.stdout).wait;
    const rc = wait?.rc ?? (r.rc || 1);
    if (!state.ok && !state.error && rc !== 0)
      state.error = `wait_for could not run on the host: ${(r.stderr || wait?.out || '').trim() || `rc=${rc}`}`;
    return state;
  },
  plan: planWaitFor,
});
