// replace: every match of a Python regular expression in a file (or in the part of it between
// `after` and `before`) replaced, as ansible.builtin.replace does with re.subn(MULTILINE). The file
// is read in the gather, edited in the plan, and written back atomically.
import {
  applyFileEdits,
  type AttributePlan,
  defineModule,
  describeAttributes,
  expandTemplate,
  fileFact,
  followed,
  ModeError,
  type ModeSpec,
  noop,
  parseUmask,
  PatternError,
  planAttributes,
  planFailure,
  planFileEdit,
  pythonRegex,
  setAttributesCommand,
  stateDiff,
  validateProblem,
  type Change,
  type FileFact,
  type Plan,
} from '../engine/index.js';

/** replace's arguments, complete after validation. */
export interface ReplaceArgs {
  path: string;
  regexp: string;
  replace: string;
  after?: string;
  before?: string;
  backup: boolean;
  validate?: string;
  encoding: string;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
  unsafe_writes: boolean;
}

/** Python's re.subn(pattern, repl, text): the new text and the number of replacements. */
export function pythonSubn(re: RegExp, template: string, text: string): [string, number] {
  const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  let out = '';
  let last = 0;
  let count = 0;
  for (const m of text.matchAll(global)) {
    out += text.slice(last, m.index) + expandTemplate(template, m as RegExpExecArray);
    last = m.index! + m[0].length;
    count++;
  }
  return [out + text.slice(last), count];
}

/** The edit of replace: pure, on the file's text. */
export function replaceText(
  contents: string,
  args: Pick<ReplaceArgs, 'regexp' | 'replace' | 'after' | 'before'>,
): { text: string; count: number; sectionMissing?: string } {
  let section = contents;
  let start = 0;
  let end = contents.length;
  if (args.after !== undefined || args.before !== undefined) {
    const pattern =
      args.after !== undefined && args.before !== undefined
        ? `${args.after}(?P<subsection>.*?)${args.before}`
        : args.after !== undefined
          ? `${args.after}(?P<subsection>.*)`
          : `(?P<subsection>.*)${args.before}`;
    const re = pythonRegex(pattern, { dotall: true, ascii: true });
    const m = new RegExp(re.source, re.flags + 'd').exec(contents);
    if (!m) return { text: contents, count: 0, sectionMissing: pattern };
    [start, end] = m.indices!.groups!.subsection!;
    section = contents.slice(start, end);
  }
  const [replaced, count] = pythonSubn(pythonRegex(args.regexp, { multiline: true, ascii: true }), args.replace, section);
  if (count === 0 || replaced === section) return { text: contents, count: 0 };
  return { text: contents.slice(0, start) + replaced + contents.slice(end), count };
}

const ATTRIBUTES_MSG = 'ownership, perms or SE linux context changed';

/** The plan of replace: pure, from the probed file and the arguments. */
export function planReplace(cur: FileFact, args: ReplaceArgs): Plan {
  const target = followed(cur);
  if (target.stat?.type === 'directory') return planFailure(`Path ${args.path} is a directory !`, { rc: 256 });
  if (!target.exists) return planFailure(`Path ${args.path} does not exist !`, { rc: 257 });
  if (cur.content === undefined || cur.unreadable) return planFailure(`Path ${args.path} is not readable`);
  const before = Buffer.from(cur.content, 'base64').toString('utf8');
  let edit: ReturnType<typeof replaceText>;
  try {
    edit = replaceText(before, args);
  } catch (e) {
    if (e instanceof PatternError) return planFailure(`replace: invalid regular expression or replacement: ${e.message}`);
    throw e;
  }
  if (edit.sectionMissing !== undefined) {
    return noop('the before/after patterns do not match', {
      msg: `Pattern for before/after params did not match the given file: ${edit.sectionMissing}`,
    });
  }
  const umask = parseUmask(cur.identity.umask);
  let attrs: AttributePlan;
  try {
    attrs = planAttributes(target.stat!, args, { isDirectory: false, umask });
  } catch (e) {
    if (e instanceof ModeError) return planFailure(e.message);
    throw e;
  }
  const msg = [edit.count > 0 ? `${edit.count} replacements made` : '', attrs.changed ? ATTRIBUTES_MSG : ''].filter(Boolean).join(' and ');
  const result = { msg, backup_file: '' };
  const changes: Change[] = [];
  if (edit.count > 0) {
    if (args.validate !== undefined) {
      const problem = validateProblem(args.validate);
      if (problem) return planFailure(problem);
    }
    changes.push(
      planFileEdit(cur, Buffer.from(edit.text, 'utf8'), {
        summary: `make ${edit.count} replacement(s) in ${args.path}${attrs.changed ? ` (${describeAttributes(attrs)})` : ''}`,
        attributes: args,
        validate: args.validate,
        backup: args.backup,
        diffPath: args.path,
        diffBefore: Buffer.from(before, 'utf8'),
      }),
    );
  } else if (attrs.changed) {
    changes.push({
      summary: `set ${describeAttributes(attrs)} on ${args.path}`,
      commands: [{ cmd: setAttributesCommand(target.path, attrs.change) }],
      diff: stateDiff({ path: args.path, ...attrs.before }, { path: args.path, ...attrs.after }, `${args.path} (file attributes)`),
    });
  }
  if (changes.length === 0) return noop(`${args.path}: no match to replace`, result);
  return { changes, result };
}

export default defineModule<ReplaceArgs, FileFact>({
  name: 'replace',
  aliases: ['ansible.builtin.replace'],
  description:
    'Replace every match of a Python regular expression (multiline) in a file, optionally only between the first match of after and the following match of before; \\1 and \\g<name> in replace refer to groups. The file is written atomically, optionally validated and backed up.',
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', aliases: ['dest', 'destfile', 'name'], description: 'The file to modify.' },
      regexp: { type: 'string', description: 'Python regular expression, matched with MULTILINE: ^ and $ match at every line.' },
      replace: { type: 'string', default: '', description: 'The replacement; may hold \\1, \\g<1>, \\g<name>. Empty: remove the matches.' },
      after: { type: 'string', description: 'Only replace after the first match of this expression.' },
      before: { type: 'string', description: 'Only replace before the match of this expression.' },
      backup: { type: 'boolean', default: false, description: 'Keep a timestamped copy of the old file.' },
      validate: { type: 'string', description: 'Command run on the new file (%s is its path) before it replaces the old one.' },
      encoding: { type: 'string', default: 'utf-8', description: 'Only utf-8 is supported.' },
      mode: { type: ['string', 'integer'], description: "Permissions: '0644', 'u=rw,g=r,o=r', or a YAML integer." },
      owner: { type: 'string', description: 'Owner name or uid.' },
      group: { type: 'string', description: 'Group name or gid.' },
      unsafe_writes: { type: 'boolean', default: false, description: 'Accepted for compatibility; writes are always atomic.' },
    },
    required: ['path', 'regexp'],
    additionalProperties: false,
  },
  examples: `- name: Point every server line at the gateway
  replace:
    path: /etc/chrony/chrony.conf
    regexp: '^(server|pool) .*$'
    replace: 'server 10.213.1.1 iburst'

- name: Comment out lines between two markers
  replace:
    path: /etc/hosts
    after: '# BEGIN old'
    before: '# END old'
    regexp: '^(.+)$'
    replace: '# \\1'`,
  gather: (ctx, args) => ctx.fact(fileFact, { path: args.path, content: true }),
  plan: planReplace,
  async apply(ctx, changes) {
    const done = await applyFileEdits(ctx, changes);
    return done.failure ?? { result: { backup_file: done.backupFile ?? '' } };
  },
});
