// Commands are data: every value interpolated into `sh` is quoted for a POSIX shell, arrays
// become separately quoted words, and secrets are kept apart so they can be masked in output.

import { secretValues } from './redact.js';

/** A value that must reach the host but never be printed (passwords, no_log values). */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    secretValues.add(value); // masked in any output, should it be echoed back (sudo, ssh errors)
  }
  /** The real value; only the connection layer should call this. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '********';
  }
  toJSON(): string {
    return '********';
  }
}

/** A piece of shell text that is inserted as is (already quoted or trusted). */
export class RawShell {
  constructor(readonly text: string) {}
}

/**
 * Where a command reads the standard input it was given, as a whole: `cat`. A command that uses
 * INPUT reads its input nowhere else, and through one INPUT at most in a run (it may stand in
 * branches of an if). A connection that can hold the input in a shell variable of the command's
 * own shell (an SSH session's subshell) has the shell print it there instead: no program started.
 * See ShellCommand.withInputIn.
 */
export class InputRef {
  private constructor() {}
  /** The one instance. */
  static readonly instance = new InputRef();
}

/** The command's standard input, read by `cat` (or printed from a variable; see InputRef). */
export const INPUT = InputRef.instance;

type Part = string | Secret | InputRef;

/** A shell command built by `sh`; `text` is what runs, `display` is what may be printed. */
export class ShellCommand {
  /**
   * @internal parts alternate trusted shell text and quoted words / secrets. `ownShell`: see
   * inOwnShell.
   */
  constructor(
    readonly parts: readonly Part[],
    readonly ownShell = false,
  ) {}

  /**
   * The same command, to be run by a /bin/sh of its own, as Ansible runs a user's shell text (a
   * `shell:` task, a reboot_command): the connection otherwise may run a command in a subshell of
   * the shell it keeps open on the host (a fork, no program started), where `$$` is that shell's
   * and the shell's error messages say `eval:`. A command built with a part that runs in its own
   * shell runs in its own shell.
   */
  inOwnShell(): ShellCommand {
    return this.ownShell ? this : new ShellCommand(this.parts, true);
  }

  /** The command line as the host's shell will run it (secrets revealed). */
  get text(): string {
    return this.parts.map((p) => (p instanceof Secret ? quote(p.reveal()) : p instanceof InputRef ? 'cat' : p)).join('');
  }

  /** The command line safe for output and logs (secrets masked). */
  get display(): string {
    return this.parts.map((p) => (p instanceof Secret ? '********' : p instanceof InputRef ? 'cat' : p)).join('');
  }

  /** True when the command reads its standard input through INPUT (see there). */
  get readsInput(): boolean {
    return this.parts.some((p) => p instanceof InputRef);
  }

  /** The text, with the input printed from a shell variable instead of read by `cat` (no program). */
  withInputIn(variable: string): string {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) throw new Error(`not a shell variable name: ${variable}`);
    return this.parts
      .map((p) => (p instanceof Secret ? quote(p.reveal()) : p instanceof InputRef ? `printf %s "$${variable}"` : p))
      .join('');
  }

  toString(): string {
    return this.display;
  }

  toJSON(): string {
    return this.display;
  }
}

