// lineinfile: ensure a line is in a file (or replace the last line a regexp matches), or remove
// every matching line, with Ansible's exact rules. The file is read in the gather, edited in the
// plan as bytes (like Ansible, which works on bytes), and written back atomically.
import {
  applyFileEdits,
  defineModule,
  describeAttributes,
  expandTemplate,
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

/** lineinfile's arguments, complete after validation. */
export interface LineinfileArgs {
  path: string;
  state: 'present' | 'absent';
  regexp?: string;
  search_string?: string;
  line?: string;
  backrefs: boolean;
  insertafter?: string;
  insertbefore?: string;
  firstmatch: boolean;
  create: boolean;
  backup: boolean;
  validate?: string;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
  unsafe_writes: boolean;
}

/** Python's bytes.rstrip(b'\r\n'). */
function stripEol(line: string): string {
  return line.replace(/[\r\n]+$/, '');
}

/** Python's readlines(): lines with their '\n'. */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl + 1;
    lines.push(text.slice(start, end));
    start = end;
  }
  return lines;
}

/** Text as the byte string Ansible works on (one char per byte), so any file round-trips exactly. */
const bytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

interface Edit {
  lines: string[];
  msg: string;
  /** Why nothing changes, when nothing does. */
  why?: string;
  found?: number;
}

// state=present, step by step as Ansible documents and does it (lines are byte strings).
function present(lines: string[], args: LineinfileArgs, line: string, regexp?: RegExp, insert?: RegExp): Edit {
  const insertafter = args.insertafter ?? (args.insertbefore === undefined ? 'EOF' : undefined);
  const insertbefore = args.insertbefore;
  const search = args.search_string === undefined ? undefined : bytes(args.search_string);
  let found = -1;
  let insertAt = -1;
  let match: RegExpExecArray | null = null;
  let matched = false;

  if (regexp) {
    for (let i = 0; i < lines.length; i++) {
      const m = regexp.exec(lines[i]!);
      if (!m) continue;
      found = i;
      match = m;
      matched = true;
      if (args.firstmatch) break;
    }
  }
  if (search !== undefined) {
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]!.includes(search)) continue;
      found = i;
      matched = true;
      if (args.firstmatch) break;
    }
  }
  // No regexp/search_string match: look for the exact line, and for where to insert.
  if (!matched) {
    for (let i = 0; i < lines.length; i++) {
      if (stripEol(lines[i]!) === line) {
        found = i;
      } else if (insert && insert.test(lines[i]!)) {
        insertAt = insertafter !== undefined ? i + 1 : i;
        if (args.firstmatch) break;
      }
    }
  }

  const out = [...lines];
  const added = (msg = 'line added'): Edit => ({ lines: out, msg });
  if (found !== -1) {
    let newLine = args.backrefs && match ? expandTemplate(line, match) : line;
    if (!newLine.endsWith('\n')) newLine += '\n';
    if (out[found] === newLine)
      return { lines: out, msg: '', why: matched ? 'the matching line is already the wanted line' : 'line already present' };
    out[found] = newLine;
    return added('line replaced');
  }
  if (args.backrefs) return { lines: out, msg: '', why: 'regexp matches no line (backrefs: the file is left unchanged)' };
  if (insertbefore === 'BOF' || insertafter === 'BOF') {
    out.unshift(line + '\n');
    return added();
  }
  const endsWithEol = () => out.length === 0 || /[\r\n]$/.test(out[out.length - 1]!);
  if (insertafter === 'EOF' || insertAt === -1) {
    if (!endsWithEol()) out.push('\n');
    out.push(line + '\n');
    return added();
  }
  if (insertafter !== undefined) {
    // The line right after the insertafter match is already the line: nothing to do.
    if (insertAt === out.length) {
      if (stripEol(out[insertAt - 1]!) === line) return { lines: out, msg: '', why: 'line already follows the insertafter match' };
      if (!endsWithEol()) out[out.length - 1] += '\n';
      out.push(line + '\n');
      return added();
    }
    if (stripEol(out[insertAt]!) === line) return { lines: out, msg: '', why: 'line already follows the insertafter match' };
  }
  out.splice(insertAt, 0, line + '\n');
  return added();
}

