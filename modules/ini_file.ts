// ini_file: one option (or a whole section) of an INI file kept present or absent, with the rules
// of community.general.ini_file as shipped with ansible 7 / ansible-core 2.14 (collection 6.6):
// where a new option goes (after the section's last line that is not blank or a comment), what
// "exclusive" removes, `option = value` (or `option=value` with no_extra_spaces), options with no
// value. The file is read in the gather, edited in the plan, and written back atomically.
import {
  applyFileEdits,
  defineModule,
  describeAttributes,
  fileFact,
  followed,
  type ModeSpec,
  noop,
  planFailure,
  planEditAttributes,
  planFileEdit,
  setAttributesCommand,
  stateDiff,
  type Change,
  type FileFact,
  type Plan,
} from '../engine/index.js';

/** ini_file's arguments, complete after validation. */
export interface IniFileArgs {
  path: string;
  section?: string;
  option?: string;
  value?: string;
  values?: string[];
  state: 'present' | 'absent';
  exclusive: boolean;
  no_extra_spaces: boolean;
  allow_no_value: boolean;
  ignore_spaces: boolean;
  create: boolean;
  backup: boolean;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
  unsafe_writes: boolean;
}

/** What the edit did: the new text, whether it differs, and the module's msg. */
export interface IniEdit {
  text: string;
  changed: boolean;
  msg: string;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

// The option's line, commented out (# or ;) or not; group 2 is the value (Python's re.match on the
// line, whose final \n is left out here so that `$` means what it means there).
function matchOption(option: string, line: string, activeOnly = false): RegExpExecArray | null {
  const body = line.endsWith('\n') ? line.slice(0, -1) : line;
  return new RegExp(`^${activeOnly ? '' : '[#;]?'}[ \\t]*(${escapeRegex(option)})[ \\t]*(?:=|$)[ \\t]*([^\\n]*)`).exec(body);
}

const blankOrComment = /^[ \t]*([#;][^\n]*)?\n?$/;

// A name nothing in a file matches: the lines before the first section are handled as its body.
const TOP = 'ad01e11446efb704fcdbdb21f2c43757423d91c5';

/**
 * The file's new text (`original` undefined for a missing file), as ini_file computes it: the
 * section's option lines matching a wanted value are kept (rewritten in the module's format),
 * with `exclusive` the other lines of the option are given the remaining values or removed, and
 * the values still missing are added after the section's last meaningful line; a missing section
 * is appended at the end. Line ends come out as \n (Python reads the file with universal newlines).
 */
export function editIni(original: string | undefined, args: IniFileArgs): IniEdit {
  const option = args.option === undefined || args.option === '' ? undefined : args.option;
  const section = args.section === undefined || args.section === '' ? TOP : args.section;
  const { state, exclusive, allow_no_value: allowNoValue } = args;
  const values: string[] = [];
  for (const v of args.value !== undefined ? [args.value] : (args.values ?? [])) if (!values.includes(v)) values.push(v);
  const format = (o: string, v: string) => (args.no_extra_spaces ? `${o}=${v}\n` : `${o} = ${v}\n`);

  const text = (original ?? '').replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const lines: string[] = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  let changed = false;
  let msg = 'OK';
  if (lines.length === 0) lines.push('\n');
  if (!lines[lines.length - 1]!.endsWith('\n')) {
    lines[lines.length - 1] += '\n';
    changed = true;
  }
  lines.unshift(`[${TOP}]`);
  lines.push('[');

  let within = false;
  let start = 0;
  let end = 0;
  for (const [i, line] of lines.entries()) {
    if (line.startsWith(`[${section}]`)) {
      within = true;
      start = i;
    } else if (line.startsWith('[') && within) {
      end = i;
      break;
    }
  }
  const before = lines.slice(0, start);
  let body = lines.slice(start, end);
  const after = lines.slice(end);
  const touched = body.map(() => false);
  let noValuePresent = false;

  const replaceLine = (i: number, newline: string) => {
    let differs = body[i] !== newline;
    if (differs && args.ignore_spaces) {
      const old = matchOption(option!, body[i]!, true);
      const wanted = matchOption(option!, newline, true);
      if (old && wanted && old[2] === wanted[2]) differs = false;
    }
    if (differs) {
      changed = true;
      msg = 'option changed';
      body[i] = newline;
    }
    touched[i] = true;
  };

  if (state === 'present' && option !== undefined) {
    for (let i = 0; i < body.length; i++) {
      const m = matchOption(option, body[i]!);
      if (!m) continue;
      const value = m[2]!;
      if (values.length > 0 && values.includes(value)) {
        if (value === '' && allowNoValue) {
          replaceLine(i, `${option}\n`);
          noValuePresent = true;
        } else replaceLine(i, format(option, value));
        values.splice(values.indexOf(value), 1);
      } else if (values.length === 0 && allowNoValue) {
        replaceLine(i, `${option}\n`);
        noValuePresent = true;
        break;
      }
    }
  }

  if (state === 'present' && exclusive && !allowNoValue && option !== undefined) {
    if (values.length > 0) {
      for (let i = 0; i < body.length; i++) {
        if (touched[i] || !matchOption(option, body[i]!)) continue;
        replaceLine(i, format(option, values.shift()!));
        if (values.length === 0) break;
      }
    }
    for (let i = body.length - 1; i > 0; i--) {
      if (touched[i] || !matchOption(option, body[i]!)) continue;
      body.splice(i, 1);
      touched.splice(i, 1);
      changed = true;
      msg = 'option changed';
    }
  }

  if (state === 'present') {
    for (let i = body.length; i > 0; i--) {
      if (blankOrComment.test(body[i - 1]!)) continue;
      if (option !== undefined && values.length > 0) {
        body.splice(i, 0, ...values.map((v) => format(option, v)));
        msg = 'option added';
        changed = true;
      } else if (option !== undefined && values.length === 0 && allowNoValue && !noValuePresent) {
        body.splice(i, 0, `${option}\n`);
        msg = 'option added';
        changed = true;
      }
      break;
    }
  }

  if (state === 'absent') {
    if (option !== undefined) {
      const kept = body.filter((line) => {
        const m = matchOption(option, line, true);
        if (!m) return true;
        return exclusive ? false : !values.includes(m[2]!);
      });
      if ((exclusive || values.length > 0) && kept.length !== body.length) {
        body = kept;
        changed = true;
        msg = 'option changed';
      }
    } else if (body.length > 0) {
      body = [];
      msg = 'section removed';
      changed = true;
    }
  }

  const result = [...before, ...body, ...after].slice(1, -1);
  if (!within && state === 'present') {
    result.push(`[${section}]\n`);
    msg = 'section and option added';
    if (option !== undefined && values.length > 0) result.push(...values.map((v) => format(option, v)));
    else if (option !== undefined && allowNoValue) result.push(`${option}\n`);
    else msg = 'only section added';
    changed = true;
  }
  return { text: result.join(''), changed, msg };
}

/** The plan of ini_file: pure, from the probed file and the arguments. */
export function planIniFile(cur: FileFact, args: IniFileArgs): Plan {
  if (args.state === 'present' && !args.allow_no_value && args.value === undefined && (args.values ?? []).length === 0)
    return planFailure("Parameter 'value(s)' must be defined if state=present and allow_no_value=False.");
  const target = followed(cur);
  if (target.stat?.type === 'directory') return planFailure(`Path ${args.path} is a directory`);
  if (!target.exists && !args.create) return planFailure(`Destination ${args.path} does not exist!`, { rc: 257 });
  if (target.exists && (cur.content === undefined || cur.unreadable)) return planFailure(`Path ${args.path} is not readable`);
  const original = target.exists ? Buffer.from(cur.content!, 'base64').toString('utf8') : undefined;
  const edit = editIni(original, args);
  const result = { msg: edit.msg, path: args.path };
  const attrs = planEditAttributes(cur, args);
  if ('error' in attrs) return planFailure(attrs.error);
  const changes: Change[] = [];
  if (edit.changed) {
    const what = args.state === 'absent' ? 'remove' : 'set';
    const where = args.section ? `[${args.section}]` : 'the top';
    changes.push(
      planFileEdit(cur, Buffer.from(edit.text, 'utf8'), {
        summary: `${what} ${args.option ?? 'section'} in ${where} of ${args.path}${attrs.changed ? ` (${describeAttributes(attrs)})` : ''}`,
        attributes: args,
        backup: args.backup,
        diffPath: `${args.path} (content)`,
      }),
    );
  } else if (attrs.changed && target.exists) {
    changes.push({
      summary: `set ${describeAttributes(attrs)} on ${args.path}`,
      commands: [{ cmd: setAttributesCommand(target.path, attrs.change) }],
      diff: stateDiff({ path: args.path, ...attrs.before }, { path: args.path, ...attrs.after }, `${args.path} (file attributes)`),
    });
  }
  if (changes.length === 0) return noop(`${args.path}: ${edit.msg === 'OK' ? 'already as asked' : edit.msg}`, result);
  return { changes, result };
}

export default defineModule<IniFileArgs, FileFact>({
  name: 'ini_file',
  aliases: ['community.general.ini_file', 'ansible.builtin.ini_file'],
  description:
    "Keep an option of an INI file present (as 'option = value') or absent, or a whole section absent, as community.general.ini_file does. New options go after the section's last line that is not blank or a comment; a missing section is appended. The file is written atomically, optionally backed up.",
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', aliases: ['dest'], description: 'The INI file to modify (created when missing, unless create is false).' },
      section: { type: 'string', description: 'The [section]; left out (or null): the lines before the first section.' },
      option: { type: 'string', description: 'The option; left out: state=absent removes the whole section.' },
      value: { type: 'string', description: 'The value of the option.' },
      values: { type: 'array', items: { type: 'string' }, description: 'Several values, one line each (mutually exclusive with value).' },
      state: { type: 'string', enum: ['absent', 'present'], default: 'present', description: 'Whether the option should be there or not.' },
      exclusive: {
        type: 'boolean',
        default: true,
        description: 'present: remove the option lines with other values; absent: remove every line of the option, whatever its value.',
      },
      no_extra_spaces: { type: 'boolean', default: false, description: "Write 'option=value' instead of 'option = value'." },
      allow_no_value: { type: 'boolean', default: false, description: 'Allow an option with no value (a line holding only its name).' },
      ignore_spaces: {
        type: 'boolean',
        default: false,
        description: 'Leave a line alone when rewriting it would only change the spaces around the = sign.',
      },
      create: { type: 'boolean', default: true, description: 'Create the file when it does not exist.' },
      backup: { type: 'boolean', default: false, description: 'Keep a timestamped copy of the old file.' },
      mode: { type: ['string', 'integer'], description: "Permissions: '0644', 'u=rw,g=r,o=r', or a YAML integer." },
      owner: { type: 'string', description: 'Owner name or uid.' },
      group: { type: 'string', description: 'Group name or gid.' },
      unsafe_writes: { type: 'boolean', default: false, description: 'Accepted for compatibility; writes are always atomic.' },
    },
    required: ['path'],
    mutuallyExclusive: [['value', 'values']],
    additionalProperties: false,
  },
  examples: `- name: Let Docker's daemon use the registry mirror
  community.general.ini_file:
    path: /etc/containerd/config.ini
    section: registry
    option: mirror
    value: http://10.213.1.1:5000
    mode: '0600'

- name: Remove an option
  ini_file:
    path: /etc/app.ini
    section: main
    option: debug
    state: absent`,
  gather: (ctx, args) =>
    ctx.fact(fileFact, {
      path: args.path,
      content: true,
      ...(args.owner !== undefined || args.group !== undefined ? { names: 'if-missing' as const } : {}),
    }),
  plan: planIniFile,
  async apply(ctx, changes) {
    const done = await applyFileEdits(ctx, changes);
    return done.failure ?? { result: done.backupFile ? { backup_file: done.backupFile } : {} };
  },
});
