// The Jinja2 dialect Ansible users write, compiled by nunjucks. nunjucks parses and compiles most of
// Jinja2 already; this file subclasses its tokenizer (Python string escapes, `foo.0.bar`), parser
// (slices, tuples, expression dict keys, `is test arg`, `for x in y if c`, `set ns.attr`) and
// compiler (Python truthiness, operators and lookups) and hands the compiled code its own runtime
// object, so nothing in the nunjucks module itself is patched. The internals it builds on come
// from nunjucks-internals.ts, which names each one and is tested against the pinned nunjucks.
import { dirname, isAbsolute, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import nunjucks from 'nunjucks';
import { Compiler, lexer as L, nodes as N, Parser, runtime as nunjucksRuntime, transformer, type AnyNode } from './nunjucks-internals.js';
import { FILTERS, canonicalName } from './filters.js';
import { TESTS } from './tests.js';
import {
  binop,
  compare,
  contains,
  getattr,
  getitem,
  hasOwn,
  isMapping,
  isPyFunction,
  iterate,
  plain,
  pyStr,
  slice,
  truthy,
  tuple,
  typeError,
  typeName,
  unary,
  type Dict,
} from './python.js';
import { CondExprUndefined, isUndefined, undefinedVariable } from './undefined.js';

/** What the compiled code needs from the templar: variables, the native result, errors. */
export interface JinjaHooks {
  /** The value of variable `name` in the current render, or MISSING. */
  lookup(name: string): unknown;
  /** A global (function or constant) named `name`, or MISSING. */
  global(name: string): unknown;
  /** Receives the value of a native expression. */
  capture(value: unknown): void;
  /** Receives a runtime error with the template and line it happened in (first one wins). */
  error(e: unknown, line: number | undefined, template: string | undefined): void;
}

/** Returned by hooks for a name that does not exist. */
export const MISSING = Symbol('missing');

/** A syntax error, with the position nunjucks reported. */
export class JinjaSyntaxError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly col?: number,
    /** The template file, for templates loaded from a file. */
    readonly file?: string,
  ) {
    super(message);
    this.name = 'JinjaSyntaxError';
  }
}

const singles = new Map<string, string | null>();

/** The expression of a string that is exactly one `{{ expression }}` (whitespace around allowed). */
export function singleExpression(s: string): string | undefined {
  if (!/^\s*\{\{/.test(s) || !/\}\}\s*$/.test(s)) return undefined;
  let hit = singles.get(s);
  if (hit === undefined) {
    hit = scanSingle(s);
    if (singles.size > 5000) singles.clear();
    singles.set(s, hit);
  }
  return hit ?? undefined;
}

function scanSingle(s: string): string | null {
  const t = tokenize(s, false);
  let start = -1;
  let end = -1;
  try {
    for (let tok = t.nextToken(); tok; tok = t.nextToken()) {
      if (tok.type === L.TOKEN_VARIABLE_START) {
        if (start >= 0) return null;
        start = t.index;
      } else if (tok.type === L.TOKEN_VARIABLE_END) {
        end = t.index - String(tok.value).length;
      } else if (tok.type === L.TOKEN_DATA) {
        if (String(tok.value).trim()) return null;
      } else if (tok.type === L.TOKEN_BLOCK_START || tok.type === L.TOKEN_COMMENT) {
        return null;
      }
    }
  } catch {
    return null;
  }
  return start >= 0 && end >= start ? s.slice(start, end) : null;
}

/** A compiled template, ready to render with the hooks of the current render. */
export interface Compiled {
  render(): string;
}

const Slice = N.Node.extend('Slice', { fields: ['start', 'stop', 'step'] });
const Truthy = N.Node.extend('Truthy', { fields: ['target'] });
const LoopFilter = N.Node.extend('LoopFilter', { fields: ['arr', 'names', 'cond'] });
const Raw = N.Node.extend('Raw', { fields: ['code'] });
// the missing else of `a if c`
const CondUndefined = N.Node.extend('CondUndefined', { fields: [] });
// `*args` and `**kwargs` in a call's arguments: the one of each Jinja2 allows.
const StarArgs = N.Node.extend('StarArgs', { fields: ['value'] });
const StarKwargs = N.Node.extend('StarKwargs', { fields: ['value'] });
const OWN_NODES = [Slice, Truthy, LoopFilter, Raw, CondUndefined, StarArgs, StarKwargs];

/**
 * How template text is split into tags (the template module's trim_blocks, lstrip_blocks and
 * delimiter options; Ansible's defaults otherwise).
 */
export interface LexOptions {
  trimBlocks: boolean;
  lstripBlocks: boolean;
  tags?: {
    blockStart?: string;
    blockEnd?: string;
    variableStart?: string;
    variableEnd?: string;
    commentStart?: string;
    commentEnd?: string;
  };
}

const LEX_OPTS: LexOptions = { trimBlocks: true, lstripBlocks: false };

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '\n': '',
};

