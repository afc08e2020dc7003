// modprobe: a kernel module loaded or unloaded, and optionally kept loaded (with its parameters)
// across reboots through /etc/modules-load.d and /etc/modprobe.d (community.general.modprobe).
// One remote command reads /proc/modules, the kernel's built-in modules, a dry run of the load,
// and the files of both directories; files are written atomically.
import {
  atomicWriteCommand,
  defineModule,
  noop,
  parseProbeAll,
  planFailure,
  probeAllCommand,
  sh,
  shellSplit,
  type Change,
  type Plan,
  type ShellCommand,
} from '../engine/index.js';

/** modprobe's arguments, complete after validation. */
export interface ModprobeArgs {
  name: string;
  state: 'present' | 'absent';
  params: string;
  persistent: 'disabled' | 'present' | 'absent';
}

/** A configuration file as the gather read it. */
export interface ConfFile {
  path: string;
  mode: string;
  text: string;
}

/** What the gather found. */
export interface ModprobeState {
  /** modprobe was found. */
  tool: boolean;
  /** /proc/modules, or undefined when it cannot be read. */
  procModules?: string;
  /** Lines of modules.builtin that name the module (grep), '' for none. */
  builtin: string;
  /** The dry run of the load (modprobe -n), when the module is not loaded: rc and stderr. */
  dryRun?: { rc: number; err: string };
  modulesLoad: ConfFile[];
  modprobeConf: ConfFile[];
}

const MODULES_LOAD = '/etc/modules-load.d';
const MODPROBE_D = '/etc/modprobe.d';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Is the module loaded: in /proc/modules (- read as _) or built into the kernel? */
export function isLoaded(state: Pick<ModprobeState, 'procModules' | 'builtin'>, name: string): boolean {
  const prefix = `${name.replace(/-/g, '_')} `;
  if ((state.procModules ?? '').split('\n').some((l) => l.startsWith(prefix))) return true;
  return state.builtin.split('\n').some((l) => l.trimEnd().endsWith(`/${name}.ko`));
}

// Every file of a directory with its mode and content, one line each: mode, base64, path.
const listFiles = (dir: string) =>
  sh`for f in ${dir}/*; do [ -f "$f" ] || continue; printf '%s %s %s\\n' "$(stat -c %a -- "$f")" "$(base64 -w0 < "$f")" "$f"; done`;

function parseFiles(out: string | undefined): ConfFile[] {
  return (out ?? '')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [mode, b64, ...path] = l.split(' ');
      return { mode: mode!, text: Buffer.from(b64 ?? '', 'base64').toString('utf8'), path: path.join(' ') };
    });
}

/** The gather as one command (see probeAll). */
export function modprobeGatherCommand(args: ModprobeArgs): ShellCommand {
  const probes: Record<string, ShellCommand> = {
    tool: sh`command -v modprobe`,
    proc: sh`cat /proc/modules`,
    builtin: sh`grep -F -e ${`/${args.name}.ko`} "/lib/modules/$(uname -r)/modules.builtin" || true`,
  };
  // a dry run tells whether the load would work (Ansible's check mode runs the same)
  if (args.state === 'present') probes.dryrun = sh`modprobe -n ${args.name} ${shellSplit(args.params)} 2>&1 >/dev/null`;
  if (args.persistent !== 'disabled') {
    probes.load = listFiles(MODULES_LOAD);
    probes.conf = listFiles(MODPROBE_D);
  }
  return probeAllCommand(probes);
}

/** Parse the gather's output. */
export function parseModprobeGather(stdout: string): ModprobeState {
  const p = parseProbeAll<'tool' | 'proc' | 'builtin' | 'dryrun' | 'load' | 'conf'>(stdout);
  return {
    tool: p.tool?.rc === 0,
    procModules: p.proc?.rc === 0 ? p.proc.out : undefined,
    builtin: p.builtin?.out ?? '',
    dryRun: p.dryrun ? { rc: p.dryrun.rc, err: p.dryrun.out } : undefined,
    modulesLoad: parseFiles(p.load?.out),
    modprobeConf: parseFiles(p.conf?.out),
  };
}

// Comment out the lines a pattern matches; undefined when none does.
function commentOut(text: string, line: RegExp): string | undefined {
  const lines = text.split(/(?<=\n)/);
  let changed = false;
  const out = lines.map((l) => {
    if (!line.test(l)) return l;
    changed = true;
    return `#${l}`;
  });
  return changed ? out.join('') : undefined;
}

function writeFile(path: string, after: string, before: ConfFile | undefined, summary: string): Change {
  return {
    summary,
    commands: [
      {
        cmd: atomicWriteCommand(path, { content: after, expect: before?.text ?? null, mode: before?.mode.padStart(4, '0') ?? '0644' }),
        stdin: after,
      },
    ],
    diff: { before: before?.text ?? '', after, beforeHeader: path, afterHeader: path },
  };
}

