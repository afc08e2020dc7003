// Module arguments are checked once, at the boundary, with one shared ajv instance: aliases are
// renamed, Ansible's loose scalars coerced ('yes' -> true, '2222' -> 2222), defaults filled, and
// errors phrased the way Ansible users know them.
import type { Ajv, ErrorObject, Options, ValidateFunction } from 'ajv';
import type { AnyModuleDefinition, ModuleDefinition } from '../module.js';
import { ownRequire } from '../paths.js';

/**
 * What loading a playbook needs of the module registry (engine/run/registry.ts, which the CLI
 * passes in): a task's key resolved to its module, and names close to an unknown one.
 */
export interface ModuleLookup {
  has(name: string): boolean;
  get(name: string): { def: AnyModuleDefinition } | undefined;
  suggest(name: string): string[];
}

/** The options of the one ajv instance (also used to precompile the built-in modules' validators). */
export const AJV_OPTIONS: Options = {
  useDefaults: true,
  allErrors: true,
  strict: true,
  allowUnionTypes: true,
  // Non-standard keywords our schemas carry; checked by checkArgs itself.
  keywords: ['aliases', 'mutuallyExclusive', 'requiredOneOf'],
};

let ajv: Ajv | undefined;
let precompiled: Record<string, ValidateFunction> | undefined;

// The build compiles the built-in modules' schemas into dist/modules/validators.cjs, keyed by the
// schema's JSON text (see engine/build/compile-validators.ts): a run then loads and compiles no
// ajv at all unless a custom module, or a schema changed since the build, needs it.
function validatorFor(schema: object): ValidateFunction {
  if (!precompiled) {
    try {
      precompiled = ownRequire('../modules/validators.cjs').validators as Record<string, ValidateFunction>;
    } catch {
      precompiled = {}; // running from the sources
    }
  }
  const ready = precompiled[JSON.stringify(schema)];
  if (ready) return ready;
  ajv ??= new (ownRequire('ajv').Ajv as typeof Ajv)(AJV_OPTIONS);
  return ajv.compile(schema);
}

const compiled = new WeakMap<object, ValidateFunction>();

interface PropertySchema {
  type?: string | string[];
  aliases?: string[];
  enum?: unknown[];
  items?: PropertySchema;
  default?: unknown;
}

type Schema = ModuleDefinition['schema'] & {
  required?: string[];
  mutuallyExclusive?: string[][];
  requiredOneOf?: string[][];
};

/** Outcome of checking a task's arguments against its module's schema. */
/** The checked arguments, or Ansible's message and (when one is to blame) the argument's name as written. */
export type ArgsCheck = { ok: true; args: Record<string, unknown> } | { ok: false; message: string; arg?: string };

const TRUE = new Set(['yes', 'on', '1', 'true', 't', 'y']);
const FALSE = new Set(['no', 'off', '0', 'false', 'f', 'n']);

/** Check and complete `raw` against the module's schema (raw is not modified). */
export function checkArgs(module: AnyModuleDefinition, raw: Record<string, unknown>): ArgsCheck {
  const schema = module.schema as Schema;
  // a schema without properties takes any arguments (unless additionalProperties: false)
  const props = (schema.properties ?? {}) as Record<string, PropertySchema>;
  const aliasOf = new Map<string, string>();
  for (const [name, p] of Object.entries(props)) for (const a of p.aliases ?? []) aliasOf.set(a, name);

  const args: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const canonical = key in props ? key : aliasOf.get(key);
    if (canonical === undefined) {
      unknown.push(key);
      continue;
    }
    if (canonical in args && canonical !== key) continue; // the canonical name wins over its alias
    args[canonical] = value;
  }
  if (schema.additionalProperties !== false) {
    for (const key of unknown) args[key] = raw[key];
    unknown.length = 0;
  }
  if (unknown.length > 0) {
    return {
      ok: false,
      arg: [...unknown].sort()[0],
      message:
        `Unsupported parameters for (${module.name}) module: ${unknown.sort().join(', ')}. ` +
        `Supported parameters include: ${supportedList(props)}.`,
    };
  }
  for (const group of schema.mutuallyExclusive ?? []) {
    const given = group.filter((k) => args[k] !== undefined && args[k] !== null);
    if (given.length > 1) return { ok: false, message: `parameters are mutually exclusive: ${group.join('|')}` };
  }
  for (const group of schema.requiredOneOf ?? []) {
    if (!group.some((k) => args[k] !== undefined && args[k] !== null)) {
      return { ok: false, message: `one of the following is required: ${group.join(', ')}` };
    }
  }
  for (const [key, value] of Object.entries(args)) {
    // `key:` with no value means "not given", as in Ansible; a module that takes any key
    // (set_fact) gets it as None
    if (value === null && props[key] && props[key].type !== 'null') {
      delete args[key];
      continue;
    }
    if (!props[key]) continue; // an extra key of a module that takes any (set_fact)
    const coerced = coerce(value, props[key]!);
    if (coerced.error) return { ok: false, message: `argument '${key}' ${coerced.error}`, arg: writtenAs(key, raw, aliasOf) };
    args[key] = coerced.value;
  }

  let validate = compiled.get(schema);
  if (!validate) {
    validate = validatorFor(schema);
    compiled.set(schema, validate);
  }
  if (!validate(args)) {
    const errors = validate.errors ?? [];
    const first = errors.find((x) => x.keyword === 'enum') ?? errors[0];
    const top = first && first.keyword !== 'required' ? first.instancePath.split('/')[1] : undefined;
    return { ok: false, message: describeErrors(errors, args), ...(top ? { arg: writtenAs(top, raw, aliasOf) } : {}) };
  }
  return { ok: true, args };
}