// Python string literal escapes; unknown ones (\d, \1) keep their backslash, as regexes need.
// In a `{{ }}` of a template string from playbook data (`rawStrings`), Ansible doubles every
// backslash of a string literal before Jinja2 reads it (its _escape_backslashes), so there a
// literal's text is taken as written: '\n' is a backslash and an n.
function parsePyString(this: AnyNode, delimiter: string): string {
  this.forward();
  let str = '';
  while (!this.isFinished() && this.current() !== delimiter) {
    const cur = this.current();
    if (cur !== '\\') {
      str += cur;
      this.forward();
      continue;
    }
    this.forward();
    const c = this.current();
    if (this.rawStrings) {
      str += `\\${c}`;
      this.forward();
      continue;
    }
    const hex = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
    const digits = hex ? this.str.substr(this.index + 1, hex) : '';
    if (hex && new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits)) {
      str += String.fromCodePoint(parseInt(digits, 16));
      this.forwardN(hex);
    } else if (hasOwn(ESCAPES, c)) {
      str += ESCAPES[c];
    } else {
      str += `\\${c}`;
    }
    this.forward();
  }
  this.forward();
  return str;
}

function token(type: string, value: string, from: AnyNode): AnyNode {
  return { type, value, lineno: from.lineno, colno: from.colno };
}

// nunjucks' tokenizer, adjusted per instance: Python escapes, `a.0.b` as lookups, and trim_blocks
// after comments (Jinja2 removes the newline after {# #} as after {% %}).
function tokenize(src: string, inCode: boolean, opts: LexOptions = LEX_OPTS, rawStrings = false): AnyNode {
  const t = L.lex(src, opts);
  t.in_code = inCode;
  t._parseString = parsePyString;
  // a bare expression is the inside of a `{{ }}`
  t.rawStrings = rawStrings && inCode;
  const next = t.nextToken.bind(t);
  const queue: AnyNode[] = [];
  let prev: AnyNode = null;
  let braces = 0;
  t.nextToken = () => {
    let tok = queue.length ? queue.shift() : next();
    if (tok?.type === L.TOKEN_LEFT_CURLY) braces++;
    else if (tok?.type === L.TOKEN_RIGHT_CURLY) braces--;
    else if (tok?.type === L.TOKEN_VARIABLE_START || tok?.type === L.TOKEN_BLOCK_START) braces = 0;
    else if (tok?.type === L.TOKEN_VARIABLE_END && braces > 0 && tok.value === '}}') {
      // `}}` closing a nested dict, not the expression: give back the second brace.
      t.back();
      t.in_code = true;
      braces--;
      tok = token(L.TOKEN_RIGHT_CURLY!, '}', tok);
    }
    if (rawStrings && tok) {
      // the string literals the tokenizer reads next are inside a {{ }} (raw) or not
      if (tok.type === L.TOKEN_VARIABLE_START) t.rawStrings = true;
      else if (tok.type === L.TOKEN_BLOCK_START || tok.type === L.TOKEN_VARIABLE_END || tok.type === L.TOKEN_BLOCK_END)
        t.rawStrings = false;
    }
    if (tok?.type === L.TOKEN_FLOAT && prev?.type === L.TOKEN_OPERATOR && prev.value === '.') {
      const [a, b] = String(tok.value).split('.');
      queue.push(token(L.TOKEN_OPERATOR!, '.', tok));
      if (b) queue.push(token(L.TOKEN_INT!, b, tok));
      tok = token(L.TOKEN_INT!, a!, tok);
    }
    if (tok?.type === L.TOKEN_SYMBOL && /^\d+(\.\d+)?e\d+$/i.test(tok.value)) tok = token(L.TOKEN_FLOAT!, tok.value, tok);
    if (tok?.type === L.TOKEN_COMMENT && t.trimBlocks) {
      if (t.current() === '\r' && t.str.charAt(t.index + 1) === '\n') t.forwardN(2);
      else if (t.current() === '\n') t.forward();
    }
    if (tok && tok.type !== L.TOKEN_WHITESPACE) prev = tok;
    return tok;
  };
  return t;
}

const NOT_TEST_ARG = new Set(['and', 'or', 'else', 'if', 'not', 'in', 'is']);

class AnsibleParser extends Parser {
  // Adjacent string literals concatenate, as in Python: 'it''s' == 'its'.
  parsePrimary(noPostfix?: boolean): AnyNode {
    const tok = this.peekToken();
    if (tok?.type !== L.TOKEN_STRING) return super.parsePrimary(noPostfix);
    this.nextToken();
    let value = tok.value;
    while (this.peekToken()?.type === L.TOKEN_STRING) value += this.nextToken().value;
    const node = new N.Literal(tok.lineno, tok.colno, value);
    return noPostfix ? node : this.parsePostfix(node);
  }

  // Jinja2's conditional expression: `a if c else b if d else e` chains (the else part is itself
  // a conditional expression), and `a if c` without else is undefined when c is false.
  parseInlineIf(): AnyNode {
    let node = this.parseOr();
    while (this.skipSymbol('if')) {
      const cond = this.parseOr();
      const body = node;
      node = new N.InlineIf(body.lineno, body.colno);
      node.body = body;
      node.cond = cond;
      node.else_ = this.skipSymbol('else') ? this.parseInlineIf() : new CondUndefined(body.lineno, body.colno);
    }
    return node;
  }

