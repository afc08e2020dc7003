// The public API is small and pinned: a change to this list is a change to what module writers use.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../../engine/index.js';

describe('public API (import from "tsplay")', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(api).sort()).toEqual([
      'ModeError',
      'ModuleCrash',
      'PatternError',
      'RawShell',
      'Secret',
      'ShellCommand',
      'UnreachableError',
      'UserError',
      'applyFileEdits',
      'assignPath',
      'atomicWriteCommand',
      'attributeResult',
      'changesFailed',
      'contentDiff',
      'defaultMode',
      'defineFact',
      'defineModule',
      'describeAttributes',
      'expandTemplate',
      'fileContent',
      'fileFact',
      'fileProbeCommand',
      'filesFact',
      'followed',
      'formatMode',
      'guardCommand',
      'joinCommands',
      'md5',
      'noop',
      'parseFileProbe',
      'parseProbeAll',
      'parseUmask',
      'parseWriteOutput',
      'planAttributes',
      'planEditAttributes',
      'planFailure',
      'planFileEdit',
      'probeAll',
      'probeAllCommand',
      'pythonRegex',
      'quote',
      'raw',
      'readVaultFile',
      'resolveMode',
      'runChanges',
      'runChangesAsOne',
      'setAttributesCommand',
      'sh',
      'sha1',
      'shellSplit',
      'statCommand',
      'stateDiff',
      'validateProblem',
      'writeAttributes',
    ]);
  });

  it('package.json exports only the barrel', async () => {
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as { exports: Record<string, unknown> };
    expect(Object.keys(pkg.exports)).toEqual(['.']);
  });
});

describe('the API bridge (what a custom module gets while the CLI runs)', () => {
  it('re-exports every value the public entry exports', () => {
    const source = readFileSync(join(import.meta.dirname, '..', '..', 'engine', 'api-bridge.ts'), 'utf8');
    const list = /export const \{([^}]*)\} = api;/.exec(source)?.[1] ?? '';
    const names = list
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    expect(names.sort()).toEqual(Object.keys(api).sort());
  });
});
