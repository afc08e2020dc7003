// slurp: a file's content from the host, base64-encoded, as Ansible returns it (use the b64decode
// filter to read it). Read-only: the plan is a no-op that carries the content, so check mode
// returns it too.
import { assignPath, defineModule, noop, planFailure, raw, sh, type ShellCommand } from '../engine/index.js';

/** slurp's arguments, complete after validation. */
export interface SlurpArgs {
  src: string;
}

/** What the host said about the file. */
export interface SlurpState {
  /** The path with a leading ~ expanded. */
  source: string;
  outcome: 'content' | 'missing' | 'unreadable' | 'directory' | 'error';
  /** The content in base64 (outcome content), or the error (outcome error). */
  text: string;
}

const MARKER = '__tsplay_slurp__';

/** The one remote command: why the file cannot be read, or its content in base64. */
export function slurpCommand(src: string): ShellCommand {
  const script = String.raw`printf '%s source ' "$M"; printf %s "$p" | base64 -w0; echo
if [ -d "$p" ]; then echo "$M directory"
elif [ ! -e "$p" ]; then echo "$M missing"
elif [ ! -r "$p" ]; then echo "$M unreadable"
else printf '%s content ' "$M"; base64 -w0 < "$p"; r=$?; echo; [ $r = 0 ] || echo "$M error"
fi`;
  return sh`M=${MARKER}
${assignPath('p', src)}
${raw(script)}`;
}

/** Parse what slurpCommand printed (stderr is the error when base64 failed mid-way). */
export function parseSlurpOutput(stdout: string, stderr = ''): SlurpState | undefined {
  let state: SlurpState | undefined;
  let source: string | undefined;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(MARKER + ' ')) continue;
    const [key = '', value = ''] = line.slice(MARKER.length + 1).split(' ');
    if (key === 'source') source = Buffer.from(value, 'base64').toString('utf8');
    else if (source === undefined) continue;
    else if (key === 'content') state = { source, outcome: 'content', text: value };
    else if (key === 'error') state = { source, outcome: 'error', text: stderr.trim() || 'base64 failed' };
    else if (key === 'missing' || key === 'unreadable' || key === 'directory') state = { source, outcome: key, text: '' };
  }
  return state;
}

export default defineModule<SlurpArgs, SlurpState | { failed: string }>({
  name: 'slurp',
  aliases: ['ansible.builtin.slurp'],
  description:
    'Fetch a file from the host, base64-encoded: `content`, `encoding: base64` and `source` in the result (`{{ r.content | b64decode }}` reads it). Never changes anything, and runs in check mode too.',
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string', aliases: ['path'], description: 'The file to fetch (a leading ~ is expanded on the host).' },
    },
    required: ['src'],
    additionalProperties: false,
  },
  examples: `- name: Read the SSH host key
  slurp:
    src: /etc/ssh/ssh_host_ed25519_key.pub
  register: hostkey

- debug:
    msg: "{{ hostkey.content | b64decode }}"`,
  async gather(ctx, args) {
    const r = await ctx.run(slurpCommand(args.src));
    return parseSlurpOutput(r.stdout, r.stderr) ?? { failed: `unable to slurp file: ${(r.stderr || r.stdout).trim() || `rc=${r.rc}`}` };
  },
  plan(state) {
    if ('failed' in state) return planFailure(state.failed);
    const { source } = state;
    switch (state.outcome) {
      case 'content':
        return noop(`read ${source}`, { content: state.text, encoding: 'base64', source });
      case 'missing':
        return planFailure(`file not found: ${source}`);
      case 'unreadable':
        return planFailure(`file is not readable: ${source}`);
      case 'directory':
        return planFailure(`source is a directory and must be a file: ${source}`);
      case 'error':
        return planFailure(`unable to slurp file: ${state.text}`);
    }
  },
});