  // Jinja2's call arguments: positional ones, then at most one `*args`, keyword ones and at
  // most one `**kwargs` last, in that order (the `*` and `**` are operators everywhere else).
  parseSignature(tolerant?: boolean, noParens?: boolean): AnyNode {
    if (noParens || this.peekToken()?.type !== L.TOKEN_LEFT_PAREN) return super.parseSignature(tolerant, noParens);
    let tok = this.nextToken();
    const args = new N.NodeList(tok.lineno, tok.colno);
    const kwargs = new N.KeywordArgs(tok.lineno, tok.colno);
    let star: AnyNode = null;
    let starstar: AnyNode = null;
    const ensure = (ok: boolean, at: AnyNode) => {
      if (!ok) this.fail('invalid syntax for function call expression', at.lineno, at.colno);
    };
    for (let first = true; ; first = false) {
      tok = this.peekToken();
      if (!tok) this.fail('expected ) to close the call', undefined, undefined);
      if (tok.type === L.TOKEN_RIGHT_PAREN) {
        this.nextToken();
        break;
      }
      if (!first && !this.skip(L.TOKEN_COMMA)) this.fail('expected comma after expression', tok.lineno, tok.colno);
      tok = this.peekToken();
      if (!first && tok?.type === L.TOKEN_RIGHT_PAREN) continue; // a trailing comma
      if (tok?.type === L.TOKEN_OPERATOR && tok.value === '*') {
        ensure(!star && !starstar, tok);
        this.nextToken();
        star = new StarArgs(tok.lineno, tok.colno, this.parseExpression());
      } else if (tok?.type === L.TOKEN_OPERATOR && tok.value === '**') {
        ensure(!starstar, tok);
        this.nextToken();
        starstar = new StarKwargs(tok.lineno, tok.colno, this.parseExpression());
      } else {
        const arg = this.parseExpression();
        if (this.skipValue(L.TOKEN_OPERATOR, '=')) {
          ensure(!starstar, arg);
          kwargs.addChild(new N.Pair(arg.lineno, arg.colno, arg, this.parseExpression()));
        } else {
          ensure(!star && !starstar && kwargs.children.length === 0, arg);
          args.addChild(arg);
        }
      }
    }
    if (star) args.addChild(star);
    if (kwargs.children.length) args.addChild(kwargs);
    if (starstar) args.addChild(starstar);
    return args;
  }

  parsePostfix(node: AnyNode): AnyNode {
    let tok = this.peekToken();
    while (tok) {
      if (tok.type === L.TOKEN_LEFT_PAREN) {
        node = new N.FunCall(tok.lineno, tok.colno, node, this.parseSignature());
      } else if (tok.type === L.TOKEN_LEFT_BRACKET) {
        this.nextToken();
        node = new N.LookupVal(tok.lineno, tok.colno, node, this.parseSubscript(tok));
        node.subscript = true;
      } else if (tok.type === L.TOKEN_OPERATOR && tok.value === '.') {
        this.nextToken();
        const val = this.nextToken();
        let key: AnyNode;
        if (val?.type === L.TOKEN_INT) key = new N.Literal(val.lineno, val.colno, parseInt(val.value, 10));
        else if (val && [L.TOKEN_SYMBOL, L.TOKEN_BOOLEAN, L.TOKEN_NONE].includes(val.type))
          key = new N.Literal(val.lineno, val.colno, val.value);
        else this.fail(`expected name as lookup value, got ${val ? val.value : 'end of input'}`, val?.lineno, val?.colno);
        node = new N.LookupVal(tok.lineno, tok.colno, node, key);
      } else {
        break;
      }
      tok = this.peekToken();
    }
    return node;
  }

  // The inside of x[...]: an index or a start:stop:step slice.
  parseSubscript(open: AnyNode): AnyNode {
    const parts: AnyNode[] = [null, null, null];
    let i = 0;
    let isSlice = false;
    if (this.peekToken().type !== L.TOKEN_COLON) parts[0] = this.parseExpression();
    while (this.skip(L.TOKEN_COLON)) {
      isSlice = true;
      if (++i > 2) this.fail('invalid slice', open.lineno, open.colno);
      const t = this.peekToken().type;
      if (t !== L.TOKEN_COLON && t !== L.TOKEN_RIGHT_BRACKET) parts[i] = this.parseExpression();
    }
    if (!this.skip(L.TOKEN_RIGHT_BRACKET)) this.fail("expected ']'", open.lineno, open.colno);
    if (!isSlice && !parts[0]) this.fail('expected an index inside []', open.lineno, open.colno);
    return isSlice ? new Slice(open.lineno, open.colno, parts[0], parts[1], parts[2]) : parts[0];
  }

