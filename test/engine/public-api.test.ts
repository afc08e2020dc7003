// The public API is small and pinned: a change to this list is a change to what module writers use.
import { describe, expect, it } from 'vitest';
import * as api from '../../engine/index.js';

describe('public API (import from "tsplay")', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(api).sort()).toEqual([
      'ModuleCrash',
      'RawShell',
      'Secret',
      'ShellCommand',
      'UnreachableError',
      'UserError',
      'atomicWriteCommand',
      'contentDiff',
      'defineFact',
      'defineModule',
      'formatMode',
      'joinCommands',
      'noop',
      'planFailure',
      'quote',
      'raw',
      'resolveMode',
      'runChanges',
      'runChangesAsOne',
      'setAttributesCommand',
      'sh',
      'sha1',
      'shellSplit',
      'stateDiff',
    ]);
  });

  it('package.json exports only the barrel', async () => {
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as { exports: Record<string, unknown> };
    expect(Object.keys(pkg.exports)).toEqual(['.']);
  });
});
