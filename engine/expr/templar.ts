// Templating with variables, as Ansible's Templar does it: a variable whose value is itself a
// template (group_vars `dhcp_start: "{{ prefix }}.100"`) is rendered when it is used, in the scope
// it belongs to, also deep inside dicts and lists (through Proxies, so nothing is copied or
// rendered up front); cycles are reported; "{{ x }}" alone keeps x's type.
import { readFileSync } from 'node:fs';
import type ejsModule from 'ejs';
import { UserError, type SourceLocation } from '../errors.js';
import { makeGlobals } from './globals.js';
import { Jinja, JinjaSyntaxError, MISSING, singleExpression, type LexOptions } from './jinja.js';
import { hasOwn, isMapping, plain, pyStr, truthy } from './python.js';
import { CondExprUndefined, Undefined, isUndefined } from './undefined.js';
import { ownRequire } from '../paths.js';
import { isUnsafeText } from '../unsafe.js';
import { pyLiteral } from './py-literal.js';
import type { TemplateOptions } from '../module.js';

type Vars = Record<string, unknown>;

/** The variables an expression sees; lazy template strings found in them are rendered with it. */
interface Scope {
  vars: Vars;
  /** Set for a host's scope reached through hostvars: the scope its magic variables come from. */
  parent?: Scope;
}

interface RenderState {
  scope: Scope;
  result?: unknown;
  error?: { e: unknown; line?: number; template?: string };
}

/** Where a template came from, for error messages. */
interface Origin {
  loc?: SourceLocation;
  /** The template file (.j2): errors point at its lines. */
  file?: string;
  /** The template text of an inline expression, quoted in syntax errors. */
  source?: string;
}

// Variables a host's scope (hostvars['x']) takes from the scope of the host being templated.
const INHERITED = new Set([
  'groups',
  'hostvars',
  'omit',
  'playbook_dir',
  'inventory_dir',
  'inventory_file',
  'role_path',
  'ansible_check_mode',
  'ansible_diff_mode',
  'ansible_version',
  'ansible_verbosity',
  'ansible_forks',
  'ansible_play_hosts',
  'ansible_play_batch',
  'ansible_play_hosts_all',
  'play_hosts',
  'ansible_play_name',
  'ansible_run_tags',
  'ansible_skip_tags',
  'ansible_managed',
  'tsplay_version',
]);

const MAX_DEPTH = 50;

let state: RenderState | undefined;

function current(): RenderState {
  if (!state) throw new Error('expression runtime used outside of a render');
  return state;
}

const GLOBALS = makeGlobals({
  variable: (name) => {
    const v = lookupVar(current().scope, name);
    return v === MISSING ? undefined : v;
  },
  renderFile: (path, vars, tags) => {
    const scope = current().scope;
    const lex = tags ? { trimBlocks: true, lstripBlocks: false, tags } : undefined;
    return renderJ2(readFileSync(path, 'utf8'), vars ? { ...scope, vars: { ...scope.vars, ...vars } } : scope, path, {}, lex);
  },
  names: () => Object.keys(current().scope.vars),
});

const jinja = new Jinja({
  lookup: (name) => lookupVar(current().scope, name),
  global: (name) => (hasOwn(GLOBALS, name) ? GLOBALS[name] : MISSING),
  capture: (v) => {
    current().result = v;
  },
  error: (e, line, template) => {
    const s = current();
    if (!s.error) s.error = { e, line, template };
  },
});

// ---- lazy variables ------------------------------------------------------------------------

const unsafeValues = new WeakSet<object>();

/** Mark a value (e.g. a registered result) as data: template strings inside it are never rendered. */
export function markUnsafe<T>(value: T): T {
  if (value && typeof value === 'object') unsafeValues.add(value);
  return value;
}

function hasVar(vars: object, name: string): boolean {
  for (let o: object | null = vars; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    if (hasOwn(o, name)) return true;
  }
  return false;
}

function lookupVar(scope: Scope, name: string): unknown {
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    if (s !== scope && !INHERITED.has(name)) break;
    if (hasVar(s.vars, name)) {
      const raw = s.vars[name];
      if (name === 'hostvars' && raw && typeof raw === 'object') return lazy(raw, s, name, true);
      return resolve(raw, s, s.vars, name, name);
    }
  }
  if (name === 'vars') return lazy(scope.vars, scope, 'vars');
  return MISSING;
}

