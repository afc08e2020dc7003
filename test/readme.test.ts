// The README's commands as a new user runs them, exactly as written.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const README = readFileSync('README.md', 'utf8');
const shellBlocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('the README', () => {
  it('its first command makes `tsplay` a command (npm link) before any step uses it bare', () => {
    const block = /## Two commands[\s\S]*?```sh\n([\s\S]*?)```/.exec(README)?.[1];
    expect(block).toBeDefined();
    const steps = block!
      .split('\n')[0]!
      .split('&&')
      .map((c) => c.trim());
    const link = steps.indexOf('npm link');
    expect(link).toBeGreaterThan(steps.indexOf('npm run build'));
    expect(steps.indexOf('npm run build')).toBeGreaterThan(steps.indexOf('npm ci'));
    const bare = steps.findIndex((c) => /^tsplay\b/.test(c));
    expect(bare).toBeGreaterThan(link);
    expect(steps.slice(0, link).some((c) => /^tsplay\b/.test(c))).toBe(false);
  });

  it('no command in it leaves a file in the checkout (a redirect to a relative path)', () => {
    const writes = shellBlocks
      .flatMap((b) => b.split('\n'))
      .filter((l) => /(^|[^>2&])>{1,2}\s*(?![/&~$])[\w.-]+/.test(l.replace(/#.*$/, '')));
    expect(writes).toEqual([]);
  });
});
