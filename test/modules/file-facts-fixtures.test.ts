// Table-driven plan tests of the read-only file modules (stat, slurp, find) and tempfile, in the
// format of fixtures.test.ts: test/modules/fixtures/<module>/<case>.json = args + gathered state
// -> expected plan. "current" is the module's state as its gather returns it; for find, entries
// are written short ({ "rel", "type" } plus what the case is about). A case may also list the
// paths find returns ("files", in order), keys the result must not have ("absent": "stat.pw_name"),
// ask for the result to be exactly "result" ("exact"), or expect the arguments to be refused
// ("argsError"). The gathers run here too, against real files.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnyModuleDefinition, Plan } from '../../engine/module.js';
import { checkArgs } from '../../engine/load/args.js';
import find, { fnmatch, pythonRegExp, type FindEntry, type FindState } from '../../modules/find.js';
import slurp from '../../modules/slurp.js';
import stat, { statTime } from '../../modules/stat.js';
import { assignPath } from '../../engine/sh.js';
import tempfile, { mktempError } from '../../modules/tempfile.js';
import { completeArgs, expectPlan, harness, runModule, type PlanExpectation } from './harness.js';

interface Case extends PlanExpectation {
  description: string;
  args: Record<string, unknown>;
  current: Record<string, unknown>;
  files?: string[];
  absent?: string[];
  exact?: true;
  argsError?: string;
}

const modules: Record<string, AnyModuleDefinition> = { find, slurp, stat, tempfile };
const root = join(import.meta.dirname, 'fixtures');
const NOW = 1700000000;

// A find entry from the short form: a recent regular file owned by root unless the case says more.
function entry(short: Partial<FindEntry> & { rel: string }): FindEntry {
  return {
    type: 'f',
    isDir: false,
    mode: '644',
    size: 0,
    inode: 1,
    dev: 2049,
    nlink: 1,
    uid: 0,
    gid: 0,
    owner: 'root',
    group: 'root',
    atime: NOW - 100,
    mtime: NOW - 100,
    ctime: NOW - 100,
    ...short,
  };
}

function state(name: string, current: Record<string, unknown>): unknown {
  if (name !== 'find') return current;
  const s = current as unknown as FindState;
  return { ...s, roots: s.roots.map((r) => ({ ...r, entries: r.entries.map(entry) })) };
}

for (const name of Object.keys(modules)) {
  describe(`${name} plans`, () => {
    for (const caseFile of readdirSync(join(root, name))
      .filter((f) => f.endsWith('.json'))
      .sort()) {
      const c = JSON.parse(readFileSync(join(root, name, caseFile), 'utf8')) as Case;
      it(`${caseFile.replace(/\.json$/, '')}: ${c.description}`, () => {
        const module = modules[name]!;
        if (c.argsError !== undefined) {
          const checked = checkArgs(module, c.args);
          expect(checked.ok).toBe(false);
          expect(checked.ok ? '' : checked.message).toContain(c.argsError);
          return;
        }
        const args = completeArgs(module, c.args);
        const plan: Plan = module.plan(state(name, c.current), args);
        expectPlan(plan, c);
        if (c.exact) expect(plan.result).toEqual(c.result);
        if (c.files) expect((plan.result?.files as { path: string }[]).map((f) => f.path)).toEqual(c.files);
        for (const key of c.absent ?? []) {
          const [outer, inner] = key.split('.') as [string, string];
          expect(plan.result?.[outer], key).not.toHaveProperty(inner);
        }
      });
    }
  });
}