// state=absent: drop every line the regexp / search_string / exact line matches.
function absent(lines: string[], args: LineinfileArgs, regexp?: RegExp): Edit {
  const search = args.search_string === undefined ? undefined : bytes(args.search_string);
  const line = args.line === undefined ? undefined : bytes(args.line);
  const matches = (l: string) => (regexp ? regexp.test(l) : search !== undefined ? l.includes(search) : stripEol(l) === line);
  const kept = lines.filter((l) => !matches(l));
  const found = lines.length - kept.length;
  return { lines: kept, msg: found > 0 ? `${found} line(s) removed` : '', found, why: 'no line matches' };
}

const ATTRIBUTES_MSG = 'ownership, perms or SE linux context changed';

/** The plan of lineinfile: pure, from the probed file and the arguments. */
export function planLineinfile(cur: FileFact, args: LineinfileArgs): Plan {
  const warnings: string[] = [];
  if (args.regexp === '' || args.search_string === '') {
    const what = args.regexp === '' ? 'regular expression' : 'search string';
    warnings.push(
      `The ${what} is an empty string, which will match every line in the file. This may have unintended consequences, such as replacing the last line in the file rather than appending.` +
        (args.regexp === '' ? " If this is desired, use '^' to match every line in the file and avoid this warning." : ''),
    );
  }
  const base = warnings.length ? { warnings } : {};
  const target = followed(cur);
  if (target.stat?.type === 'directory') return planFailure(`Path ${args.path} is a directory !`, { rc: 256 });

  if (args.state === 'present') {
    if (args.backrefs && args.regexp === undefined) return planFailure('regexp is required with backrefs=true');
    if (args.line === undefined) return planFailure('line is required with state=present');
    if (!target.exists && !args.create) return planFailure(`Destination ${args.path} does not exist !`, { rc: 257 });
  } else {
    if (args.regexp === undefined && args.search_string === undefined && args.line === undefined) {
      return planFailure('one of line, search_string, or regexp is required with state=absent');
    }
    if (!target.exists) return noop(`${args.path} does not exist`, { ...base, msg: 'file not present' });
  }
  if (target.exists && (cur.content === undefined || cur.unreadable)) return planFailure(`Destination ${args.path} is not readable`);

  let regexp: RegExp | undefined;
  let insert: RegExp | undefined;
  let edit: Edit;
  const before = target.exists ? Buffer.from(cur.content!, 'base64').toString('latin1') : '';
  const lines = splitLines(before);
  try {
    if (args.regexp !== undefined) regexp = pythonRegex(bytes(args.regexp), { ascii: true });
    if (args.insertafter !== undefined && args.insertafter !== 'BOF' && args.insertafter !== 'EOF')
      insert = pythonRegex(bytes(args.insertafter), { ascii: true });
    else if (args.insertbefore !== undefined && args.insertbefore !== 'BOF')
      insert = pythonRegex(bytes(args.insertbefore), { ascii: true });
    edit = args.state === 'present' ? present(lines, args, bytes(args.line!), regexp, insert) : absent(lines, args, regexp);
  } catch (e) {
    if (e instanceof PatternError) return planFailure(`lineinfile: invalid regular expression or backreference: ${e.message}`);
    throw e;
  }

  const after = edit.lines.join('');
  const contentChanged = after !== before;
  const attrs = planEditAttributes(cur, args);
  if ('error' in attrs) return planFailure(attrs.error);
  const msg = [edit.msg, attrs.changed ? ATTRIBUTES_MSG : ''].filter(Boolean).join(' and ');
  const result = { ...base, msg, backup: '', ...(args.state === 'absent' ? { found: edit.found } : {}) };

  const changes: Change[] = [];
  if (contentChanged) {
    if (args.validate !== undefined) {
      const problem = validateProblem(args.validate);
      if (problem) return planFailure(problem);
    }
    const summary =
      args.state === 'absent'
        ? `remove ${edit.found} line(s) from ${args.path}`
        : `${edit.msg === 'line replaced' ? 'replace line in' : 'add line to'} ${args.path}`;
    changes.push(
      planFileEdit(cur, Buffer.from(after, 'latin1'), {
        summary: attrs.changed ? `${summary} (${describeAttributes(attrs)})` : summary,
        attributes: args,
        validate: args.validate,
        backup: args.backup,
        diffPath: args.path,
      }),
    );
  } else if (attrs.changed) {
    changes.push({
      summary: `set ${describeAttributes(attrs)} on ${args.path}`,
      commands: [{ cmd: setAttributesCommand(target.path, attrs.change) }],
      diff: stateDiff({ path: args.path, ...attrs.before }, { path: args.path, ...attrs.after }, `${args.path} (file attributes)`),
    });
  }
  if (changes.length === 0) return noop(`${args.path}: ${edit.why ?? 'nothing to change'}`, result);
  return { changes, result };
}

