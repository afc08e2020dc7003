// config_txt: settings in a Raspberry Pi config.txt (/boot/firmware/config.txt on bookworm):
// `key=value` lines and `dtoverlay=` lines, per [section]. An example of a custom module written
// with the public API only; docs/writing-modules.md walks through it.
import { atomicWriteCommand, defineModule, noop, planFailure, sh } from 'tsplay';

/** The module's arguments, as the schema below fills them in. */
interface ConfigTxtArgs {
  path: string;
  section: string;
  settings: Record<string, string | number | boolean>;
  overlays: string[];
  absent: string[];
}

/** What gather found: the file's text, mode and owner, or that it is missing. */
interface ConfigTxtState {
  exists: boolean;
  content: string;
  mode?: string;
  uid?: string;
  gid?: string;
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
export function desired(text: string, args: ConfigTxtArgs): string {
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

export default defineModule<ConfigTxtArgs, ConfigTxtState>({
  name: 'config_txt',
  description:
    'Ensure settings in a Raspberry Pi config.txt: key=value lines (replaced in place when the key exists) and dtoverlay= lines, in a [section] (default [all]); remove keys or lines with absent. The file is replaced atomically, keeping its mode and owner.',
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', default: '/boot/firmware/config.txt', description: 'The config.txt to edit.', aliases: ['dest'] },
      section: { type: 'string', default: 'all', description: 'The [section] the settings belong to.' },
      settings: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] }, default: {}, description: 'key: value pairs, one line each.' },
      overlays: { type: 'array', items: { type: 'string' }, default: [], description: 'dtoverlay= values that must be present.' },
      absent: { type: 'array', items: { type: 'string' }, default: [], description: 'Keys (or whole lines) to remove from the section.' },
    },
    additionalProperties: false,
  },
  examples: `- name: No wifi on the nodes, 64-bit kernel
  become: true
  config_txt:
    overlays: [disable-wifi]
    settings: { arm_64bit: 1 }`,

  // One remote command: the file's content, or a marker that it is missing.
  async gather(ctx, args) {
    const r = await ctx.run(sh`if [ -f ${args.path} ]; then stat -c 'present %a %u %g' ${args.path} && cat ${args.path}; else echo missing; fi`);
    if (r.rc !== 0) throw new Error(`cannot read ${args.path}: ${r.stderr.trim()}`);
    const [first = '', ...rest] = r.stdout.split('\n');
    const [word, mode, uid, gid] = first.split(' ');
    return { exists: word === 'present', content: rest.join('\n'), mode, uid, gid };
  },

  plan(current, args) {
    if (!current.exists) return planFailure(`${args.path} does not exist (is the boot partition mounted?)`);
    const after = desired(current.content, args);
    if (after === current.content) return noop(`${args.path} already has these settings`);
    return {
      changes: [
        {
          summary: `update ${args.path} [${args.section}]`,
          // the new file keeps the old one's mode and owner
          commands: [{ cmd: atomicWriteCommand(args.path, { mode: `0${current.mode}`, owner: current.uid, group: current.gid, content: after }), stdin: after }],
          diff: { before: current.content, after, beforeHeader: args.path, afterHeader: args.path },
        },
      ],
    };
  },
});
