// validate_argument_spec: check variables against an argument spec, as Ansible's role argument
// validation does (the task a role with meta/argument_specs.yml starts with). Runs on the
// controller: the values are the task's variables named by the spec, overridden by
// provided_arguments (a role's parameters). Messages are Ansible's (ArgumentSpecValidator).
import { defineModule, noop, planFailure } from '../engine/index.js';

interface Args {
  argument_spec: Record<string, unknown>;
  provided_arguments: Record<string, unknown>;
  validate_args_context: Record<string, unknown>;
}

type Spec = {
  type?: string;
  required?: boolean;
  choices?: unknown[];
  elements?: string;
  options?: Record<string, Spec>;
  aliases?: string[];
  default?: unknown;
};

// Python's names for the types a YAML value has, as Ansible's messages print them.
function pyType(v: unknown): string {
  if (typeof v === 'string') return "<class 'str'>";
  if (typeof v === 'boolean') return "<class 'bool'>";
  if (typeof v === 'number') return Number.isInteger(v) ? "<class 'int'>" : "<class 'float'>";
  if (Array.isArray(v)) return "<class 'list'>";
  if (v === null || v === undefined) return "<class 'NoneType'>";
  return "<class 'dict'>";
}

const TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't', '1.0']);
const FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f', '0.0']);

class Unconvertible extends Error {}

// module_utils/common/validation.py's check_type_* for the types role specs use
function convert(type: string, v: unknown): unknown {
  const cannot = (what: string): never => {
    throw new Unconvertible(`${pyType(v)} cannot be converted to ${what}`);
  };
  switch (type) {
    case 'str':
    case 'path':
      return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    case 'int':
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) return Number.parseInt(v, 10);
      return cannot('an int');
    case 'float':
      if (typeof v === 'number') return v;
      if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
      return cannot('a float');
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string' || typeof v === 'number') {
        const s = String(v).toLowerCase();
        if (TRUE.has(s)) return true;
        if (FALSE.has(s)) return false;
      }
      return cannot('a bool');
    case 'list':
      if (Array.isArray(v)) return v;
      if (typeof v === 'string') return v.split(',');
      if (typeof v === 'number') return [String(v)];
      return cannot('a list');
    case 'dict':
      if (v && typeof v === 'object' && !Array.isArray(v)) return v;
      if (typeof v === 'string' && v.trim().startsWith('{')) {
        try {
          return JSON.parse(v);
        } catch {
          return cannot('a dict');
        }
      }
      return cannot('a dict');
    case 'raw':
      return v;
    case 'jsonarg':
    case 'json':
      return typeof v === 'string' ? v : JSON.stringify(v);
    default:
      return v;
  }
}

/** Ansible's error messages for these values against this spec (empty when they pass). */
export function validateArguments(spec: Record<string, Spec>, values: Record<string, unknown>, context: string[] = []): string[] {
  // in ArgumentSpecValidator's order: required, then every type, then every value, then sub-options;
  // unsupported names last
  const errors: string[] = [];
  const found = context.length ? ` found in ${context.join(' -> ')}` : '';
  const missing = Object.entries(spec)
    .filter(([k, s]) => s?.required && values[k] === undefined)
    .map(([k]) => k)
    .sort();
  if (missing.length) errors.push(`missing required arguments: ${missing.join(', ')}${found}`);
  const converted: Record<string, unknown> = {};
  for (const [k, s0] of Object.entries(spec)) {
    const s = s0 ?? {};
    const v = values[k];
    if (v === undefined || v === null) continue;
    const type = s.type ?? 'str';
    let c: unknown;
    try {
      c = convert(type, v);
    } catch (e) {
      if (!(e instanceof Unconvertible)) throw e;
      errors.push(`argument '${k}' is of type ${pyType(v)}${found} and we were unable to convert to ${type}: ${e.message}`);
      continue;
    }
    if (s.elements && Array.isArray(c)) {
      const out: unknown[] = [];
      for (const el of c) {
        try {
          out.push(convert(s.elements, el));
        } catch (e) {
          if (!(e instanceof Unconvertible)) throw e;
          errors.push(
            `Elements value for option '${k}'${found} is of type ${pyType(el)} and we were unable to convert to ${s.elements}: ${e.message}`,
          );
        }
      }
      c = out;
    }
    converted[k] = c;
  }
  for (const [k, s0] of Object.entries(spec)) {
    const v = converted[k];
    if (v === undefined || !Array.isArray(s0?.choices)) continue;
    const choices = s0.choices.map(String);
    const bad = (Array.isArray(v) ? v : [v]).filter((x) => !choices.includes(String(x)));
    if (bad.length === 0) continue;
    errors.push(
      Array.isArray(v)
        ? `value of ${k} must be one or more of: ${choices.join(', ')}. Got no match for: ${bad.map(String).join(', ')}${found}`
        : `value of ${k} must be one of: ${choices.join(', ')}, got: ${String(v)}${found}`,
    );
  }
  for (const [k, s0] of Object.entries(spec)) {
    const v = converted[k];
    if (!s0?.options || v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) {
      if (item && typeof item === 'object' && !Array.isArray(item))
        errors.push(...validateArguments(s0.options, item as Record<string, unknown>, [...context, k]));
    }
  }
  const unsupported = Object.keys(values)
    .filter((k) => !(k in spec))
    .sort();
  if (unsupported.length) errors.push(`${unsupported.join(', ')}. Supported parameters include: ${Object.keys(spec).sort().join(', ')}.`);
  return errors;
}

export default defineModule<Args, { values: Record<string, unknown> }>({
  name: 'validate_argument_spec',
  aliases: ['ansible.builtin.validate_argument_spec'],
  description: 'Validate variables against an argument spec (what a role with meta/argument_specs.yml checks first).',
  schema: {
    type: 'object',
    properties: {
      argument_spec: { type: 'object', description: 'The options of the spec: name -> {type, required, choices, elements, options}.' },
      provided_arguments: { type: 'object', default: {}, description: 'Values that override the variables of the same names.' },
      validate_args_context: { type: 'object', default: {}, description: 'What is validated (shown in the result).' },
    },
    required: ['argument_spec'],
    additionalProperties: false,
  },
  examples: `- validate_argument_spec:
    argument_spec:
      http_port: { type: int, required: true }
    provided_arguments:
      http_port: 8080`,
  async gather(ctx, args) {
    // the spec's names, looked up in the task's variables (templated as Ansible does)
    const values: Record<string, unknown> = {};
    for (const name of Object.keys(args.argument_spec)) {
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && ctx.evaluate(`${name} is defined`) === true) values[name] = ctx.evaluate(name);
    }
    return { values: { ...values, ...args.provided_arguments } };
  },
  plan(state, args) {
    const errors = validateArguments(args.argument_spec as Record<string, Spec>, state.values);
    if (errors.length) {
      return planFailure(`Validation of arguments failed:\n${errors.join('\n')}`, {
        argument_errors: errors,
        argument_spec_data: args.argument_spec,
        validate_args_context: args.validate_args_context,
      });
    }
    return noop('The arg spec validation passed', {
      msg: 'The arg spec validation passed',
      validate_args_context: args.validate_args_context,
    });
  },
});