/** Quote one word for a POSIX shell. */
export function quote(value: string): string {
  if (value === '') return "''";
  if (/^[A-Za-z0-9_\-.,:/@%+=]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function interpolate(value: unknown, out: Part[]): boolean {
  if (value instanceof ShellCommand) {
    out.push(...value.parts);
    return value.ownShell;
  } else if (value instanceof RawShell) {
    out.push(value.text);
  } else if (value instanceof Secret || value instanceof InputRef) {
    out.push(value);
  } else if (Array.isArray(value)) {
    let own = false;
    value.forEach((v, i) => {
      if (i > 0) out.push(' ');
      own = interpolate(v, out) || own;
    });
    return own;
  } else if (value === undefined || value === null) {
    throw new TypeError('sh: cannot interpolate undefined or null into a command');
  } else {
    out.push(quote(String(value)));
  }
  return false;
}

/**
 * Tagged template that builds a ShellCommand. Interpolated values are quoted; arrays become
 * separate words; nested ShellCommands and `raw()` are inserted unquoted.
 *
 *     sh`iptables -t ${table} -C ${chain} ${ruleArgs}`
 */
export function sh(strings: TemplateStringsArray, ...values: unknown[]): ShellCommand {
  const parts: Part[] = [];
  let own = false;
  strings.forEach((s, i) => {
    parts.push(s);
    if (i < values.length) own = interpolate(values[i], parts) || own;
  });
  return new ShellCommand(mergeText(parts), own);
}

/** Trusted shell text, inserted into `sh` without quoting (e.g. a free-form `shell:` task). */
export function raw(text: string): RawShell {
  return new RawShell(text);
}

/** Join several commands with a shell operator, e.g. `joinCommands([a, b], ' && ')`. */
export function joinCommands(commands: readonly ShellCommand[], separator: string): ShellCommand {
  const parts: Part[] = [];
  commands.forEach((c, i) => {
    if (i > 0) parts.push(separator);
    parts.push(...c.parts);
  });
  return new ShellCommand(
    mergeText(parts),
    commands.some((c) => c.ownShell),
  );
}

function mergeText(parts: Part[]): Part[] {
  const merged: Part[] = [];
  for (const p of parts) {
    const last = merged[merged.length - 1];
    if (typeof p === 'string' && typeof last === 'string') merged[merged.length - 1] = last + p;
    else if (p !== '') merged.push(p);
  }
  return merged;
}

/** Split a command line into words as a POSIX shell (and Python's shlex) would, without expansion. */
export function shellSplit(text: string): string[] {
  return splitWords(text, 'shell');
}

/**
 * Split Ansible's `k=v` argument text into words as its split_args does: on whitespace outside
 * quotes and {{ }} / {% %} / {# #} blocks, each word as written (quotes and backslashes kept).
 */
export function splitArgs(text: string): string[] {
  return splitWords(text, 'ansible');
}

// The one word splitter, in two dialects. 'shell' is POSIX quoting: quotes are removed, a
// backslash escapes any character outside quotes and only " \ $ ` and newline inside double
// quotes, nothing inside single quotes, and an unclosed quote is an error. 'ansible' is
// split_args: words keep their quotes, a backslash inside quotes keeps the next character in the
// quote (\' included), Jinja2 blocks are never split, and an unclosed quote runs to the end.
function splitWords(text: string, dialect: 'shell' | 'ansible'): string[] {
  const shell = dialect === 'shell';
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: string | null = null;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (!shell) {
      const two = text.slice(i, i + 2);
      if (quote === null && (two === '{{' || two === '{%' || two === '{#')) {
        depth++;
        cur += two;
        i++;
        inWord = true;
        continue;
      }
      if (depth > 0 && (two === '}}' || two === '%}' || two === '#}')) {
        depth--;
        cur += two;
        i++;
        continue;
      }
      if (depth > 0) {
        cur += c;
        continue;
      }
    }
    if (quote !== null) {
      if (c === quote) {
        quote = null;
        if (!shell) cur += c;
      } else if (c === '\\' && i + 1 < text.length && (!shell || (quote === '"' && '"\\$`\n'.includes(text[i + 1]!)))) {
        cur += shell ? text[++i] : c + text[++i];
      } else {
        cur += c;
      }
    } else if (c === '"' || c === "'") {
      quote = c;
      if (!shell) cur += c;
      inWord = true;
    } else if (shell && c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (shell && quote !== null) throw new SyntaxError(`No closing quotation in: ${text}`);
  if (inWord) words.push(cur);
  return words;
}

/**
 * A shell assignment of a path expanded on the host as Ansible expands its path arguments there
 * (Python's expandvars, then expanduser): $NAME and ${NAME} of the environment, an unset one kept
 * as written, and a leading ~ or ~user.
 */
export function assignPath(variable: string, path: string): ShellCommand {
  let text = '';
  let rest = path;
  const tilde = /^~[A-Za-z0-9._-]*(?=\/|$)/.exec(path);
  if (tilde) {
    // unquoted up to the first slash, so that the shell expands it
    text += tilde[0] + (path[tilde[0].length] === '/' ? '/' : '');
    rest = path.slice(text.length);
  }
  const fallbacks: string[] = [];
  let last = 0;
  for (const m of rest.matchAll(/\$(\w+|\{([^}]*)\})/g)) {
    const name = m[2] ?? m[1]!;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) continue;
    if (m.index > last) text += quote(rest.slice(last, m.index));
    fallbacks.push(`__tsplay_v${fallbacks.length + 1}=${quote(m[0])}; `);
    text += `"\${${name}-$__tsplay_v${fallbacks.length}}"`;
    last = m.index + m[0].length;
  }
  if (last < rest.length || text === '') text += quote(rest.slice(last));
  return sh`${raw(`${fallbacks.join('')}${variable}=${text}`)}`;
}
