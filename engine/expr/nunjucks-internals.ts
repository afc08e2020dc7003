// nunjucks' internals that engine/expr/jinja.ts builds the Jinja2 dialect on: its tokenizer,
// parser, compiler, AST nodes, transformer and runtime, none of them public API. They are reached
// here and nowhere else. package.json pins nunjucks to the version they were written against
// (NUNJUCKS_VERSION), and test/expr/nunjucks-internals.test.ts fails, naming what moved, when an
// update no longer has one of them.
/* eslint-disable @typescript-eslint/no-explicit-any -- nunjucks' internals have no types; they are typed `any` here, in one file */
import nunjucks from 'nunjucks';
// nunjucks' own transformer (no types of its own: see engine/types/nunjucks.d.ts)
import nunjucksTransformer from 'nunjucks/src/transformer.js';

/** The nunjucks whose internals this file and jinja.ts were written against. */
export const NUNJUCKS_VERSION = '3.2.4';

// nunjucks' tokenizer, parser, compiler and AST nodes are untyped internals.
export type AnyNode = any;

interface Internals {
  lexer: Record<string, string> & { lex(src: string, opts: object): any };
  parser: { Parser: any };
  compiler: { Compiler: any };
  nodes: Record<string, any>;
  runtime: Record<string, any>;
}

const nj = nunjucks as unknown as Internals;

/** The tokenizer's token types and `lex`. */
export const lexer = nj.lexer;
/** The AST node classes. */
export const nodes = nj.nodes;
export const Parser = nj.parser.Parser as new (tokens: AnyNode) => any;
export const Compiler = nj.compiler.Compiler as new (name: string | undefined, throwOnUndefined: boolean) => any;
/** The runtime object compiled templates call (jinja.ts hands them its own, on top of this one). */
export const runtime = nj.runtime;
export const transformer = nunjucksTransformer as {
  transform(ast: AnyNode, asyncFilters: string[]): AnyNode;
};

/**
 * What jinja.ts uses of each internal: the methods its parser and compiler call or override
 * (an override of a method nunjucks no longer calls would silently do nothing), the tokenizer's
 * members, the node classes, and the runtime functions whose nunjucks versions it replaces.
 */
export const USED = {
  lexer: [
    'lex',
    'TOKEN_BLOCK_END',
    'TOKEN_BLOCK_START',
    'TOKEN_BOOLEAN',
    'TOKEN_COLON',
    'TOKEN_COMMA',
    'TOKEN_COMMENT',
    'TOKEN_DATA',
    'TOKEN_FLOAT',
    'TOKEN_INT',
    'TOKEN_LEFT_BRACKET',
    'TOKEN_LEFT_CURLY',
    'TOKEN_LEFT_PAREN',
    'TOKEN_NONE',
    'TOKEN_OPERATOR',
    'TOKEN_RIGHT_BRACKET',
    'TOKEN_RIGHT_CURLY',
    'TOKEN_RIGHT_PAREN',
    'TOKEN_STRING',
    'TOKEN_SYMBOL',
    'TOKEN_VARIABLE_END',
    'TOKEN_VARIABLE_START',
    'TOKEN_WHITESPACE',
  ],
  tokenizer: ['nextToken', 'back', 'current', 'forward', 'forwardN', '_parseString', 'in_code', 'trimBlocks', 'str', 'index'],
  nodes: [
    'Array',
    'Dict',
    'For',
    'FunCall',
    'Group',
    'InlineIf',
    'Is',
    'KeywordArgs',
    'Literal',
    'LookupVal',
    'Node',
    'NodeList',
    'Not',
    'Output',
    'Pair',
    'Root',
    'Set',
    'Symbol',
    'TemplateData',
  ],
  parser: [
    'advanceAfterBlockEnd',
    'expect',
    'fail',
    'nextToken',
    'parseAggregate',
    'parseAsRoot',
    'parseCompare',
    'parseExpression',
    'parseFor',
    'parseInlineIf',
    'parseIs',
    'parseOr',
    'parsePostfix',
    'parsePrimary',
    'parseSignature',
    'parseUntilBlocks',
    'peekToken',
    'skip',
    'skipSymbol',
    'skipValue',
  ],
  compiler: [
    '_closeScopeLevels',
    '_compileAggregate',
    '_compileExpression',
    '_emit',
    '_emitFuncEnd',
    '_emitLine',
    '_getNodeName',
    '_templateName',
    '_tmpid',
    'assertType',
    'compile',
    'compileAdd',
    'compileAnd',
    'compileArray',
    'compileCompare',
    'compileConcat',
    'compileDict',
    'compileDiv',
    'compileFilter',
    'compileFloorDiv',
    'compileFor',
    'compileFunCall',
    'compileIf',
    'compileIn',
    'compileInlineIf',
    'compileIs',
    'compileLookupVal',
    'compileMod',
    'compileMul',
    'compileNeg',
    'compileNot',
    'compileOr',
    'compileOutput',
    'compilePos',
    'compilePow',
    'compileSet',
    'compileSub',
    'fail',
    'getCode',
  ],
  runtime: ['callWrap', 'contextOrFrameLookup', 'fromIterator', 'handleError', 'suppressValue'],
} as const;

/** The internals of USED that the installed nunjucks lacks, as "what (kind)"; empty when all apply. */
export function missingInternals(): string[] {
  const missing: string[] = [];
  const need = (ok: boolean, what: string) => {
    if (!ok) missing.push(what);
  };
  for (const k of USED.lexer) need(lexer?.[k] !== undefined, `nunjucks.lexer.${k}`);
  const tokens = typeof lexer?.lex === 'function' ? (lexer.lex('{{ a }}', {}) as Record<string, unknown>) : {};
  for (const k of USED.tokenizer) need(k in tokens, `the tokenizer's ${k}`);
  for (const k of USED.nodes) need(typeof nodes?.[k] === 'function', `nunjucks.nodes.${k}`);
  for (const k of USED.parser) need(typeof nj.parser?.Parser?.prototype?.[k] === 'function', `nunjucks.parser.Parser.prototype.${k}`);
  for (const k of USED.compiler)
    need(typeof nj.compiler?.Compiler?.prototype?.[k] === 'function', `nunjucks.compiler.Compiler.prototype.${k}`);
  for (const k of USED.runtime) need(typeof runtime?.[k] === 'function', `nunjucks.runtime.${k}`);
  need(typeof transformer?.transform === 'function', 'nunjucks/src/transformer.js transform');
  return missing;
}
