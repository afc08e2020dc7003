// Jinja2's StrictUndefined as Ansible uses it: a placeholder for a missing variable, key or item.
// `is defined`, `default()` and attribute chaining accept it; any other use raises E_UNDEFINED.
import { UserError } from '../errors.js';

/** A missing variable, key or list item. Using it for anything but `is defined`/`default` is an error. */
export class Undefined {
  constructor(
    /** Ansible's message, e.g. "'foo' is undefined" or "'dict object' has no attribute 'bar'". */
    readonly message: string,
    readonly hint?: string,
    /** The variable or key that is missing. */
    readonly name?: string,
  ) {}

  /** The E_UNDEFINED error for using this value. */
  error(): UserError {
    return new UserError('E_UNDEFINED', this.message, { hint: this.hint });
  }

  /** Throws the E_UNDEFINED error. */
  fail(): never {
    throw this.error();
  }

  toString(): string {
    return this.fail();
  }

  valueOf(): never {
    return this.fail();
  }

  toJSON(): never {
    return this.fail();
  }

  [Symbol.toPrimitive](): never {
    return this.fail();
  }
}

/**
 * Jinja2's plain Undefined, the value of `a if c` when c is false (no else): it prints as '', is
 * false and iterates as empty; `is defined` and `default()` see it as undefined.
 */
export class CondExprUndefined extends Undefined {
  override toString(): string {
    return '';
  }
}

/** True for a missing variable, key or item. */
export function isUndefined(v: unknown): v is Undefined {
  return v instanceof Undefined;
}

/** `name` is not a variable. */
export function undefinedVariable(name: string): Undefined {
  return new Undefined(
    `'${name}' is undefined`,
    `define ${name} (vars, group_vars, host_vars or -e) or use {{ ${name} | default(...) }}`,
    name,
  );
}