export default defineModule<LineinfileArgs, FileFact>({
  name: 'lineinfile',
  aliases: ['ansible.builtin.lineinfile'],
  description:
    'Ensure a particular line is in a file, or replace the last line a regular expression (Python syntax) matches; with state=absent, remove every matching line. The file is written atomically, optionally validated and backed up.',
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', aliases: ['dest', 'destfile', 'name'], description: 'The file to modify.' },
      state: { type: 'string', enum: ['absent', 'present'], default: 'present', description: 'Whether the line should be there or not.' },
      regexp: {
        type: 'string',
        aliases: ['regex'],
        description:
          'Python regular expression looked for in every line; the last match is replaced (state=present) or every match removed (absent).',
      },
      search_string: { type: 'string', description: 'Literal string looked for in every line, instead of regexp.' },
      line: { type: 'string', aliases: ['value'], description: 'The line to insert or replace (may hold backreferences with backrefs).' },
      backrefs: {
        type: 'boolean',
        default: false,
        description: 'Expand \\1 and \\g<name> in line from the regexp match; leave the file unchanged when nothing matches.',
      },
      insertafter: { type: 'string', description: "Insert after the last line matching this regexp, or 'EOF' (default) / 'BOF'." },
      insertbefore: { type: 'string', description: "Insert before the last line matching this regexp, or 'BOF'." },
      firstmatch: { type: 'boolean', default: false, description: 'insertafter / insertbefore (and regexp) use the first matching line.' },
      create: { type: 'boolean', default: false, description: 'Create the file when it does not exist.' },
      backup: { type: 'boolean', default: false, description: 'Keep a timestamped copy of the old file.' },
      validate: { type: 'string', description: 'Command run on the new file (%s is its path) before it replaces the old one.' },
      mode: { type: ['string', 'integer'], description: "Permissions: '0644', 'u=rw,g=r,o=r', or a YAML integer." },
      owner: { type: 'string', description: 'Owner name or uid.' },
      group: { type: 'string', description: 'Group name or gid.' },
      unsafe_writes: { type: 'boolean', default: false, description: 'Accepted for compatibility; writes are always atomic.' },
    },
    required: ['path'],
    mutuallyExclusive: [
      ['insertbefore', 'insertafter'],
      ['regexp', 'search_string'],
      ['backrefs', 'search_string'],
    ],
    additionalProperties: false,
  },
  examples: `- name: Ensure SELinux is set to enforcing mode
  lineinfile:
    path: /etc/selinux/config
    regexp: '^SELINUX='
    line: SELINUX=enforcing

- name: Make sure group wheel is not in the sudoers configuration
  lineinfile:
    path: /etc/sudoers
    state: absent
    regexp: '^%wheel'

- name: Ensure the default Apache port is 8080
  lineinfile:
    path: /etc/httpd/conf/httpd.conf
    regexp: '^Listen '
    insertafter: '^#Listen '
    line: Listen 8080

- name: Keep the JBoss memory settings, changing only Xms
  lineinfile:
    path: /opt/jboss-as/bin/standalone.conf
    regexp: '^(.*)Xms(\\d+)m(.*)$'
    line: '\\1Xms\${xms}m\\3'
    backrefs: yes

- name: Validate the sudoers file before saving
  lineinfile:
    path: /etc/sudoers
    regexp: '^%ADMIN ALL='
    line: '%ADMIN ALL=(ALL) NOPASSWD: ALL'
    validate: /usr/sbin/visudo -cf %s`,
  // the names of who writes matter only for an owner or group to compare with a new file's
  gather: (ctx, args) =>
    ctx.fact(fileFact, {
      path: args.path,
      content: true,
      ...(args.owner !== undefined || args.group !== undefined ? { names: 'if-missing' as const } : {}),
    }),
  plan: planLineinfile,
  async apply(ctx, changes) {
    const done = await applyFileEdits(ctx, changes);
    return done.failure ?? { result: { backup: done.backupFile ?? '' } };
  },
});
