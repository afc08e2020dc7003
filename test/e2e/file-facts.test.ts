// stat, slurp, find and tempfile (issue 16) end to end on the local host: one playbook under
// tsplay and, where it is installed, under ansible-playbook, over the same tree of files; every
// registered result is printed as JSON and compared key by key. A second run and a --check run
// change nothing (but the temporary files tempfile makes each real run), and --check still
// returns the read-only modules' results.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project, recap, tsplay } from './helpers.js';

// Each registered result is printed as one JSON line, in this order.
const REGISTERED = [
  'st_file',
  'st_sha256',
  'st_link',
  'st_link_follow',
  'st_dangling',
  'st_dir',
  'st_fifo',
  'st_missing',
  'st_bare',
  'st_home',
  'st_env',
  'sl_text',
  'sl_binary',
  'sl_missing',
  'sl_dir',
  'f_default',
  'f_any',
  'f_depth',
  'f_contains',
  'f_regex',
  'f_age_size',
  'f_old',
  'f_follow',
  'f_dirs',
  'f_linked_root',
  'f_bad_age',
  'tf_file',
  'tf_dir',
] as const;

const PLAY = `- hosts: h
  gather_facts: false
  tasks:
    - stat: path={{ t }}/a.txt
      register: st_file
    - stat: { path: "{{ t }}/b.log", checksum_algorithm: sha256 }
      register: st_sha256
    - stat: { path: "{{ t }}/link.txt" }
      register: st_link
    - stat: { path: "{{ t }}/link.txt", follow: true }
      register: st_link_follow
    - stat: { path: "{{ t }}/dangling" }
      register: st_dangling
    - stat: { dest: "{{ t }}/sub", get_checksum: false }
      register: st_dir
    - stat: { path: "{{ t }}/fifo" }
      register: st_fifo
    - stat: { path: "{{ t }}/nope" }
      register: st_missing
    - ansible.builtin.stat: { name: "{{ t }}/big.bin", get_mime: false, get_attributes: false, checksum: md5 }
      register: st_bare
    - stat: { path: "~", get_mime: false }
      register: st_home
    - stat: path=$HOME/$NO_SUCH_VAR_X get_mime=false
      register: st_env
    - slurp: src={{ t }}/a.txt
      register: sl_text
    - ansible.builtin.slurp: { path: "{{ t }}/big.bin" }
      register: sl_binary
    - slurp: { src: "{{ t }}/nope" }
      register: sl_missing
      ignore_errors: true
    - slurp: { src: "{{ t }}/sub" }
      register: sl_dir
      ignore_errors: true
    - find: paths={{ t }}
      register: f_default
    - find: { paths: "{{ t }}", recurse: true, file_type: any, hidden: true }
      register: f_any
    - find: { paths: "{{ t }}", recurse: true, depth: 2, patterns: '*.txt', get_checksum: true }
      register: f_depth
    - find: { paths: "{{ t }}", recurse: true, contains: 'fo+ b' }
      register: f_contains
    - find: { paths: "{{ t }}", use_regex: true, patterns: ['^[ab]\\.'], excludes: 'b.*' }
      register: f_regex
    - find: { paths: "{{ t }},{{ t }}/nodir", age: -1d, size: -10k, file_type: link }
      register: f_age_size
    - find: { paths: ["{{ t }}"], age: 5d, age_stamp: mtime }
      register: f_old
    - find: { paths: "{{ t }}", size: 1k, recurse: yes, follow: true, file_type: any }
      register: f_follow
    - ansible.builtin.find: { path: "{{ t }}", file_type: directory, recurse: true, pattern: 'd*' }
      register: f_dirs
    - find: { paths: "{{ t }}/linkdir" }
      register: f_linked_root
    - find: { paths: "{{ t }}", age: 'x' }
      register: f_bad_age
      ignore_errors: true
    - tempfile:
      register: tf_file
    - ansible.builtin.tempfile: { state: directory, path: "{{ scratch }}", prefix: pre., suffix: .suf }
      register: tf_dir
    - debug: msg="{{ item | to_json }}"
      loop: [${REGISTERED.map((r) => `"{{ ${r} }}"`).join(', ')}]
      loop_control: { label: result }
`;

const HOSTS = 'h ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n';

type Results = Record<(typeof REGISTERED)[number], Record<string, unknown>>;