  parseAggregate(): AnyNode {
    const tok = this.nextToken();
    let node: AnyNode;
    if (tok.type === L.TOKEN_LEFT_PAREN) node = new N.Group(tok.lineno, tok.colno);
    else if (tok.type === L.TOKEN_LEFT_BRACKET) node = new N.Array(tok.lineno, tok.colno);
    else if (tok.type === L.TOKEN_LEFT_CURLY) node = new N.Dict(tok.lineno, tok.colno);
    else return null;
    const closers = [L.TOKEN_RIGHT_PAREN, L.TOKEN_RIGHT_BRACKET, L.TOKEN_RIGHT_CURLY];
    let comma = false;
    for (;;) {
      const next = this.peekToken();
      if (!next) this.fail('unexpected end of expression: unclosed bracket', tok.lineno, tok.colno);
      if (closers.includes(next.type)) {
        this.nextToken();
        break;
      }
      if (node.children.length > 0) {
        if (!this.skip(L.TOKEN_COMMA)) this.fail('expected comma after expression', next.lineno, next.colno);
        comma = true;
        if (closers.includes(this.peekToken()?.type)) continue;
      }
      if (node instanceof N.Dict) {
        const key = this.parseExpression();
        if (!this.skip(L.TOKEN_COLON)) this.fail('expected colon after dict key', tok.lineno, tok.colno);
        node.addChild(new N.Pair(key.lineno, key.colno, key, this.parseExpression()));
      } else {
        node.addChild(this.parseExpression());
      }
    }
    if (node instanceof N.Group && (comma || node.children.length !== 1)) {
      const t = new N.Array(tok.lineno, tok.colno, node.children);
      t.tuple = true;
      return t;
    }
    return node;
  }

  parseIs(): AnyNode {
    let node = this.parseCompare();
    if (!this.skipSymbol('is')) return node;
    const not = this.skipSymbol('not');
    const nameTok = this.nextToken();
    if (!nameTok || ![L.TOKEN_SYMBOL, L.TOKEN_BOOLEAN, L.TOKEN_NONE].includes(nameTok.type)) {
      this.fail(`expected a test name after 'is', got ${nameTok ? nameTok.value : 'end of input'}`, nameTok?.lineno, nameTok?.colno);
    }
    let name = nameTok.type === L.TOKEN_NONE ? 'none' : String(nameTok.value);
    while (this.skipValue(L.TOKEN_OPERATOR, '.')) name += `.${this.expect(L.TOKEN_SYMBOL).value}`;
    const next = this.peekToken();
    let args: AnyNode = new N.NodeList(nameTok.lineno, nameTok.colno);
    if (next?.type === L.TOKEN_LEFT_PAREN) {
      args = this.parseSignature();
    } else if (
      next &&
      ([L.TOKEN_STRING, L.TOKEN_INT, L.TOKEN_FLOAT, L.TOKEN_BOOLEAN, L.TOKEN_NONE, L.TOKEN_LEFT_BRACKET, L.TOKEN_LEFT_CURLY].includes(
        next.type,
      ) ||
        (next.type === L.TOKEN_SYMBOL && !NOT_TEST_ARG.has(next.value)))
    ) {
      args.addChild(this.parsePrimary());
    }
    const test = new N.FunCall(nameTok.lineno, nameTok.colno, new N.Symbol(nameTok.lineno, nameTok.colno, name), args);
    node = new N.Is(node.lineno, node.colno, node, test);
    return not ? new N.Not(node.lineno, node.colno, node) : node;
  }

  parseFor(): AnyNode {
    const forTok = this.peekToken();
    if (forTok.value !== 'for') return super.parseFor();
    this.nextToken();
    const node = new N.For(forTok.lineno, forTok.colno);
    node.name = this.parsePrimary();
    if (!(node.name instanceof N.Symbol)) this.fail('expected a variable name after for', forTok.lineno, forTok.colno);
    if (this.peekToken().type === L.TOKEN_COMMA) {
      const first = node.name;
      node.name = new N.Array(first.lineno, first.colno);
      node.name.addChild(first);
      while (this.skip(L.TOKEN_COMMA)) node.name.addChild(this.parsePrimary());
    }
    if (!this.skipSymbol('in')) this.fail('expected "in" in for loop', forTok.lineno, forTok.colno);
    node.arr = this.parseOr();
    if (this.skipSymbol('if')) {
      const names = node.name instanceof N.Array ? node.name.children.map((c: AnyNode) => c.value) : [node.name.value];
      node.arr = new LoopFilter(forTok.lineno, forTok.colno, node.arr, names, this.parseExpression());
    }
    this.skipSymbol('recursive');
    this.advanceAfterBlockEnd(forTok.value);
    node.body = this.parseUntilBlocks('endfor', 'else');
    if (this.skipSymbol('else')) {
      this.advanceAfterBlockEnd('else');
      node.else_ = this.parseUntilBlocks('endfor');
    }
    this.advanceAfterBlockEnd();
    return node;
  }
}

const BINOPS: Record<string, string> = { Add: '+', Sub: '-', Mul: '*', Div: '/', FloorDiv: '//', Mod: '%', Pow: '**', Concat: '~' };

class AnsibleCompiler extends Compiler {
  native = false;

  assertType(node: AnyNode, ...types: unknown[]): void {
    if (OWN_NODES.some((t) => node instanceof t)) return;
    super.assertType(node, ...types);
  }

  _emitFuncEnd(noReturn?: boolean): void {
    if (!noReturn) this._emitLine(`cb(null, ${this.buffer});`);
    this._closeScopeLevels();
    this._emitLine('} catch (e) {');
    this._emitLine(`  cb(runtime.handleError(e, lineno, colno, ${this._templateName()}));`);
    this._emitLine('}');
    this._emitLine('}');
    this.buffer = null;
  }