const proxies = new WeakMap<Scope, WeakMap<object, object>>();

// A view of a dict or list whose template strings render on access, in `scope`.
// Under `hostvars`, each host's dict becomes the scope of its own values.
function lazy(value: object, scope: Scope, label: string, hostvars = false): object {
  let cache = proxies.get(scope);
  if (!cache) proxies.set(scope, (cache = new WeakMap()));
  const hit = hostvars ? undefined : cache.get(value);
  if (hit) return hit;
  const proxy = new Proxy(value, {
    get(target, key) {
      const raw = Reflect.get(target, key);
      if (typeof key === 'symbol' || !hasOwn(target, key)) return raw;
      let v: unknown;
      if (hostvars) {
        v =
          raw && typeof raw === 'object' && !unsafeValues.has(raw)
            ? lazy(raw, { vars: raw as Vars, parent: rootOf(scope) }, `hostvars['${key}']`)
            : raw;
      } else {
        v = resolve(raw, scope, target, key, /^\d+$/.test(key) && Array.isArray(target) ? `${label}[${key}]` : `${label}.${key}`);
      }
      if (v !== raw) {
        const d = Reflect.getOwnPropertyDescriptor(target, key);
        if (d && !d.configurable && !d.writable) return raw;
      }
      return v;
    },
  });
  if (!hostvars) cache.set(value, proxy);
  return proxy;
}

function rootOf(scope: Scope): Scope {
  let s = scope;
  while (s.parent) s = s.parent;
  return s;
}

function resolve(raw: unknown, scope: Scope, owner: object, key: string, label: string): unknown {
  if (isUnsafeText(raw)) return String(raw); // !unsafe: its value, never rendered
  if (typeof raw === 'string') return isTemplate(raw) ? renderLazy(raw, scope, owner, key, label) : raw;
  if (raw && typeof raw === 'object' && (Array.isArray(raw) || isMapping(raw)) && !unsafeValues.has(raw)) {
    return lazy(raw, scope, label);
  }
  return raw;
}

const active: { owner: object; key: string; label: string }[] = [];

// Renders the template string stored in a variable; an undefined inside it makes the variable
// undefined (so `x | default(...)` and `x is defined` still work), as in Ansible.
function renderLazy(text: string, scope: Scope, owner: object, key: string, label: string): unknown {
  if (active.length >= MAX_DEPTH || active.some((a) => a.owner === owner && a.key === key)) {
    const chain = [...active.map((a) => a.label), label].slice(-12).join(' -> ');
    throw new UserError('E_TEMPLATE', `recursive loop detected in template: ${chain}`, {
      hint: 'a variable refers to itself through other variables; give one of them a plain value',
    });
  }
  active.push({ owner, key, label });
  try {
    const v = templateString(text, scope, {});
    return isUndefined(v) ? new Undefined(v.message, within(v.hint, label), v.name) : v;
  } catch (e) {
    if (e instanceof UserError && e.code === 'E_UNDEFINED') return new Undefined(e.message, within(e.hint, label));
    throw e;
  } finally {
    active.pop();
  }
}

function within(hint: string | undefined, label: string): string {
  return hint?.includes('(in the value of') ? hint : `${hint ? `${hint} ` : ''}(in the value of ${label})`;
}

/** A deep plain copy of a value (lazy proxies rendered); an undefined anywhere inside is an error. */
export function materialize(v: unknown, seen = new Set<object>()): unknown {
  v = plain(v);
  if (v instanceof CondExprUndefined) return '';
  if (isUndefined(v)) v.fail();
  if (!Array.isArray(v) && !isMapping(v)) return v;
  if (seen.has(v)) return v;
  seen.add(v);
  const src = v;
  const out = Array.isArray(src)
    ? src.map((x) => materialize(x, seen))
    : Object.fromEntries(Object.keys(src).map((k) => [k, materialize(src[k], seen)]));
  seen.delete(v);
  return out;
}

// ---- rendering -----------------------------------------------------------------------------

/** True if a string contains Jinja2 syntax ({{, {%, {#). */
export function isTemplate(s: string): boolean {
  return s.includes('{{') || s.includes('{%') || s.includes('{#');
}