// The results from the debug lines: `"msg": "<json>"`, one per registered variable.
function results(out: string): Results {
  const msgs = out
    .split('\n')
    .filter((l) => /^\s+"msg": "\{/.test(l))
    .map((l) => JSON.parse(JSON.parse(`{${l.trim()}}`).msg as string) as Record<string, unknown>);
  expect(msgs, out).toHaveLength(REGISTERED.length);
  return Object.fromEntries(REGISTERED.map((name, i) => [name, msgs[i]!])) as Results;
}

/**
 * Keys that legitimately differ between two runs over the same files, removed before comparing:
 * - atime: every run reads the files (checksums, slurp, `file`, contains), which moves access
 *   times between the runs;
 * - path of tempfile: a new random name each time (checked apart);
 * - the msg of tempfile skipped in check mode: Ansible names the module as the task wrote it
 *   (ansible.builtin.tempfile), tsplay by its name (a module is not told how the task named it);
 * - `failed: false` of tempfile skipped in check mode: Ansible's result of a module skipped for
 *   not supporting check mode has it, tsplay's skipped results do not (an engine difference,
 *   listed in docs/ansible-compatibility.md).
 */
function comparable(name: string, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => comparable(name, v));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'atime') continue;
    if (k === 'path' && name.startsWith('tf_')) continue;
    if (k === 'failed' && v === false && name.startsWith('tf_') && (value as Record<string, unknown>).skipped === true) continue;
    if (k === 'msg' && name === 'tf_dir' && v === 'remote module (ansible.builtin.tempfile) does not support check mode') {
      out[k] = 'remote module (tempfile) does not support check mode';
      continue;
    }
    out[k] = comparable(name, v);
  }
  return out;
}