  private position(node: AnyNode): void {
    this._emitLine(`lineno = ${node.lineno}; colno = ${node.colno};`);
  }

  private call(fn: string, args: AnyNode[], frame: AnyNode, prefix = ''): void {
    this._emit(`runtime.${fn}(${prefix}`);
    args.forEach((a, i) => {
      if (i > 0) this._emit(', ');
      this.compile(a, frame);
    });
    this._emit(')');
  }

  compileCondUndefined(node: AnyNode): void {
    this._emit(`runtime.condUndefined(${node.lineno + 1})`);
  }

  compileTruthy(node: AnyNode, frame: AnyNode): void {
    this.call('truthy', [node.target], frame);
  }

  compileRaw(node: AnyNode): void {
    this._emit(node.code);
  }

  compileSlice(): void {
    this.fail('a slice is only allowed inside []');
  }

  compileLoopFilter(node: AnyNode, frame: AnyNode): void {
    const inner = frame.push();
    const ids = node.names.map((name: string) => {
      const id = this._tmpid();
      inner.set(name, id);
      return id;
    });
    this._emit('runtime.loopFilter(');
    this.compile(node.arr, frame);
    this._emit(`, ${ids.length}, function(${ids.join(', ')}) { return runtime.truthy(`);
    this.compile(node.cond, inner);
    this._emit('); })');
  }

  compileOr(node: AnyNode, frame: AnyNode): void {
    this.shortCircuit('or', node, frame);
  }

  compileAnd(node: AnyNode, frame: AnyNode): void {
    this.shortCircuit('and', node, frame);
  }

  private shortCircuit(fn: string, node: AnyNode, frame: AnyNode): void {
    this._emit(`runtime.${fn}(`);
    this.compile(node.left, frame);
    this._emit(', function() { return ');
    this.compile(node.right, frame);
    this._emit('; })');
  }

  compileNot(node: AnyNode, frame: AnyNode): void {
    this._emit('!');
    this.call('truthy', [node.target], frame);
  }

  compileIf(node: AnyNode, frame: AnyNode, async?: boolean): void {
    this.position(node);
    node.cond = new Truthy(node.lineno, node.colno, node.cond);
    super.compileIf(node, frame, async);
  }

  compileInlineIf(node: AnyNode, frame: AnyNode): void {
    node.cond = new Truthy(node.lineno, node.colno, node.cond);
    super.compileInlineIf(node, frame);
  }

  compileFor(node: AnyNode, frame: AnyNode): void {
    this.position(node);
    super.compileFor(node, frame);
  }

  compileSet(node: AnyNode, frame: AnyNode): void {
    this.position(node);
    const [first] = node.targets;
    if (node.targets.length === 1 && first instanceof N.LookupVal) {
      this._emit('runtime.setattr(');
      this.compile(first.target, frame);
      this._emit(', ');
      this.compile(first.val, frame);
      this._emit(', ');
      if (node.value) this.compile(node.value, frame);
      else this.compile(node.body, frame);
      this._emitLine(');');
      return;
    }
    if (node.targets.length > 1 && node.value) {
      const tmp = this._tmpid();
      this._emit(`var ${tmp} = runtime.unpack(`);
      this.compile(node.value, frame);
      this._emitLine(`, ${node.targets.length});`);
      node.targets.forEach((target: AnyNode, i: number) => {
        super.compileSet(new N.Set(node.lineno, node.colno, [target], new Raw(node.lineno, node.colno, `${tmp}[${i}]`)), frame);
      });
      return;
    }
    super.compileSet(node, frame);
  }

  compileIn(node: AnyNode, frame: AnyNode): void {
    this.call('contains', [node.right, node.left], frame);
  }

  compileIs(node: AnyNode, frame: AnyNode): void {
    const name = canonicalName(node.right.name.value);
    if (!TESTS[name]) this.fail(`no test named '${node.right.name.value}'`, node.lineno, node.colno);
    this._emit(`runtime.test(${JSON.stringify(name)}, `);
    this.compile(node.left, frame);
    this._emit(', ');
    this.compileCallArgs(node.right.args, frame);
    this._emit(')');
  }

  compileFilter(node: AnyNode, frame: AnyNode): void {
    const name = canonicalName(node.name.value);
    if (!FILTERS[name]) this.fail(`no filter named '${node.name.value}'`, node.lineno, node.colno);
    this._emit(`runtime.filter(${JSON.stringify(name)}, `);
    this.compileCallArgs(node.args, frame);
    this._emit(')');
  }