function run<T>(scope: Scope, origin: Origin, compile: () => { render(): string }, done: (s: RenderState, out: string) => T): T {
  let compiled: { render(): string };
  try {
    compiled = compile();
  } catch (e) {
    throw failure(e, undefined, origin);
  }
  const prev = state;
  const s: RenderState = { scope };
  state = s;
  try {
    return done(s, compiled.render());
  } catch (e) {
    throw failure(e, s, origin);
  } finally {
    state = prev;
  }
}

function evalExpression(expr: string, scope: Scope, origin: Origin, rawStrings = false): unknown {
  return run(
    scope,
    origin,
    () => jinja.expression(expr, rawStrings),
    (s) => s.result,
  );
}

function renderJ2(text: string, scope: Scope, file?: string, origin: Origin = {}, lex?: LexOptions, rawStrings = false): string {
  return run(
    scope,
    { ...origin, file },
    () => jinja.template(text, file, lex, rawStrings),
    (_s, out) => out,
  );
}

const JINJA2_OVERRIDE = '#jinja2:';

// A template's first line `#jinja2: trim_blocks: False, lstrip_blocks: True` overrides the options
// for that template (Ansible's template action reads it, and the line is not part of the output).
function headerOptions(text: string, file: string): { text: string; options: TemplateOptions } {
  if (!text.startsWith(JINJA2_OVERRIDE)) return { text, options: {} };
  const eol = text.indexOf('\n');
  const line = text.slice(JINJA2_OVERRIDE.length, eol < 0 ? undefined : eol);
  const options: Record<string, unknown> = {};
  for (const pair of line.split(',')) {
    if (!pair.trim()) continue;
    const i = pair.indexOf(':');
    const key = pair.slice(0, i).trim();
    const raw = pair.slice(i + 1).trim();
    if (i < 0 || !key)
      throw new UserError('E_TEMPLATE', `cannot read the #jinja2: line: '${pair.trim()}'`, {
        location: { file, line: 1, col: 1 },
        hint: 'write key: value pairs, e.g. #jinja2: trim_blocks: False, lstrip_blocks: True',
      });
    options[key] = raw === 'True' ? true : raw === 'False' ? false : /^(['"]).*\1$/s.test(raw) ? raw.slice(1, -1) : raw;
  }
  return { text: eol < 0 ? '' : text.slice(eol + 1), options: options as TemplateOptions };
}

function templateString(s: string, scope: Scope, origin: Origin): unknown {
  if (!isTemplate(s)) return s;
  const expr = singleExpression(s);
  const out =
    expr !== undefined
      ? evalExpression(expr, scope, { ...origin, source: s }, true)
      : renderJ2(s, scope, undefined, { ...origin, source: s }, undefined, true);
  if (expr !== undefined && (typeof out === 'number' || out === null) && !isVariable(expr.trim(), scope)) {
    return out === null ? '' : pyStr(out);
  }
  return typeof out === 'string' ? literalOf(out, s) : out;
}

// Ansible 2.14 hands `{{ name }}` the variable's own value (an int stays an int, None stays None);
// any other expression is rendered to text first, so a number becomes its text ("3") and None the
// empty string (Ansible's finalize), while lists, dicts and booleans are read back by literalOf.
function isVariable(name: string, scope: Scope): boolean {
  return /^\w+$/.test(name) && name in scope.vars;
}

// Ansible 2.14's templating (ansible_concat, without Jinja2 native types): a rendered string that
// looks like a Python list, dict or boolean ("[1, 'a']", "{'k': 'v'}", "True") becomes one when it
// is a valid literal; a template ending in a string filter (to_json, string, ...) stays text.
const STRING_FILTER_END = /\|\s*(?:string|to_json|to_nice_json|to_yaml|to_nice_yaml|ppretty|json)(?:\([^|]*\))?\s*\)?\s*}}\s*$/;

function literalOf(out: string, source: string): unknown {
  if (!(out.startsWith('[') || (out.startsWith('{') && !out.startsWith('{{')) || out === 'True' || out === 'False')) return out;
  if (STRING_FILTER_END.test(source)) return out;
  const lit = pyLiteral(out);
  return lit === undefined ? out : lit.value;
}

