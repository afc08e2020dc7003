// Error classes with stable codes. Three tiers are printed differently by the CLI:
// UserError (one line, no stack), ModuleCrash (stack into the user's module), anything else (bug).

/** A place in a source file, 1-based. */
export interface SourceLocation {
  file: string;
  line?: number;
  col?: number;
}

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  let s = loc.file;
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.line !== undefined && loc.col !== undefined) s += `:${loc.col}`;
  return s;
}

export type ErrorCode =
  | 'E_YAML'
  | 'E_PLAYBOOK'
  | 'E_INVENTORY'
  | 'E_VARS'
  | 'E_TEMPLATE'
  | 'E_UNDEFINED'
  | 'E_UNKNOWN_MODULE'
  | 'E_MODULE_ARGS'
  | 'E_OPTIONS'
  | 'E_FILE_NOT_FOUND'
  | 'E_VAULT'
  | 'E_CONNECTION'
  | 'E_MODULE';

/** A mistake in the user's input: printed as one line with location and hint, no stack. */
export class UserError extends Error {
  readonly code: ErrorCode;
  readonly location?: SourceLocation;
  readonly hint?: string;
  /** A task failing with it shows the message alone, as Ansible shows a filter's own error (mandatory('msg')). */
  readonly alone?: boolean;
  constructor(code: ErrorCode, message: string, opts: { location?: SourceLocation; hint?: string; cause?: unknown; alone?: boolean } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'UserError';
    this.code = code;
    this.location = opts.location;
    this.hint = opts.hint;
    if (opts.alone) this.alone = true;
  }

  /** "file:line:col: message (hint)" */
  format(): string {
    const where = formatLocation(this.location);
    let s = where ? `${where}: ${this.message}` : this.message;
    if (this.hint) s += `\n  hint: ${this.hint}`;
    return s;
  }

  /** Copy of this error placed at `location` if it has none yet. */
  at(location: SourceLocation | undefined): UserError {
    if (this.location || !location) return this;
    const e = new UserError(this.code, this.message, { location, hint: this.hint, cause: this.cause, alone: this.alone });
    return e;
  }
}

/** Bad command-line options: exit code 5. */
export class OptionsError extends UserError {
  constructor(message: string, hint?: string) {
    super('E_OPTIONS', message, { hint });
    this.name = 'OptionsError';
  }
}

/** A host could not be reached (connect, auth, host key). */
export class UnreachableError extends Error {
  readonly code = 'E_CONNECTION' as const;
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'UnreachableError';
  }
}

/** An exception thrown inside a module (a custom one, or a built-in: a bug of tsplay's): the task fails with its stack. */
export class ModuleCrash extends Error {
  readonly code = 'E_MODULE' as const;
  constructor(
    readonly moduleName: string,
    readonly moduleFile: string | undefined,
    cause: unknown,
    readonly builtin = false,
  ) {
    const what = cause instanceof Error ? cause.message : String(cause);
    super(
      builtin
        ? `internal error in tsplay's module ${moduleName}: ${what} (this is a bug in tsplay; please report it with the task and the exception in this result)`
        : `module ${moduleName} raised ${what}`,
      { cause },
    );
    this.name = 'ModuleCrash';
  }
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}
