// timezone: the system time zone and whether the hardware clock keeps UTC or local time
// (community.general.timezone). When systemd runs (timedatectl answers), timedatectl reads and
// sets both; otherwise, on Debian, /etc/timezone and the /etc/localtime link say the zone (set
// with ln -sf and dpkg-reconfigure tzdata), /etc/default/rcS and /etc/adjtime the hardware clock
// (set with hwclock --systohc). One remote command reads all of it.
import {
  applyFileEdits,
  defineModule,
  fileContent,
  fileProbeCommand,
  noop,
  parseFileProbe,
  parseProbeAll,
  planFailure,
  planFileEdit,
  probeAllCommand,
  sh,
  type Change,
  type FileFact,
  type Plan,
  type ShellCommand,
} from '../engine/index.js';

/** timezone's arguments, complete after validation. */
export interface TimezoneArgs {
  name?: string;
  hwclock?: 'local' | 'UTC';
}

/** What the gather found. */
export interface TimezoneState {
  /** `timedatectl status` when it answered (systemd runs), else undefined. */
  timedatectl?: string;
  /** /usr/share/zoneinfo/<name> is a file. */
  zoneExists: boolean;
  /** /etc/timezone. */
  timezoneFile: FileFact;
  /** /etc/default/rcS (only probed with hwclock). */
  rcS?: FileFact;
  /** /etc/adjtime's text, undefined when it cannot be read. */
  adjtime?: string;
  /**
   * /etc/localtime: `link <target>`, `broken` (a dangling link), `same` (a file equal to the
   * zone's), `differ`.
   */
  localtime: string;
  /** dpkg-reconfigure and hwclock were found. */
  dpkgReconfigure: boolean;
  hwclockTool: boolean;
}

const ZONEINFO = '/usr/share/zoneinfo';

/** The gather as one command (see probeAll). */
export function timezoneGatherCommand(args: TimezoneArgs): ShellCommand {
  const zone = `${ZONEINFO}/${args.name ?? 'UTC'}`;
  const files = [{ path: '/etc/timezone', content: true }];
  if (args.hwclock !== undefined) files.push({ path: '/etc/default/rcS', content: true });
  return probeAllCommand({
    timedatectl: sh`command -v timedatectl >/dev/null 2>&1 || exit 127; LC_ALL=C timedatectl status`,
    zone: sh`test -f ${zone}`,
    files: { cmd: fileProbeCommand(files), stderr: 'pass' },
    adjtime: sh`cat /etc/adjtime`,
    localtime: sh`if [ -L /etc/localtime ]; then if [ -e /etc/localtime ]; then printf 'link %s' "$(readlink /etc/localtime)"; else printf broken; fi
elif cmp -s /etc/localtime ${zone}; then printf same; else printf differ; fi`,
    dpkg: sh`command -v dpkg-reconfigure`,
    hwclock: sh`command -v hwclock`,
  });
}

/** Parse the gather's output. */
export function parseTimezoneGather(stdout: string, stderr: string, args: TimezoneArgs): TimezoneState {
  const p = parseProbeAll<'timedatectl' | 'zone' | 'files' | 'adjtime' | 'localtime' | 'dpkg' | 'hwclock'>(stdout);
  const facts = parseFileProbe({ stdout: p.files?.out ?? '', stderr, rc: p.files?.rc ?? 1 }, args.hwclock !== undefined ? 2 : 1);
  return {
    timedatectl: p.timedatectl?.rc === 0 ? p.timedatectl.out : undefined,
    zoneExists: p.zone?.rc === 0,
    timezoneFile: facts[0]!,
    rcS: facts[1],
    adjtime: p.adjtime?.rc === 0 ? p.adjtime.out : undefined,
    localtime: p.localtime?.out ?? 'differ',
    dpkgReconfigure: p.dpkg?.rc === 0,
    hwclockTool: p.hwclock?.rc === 0,
  };
}

const text = (fact: FileFact | undefined): string | undefined =>
  fact?.exists ? (fileContent(fact)?.toString('utf8') ?? undefined) : undefined;

