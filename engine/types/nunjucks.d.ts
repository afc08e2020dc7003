// nunjucks ships no types for its internals; engine/expr/nunjucks-internals.ts states the shape it uses.
declare module 'nunjucks/src/transformer.js' {
  const transformer: unknown;
  export default transformer;
}