function ansible(dir: string, extra: string[]): { code: number | null; out: string } {
  const env = { ...process.env, NO_COLOR: '1', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'false' };
  const r = spawnSync('ansible-playbook', ['site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('stat, slurp, find and tempfile on the local host', () => {
  let tree: string;
  let scratch: string;
  let dir: string;
  let vars: string[];
  let first: { code: number; out: string; results: Results };
  /** The temporary files the runs made outside the scratch directory, removed at the end. */
  const made: string[] = [];

  beforeAll(async () => {
    const base = mkdtempSync(join(tmpdir(), 'tsplay-file-facts-'));
    tree = join(base, 'tree');
    scratch = join(base, 'scratch');
    mkdirSync(scratch);
    for (const d of ['sub/deep/deeper', '.hid', 'target', 'deps']) mkdirSync(join(tree, d), { recursive: true });
    writeFileSync(join(tree, 'a.txt'), 'hello\n');
    chmodSync(join(tree, 'a.txt'), 0o4755);
    writeFileSync(join(tree, 'b.log'), 'line one\nfoo bar\n');
    writeFileSync(join(tree, '.hidden.txt'), 'x\n');
    writeFileSync(join(tree, 'sub/deep/c.txt'), 'deep\n');
    writeFileSync(join(tree, 'sub/deep/deeper/d.txt'), 'foo  bar\n');
    writeFileSync(join(tree, '.hid/e.txt'), 'fooo bar\n');
    writeFileSync(join(tree, 'target/f.txt'), 'in target\n');
    writeFileSync(join(tree, 'big.bin'), Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)));
    symlinkSync('a.txt', join(tree, 'link.txt'));
    symlinkSync('target', join(tree, 'linkdir'));
    symlinkSync('nowhere', join(tree, 'dangling'));
    expect(spawnSync('mkfifo', [join(tree, 'fifo')]).status).toBe(0);
    const old = new Date(Date.now() - 10 * 86400_000);
    utimesSync(join(tree, 'b.log'), old, old);
    dir = project({ hosts: HOSTS, 'site.yml': PLAY });
    vars = ['-e', `t=${tree}`, '-e', `scratch=${scratch}`];
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', ...vars]);
    first = { ...r, results: results(r.out) };
    made.push(first.results.tf_file.path as string);
  }, 60_000);

  afterAll(() => {
    if (tree) rmSync(join(tree, '..'), { recursive: true, force: true });
    for (const path of made) rmSync(path, { force: true });
  });

  it('returns what a playbook needs: stat keys, base64 content, the files found', () => {
    const r = first.results;
    expect(first.code, first.out).toBe(0);
    expect(r.st_file.changed).toBe(false);
    expect(r.st_file.stat).toMatchObject({
      exists: true,
      isreg: true,
      mode: '4755',
      isuid: true,
      size: 6,
      checksum: 'f572d396fae9206628714fb2ce00f72e94f2258f',
      mimetype: 'text/plain',
      charset: 'us-ascii',
      readable: true,
    });
    expect(r.st_link.stat).toMatchObject({ islnk: true, lnk_target: 'a.txt', lnk_source: join(tree, 'a.txt') });
    expect(r.st_link.stat).not.toHaveProperty('checksum');
    expect(r.st_link_follow.stat).toMatchObject({ islnk: false, isreg: true, checksum: 'f572d396fae9206628714fb2ce00f72e94f2258f' });
    expect(r.st_dangling.stat).toMatchObject({ islnk: true, readable: false, mimetype: 'unknown' });
    expect(r.st_missing.stat).toEqual({ exists: false });
    expect(r.st_bare.stat).not.toHaveProperty('mimetype');
    expect(r.st_bare.stat).not.toHaveProperty('attributes');
    expect((r.st_bare.stat as Record<string, unknown>).checksum).toMatch(/^[0-9a-f]{32}$/);
    expect((r.st_home.stat as Record<string, unknown>).path).toBe(process.env.HOME);
    expect(r.st_env.stat).toEqual({ exists: false }); // $HOME expanded, an unset variable kept as written
    expect(Buffer.from(r.sl_text.content as string, 'base64').toString()).toBe('hello\n');
    expect(r.sl_text).toMatchObject({ encoding: 'base64', source: join(tree, 'a.txt') });
    expect(r.sl_missing).toMatchObject({ failed: true, msg: `file not found: ${tree}/nope` });
    expect(r.sl_dir.msg).toBe(`source is a directory and must be a file: ${tree}/sub`);
    const paths = (name: keyof Results) => (r[name].files as { path: string }[]).map((f) => f.path.slice(tree.length + 1)).sort();
    expect(paths('f_default')).toEqual(['a.txt', 'b.log', 'big.bin']); // regular files only: no links, no fifo
    // a hidden directory is searched (only hidden names are left out); depth 2 stops above sub/deep/c.txt
    expect(paths('f_depth')).toEqual(['.hid/e.txt', 'a.txt', 'target/f.txt']);
    expect((r.f_depth.files as Record<string, unknown>[]).find((f) => f.path === join(tree, 'a.txt'))?.checksum).toBe(
      'f572d396fae9206628714fb2ce00f72e94f2258f',
    );
    expect(paths('f_contains')).toEqual(['.hid/e.txt', 'b.log']);
    expect(paths('f_regex')).toEqual(['a.txt']);
    expect(paths('f_old')).toEqual(['b.log']);
    expect(paths('f_linked_root')).toEqual(['linkdir/f.txt']); // a path that is a link to a directory is searched
    expect(r.f_bad_age).toMatchObject({ failed: true, msg: 'failed to process age', age: 'x' });
    expect(r.f_age_size.skipped_paths).toEqual({ [`${tree}/nodir`]: `'${tree}/nodir' is not a directory` });
    expect(r.tf_file).toMatchObject({ changed: true, state: 'file', mode: '0600', size: 0 });
    expect(r.tf_file.path).toMatch(/\/ansible\.[A-Za-z0-9_]{8}$/);
    expect(r.tf_dir).toMatchObject({ changed: true, state: 'directory', mode: '0700' });
    expect(r.tf_dir.path).toMatch(new RegExp(`^${scratch}/pre\\.[A-Za-z0-9_]{8}\\.suf$`));
  });

  it('a second run changes nothing but the new temporary file and directory; --check changes nothing and returns the same facts', async () => {
    const snapshot = () => spawnSync('find', [tree, '-printf', '%p %y %m %s %T@ %C@\\n'], { encoding: 'utf8' }).stdout;
    const before = snapshot();
    const second = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', ...vars]);
    expect(second.code, second.out).toBe(0);
    expect(recap(second.out, 'h')).toMatchObject({ changed: 2, failed: 0, ignored: 3 }); // the two tempfile tasks
    const again = results(second.out);
    for (const name of REGISTERED.filter((n) => !n.startsWith('tf_')))
      expect(comparable(name, again[name]), name).toEqual(comparable(name, first.results[name]));
    made.push(again.tf_file.path as string);
    const scratchBefore = readdirSync(scratch).sort();
    const check = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--check', ...vars]);
    expect(check.code, check.out).toBe(0);
    expect(recap(check.out, 'h')).toMatchObject({ changed: 0, failed: 0, skipped: 2 });
    const checked = results(check.out);
    for (const name of REGISTERED.filter((n) => !n.startsWith('tf_')))
      expect(comparable(name, checked[name]), name).toEqual(comparable(name, first.results[name]));
    expect(checked.tf_file).toMatchObject({ changed: false, skipped: true, msg: 'remote module (tempfile) does not support check mode' });
    expect(readdirSync(scratch).sort()).toEqual(scratchBefore);
    expect(snapshot()).toBe(before);
  }, 60_000);

  it.skipIf(!hasAnsible)(
    'ansible-playbook registers the same results, key by key, in a real run and in --check',
    async () => {
      for (const mode of [[], ['--check']]) {
        const a = ansible(dir, [...vars, ...mode]);
        expect(a.code, a.out).toBe(0);
        const theirs = results(a.out);
        const ours = mode.length ? results((await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', ...vars, ...mode])).out) : first.results;
        for (const name of REGISTERED)
          expect(comparable(name, ours[name]), `${name} ${mode.join(' ')}`).toEqual(comparable(name, theirs[name]));
        if (!mode.length) made.push(theirs.tf_file.path as string);
      }
    },
    120_000,
  );
});