const truthy = (v: string) => /^(y|yes|on|1|true|t)$/i.test(v);

// The current zone without systemd, as Ansible reads it: /etc/timezone's first word, but the
// zone /etc/localtime links to when that disagrees with the one asked for.
function currentZone(cur: TimezoneState, planned: string): string {
  const content = text(cur.timezoneFile);
  const value = content === undefined ? 'n/a' : (/^(\S+)/m.exec(content)?.[1] ?? 'n/a');
  if (value !== planned) return value;
  if (cur.localtime.startsWith('link ')) {
    const linked = /\/(?:usr\/share|etc)\/zoneinfo\/(.*)/.exec(cur.localtime.slice(5));
    return linked ? (linked[1] !== planned ? linked[1]! : value) : 'n/a';
  }
  return cur.localtime === 'same' ? value : 'n/a';
}

// The hardware clock without systemd: rcS's UTC=, then /etc/adjtime's third line when they agree.
function currentHwclock(cur: TimezoneState, planned: string): string {
  const rcS = text(cur.rcS);
  const m = rcS === undefined ? null : /^UTC\s*=\s*(\S+)/m.exec(rcS);
  const value = m ? (truthy(m[1]!) ? 'UTC' : 'local') : 'n/a';
  if (value !== planned) return value;
  const adj = cur.adjtime === undefined ? null : /^(UTC|LOCAL)$/m.exec(cur.adjtime);
  return adj ? (adj[1] === 'UTC' ? 'UTC' : 'local') : 'UTC';
}

// Ansible's edit of a config file: the first line the pattern matches is replaced by `line`
// (inserted first when none does), the other matching lines are removed.
export function editFirstLine(content: string, pattern: RegExp, line: string): { text: string; deleted: number } {
  const lines = content === '' ? [] : content.split(/(?<=\n)/);
  const matched = lines.flatMap((l, i) => (pattern.test(l) ? [i] : []));
  const at = matched[0] ?? 0;
  const kept = lines.filter((_, i) => !matched.includes(i));
  kept.splice(at, 0, line);
  return { text: kept.join(''), deleted: matched.length };
}

const abort = (msg: string) => planFailure(`Error message:\n${msg}`);

/** The plan of timezone: pure, from what the gather found. */
export function planTimezone(cur: TimezoneState, args: TimezoneArgs): Plan {
  return planSteps(cur, args, []);
}

/** Ansible's msg once the plan's changes are made: what was executed and edited. */
export function timezoneMessage(cur: TimezoneState, args: TimezoneArgs): string {
  const messages: string[] = [];
  planSteps(cur, args, messages);
  return messages.join('\n');
}

