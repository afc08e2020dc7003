// Ansible's `!unsafe` YAML tag: text that is never templated, `{{` and all. A String object, so
// that filters and string methods still work on it; the templating engine returns it as plain
// text wherever a template would be rendered (engine/expr/templar.ts).

/** A `!unsafe` value from a YAML file. */
export class UnsafeText extends String {}

export function isUnsafeText(v: unknown): v is UnsafeText {
  return v instanceof UnsafeText;
}