  compileFunCall(node: AnyNode, frame: AnyNode): void {
    this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, runtime.callWrap(`);
    this._compileExpression(node.name, frame);
    this._emit(`, ${JSON.stringify(this._getNodeName(node.name))}, context, `);
    this.compileCallArgs(node.args, frame);
    this._emit('))');
  }

  // A call's arguments as one array; with `*args` or `**kwargs` among them, spread at run time.
  private compileCallArgs(args: AnyNode, frame: AnyNode): void {
    const spread = args.children.some((a: AnyNode) => a instanceof StarArgs || a instanceof StarKwargs);
    if (spread) this._emit('runtime.spreadArgs(');
    this._compileAggregate(args, frame, '[', ']');
    if (spread) this._emit(')');
  }

  compileStarArgs(node: AnyNode, frame: AnyNode): void {
    this.call('starArgs', [node.value], frame);
  }

  compileStarKwargs(node: AnyNode, frame: AnyNode): void {
    this.call('starKwargs', [node.value], frame);
  }

  compileCompare(node: AnyNode, frame: AnyNode): void {
    this._emit('runtime.compareChain(');
    this.compile(node.expr, frame);
    for (const op of node.ops) {
      this._emit(`, ${JSON.stringify(op.type)}, `);
      this.compile(op.expr, frame);
    }
    this._emit(')');
  }

  compileNeg(node: AnyNode, frame: AnyNode): void {
    this.call('unary', [node.target], frame, '"-", ');
  }

  compilePos(node: AnyNode, frame: AnyNode): void {
    this.call('unary', [node.target], frame, '"+", ');
  }

  compileLookupVal(node: AnyNode, frame: AnyNode): void {
    if (node.val instanceof Slice) {
      this._emit('runtime.slice(');
      this.compile(node.target, frame);
      for (const part of [node.val.start, node.val.stop, node.val.step]) {
        this._emit(', ');
        if (part) this.compile(part, frame);
        else this._emit('null');
      }
      this._emit(')');
      return;
    }
    this._emit(`runtime.${node.subscript ? 'getitem' : 'getattr'}((`);
    this.compile(node.target, frame);
    this._emit('), ');
    this.compile(node.val, frame);
    this._emit(`, ${JSON.stringify(pathOf(node.target))})`);
  }

  compileDict(node: AnyNode, frame: AnyNode): void {
    if (node instanceof N.KeywordArgs) {
      super.compileDict(node, frame);
      return;
    }
    this._emit('runtime.dict([');
    node.children.forEach((pair: AnyNode, i: number) => {
      if (i > 0) this._emit(', ');
      this.call('pair', [pair.key, pair.value], frame);
    });
    this._emit('])');
  }

  compileArray(node: AnyNode, frame: AnyNode): void {
    if (node.tuple) this._emit('runtime.tuple(');
    super.compileArray(node, frame);
    if (node.tuple) this._emit(')');
  }

  compileOutput(node: AnyNode, frame: AnyNode): void {
    if (this.native) {
      this._emit('runtime.capture(');
      this.compile(node.children[0], frame);
      this._emitLine(');');
      return;
    }
    for (const child of node.children) {
      if (!(child instanceof N.TemplateData)) this.position(child);
      super.compileOutput(new N.Output(node.lineno, node.colno, [child]), frame);
    }
  }
}

for (const [type, op] of Object.entries(BINOPS)) {
  (AnsibleCompiler.prototype as Record<string, unknown>)[`compile${type}`] = function (
    this: AnsibleCompiler,
    node: AnyNode,
    frame: AnyNode,
  ) {
    this._emit(`runtime.binop(${JSON.stringify(op)}, `);
    this.compile(node.left, frame);
    this._emit(', ');
    this.compile(node.right, frame);
    this._emit(')');
  };
}

// A readable name for the target of a lookup, for error hints ("foo.bar has no key 'baz'").
function pathOf(node: AnyNode): string {
  if (node instanceof N.Symbol) return node.value;
  if (node instanceof N.LookupVal && node.val instanceof N.Literal) {
    const base = pathOf(node.target);
    const k = node.val.value;
    return typeof k === 'number' ? `${base}[${k}]` : node.subscript ? `${base}['${k}']` : `${base}.${k}`;
  }
  if (node instanceof N.LookupVal) return `${pathOf(node.target)}[...]`;
  if (node instanceof N.FunCall) return `${pathOf(node.name)}(...)`;
  return 'the value';
}

// What `*x` and `**x` evaluate to inside a call's argument list, until spreadArgs spreads them.
class Spread {
  constructor(readonly items: unknown[]) {}
}
class KwSpread {
  constructor(readonly kw: Dict) {}
}

function starArgs(v: unknown): Spread {
  v = plain(v);
  if (isUndefined(v)) v.fail();
  if (v === null || (typeof v !== 'object' && typeof v !== 'string'))
    throw typeError(`argument after * must be an iterable, not ${typeName(v)}`);
  return new Spread(iterate(v));
}

function starKwargs(v: unknown): KwSpread {
  v = plain(v);
  if (isUndefined(v)) v.fail();
  if (!isMapping(v)) throw typeError(`argument after ** must be a mapping, not ${typeName(v)}`);
  return new KwSpread(v);
}

// The arguments of a call with `*args` / `**kwargs`, as nunjucks passes them: the positional
// ones, then one keyword object (marked __keywords) when there are keyword arguments.
function spreadArgs(args: unknown[]): unknown[] {
  const out: unknown[] = [];
  let kw: Dict | undefined;
  for (const a of args) {
    if (a instanceof Spread) out.push(...a.items);
    else if (a instanceof KwSpread) {
      kw ??= {};
      for (const [k, v] of Object.entries(a.kw)) {
        if (hasOwn(kw, k)) throw typeError(`got multiple values for keyword argument '${k}'`);
        kw[k] = v;
      }
    } else if (a && typeof a === 'object' && hasOwn(a, '__keywords')) {
      const { __keywords: _, ...named } = a as Dict;
      kw = { ...kw, ...named };
    } else out.push(a);
  }
  if (kw && Object.keys(kw).length) out.push({ ...kw, __keywords: true });
  return out;
}

function splitKwargs(args: unknown[]): [unknown[], Dict] {
  const last = args[args.length - 1];
  if (last && typeof last === 'object' && hasOwn(last, '__keywords')) {
    const { __keywords: _, ...kw } = last as Dict;
    return [args.slice(0, -1), kw];
  }
  return [args, {}];
}

// The runtime object handed to compiled templates instead of nunjucks' own.
function makeRuntime(hooks: JinjaHooks): Record<string, unknown> {
  const filter = (name: string, args: unknown[]): unknown => {
    const spec = FILTERS[name]!;
    const [positional, kw] = splitKwargs(args);
    const [value, ...rest] = positional.map(plain);
    if (!spec.undefinedOk) {
      if (isUndefined(value)) value.fail();
      for (const a of rest) if (isUndefined(a)) a.fail();
    }
    return spec.fn(value, rest, kw);
  };
  const test = (name: string, value: unknown, args: unknown[]): boolean => {
    const spec = TESTS[name]!;
    const [positional, kw] = splitKwargs(args);
    value = plain(value);
    if (isUndefined(value) && !spec.undefinedOk) value.fail();
    for (const a of positional) if (isUndefined(a)) a.fail();
    return spec.fn(value, positional.map(plain), kw);
  };
  return Object.assign(Object.create(null), nunjucksRuntime, {
    contextOrFrameLookup(context: AnyNode, frame: AnyNode, name: string): unknown {
      const local = frame.lookup(name);
      if (local !== undefined) return local;
      if (hasOwn(context.ctx, name)) return context.ctx[name];
      const v = hooks.lookup(name);
      if (v !== MISSING) return v;
      const g = hooks.global(name);
      return g !== MISSING ? g : undefinedVariable(name);
    },
    getattr,
    getitem,
    condUndefined: (line: number) =>
      new CondExprUndefined(`the inline if-expression on line ${line} evaluated to false and no else section was defined.`),
    slice,
    truthy,
    binop,
    unary,
    tuple,
    filter,
    test,
    starArgs,
    starKwargs,
    spreadArgs,
    or: (a: unknown, b: () => unknown) => (truthy(a) ? a : b()),
    and: (a: unknown, b: () => unknown) => (truthy(a) ? b() : a),
    contains,
    compareChain(...parts: unknown[]): boolean {
      for (let i = 1; i < parts.length; i += 2) {
        if (!compare(parts[i] as string, parts[i - 1], parts[i + 1])) return false;
      }
      return true;
    },
    pair: (k: unknown, v: unknown) => [k, v],
    dict(pairs: [unknown, unknown][]): Dict {
      const out: Dict = {};
      for (const [k, v] of pairs) {
        const key = plain(k);
        if (isUndefined(key)) key.fail();
        out[typeof key === 'string' ? key : pyStr(key)] = v;
      }
      return out;
    },
    setattr(obj: unknown, key: unknown, value: unknown): void {
      if (!isMapping(obj))
        throw typeError(`cannot set attribute ${String(key)} on a '${typeName(obj)}'; use namespace() for values set inside loops`);
      obj[String(key)] = value;
    },
    unpack(v: unknown, n: number): unknown[] {
      const items = iterate(v);
      if (items.length !== n) throw typeError(`cannot unpack ${items.length} values into ${n} names`);
      return items;
    },
    loopFilter(arr: unknown, n: number, keep: (...a: unknown[]) => boolean): unknown[] {
      return iterate(arr).filter((item) => (n === 1 ? keep(item) : keep(...iterate(item))));
    },
    fromIterator(v: unknown): unknown {
      v = plain(v);
      if (isUndefined(v)) v.fail();
      return Array.isArray(v) ? v : iterate(v);
    },
    callWrap(fn: unknown, name: string, context: unknown, args: unknown[]): unknown {
      if (isUndefined(fn)) fn.fail();
      if (typeof fn !== 'function') throw typeError(`'${name}' is not callable (it is a ${typeName(fn)})`);
      if (isPyFunction(fn)) {
        const [positional, kw] = splitKwargs(args);
        for (const a of positional) if (isUndefined(a)) a.fail();
        return fn(positional.map(plain), kw);
      }
      return fn.apply(context, args);
    },
    suppressValue(v: unknown): string {
      v = plain(v);
      return v === null || v === undefined ? '' : pyStr(v);
    },
    capture(v: unknown): void {
      hooks.capture(v);
    },
    handleError(e: unknown, lineno: number | undefined, _colno: number, template?: string): unknown {
      hooks.error(e, lineno === undefined ? undefined : lineno + 1, template);
      return e;
    },
  });
}

/** The nunjucks environment and compiler of the expression layer. */
export class Jinja {
  readonly #runtime: Record<string, unknown>;
  readonly #env: nunjucks.Environment;
  readonly #cache = new Map<string, Record<string, unknown>>();
  readonly #compiled = new Map<string, Compiled>();

  constructor(hooks: JinjaHooks) {
    this.#runtime = makeRuntime(hooks);
    this.#env = new nunjucks.Environment([new IncludeLoader(this) as unknown as nunjucks.ILoader], { autoescape: false, ...LEX_OPTS });
  }

  /**
   * Compile template text; `name` (a file path) is used for includes and error positions.
   * `rawStrings`: a template string from playbook data (see parsePyString), not a template file.
   */
  template(src: string, name?: string, lex?: LexOptions, rawStrings = false): Compiled {
    return this.#make(src, name, false, lex, rawStrings);
  }

  /** Compile a bare expression whose value the compiled code passes to hooks.capture. */
  expression(expr: string, rawStrings = false): Compiled {
    return this.#make(expr, undefined, true, undefined, rawStrings);
  }

  /** nunjucks' compiled code object for an include: used by the loader. */
  code(src: string, name: string): { type: 'code'; obj: Record<string, unknown> } {
    return { type: 'code', obj: this.#props(src, name, false) };
  }

  #make(src: string, name: string | undefined, native: boolean, lex?: LexOptions, rawStrings = false): Compiled {
    const key = `${native ? 'E' : 'T'}${rawStrings ? 'R' : ''}${lex ? JSON.stringify(lex) : ''}${name ?? ''}\0${src}`;
    let compiled = this.#compiled.get(key);
    if (!compiled) {
      const props = this.#props(src, name, native, lex, rawStrings);
      const tmpl = new nunjucks.Template({ type: 'code', obj: props } as never, this.#env, name as string);
      compiled = { render: () => tmpl.render({}) };
      if (this.#compiled.size > 5000) this.#compiled.clear();
      this.#compiled.set(key, compiled);
    }
    return compiled;
  }

  #props(src: string, name: string | undefined, native: boolean, lex?: LexOptions, rawStrings = false): Record<string, unknown> {
    const key = `${native ? 'E' : 'T'}${rawStrings ? 'R' : ''}${lex ? JSON.stringify(lex) : ''}${name ?? ''}\0${src}`;
    const hit = this.#cache.get(key);
    if (hit) return hit;
    let code: string;
    try {
      const parser = new AnsibleParser(tokenize(native ? `${src} }}` : src, native, lex, rawStrings));
      let ast: AnyNode;
      if (native) {
        const expr = parser.parseExpression();
        const end = parser.nextToken();
        const rest = end?.type === L.TOKEN_VARIABLE_END ? parser.nextToken() : end;
        if (rest) parser.fail(`unexpected '${rest.value}' after the expression`, rest.lineno, rest.colno);
        ast = new N.Root(0, 0, [new N.Output(0, 0, [expr])]);
      } else {
        ast = parser.parseAsRoot();
      }
      const compiler = new AnsibleCompiler(name, false);
      compiler.native = native;
      compiler.compile(transformer.transform(ast, []));
      code = compiler.getCode();
    } catch (e) {
      const err = e as { message: string; lineno?: number; colno?: number };
      // "got end of file" (an unclosed block) comes without a position: point at the last line
      const line = err.lineno ?? (/end of file/.test(err.message) ? src.replace(/\n$/, '').split('\n').length : undefined);
      throw new JinjaSyntaxError(cleanMessage(err.message), line, err.colno, name);
    }
    const props = new Function(code)() as Record<string, unknown>;
    const runtime = this.#runtime;
    for (const [k, fn] of Object.entries(props)) {
      if (typeof fn !== 'function') continue;
      props[k] = (env: unknown, ctx: unknown, frame: unknown, _rt: unknown, cb: unknown) =>
        (fn as (...a: unknown[]) => unknown)(env, ctx, frame, runtime, cb);
    }
    if (this.#cache.size > 5000) this.#cache.clear();
    this.#cache.set(key, props);
    return props;
  }
}

function cleanMessage(msg: string): string {
  return msg
    .replace(/^\(unknown path\)\s*(\[Line \d+, Column \d+\])?\s*/, '')
    .replace(/^Template render error:\s*/, '')
    .replace(/^\w+: /, (m) => (/^(parse\w*|compile\w*): $/i.test(m) ? '' : m))
    .trim();
}

// {% include %} / {% import %}: paths relative to the including template's directory.
class IncludeLoader extends nunjucks.Loader {
  constructor(private readonly jinja: Jinja) {
    super();
  }

  getSource(name: string): { src: unknown; path: string; noCache: boolean } {
    let text: string;
    try {
      text = readFileSync(name, 'utf8');
    } catch {
      throw new Error(`template not found: ${name}`);
    }
    return { src: this.jinja.code(text, name), path: name, noCache: true };
  }

  override isRelative(filename: string): boolean {
    return !isAbsolute(filename);
  }

  override resolve(from: string, to: string): string {
    return resolve(dirname(from), to);
  }
}