function planSteps(cur: TimezoneState, args: TimezoneArgs, messages: string[]): Plan {
  if (args.name !== undefined && !cur.zoneExists) return abort(`given timezone "${args.name}" is not available`);
  const before: Record<string, string> = {};
  const after: Record<string, string> = {};
  const changes: Change[] = [];

  if (cur.timedatectl !== undefined) {
    // systemd: timedatectl says and sets both
    if (args.hwclock !== undefined) {
      const rtc = /^\s*RTC in local TZ\s*:\s*(\S+)/m.exec(cur.timedatectl)?.[1] ?? 'no';
      before.hwclock = truthy(rtc) ? 'local' : 'UTC';
      after.hwclock = args.hwclock;
      if (before.hwclock !== args.hwclock) {
        const value = args.hwclock === 'local' ? 'yes' : 'no';
        changes.push({ summary: `set the hardware clock to ${args.hwclock}`, commands: [{ cmd: sh`timedatectl set-local-rtc ${value}` }] });
        messages.push(`executed \`timedatectl set-local-rtc ${value}\``);
      }
    }
    if (args.name !== undefined) {
      before.name = /^\s*Time ?zone\s*:\s*(\S+)/m.exec(cur.timedatectl)?.[1] ?? 'n/a';
      after.name = args.name;
      if (before.name !== args.name) {
        changes.push({ summary: `set the time zone to ${args.name}`, commands: [{ cmd: sh`timedatectl set-timezone ${args.name}` }] });
        messages.push(`executed \`timedatectl set-timezone ${args.name}\``);
      }
    }
  } else {
    if (!cur.hwclockTool) return planFailure('Failed to find required executable "hwclock" in paths');
    if (args.hwclock !== undefined) {
      before.hwclock = currentHwclock(cur, args.hwclock);
      after.hwclock = args.hwclock;
      if (before.hwclock !== args.hwclock) {
        const utc = args.hwclock === 'local' ? 'no' : 'yes';
        const edit = editFirstLine(text(cur.rcS!) ?? '', /^UTC\s*=\s*(\S+)/, `UTC=${utc}\n`);
        changes.push(planFileEdit(cur.rcS!, edit.text, { summary: `set UTC=${utc} in /etc/default/rcS` }));
        const option = args.hwclock === 'local' ? '--localtime' : '--utc';
        changes.push({ summary: `set the hardware clock to ${args.hwclock}`, commands: [{ cmd: sh`hwclock --systohc ${option}` }] });
        messages.push(`Added 1 line and deleted ${edit.deleted} line(s) on /etc/default/rcS`, `executed \`hwclock --systohc ${option}\``);
      }
    }
    if (args.name !== undefined) {
      if (!cur.dpkgReconfigure) {
        return planFailure(
          'without systemd, tsplay sets the time zone the Debian way (/etc/timezone and dpkg-reconfigure tzdata), and dpkg-reconfigure was not found',
        );
      }
      before.name = currentZone(cur, args.name);
      after.name = args.name;
      if (before.name !== args.name) {
        const edit = editFirstLine(text(cur.timezoneFile) ?? '', /^(\S+)/, `${args.name}\n`);
        changes.push(planFileEdit(cur.timezoneFile, edit.text, { summary: `write ${args.name} to /etc/timezone` }));
        changes.push({
          summary: `link /etc/localtime to ${ZONEINFO}/${args.name}`,
          commands: [{ cmd: sh`ln -sf ${`${ZONEINFO}/${args.name}`} /etc/localtime && dpkg-reconfigure --frontend noninteractive tzdata` }],
        });
        messages.push(`Added 1 line and deleted ${edit.deleted} line(s) on /etc/timezone`);
      }
    }
  }
  const diff = { before, after };
  if (changes.length === 0) return noop(`time zone ${JSON.stringify(before)} as asked`, { diff });
  // --diff shows the values, as Ansible's diff of this module does
  const show = (v: Record<string, string>) =>
    Object.entries(v)
      .map(([k, x]) => `${k}: ${x}\n`)
      .join('');
  changes[0] = { ...changes[0]!, diff: { before: show(before), after: show(after), beforeHeader: 'before', afterHeader: 'after' } };
  return { changes, result: { diff } };
}

export default defineModule<TimezoneArgs, TimezoneState>({
  name: 'timezone',
  aliases: ['community.general.timezone'],
  description:
    'Set the system time zone (name, a file under /usr/share/zoneinfo) and whether the hardware clock keeps UTC or local time (hwclock). With systemd: timedatectl. Without: /etc/timezone, the /etc/localtime link and dpkg-reconfigure tzdata (Debian), /etc/default/rcS and hwclock --systohc.',
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'The time zone: Europe/Paris, Etc/UTC (a file under /usr/share/zoneinfo).' },
      hwclock: {
        type: 'string',
        enum: ['local', 'UTC'],
        aliases: ['rtc'],
        description: 'Whether the hardware clock keeps local time or UTC.',
      },
    },
    requiredOneOf: [['hwclock', 'name']],
    additionalProperties: false,
  },
  examples: `- community.general.timezone:
    name: Europe/Paris`,
  async gather(ctx, args) {
    const r = await ctx.run(timezoneGatherCommand(args));
    return parseTimezoneGather(r.stdout, r.stderr, args);
  },
  plan: planTimezone,
  async apply(ctx, changes, args, current) {
    const done = await applyFileEdits(ctx, changes);
    // Ansible's msg lists what was done (check mode has none)
    return done.failure ?? { result: { msg: timezoneMessage(current, args) } };
  },
});