function failure(e: unknown, s: RenderState | undefined, origin: Origin): UserError {
  const rec = s?.error;
  const err = rec ? rec.e : e;
  const where: SourceLocation | undefined = origin.file
    ? { file: rec?.template ?? origin.file, ...(rec?.line !== undefined ? { line: rec.line } : {}) }
    : origin.loc;
  if (err instanceof UserError) return err.at(where);
  const quoted = origin.source && !origin.file ? ` in ${JSON.stringify(origin.source.trim())}` : '';
  if (err instanceof JinjaSyntaxError) {
    const loc = err.file
      ? { file: err.file, ...(err.line !== undefined ? { line: err.line } : {}), ...(err.col !== undefined ? { col: err.col } : {}) }
      : where;
    const unknown = /^no (filter|test) named/.exec(err.message);
    return new UserError('E_TEMPLATE', `template error: ${err.message}${quoted}`, {
      location: loc,
      hint: unknown
        ? `tsplay has Jinja2's and Ansible's builtin ${unknown[1]}s (also as ansible.builtin.<name>); check the spelling`
        : 'check the Jinja2 syntax: {{ expression }}, {% statement %}, matching quotes and brackets',
    });
  }
  const message =
    err instanceof Error ? err.message.replace(/^\(.*?\)\s*(\[Line \d+, Column \d+\])?\s*/, '').replace(/^Error: /, '') : String(err);
  return new UserError('E_TEMPLATE', `template error: ${message}${quoted}`, { location: where, cause: err });
}

// The plain result of a top-level render, with errors placed at `loc`.
function result(v: unknown, loc: SourceLocation | undefined): unknown {
  try {
    return materialize(v);
  } catch (e) {
    throw e instanceof UserError ? e.at(loc) : e;
  }
}

function deep(value: unknown, scope: Scope, loc: SourceLocation | undefined): unknown {
  if (isUnsafeText(value)) return String(value);
  if (typeof value === 'string') return result(templateString(value, scope, { loc }), loc);
  if (Array.isArray(value)) return value.map((v) => deep(v, scope, loc));
  if (isMapping(value)) {
    const out: Vars = {};
    for (const [k, v] of Object.entries(value)) {
      out[isTemplate(k) ? pyStr(result(templateString(k, scope, { loc }), loc)) : k] = deep(v, scope, loc);
    }
    return out;
  }
  return value;
}

/**
 * Render every string inside `value` (deep: objects, arrays); non-strings are returned as is.
 * A string that is exactly one expression, e.g. "{{ x }}" (whitespace around allowed), keeps the
 * expression's native type (list, dict, number, bool, null). Other strings render to strings.
 */
export function template(value: unknown, vars: Record<string, unknown>, loc?: SourceLocation): unknown {
  return deep(value, { vars }, loc);
}

/** Evaluate a bare Jinja2 expression (as in `when:`, `changed_when:`, `failed_when:`, `until:`), native result. */
export function evaluate(expr: string, vars: Record<string, unknown>, loc?: SourceLocation): unknown {
  if (typeof expr !== 'string') return expr;
  if (isTemplate(expr)) return template(expr, vars, loc);
  return result(evalExpression(expr, { vars }, { loc, source: expr }), loc);
}

/**
 * Ansible conditional: a string expression, a boolean, or a list of them (all must hold). Strings that
 * contain {{ }} are templated first then evaluated (Ansible warns but allows). Result is Jinja truthiness.
 */
export function evalCondition(cond: unknown, vars: Record<string, unknown>, loc?: SourceLocation): boolean {
  if (cond === null || cond === undefined || cond === '') return true;
  if (Array.isArray(cond)) return cond.every((c) => evalCondition(c, vars, loc));
  if (typeof cond !== 'string') return truthy(cond);
  if (!isTemplate(cond)) return truthy(evaluate(cond, vars, loc));
  const v = template(cond, vars, loc);
  if (typeof v !== 'string') return truthy(v);
  const s = v.trim();
  const word = s.toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(word)) return true;
  if (['false', 'no', 'off', '0', 'none', ''].includes(word)) return false;
  return truthy(evaluate(s, vars, loc));
}

