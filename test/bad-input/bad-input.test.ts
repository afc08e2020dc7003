// The bad-input corpus (corpus.ts): every malformed input is refused with Ansible's exit code, one
// message naming file:line:col with a hint, no stack trace, and no host contacted when the error
// can be found before the run. `npx tsx test/bad-input/compare-ansible.ts` compares the exit codes
// with ansible-playbook's.
import { describe, expect, it } from 'vitest';
import { corpus } from './corpus.js';
import { runCase } from './harness.js';
import { resolveEndpoint } from '../../engine/connection/ssh.js';

describe('bad input', () => {
  it('has at least 40 cases, each with a distinct name', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length);
  });

  it('an SSH port that is no number makes the host unreachable with a clear message, before connecting', () => {
    expect(() => resolveEndpoint('web1', { ansible_host: '127.0.0.1', ansible_port: 'abc' }, { env: {} })).toThrow(
      /invalid SSH port 'abc': ansible_port must be a number from 1 to 65535/,
    );
    expect(resolveEndpoint('web1', { ansible_host: '127.0.0.1', ansible_port: '2222' }, { env: {} }).port).toBe(2222);
  });

  for (const c of corpus) {
    it(c.name, async () => {
      const r = await runCase(c);
      const all = r.out + r.err;
      expect(r.code, all).toBe(c.code);
      expect(all).toMatch(c.message);
      expect(all, 'no stack trace').not.toMatch(/^\s+at .+[:(]/m);
      expect(all).not.toMatch(/internal error|please report/);
      expect(all, 'no secret').not.toMatch(/corpus-S3cret|right-pw|wrong-pw/);
      if (c.where) expect(all, all).toContain(`${r.dir}/${c.where}`);
      if (c.runtime) {
        // the task fails on each host with the message (and its hint in parentheses)
        const fatal = r.out.split('\n').filter((l) => l.startsWith('fatal: ['));
        expect(fatal.length, r.out).toBe(2);
        for (const l of fatal) {
          expect(l).toMatch(c.message);
          expect(l).toMatch(/\(.{10,}\)/);
        }
        expect(r.out).toMatch(/failed=1/);
      } else {
        // refused before the run: one ERROR! line with a hint, nothing played, nobody contacted
        expect(r.contacted).toEqual([]);
        expect(r.out).not.toMatch(/PLAY \[|TASK \[/);
        const errors = r.err.split('\n').filter((l) => /^(ERROR!|error:)/.test(l));
        expect(errors.length, r.err).toBe(1);
        expect(r.err, 'a hint').toMatch(/\n {2}hint: \S|\(Did you mean/);
      }
    });
  }
});
