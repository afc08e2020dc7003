// engine/expr/jinja.ts builds Ansible's Jinja2 on nunjucks' tokenizer, parser, compiler and runtime,
// which are not nunjucks' public API: an update may rename or drop any of them, and an override of
// a method nunjucks no longer calls would do nothing, silently. This fails first, and says what.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingInternals, NUNJUCKS_VERSION, USED } from '../../engine/expr/nunjucks-internals.js';

const root = join(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);

describe("nunjucks' internals", () => {
  it('are those of the nunjucks package.json pins', () => {
    const pinned = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies
      .nunjucks;
    const installed = (require('nunjucks/package.json') as { version: string }).version;
    expect(
      pinned,
      `package.json must pin nunjucks exactly to ${NUNJUCKS_VERSION}, the version engine/expr/nunjucks-internals.ts was written against`,
    ).toBe(NUNJUCKS_VERSION);
    expect(
      installed,
      `nunjucks ${installed} is installed; engine/expr/nunjucks-internals.ts was written against nunjucks ${NUNJUCKS_VERSION} (run npm ci)`,
    ).toBe(NUNJUCKS_VERSION);
  });

  it('are all there', () => {
    expect(
      missingInternals(),
      `the installed nunjucks lacks internals that engine/expr/jinja.ts builds on (written against nunjucks ${NUNJUCKS_VERSION}): ` +
        'adapt engine/expr/nunjucks-internals.ts and jinja.ts to the new nunjucks, or keep the pinned version',
    ).toEqual([]);
  });

  it('USED names every internal jinja.ts reaches', () => {
    const source = readFileSync(join(root, 'engine', 'expr', 'jinja.ts'), 'utf8');
    const names = (re: RegExp) => [...new Set([...source.matchAll(re)].map((m) => m[1]!))].sort();
    const unlisted = [
      ...names(/\bL\.([A-Za-z_]+)/g)
        .filter((n) => !(USED.lexer as readonly string[]).includes(n))
        .map((n) => `lexer ${n}`),
      ...names(/\bN\.([A-Za-z_]+)/g)
        .filter((n) => !(USED.nodes as readonly string[]).includes(n))
        .map((n) => `nodes ${n}`),
      ...names(/\bsuper\.([A-Za-z_]+)/g)
        .filter((n) => !(USED.parser as readonly string[]).includes(n) && !(USED.compiler as readonly string[]).includes(n))
        .map((n) => `parser or compiler ${n}`),
      ...names(/\bthis\.(_[A-Za-z]+)\(/g)
        .filter((n) => !(USED.compiler as readonly string[]).includes(n))
        .map((n) => `compiler ${n}`),
    ];
    expect(unlisted, 'add these to USED in engine/expr/nunjucks-internals.ts').toEqual([]);
  });
});