/**
 * Render template text from a file: kind 'j2' = Jinja2 with Ansible's defaults (trim_blocks=True,
 * lstrip_blocks=False, keep_trailing_newline=True); kind 'ejs' = ejs with NO HTML escaping (<%= %> raw),
 * the vars as locals. `file` is used in error locations; {% include %} / {% import %} resolve relative
 * to the template's directory.
 */
export function renderTemplateText(
  text: string,
  vars: Record<string, unknown>,
  opts: { file: string; kind: 'j2' | 'ejs'; j2?: TemplateOptions },
): string {
  if (opts.kind !== 'j2') return renderEjs(text, { vars }, opts.file);
  const header = headerOptions(text, opts.file);
  const o: TemplateOptions = { ...opts.j2, ...header.options };
  const custom = Object.values(o).some((v) => v !== undefined);
  if (!custom) return renderJ2(header.text, { vars }, opts.file);
  const lex: LexOptions = {
    trimBlocks: o.trim_blocks ?? true,
    lstripBlocks: o.lstrip_blocks ?? false,
    tags: {
      blockStart: o.block_start_string ?? '{%',
      blockEnd: o.block_end_string ?? '%}',
      variableStart: o.variable_start_string ?? '{{',
      variableEnd: o.variable_end_string ?? '}}',
      commentStart: o.comment_start_string ?? '{#',
      commentEnd: o.comment_end_string ?? '#}',
    },
  };
  // Jinja2 turns the template's own line breaks into newline_sequence; values keep theirs
  const nl = o.newline_sequence ?? '\n';
  const source = nl === '\n' ? header.text : header.text.replace(/\r\n|\r|\n/g, nl);
  return renderJ2(source, { vars }, opts.file, {}, lex);
}

function renderEjs(text: string, scope: Scope, file: string): string {
  const locals = new Proxy(scope.vars, {
    get: (target, key) => {
      if (typeof key === 'symbol') return Reflect.get(target, key);
      const v = lookupVar(scope, key);
      return v === MISSING ? undefined : isUndefined(v) ? v.fail() : v;
    },
    has: (target, key) => typeof key === 'string' && (hasVar(target, key) || key === 'vars'),
  });
  try {
    // ejs is loaded for the first .ejs template only
    const ejs = ownRequire('ejs') as typeof ejsModule;
    return ejs.render(text, locals, {
      filename: file,
      escape: (v: unknown) => (v === null || v === undefined ? '' : String(v)),
      async: false,
    });
  } catch (e) {
    if (e instanceof UserError) throw e.at({ file });
    const msg = (e as Error).message ?? String(e);
    const line = /^.*?:(\d+)\n/.exec(msg)?.[1];
    const location = { file, ...(line ? { line: Number(line) } : {}) };
    const last = msg.trim().split('\n').pop() ?? msg;
    const undef = /^(\w+) is not defined$/.exec(last);
    if (undef) {
      throw new UserError('E_UNDEFINED', `'${undef[1]}' is undefined`, {
        location,
        hint: `define ${undef[1]} (vars, group_vars, host_vars or -e), or test it with typeof ${undef[1]} !== 'undefined'`,
      });
    }
    throw new UserError('E_TEMPLATE', `template error: ${last}`, { location, cause: e });
  }
}

/**
 * Compile (without rendering) every template string inside `value`, so a syntax error or an unknown
 * filter or test is reported at load time with `loc`, before any host is contacted. `bare` treats a
 * string without {{ }} as a bare expression (when:, changed_when:, failed_when:, until:).
 */
export function checkSyntax(value: unknown, loc: SourceLocation | undefined, bare = false): void {
  const one = (s: string, asExpr: boolean) => {
    const origin: Origin = { loc, source: s };
    try {
      if (asExpr && !isTemplate(s)) jinja.expression(s);
      else if (isTemplate(s)) {
        const expr = singleExpression(s);
        if (expr !== undefined) jinja.expression(expr, true);
        else jinja.template(s, undefined, undefined, true);
      }
    } catch (e) {
      throw failure(e, undefined, origin);
    }
  };
  const walk = (v: unknown, asExpr: boolean): void => {
    if (typeof v === 'string') one(v, asExpr);
    else if (Array.isArray(v)) v.forEach((x) => walk(x, asExpr));
    else if (isMapping(v))
      for (const [k, x] of Object.entries(v)) {
        walk(k, false);
        walk(x, false);
      }
  };
  walk(value, bare);
}
