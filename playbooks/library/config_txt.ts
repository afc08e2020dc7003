// config_txt: settings in a Raspberry Pi config.txt (/boot/firmware/config.txt on bookworm):
// `key=value` lines and `dtoverlay=` lines, per [section]. An example of a custom module written
// with the public API only; docs/writing-modules.md walks through it.
import {
  applyFileEdits,
  defineModule,
  fileContent,
  fileFact,
  followed,
  noop,
  planFailure,
  planFileEdit,
  validateProblem,
  type FileFact,
} from 'tsplay';

/** The module's arguments, as the schema below fills them in. */
interface ConfigTxtArgs {
  path: string;
  section: string;
  settings: Record<string, string | number | boolean>;
  overlays: string[];
  absent: string[];
  backup: boolean;
  validate?: string;
}

/** Split config.txt into its sections: text before the first [filter] belongs to "all". */
function sections(text: string): { name: string; lines: string[] }[] {
  const out = [{ name: 'all', lines: [] as string[] }];
  for (const line of text.split('\n')) {
    const m = /^\[([^\]]+)\]\s*$/.exec(line.trim());
    if (m) out.push({ name: m[1]!, lines: [] });
    else out[out.length - 1]!.lines.push(line);
  }
  return out;
}

function render(parts: { name: string; lines: string[] }[], firstIsImplicit: boolean): string {
  return parts.map((p, i) => (i === 0 && firstIsImplicit ? p.lines : [`[${p.name}]`, ...p.lines]).join('\n')).join('\n');
}

/** The file as it should be: pure, so it is easy to test with plain strings. */
export function desired(text: string, args: Pick<ConfigTxtArgs, 'section' | 'settings' | 'overlays' | 'absent'>): string {
  const trailingNewline = text === '' || text.endsWith('\n');
  const parts = sections(trailingNewline && text !== '' ? text.slice(0, -1) : text);
  let section = [...parts].reverse().find((p) => p.name === args.section);
  if (!section) {
    section = { name: args.section, lines: [] };
    parts.push(section);
  }
  const lines = section.lines;
  const key = (l: string) => /^\s*([A-Za-z0-9_]+)\s*=/.exec(l)?.[1];
  for (const [k, raw] of Object.entries(args.settings)) {
    const value = typeof raw === 'boolean' ? (raw ? '1' : '0') : String(raw);
    const at = lines.findIndex((l) => key(l) === k);
    if (at >= 0) lines[at] = `${k}=${value}`;
    else lines.push(`${k}=${value}`);
  }
  for (const o of args.overlays) {
    if (!lines.some((l) => l.trim() === `dtoverlay=${o}`)) lines.push(`dtoverlay=${o}`);
  }
  const kept = lines.filter((l) => !args.absent.includes(key(l) ?? '') && !args.absent.some((a) => l.trim() === a));
  section.lines.splice(0, section.lines.length, ...kept);
  const out = render(parts, true).replace(/^\n/, '');
  return out + (out === '' || out.endsWith('\n') ? '' : '\n');
}

export default defineModule<ConfigTxtArgs, FileFact>({
  name: 'config_txt',
  description:
    'Ensure settings in a Raspberry Pi config.txt: key=value lines (replaced in place when the key exists) and dtoverlay= lines, in a [section] (default [all]); remove keys or lines with absent. The file is replaced atomically, keeping its mode and owner.',
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', default: '/boot/firmware/config.txt', description: 'The config.txt to edit.', aliases: ['dest'] },
      section: { type: 'string', default: 'all', description: 'The [section] the settings belong to.' },
      settings: {
        type: 'object',
        additionalProperties: { type: ['string', 'number', 'boolean'] },
        default: {},
        description: 'key: value pairs, one line each.',
      },
      overlays: { type: 'array', items: { type: 'string' }, default: [], description: 'dtoverlay= values that must be present.' },
      absent: { type: 'array', items: { type: 'string' }, default: [], description: 'Keys (or whole lines) to remove from the section.' },
      backup: {
        type: 'boolean',
        default: false,
        description: "Keep a timestamped copy of the old file (its path is the result's backup_file).",
      },
      validate: { type: 'string', description: 'Command run on the new file (%s is its path) before it replaces the old one.' },
    },
    additionalProperties: false,
  },
  examples: `- name: No wifi on the nodes, 64-bit kernel
  become: true
  config_txt:
    overlays: [disable-wifi]
    settings: { arm_64bit: 1 }`,

  // One remote command: the file's type, mode, owner and content (tsplay's file fact).
  gather: (ctx, args) => ctx.fact(fileFact, { path: args.path, content: true }),

  plan(current, args) {
    if (followed(current).stat?.type !== 'file') return planFailure(`${args.path} does not exist (is the boot partition mounted?)`);
    const content = fileContent(current);
    if (content === undefined || current.unreadable) return planFailure(`cannot read ${args.path}`);
    const before = content.toString('utf8');
    const after = desired(before, args);
    if (after === before) return noop(`${args.path} already has these settings`, { backup_file: '' });
    const problem = args.validate === undefined ? undefined : validateProblem(args.validate);
    if (problem) return planFailure(problem);
    return {
      // an atomic write that keeps the old file's mode and owner, and happens only if the file is
      // still what gather read
      changes: [
        planFileEdit(current, after, { summary: `update ${args.path} [${args.section}]`, backup: args.backup, validate: args.validate }),
      ],
      result: { backup_file: '' },
    };
  },

  // The write reports the backup's path, or why validate refused the new file.
  async apply(ctx, changes) {
    const done = await applyFileEdits(ctx, changes);
    return done.failure ?? { result: { backup_file: done.backupFile ?? '' } };
  },
});