/** The plan of modprobe: pure, from what the gather found. */
export function planModprobe(cur: ModprobeState, args: ModprobeArgs): Plan {
  const result = { name: args.name, params: args.params, state: args.state };
  if (!cur.tool) return planFailure('Failed to find required executable "modprobe" in paths', result);
  if (cur.procModules === undefined) return planFailure("[Errno 2] No such file or directory: '/proc/modules'", result);
  const changes: Change[] = [];
  const loaded = isLoaded(cur, args.name);
  const words = shellSplit(args.params);
  if (args.state === 'present' && !loaded) {
    if (cur.dryRun && cur.dryRun.rc !== 0) return planFailure(cur.dryRun.err, { ...result, rc: cur.dryRun.rc });
    changes.push({ summary: `load ${args.name}`, commands: [{ cmd: sh`modprobe ${args.name} ${words}` }] });
  } else if (args.state === 'absent' && loaded) {
    changes.push({ summary: `unload ${args.name}`, commands: [{ cmd: sh`modprobe -r ${args.name}` }] });
  }

  const name = escape(args.name);
  const moduleLine = new RegExp(`^ *${name} *(?:[#;].*)?\\n?$`);
  const optionLine = new RegExp(`^options ${name} (\\w+=\\S+) *(?:[#;].*)?\\n?$`);
  const linesOf = (f: ConfFile) => f.text.split(/(?<=\n)/);
  const persistentlyLoaded = cur.modulesLoad.some((f) => linesOf(f).some((l) => moduleLine.test(l)));
  const permanent = new Set(cur.modprobeConf.flatMap((f) => linesOf(f).flatMap((l) => optionLine.exec(l)?.[1] ?? [])));
  const wanted = new Set(args.params.split(/\s+/).filter((w) => w !== ''));
  const paramsSet = wanted.size === permanent.size && [...wanted].every((p) => permanent.has(p));

  // the options in every file of /etc/modprobe.d commented out; the module's own file rewritten
  const disableOldParams = (except?: string) => {
    for (const f of cur.modprobeConf) {
      if (f.path === except) continue;
      const after = commentOut(f.text, optionLine);
      if (after !== undefined) changes.push(writeFile(f.path, after, f, `comment out options ${args.name} in ${f.path}`));
    }
  };
  if (args.persistent === 'present' && !(persistentlyLoaded && paramsSet)) {
    if (!persistentlyLoaded) {
      const path = `${MODULES_LOAD}/${args.name}.conf`;
      const before = cur.modulesLoad.find((f) => f.path === path);
      changes.push(writeFile(path, `${args.name}\n`, before, `load ${args.name} at boot (${path})`));
    }
    if (!paramsSet) {
      const path = `${MODPROBE_D}/${args.name}.conf`;
      disableOldParams(path);
      const content = [...wanted].map((p) => `options ${args.name} ${p}`).join('\n') + '\n';
      const before = cur.modprobeConf.find((f) => f.path === path);
      changes.push(writeFile(path, content, before, `set the options of ${args.name} (${path})`));
    }
  } else if (args.persistent === 'absent' && (persistentlyLoaded || permanent.size > 0)) {
    for (const f of cur.modulesLoad) {
      const after = commentOut(f.text, moduleLine);
      if (after !== undefined) changes.push(writeFile(f.path, after, f, `comment out ${args.name} in ${f.path}`));
    }
    disableOldParams();
  }
  if (changes.length === 0) {
    return noop(
      `${args.name} ${loaded ? 'loaded' : 'not loaded'}${args.persistent === 'disabled' ? '' : `, persistent ${args.persistent}`}`,
      result,
    );
  }
  return { changes, result };
}

export default defineModule<ModprobeArgs, ModprobeState>({
  name: 'modprobe',
  aliases: ['community.general.modprobe'],
  description:
    'Load or unload a kernel module (modprobe, modprobe -r), with parameters; persistent: present keeps it loaded at boot (/etc/modules-load.d/<name>.conf, options in /etc/modprobe.d/<name>.conf), absent comments it out there.',
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'The kernel module (br_netfilter, overlay).' },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present', description: 'Loaded or not.' },
      params: { type: 'string', default: '', description: 'Module parameters: "key=value key2=value2".' },
      persistent: {
        type: 'string',
        enum: ['disabled', 'present', 'absent'],
        default: 'disabled',
        description: 'present: loaded at boot with these params; absent: not loaded at boot; disabled: leave the files alone.',
      },
    },
    required: ['name'],
    additionalProperties: false,
  },
  examples: `- community.general.modprobe:
    name: br_netfilter
    state: present
    persistent: present`,
  async gather(ctx, args) {
    const r = await ctx.run(modprobeGatherCommand(args));
    return parseModprobeGather(r.stdout);
  },
  plan: planModprobe,
});
