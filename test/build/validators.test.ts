// The validators precompiled by the build (dist/modules/validators.cjs) must be the ones ajv would
// compile at run time: same verdicts, same errors, same defaults filled.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { AJV_OPTIONS } from '../../engine/load/args.js';
import { builtinModules } from '../../modules/index.js';

const file = resolve('dist/modules/validators.cjs');
const run = existsSync(file) ? describe : describe.skip;

run('precompiled argument validators', () => {
  const { validators } = createRequire(import.meta.url)(file) as { validators: Record<string, ValidateFunction> };
  const ajv = new Ajv(AJV_OPTIONS);

  it('cover every built-in module', () => {
    const missing = builtinModules.filter((m) => !validators[JSON.stringify(m.schema)]).map((m) => m.name);
    expect(missing).toEqual([]);
  });

  it('give the verdicts, errors and defaults of a run-time compile', () => {
    const samples = [
      {},
      { path: '/x' },
      { path: 1, state: 'bogus' },
      { name: ['a'], state: 'present' },
      { dest: '/x', content: 'y', mode: 7 },
    ];
    for (const m of builtinModules) {
      const pre = validators[JSON.stringify(m.schema)]!;
      const fresh = ajv.compile(m.schema as object);
      for (const s of samples) {
        const a = structuredClone(s);
        const b = structuredClone(s);
        expect(pre(a), m.name).toBe(fresh(b));
        expect(a, m.name).toEqual(b);
        expect(pre.errors ?? null, m.name).toEqual(fresh.errors ?? null);
      }
    }
  });
});
