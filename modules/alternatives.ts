// alternatives: one alternative of an update-alternatives group (community.general.alternatives):
// installed with its priority and subcommands, selected, the group back in auto mode, or removed.
// One remote command reads the group (update-alternatives --display) and whether the path exists.
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

/** A follower link of the alternative (update-alternatives --slave). */
export interface Subcommand {
  name: string;
  path: string;
  link: string;
}

/** alternatives' arguments, complete after validation. */
export interface AlternativesArgs {
  name: string;
  path: string;
  link?: string;
  priority?: number;
  state: 'present' | 'selected' | 'auto' | 'absent';
  subcommands?: Subcommand[];
}

/** One alternative of the group as --display lists it. */
export interface Alternative {
  priority: number;
  subcommands: Subcommand[];
}

/** The group as update-alternatives shows it, and whether `path` exists. */
export interface AlternativesState {
  /** update-alternatives was found. */
  tool: boolean;
  pathExists: boolean;
  /** auto or manual; undefined when the group is unknown. */
  mode?: string;
  /** What the link points to now. */
  current?: string;
  /** The group's master link (/usr/bin/editor). */
  link?: string;
  alternatives: Record<string, Alternative>;
}

/** Parse `update-alternatives --display NAME` (LC_ALL=C); `given` fills follower links it lacks. */
export function parseDisplay(text: string, given?: Subcommand[]): Omit<AlternativesState, 'tool' | 'pathExists'> {
  const state: Omit<AlternativesState, 'tool' | 'pathExists'> = { alternatives: {} };
  const mode = /\s-\s(?:status\sis\s)?(\w*)(?:\smode|.)$/m.exec(text);
  if (!mode) return state;
  state.mode = mode[1];
  state.current = /^\s*link currently points to (.*)$/m.exec(text)?.[1];
  state.link = /^\s*link \w+ is (.*)$/m.exec(text)?.[1];
  const followerLinks = new Map<string, string>([...text.matchAll(/^\s*(?:slave|follower) (\S+) is (.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  if (followerLinks.size === 0) for (const s of given ?? []) followerLinks.set(s.name, s.link);
  for (const m of text.matchAll(/^(\/.*)\s-\s(?:family\s\S+\s)?priority\s(\d+)((?:\s+(?:slave|follower).*)*)/gm)) {
    const subcommands = [...m[3]!.matchAll(/^\s+(?:slave|follower) (.*): (.*)$/gm)]
      .filter((s) => s[2] !== '(null)')
      .map((s) => ({ name: s[1]!, path: s[2]!, link: followerLinks.get(s[1]!)! }));
    state.alternatives[m[1]!] = { priority: Number(m[2]), subcommands };
  }
  return state;
}

/** The gather as one command (see probeAll). */
export function alternativesGatherCommand(args: AlternativesArgs): ShellCommand {
  return probeAllCommand({
    tool: sh`command -v update-alternatives`,
    display: sh`LC_ALL=C update-alternatives --display ${args.name}`,
    path: sh`test -e ${args.path}`,
  });
}

const sameSubcommand = (a: Subcommand, b: Subcommand) => a.name === b.name && a.path === b.path && a.link === b.link;

/** The plan of alternatives: pure, from the group and the arguments. */
export function planAlternatives(cur: AlternativesState, args: AlternativesArgs): Plan {
  if (!cur.tool) return planFailure('Failed to find required executable "update-alternatives" in paths');
  const changes: Change[] = [];
  const messages: string[] = [];
  const mine = cur.alternatives[args.path];
  const done = () => {
    const msg = messages.join(' ');
    if (changes.length === 0)
      return noop(`alternative ${args.path} of ${args.name}: nothing to do`, { msg, diff: { before: {}, after: {} } });
    return { changes, result: { msg, diff: { before: {}, after: {} } } };
  };
  if (args.state === 'absent') {
    if (mine) {
      changes.push({
        summary: `remove ${args.path} from ${args.name}`,
        commands: [{ cmd: sh`update-alternatives --remove ${args.name} ${args.path}` }],
      });
      messages.push(`Remove alternative '${args.path}' from '${args.name}'.`);
    }
    return done();
  }
  const subcommands = args.subcommands ?? (mine?.subcommands.length ? mine.subcommands : undefined);
  const priority = args.priority ?? mine?.priority ?? 50;
  const reinstall =
    !mine ||
    (args.priority !== undefined && mine.priority !== args.priority) ||
    (args.subcommands !== undefined &&
      (!mine.subcommands.every((s) => args.subcommands!.some((t) => sameSubcommand(s, t))) ||
        !args.subcommands.every((s) => mine.subcommands.some((t) => sameSubcommand(s, t)))));
  if (reinstall) {
    if (!cur.pathExists) return planFailure(`Specified path ${args.path} does not exist`);
    const link = args.link ?? cur.link;
    if (!link) return planFailure('Needed to install the alternative, but unable to do so as we are missing the link');
    const followers = (subcommands ?? []).flatMap((s) => ['--slave', s.link, s.name, s.path]);
    changes.push({
      summary: `install ${args.path} for ${args.name} (priority ${priority})`,
      commands: [{ cmd: sh`update-alternatives --install ${[link, args.name, args.path, String(priority), ...followers]}` }],
    });
    messages.push(`Install alternative '${args.path}' for '${args.name}'.`);
  }
  if (args.state === 'selected' && cur.current !== args.path) {
    changes.push({
      summary: `select ${args.path} for ${args.name}`,
      commands: [{ cmd: sh`update-alternatives --set ${args.name} ${args.path}` }],
    });
    messages.push(`Set alternative '${args.path}' for '${args.name}'.`);
  }
  if (args.state === 'auto' && cur.mode === 'manual') {
    changes.push({ summary: `set ${args.name} to auto mode`, commands: [{ cmd: sh`update-alternatives --auto ${args.name}` }] });
    messages.push(`Set alternative to auto for '${args.name}'.`);
  }
  return done();
}

export default defineModule<AlternativesArgs, AlternativesState>({
  name: 'alternatives',
  aliases: ['community.general.alternatives'],
  description:
    'Manage one alternative of an update-alternatives group: installed (with priority and subcommands), selected (update-alternatives --set), the group in auto mode, or removed. One remote command reads the group.',
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'The generic name of the link (editor, java).' },
      path: { type: 'string', description: 'The real executable the link should point to.' },
      link: { type: 'string', description: 'The generic link (/usr/bin/editor); needed when the group is unknown.' },
      priority: { type: 'integer', description: 'The priority of the alternative (50 for a new one).' },
      state: {
        type: 'string',
        enum: ['present', 'selected', 'auto', 'absent'],
        default: 'selected',
        description: 'present (installed, not selected), selected, auto (installed, the group in auto mode), absent.',
      },
      subcommands: {
        type: 'array',
        aliases: ['slaves'],
        items: {
          type: 'object',
          properties: { name: { type: 'string' }, path: { type: 'string' }, link: { type: 'string' } },
          required: ['name', 'path', 'link'],
          additionalProperties: false,
        },
        description: 'Follower links (name, path, link) that change with the alternative.',
      },
    },
    required: ['name', 'path'],
    additionalProperties: false,
  },
  examples: `- community.general.alternatives:
    name: editor
    path: /usr/bin/vim.basic`,
  async gather(ctx, args) {
    const r = await ctx.run(alternativesGatherCommand(args));
    const p = parseProbeAll<'tool' | 'display' | 'path'>(r.stdout);
    const display = p.display?.rc === 0 ? parseDisplay(p.display.out, args.subcommands) : { alternatives: {} };
    return { tool: p.tool?.rc === 0, pathExists: p.path?.rc === 0, ...display };
  },
  plan: planAlternatives,
});
