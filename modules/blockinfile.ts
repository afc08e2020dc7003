// blockinfile: a block of lines between two marker lines kept in a file (inserted, replaced or
// removed), with ansible-core 2.14's rules: where a missing block goes (insertafter /
// insertbefore, EOF / BOF or a Python regexp, line by line or, with (?m), on the whole file), and
// what an empty block means (remove it). The file is read in the gather, edited in the plan as
// bytes, and written back atomically.
import {
  applyFileEdits,
  defineModule,
  describeAttributes,
  fileFact,
  followed,
  type ModeSpec,
  noop,
  PatternError,
  planFailure,
  planEditAttributes,
  planFileEdit,
  pythonRegex,
  setAttributesCommand,
  stateDiff,
  validateProblem,
  type Change,
  type FileFact,
  type Plan,
} from '../engine/index.js';

/** blockinfile's arguments, complete after validation. */
export interface BlockinfileArgs {
  path: string;
  state: 'present' | 'absent';
  block: string;
  marker: string;
  marker_begin: string;
  marker_end: string;
  insertafter?: string;
  insertbefore?: string;
  create: boolean;
  backup: boolean;
  validate?: string;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
  unsafe_writes: boolean;
}

/** Text as the byte string Ansible works on (one char per byte), so any file round-trips exactly. */
const bytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