describe('file-facts helpers', () => {
  it("fnmatch is Python's: the whole name, * over dots, [!x], a lone [ literal", () => {
    expect(fnmatch('a.txt', '*.txt')).toBe(true);
    expect(fnmatch('.x.txt', '*.txt')).toBe(true);
    expect(fnmatch('a.txt.bak', '*.txt')).toBe(false);
    expect(fnmatch('b1', '[!a]?')).toBe(true);
    expect(fnmatch('a1', '[!a]?')).toBe(false);
    expect(fnmatch('[x', '[x')).toBe(true);
    expect(fnmatch('a+b', 'a+b')).toBe(true);
  });

  it("pythonRegExp reads Python's syntax: named groups, \\A \\Z, inline flags, $ before a final newline", () => {
    expect(pythonRegExp('(?P<w>ab)(?P=w)').test('abab')).toBe(true);
    expect(pythonRegExp('(?i)foo').test('FOO')).toBe(true);
    expect(pythonRegExp('\\Afoo\\Z').test('foo')).toBe(true);
    expect(pythonRegExp('\\Afoo\\Z').test('foo\n')).toBe(false);
    expect(pythonRegExp('foo$').test('foo\n')).toBe(true);
    expect(pythonRegExp('[$]').test('$')).toBe(true);
    expect(pythonRegExp('a\\-b\\_c').test('a-b_c')).toBe(true);
  });

  it("mktempError phrases mktemp's failure as Python's OSError, Ansible's message", () => {
    expect(mktempError("mktemp: failed to create directory via template '/ro/a.XXXXXXXX': Read-only file system\n")).toBe(
      "[Errno 30] Read-only file system: '/ro/a.XXXXXXXX'",
    );
    expect(mktempError("mktemp: too few X's in template")).toBeUndefined();
  });

  it("assignPath expands a path on the host as Python's expandvars and expanduser do", () => {
    const expand = (p: string) =>
      execFileSync('sh', ['-c', `${assignPath('p', p).text}; printf %s "$p"`], {
        encoding: 'utf8',
        env: { ...process.env, HOME: '/home/pi', TSPLAY_X: 'a b' },
      });
    expect(expand('~/x y')).toBe('/home/pi/x y');
    expect(expand('~root')).toBe('/root');
    expect(expand('$HOME/${TSPLAY_X}/$TSPLAY_NOPE')).toBe('/home/pi/a b/$TSPLAY_NOPE');
    expect(expand("it's ${a-b} $1")).toBe("it's ${a-b} $1");
    expect(expand('~nosuchuser/q')).toBe('~nosuchuser/q');
  });

  it('statTime gives the float Python computes from seconds and nanoseconds', () => {
    expect(statTime('1796408668.570488433')).toBe(1796408668.5704885);
    expect(statTime('1700000000.000000000')).toBe(1700000000);
  });
});

describe('file-facts gathers on this machine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-file-facts-'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'a.txt'), 'hello\n');
  writeFileSync(join(dir, 'sub', 'b.txt'), 'foo bar\n');
  symlinkSync('a.txt', join(dir, 'link'));

  it('stat: one command; a file, a link, a missing path', async () => {
    const h = harness(dir);
    const file = await runModule(h, stat, { path: join(dir, 'a.txt'), checksum_algorithm: 'sha256' });
    expect(file.gatherCommands).toBe(1);
    expect(file.plan.result?.stat).toMatchObject({
      exists: true,
      isreg: true,
      size: 6,
      checksum: '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03',
    });
    const link = await runModule(h, stat, { path: join(dir, 'link') });
    expect(link.plan.result?.stat).toMatchObject({ islnk: true, lnk_target: 'a.txt', lnk_source: join(dir, 'a.txt') });
    expect((await runModule(h, stat, { path: join(dir, 'nope') })).plan.result).toEqual({ stat: { exists: false } });
  });

  it('slurp: one command; base64 content; a directory fails', async () => {
    const h = harness(dir);
    const r = await runModule(h, slurp, { src: join(dir, 'a.txt') });
    expect(r.gatherCommands).toBe(1);
    expect(r.plan.result).toEqual({ content: 'aGVsbG8K', encoding: 'base64', source: join(dir, 'a.txt') });
    expect((await runModule(h, slurp, { src: dir })).plan.failed).toBe(`source is a directory and must be a file: ${dir}`);
  });

  it('find: one command, a second only for contains or get_checksum', async () => {
    const h = harness(dir);
    const r = await runModule(h, find, { paths: dir, recurse: true });
    expect(r.gatherCommands).toBe(1);
    expect((r.plan.result?.files as { path: string }[]).map((f) => f.path)).toEqual([join(dir, 'a.txt'), join(dir, 'sub', 'b.txt')]);
    const c = await runModule(h, find, { paths: dir, recurse: true, contains: 'foo', get_checksum: true });
    expect(c.gatherCommands).toBe(2);
    expect(c.plan.result?.files).toEqual([
      expect.objectContaining({ path: join(dir, 'sub', 'b.txt'), checksum: 'd53a205a336e07cf9eac45471b3870f9489288ec' }),
    ]);
  });

  it('tempfile: creates a file with mode 0600 and returns its attributes', async () => {
    const h = harness(dir);
    const r = await runModule(h, tempfile, { path: dir, prefix: 'x.' });
    expect(r.gatherCommands).toBe(0);
    expect(r.outcome?.result).toMatchObject({ state: 'file', mode: '0600', size: 0 });
    expect(r.outcome?.result?.path).toMatch(new RegExp(`^${dir}/x\\.[A-Za-z0-9]{8}$`));
    const missing = await runModule(h, tempfile, { path: join(dir, 'nope') });
    expect(missing.outcome?.failed).toBe(`[Errno 2] No such file or directory: '${dir}/nope/ansible.XXXXXXXX'`);
  });
});