// The key the user wrote for a canonical argument (it may be an alias).
function writtenAs(canonical: string, raw: Record<string, unknown>, aliasOf: Map<string, string>): string {
  if (canonical in raw) return canonical;
  return Object.keys(raw).find((k) => aliasOf.get(k) === canonical) ?? canonical;
}

/** "attributes, backup, path (dest, destfile, name), ..." as in Ansible's message. */
function supportedList(props: Record<string, PropertySchema>): string {
  return Object.keys(props)
    .sort()
    .map((k) => (props[k]!.aliases?.length ? `${k} (${[...props[k]!.aliases!].sort().join(', ')})` : k))
    .join(', ');
}

function typesOf(p: PropertySchema): string[] {
  return p.type === undefined ? [] : Array.isArray(p.type) ? p.type : [p.type];
}

// Ansible converts loose scalars to the declared type; JSON Schema alone would reject them.
function coerce(value: unknown, p: PropertySchema): { value?: unknown; error?: string } {
  const types = typesOf(p);
  if (types.length === 0) return { value };
  const t = typeof value;
  if (types.includes('boolean') && !types.includes(jsonType(value))) {
    if (t === 'string' || t === 'number') {
      const s = String(value).toLowerCase();
      if (TRUE.has(s)) return { value: true };
      if (FALSE.has(s)) return { value: false };
    }
    if (types.length === 1) {
      return {
        error: `is of type ${pyType(value)} and we were unable to convert to bool: The value '${String(value)}' is not a valid boolean. Valid booleans include: 'yes', 'no', 'true', 'false', 'on', 'off', '1', '0'`,
      };
    }
  }
  if ((types.includes('integer') || types.includes('number')) && t === 'string' && !types.includes('string')) {
    const n = Number(value);
    if ((value as string).trim() !== '' && Number.isFinite(n) && (types.includes('number') || Number.isInteger(n))) {
      return { value: n };
    }
    return {
      error: `is of type str and we were unable to convert to ${types.includes('integer') ? 'int' : 'float'}: '${String(value)}' cannot be converted`,
    };
  }
  if (types.includes('string') && !types.includes(jsonType(value)) && (t === 'number' || t === 'boolean')) {
    return { value: t === 'boolean' ? (value ? 'True' : 'False') : String(value) };
  }
  if (types.includes('array') && !Array.isArray(value) && !types.includes(jsonType(value))) {
    if (t === 'string') {
      const s = value as string;
      return { value: s === '' ? [] : s.split(',').map((x) => x.trim()) };
    }
    if (t === 'number' || t === 'boolean') return { value: [coerceItem(value, p.items)] };
  }
  if (types.includes('array') && Array.isArray(value) && p.items) {
    const out: unknown[] = [];
    for (const item of value) {
      const c = coerce(item, p.items);
      if (c.error) return { error: `element ${c.error}` };
      out.push(c.value);
    }
    return { value: out };
  }
  return { value };
}

function coerceItem(value: unknown, items: PropertySchema | undefined): unknown {
  return items && typesOf(items).includes('string') ? String(value) : value;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function pyType(v: unknown): string {
  const t = jsonType(v);
  return (
    {
      string: "<class 'str'>",
      integer: "<class 'int'>",
      number: "<class 'float'>",
      boolean: "<class 'bool'>",
      array: "<class 'list'>",
      object: "<class 'dict'>",
      null: "<class 'NoneType'>",
    } as Record<string, string>
  )[t]!;
}

function argName(e: ErrorObject): string {
  return e.instancePath.replace(/^\//, '').replace(/\//g, '.');
}

function describeErrors(errors: ErrorObject[], args: Record<string, unknown>): string {
  const missing = errors.filter((e) => e.keyword === 'required' && e.instancePath === '');
  if (missing.length > 0) {
    return `missing required arguments: ${missing
      .map((e) => (e.params as { missingProperty: string }).missingProperty)
      .sort()
      .join(', ')}`;
  }
  const e = errors.find((x) => x.keyword === 'enum') ?? errors[0]!;
  const name = argName(e);
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
    const got = name.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], args);
    return `value of ${name} must be one of: ${allowed.join(', ')}, got: ${String(got)}`;
  }
  if (e.keyword === 'type') {
    const got = name.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], args);
    return `argument '${name}' is of type ${pyType(got)} and we were unable to convert to ${String((e.params as { type: string }).type)}`;
  }
  return name ? `argument '${name}' ${e.message}` : `arguments ${e.message}`;
}

/** Move the free-form text to the module's free-form argument. */
export function prepareArgs(def: { name: string; freeForm?: string }, args: Record<string, unknown>): Record<string, unknown> {
  if (!('_raw_params' in args)) return args;
  const { _raw_params, ...rest } = args;
  if (!def.freeForm) return args;
  return { [def.freeForm]: _raw_params, ...rest };
}