/** Python's bytes.splitlines(True): lines with their end (\n, \r\n, \r and the other ASCII breaks). */
function splitLinesKeepEnds(text: string): string[] {
  const lines: string[] = [];
  const re = /\r\n|[\n\r\v\f\x1c\x1d\x1e]/g;
  let start = 0;
  for (const m of text.matchAll(re)) {
    const end = m.index! + m[0].length;
    lines.push(text.slice(start, end));
    start = end;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

/** A pattern that starts with an inline flag group holding `m` (how 2.14 chooses a whole-file search). */
const isMultiline = (pattern: string) => /^\(\?[aiLsux]*m[aiLmsux]*\)/.test(pattern);

/** What the edit of the file's text does: the new text and Ansible's message for it. */
export interface BlockEdit {
  /** The new content (byte string); undefined when the file is absent and stays so. */
  text: string;
  msg: string;
}

/**
 * The file's new text (byte strings in and out; `original` undefined for a missing file), as
 * blockinfile 2.14 computes it: the old block (between the last begin marker and the last end
 * marker) is taken out and the new one put in its place; without both markers, the block goes
 * after (before) the last line matching insertafter (insertbefore), or at EOF (BOF).
 */
export function editBlock(original: string | undefined, args: BlockinfileArgs): BlockEdit {
  const lines = original === undefined ? [] : splitLinesKeepEnds(original);
  const present = args.state === 'present';
  const block = bytes(args.block);
  const marker = bytes(args.marker);
  const marker0 = marker.replaceAll('{mark}', bytes(args.marker_begin)) + '\n';
  const marker1 = marker.replaceAll('{mark}', bytes(args.marker_end)) + '\n';
  let blockLines: string[] = [];
  if (present && block !== '') blockLines = [marker0, ...splitLinesKeepEnds(block.endsWith('\n') ? block : block + '\n'), marker1];

  const insertafter = args.insertafter ?? (args.insertbefore === undefined ? 'EOF' : undefined);
  const insertbefore = args.insertbefore;
  const pattern =
    insertafter !== undefined && insertafter !== 'EOF'
      ? insertafter
      : insertbefore !== undefined && insertbefore !== 'BOF'
        ? insertbefore
        : undefined;

  let n0: number | undefined;
  let n1: number | undefined;
  lines.forEach((line, i) => {
    if (line === marker0) n0 = i;
    if (line === marker1) n1 = i;
  });
  if (n0 === undefined || n1 === undefined) {
    n0 = undefined;
    if (pattern !== undefined) {
      const re = pythonRegex(bytes(pattern), { ascii: true });
      if (isMultiline(pattern)) {
        const m = re.exec(original ?? '');
        if (m) {
          const upTo = insertafter !== undefined ? m.index + m[0].length : m.index;
          n0 = (original ?? '').slice(0, upTo).split('\n').length - 1;
        }
      } else {
        lines.forEach((line, i) => {
          if (re.test(line)) n0 = i;
        });
      }
      if (n0 === undefined) n0 = lines.length;
      else if (insertafter !== undefined) n0 += 1;
    } else {
      n0 = insertbefore !== undefined ? 0 : lines.length;
    }
  } else if (n0 < n1) {
    lines.splice(n0, n1 - n0 + 1);
  } else {
    lines.splice(n1, n0 - n1 + 1);
    n0 = n1;
  }
  // the line before the block must end with a line break (even when there is no block to put in)
  if (n0 > 0 && !lines[n0 - 1]!.endsWith('\n')) lines[n0 - 1] += '\n';
  lines.splice(n0, 0, ...blockLines);
  const text = lines.join('');
  const msg =
    text === original ? '' : original === undefined ? 'File created' : blockLines.length === 0 ? 'Block removed' : 'Block inserted';
  return { text, msg };
}

const ATTRIBUTES_MSG = 'ownership, perms or SE linux context changed';

/** The plan of blockinfile: pure, from the probed file and the arguments. */
export function planBlockinfile(cur: FileFact, args: BlockinfileArgs): Plan {
  const target = followed(cur);
  if (target.stat?.type === 'directory') return planFailure(`Path ${args.path} is a directory !`, { rc: 256 });
  if (!target.exists) {
    if (!args.create) return planFailure(`Path ${args.path} does not exist !`, { rc: 257 });
    if (args.state === 'absent') return noop(`${args.path} does not exist`, { msg: `File ${args.path} not present` });
  } else if (cur.content === undefined || cur.unreadable) {
    return planFailure(`Path ${args.path} is not readable`);
  }
  const original = target.exists ? Buffer.from(cur.content!, 'base64').toString('latin1') : undefined;
  if (args.state === 'absent' && original === undefined)
    return noop(`${args.path} does not exist`, { msg: `File ${args.path} not present` });

  let edit: BlockEdit;
  try {
    edit = editBlock(original, args);
  } catch (e) {
    if (e instanceof PatternError) return planFailure(`blockinfile: invalid regular expression: ${e.message}`);
    throw e;
  }
  const contentChanged = edit.text !== original;
  const attrs = planEditAttributes(cur, args);
  if ('error' in attrs) return planFailure(attrs.error);
  const attrsChanged = attrs.changed;
  const msg = [edit.msg, attrsChanged ? ATTRIBUTES_MSG : ''].filter(Boolean).join(' and ');
  const changes: Change[] = [];
  if (contentChanged) {
    if (args.validate !== undefined) {
      const problem = validateProblem(args.validate);
      if (problem) return planFailure(problem);
    }
    const what = edit.msg === 'Block removed' ? 'remove block from' : edit.msg === 'File created' ? 'create' : 'insert block in';
    changes.push(
      planFileEdit(cur, Buffer.from(edit.text, 'latin1'), {
        summary: `${what} ${args.path}${attrsChanged ? ` (${describeAttributes(attrs)})` : ''}`,
        attributes: args,
        validate: args.validate,
        backup: args.backup,
        diffPath: `${args.path} (content)`,
      }),
    );
  } else if (attrs.changed) {
    changes.push({
      summary: `set ${describeAttributes(attrs)} on ${args.path}`,
      commands: [{ cmd: setAttributesCommand(target.path, attrs.change) }],
      diff: stateDiff({ path: args.path, ...attrs.before }, { path: args.path, ...attrs.after }, `${args.path} (file attributes)`),
    });
  }
  if (changes.length === 0)
    return noop(`${args.path}: the block is already ${args.state === 'present' && args.block !== '' ? 'there' : 'absent'}`, { msg: '' });
  return { changes, result: { msg } };
}

export default defineModule<BlockinfileArgs, FileFact>({
  name: 'blockinfile',
  aliases: ['ansible.builtin.blockinfile'],
  description:
    'Insert, update or remove a block of lines surrounded by marker lines. A missing block goes after the last line matching insertafter (default: at the end) or before the last line matching insertbefore; an empty block is removed. The file is written atomically, optionally validated and backed up.',
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', aliases: ['dest', 'destfile', 'name'], description: 'The file to modify.' },
      state: { type: 'string', enum: ['absent', 'present'], default: 'present', description: 'Whether the block should be there or not.' },
      block: {
        type: 'string',
        aliases: ['content'],
        default: '',
        description: 'The text between the marker lines; empty: remove the block.',
      },
      marker: {
        type: 'string',
        default: '# {mark} ANSIBLE MANAGED BLOCK',
        description: 'The marker line template; {mark} becomes marker_begin or marker_end.',
      },
      marker_begin: { type: 'string', default: 'BEGIN', description: 'What {mark} becomes in the opening marker.' },
      marker_end: { type: 'string', default: 'END', description: 'What {mark} becomes in the closing marker.' },
      insertafter: {
        type: 'string',
        description:
          "Without the markers in the file: insert after the last line matching this regexp, or 'EOF' (default). (?m) searches the whole file.",
      },
      insertbefore: {
        type: 'string',
        description: "Without the markers in the file: insert before the last line matching this regexp, or 'BOF'.",
      },
      create: { type: 'boolean', default: false, description: 'Create the file when it does not exist.' },
      backup: { type: 'boolean', default: false, description: 'Keep a timestamped copy of the old file.' },
      validate: { type: 'string', description: 'Command run on the new file (%s is its path) before it replaces the old one.' },
      mode: { type: ['string', 'integer'], description: "Permissions: '0644', 'u=rw,g=r,o=r', or a YAML integer." },
      owner: { type: 'string', description: 'Owner name or uid.' },
      group: { type: 'string', description: 'Group name or gid.' },
      unsafe_writes: { type: 'boolean', default: false, description: 'Accepted for compatibility; writes are always atomic.' },
    },
    required: ['path'],
    mutuallyExclusive: [['insertbefore', 'insertafter']],
    additionalProperties: false,
  },
  examples: `- name: Keep a Match block in sshd_config
  blockinfile:
    path: /etc/ssh/sshd_config
    block: |
      Match User backup
      PasswordAuthentication no
    validate: /usr/sbin/sshd -T -f %s

- name: One block per host in /etc/hosts
  blockinfile:
    path: /etc/hosts
    marker: "# {mark} ANSIBLE MANAGED BLOCK {{ item.name }}"
    block: "{{ item.ip }} {{ item.name }}"
  loop:
    - { name: node1, ip: 10.213.1.11 }
    - { name: node2, ip: 10.213.1.12 }

- name: Remove the block
  blockinfile:
    path: /etc/hosts
    state: absent`,
  // the names of who writes matter only for an owner or group to compare with a new file's
  gather: (ctx, args) =>
    ctx.fact(fileFact, {
      path: args.path,
      content: true,
      ...(args.owner !== undefined || args.group !== undefined ? { names: 'if-missing' as const } : {}),
    }),
  plan: planBlockinfile,
  async apply(ctx, changes) {
    const done = await applyFileEdits(ctx, changes);
    return done.failure ?? { result: done.backupFile ? { backup: done.backupFile } : {} };
  },
});
