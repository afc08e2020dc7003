// The file modules against the real local machine, in temp directories: apply changes the file,
// a second run is a no-op, a plan alone (check mode) changes nothing, validate failures and
// backups behave, ownership and mode survive rewrites, writes are atomic, and every task costs one
// remote command to gather and at most one to apply.
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModuleDefinition } from '../../engine/module.js';
import copy from '../../modules/copy.js';
import file from '../../modules/file.js';
import lineinfile from '../../modules/lineinfile.js';
import template from '../../modules/template.js';
import { harness, runModule, type Harness } from './harness.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

let dir: string;
let controller: string;
let h: Harness;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsplay-files-'));
  controller = mkdtempSync(join(tmpdir(), 'tsplay-controller-'));
  h = harness(controller);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(controller, { recursive: true, force: true });
});

const mode = (p: string) => statSync(p).mode & 0o7777;
const leftovers = () => readdirSync(dir).filter((n) => n.includes('.tsplay-'));

/** Apply, then check that a second gather + plan is a no-op; returns the first run. */
async function converge<A, S>(module: ModuleDefinition<A, S>, args: Record<string, unknown>) {
  const first = await runModule(h, module, args);
  expect(first.plan.failed).toBeUndefined();
  expect(first.outcome?.failed).toBeUndefined();
  expect(first.gatherCommands).toBe(1);
  expect(first.applyCommands).toBeLessThanOrEqual(1);
  const second = await runModule(h, module, args, { check: true });
  expect(second.plan.changes.map((c) => c.summary)).toEqual([]);
  expect(second.gatherCommands).toBe(1);
  return first;
}

describe('lineinfile on a real file', () => {
  it('replaces the matching line, then is a no-op; gather 1 command, apply 1', async () => {
    const p = join(dir, 'config');
    writeFileSync(p, 'SELINUX=permissive\nSELINUXTYPE=targeted\n');
    const r = await converge(lineinfile, { path: p, regexp: '^SELINUX=', line: 'SELINUX=enforcing' });
    expect(r.plan.changes).toHaveLength(1);
    expect(r.applyCommands).toBe(1);
    expect(r.plan.result).toMatchObject({ msg: 'line replaced' });
    expect(readFileSync(p, 'utf8')).toBe('SELINUX=enforcing\nSELINUXTYPE=targeted\n');
    expect(leftovers()).toEqual([]);
  });

  it('check mode (plan without apply) leaves the file untouched', async () => {
    const p = join(dir, 'config');
    writeFileSync(p, 'a\n');
    const before = statSync(p);
    const r = await runModule(h, lineinfile, { path: p, line: 'b' }, { check: true });
    expect(r.plan.changes[0]!.diff).toMatchObject({ before: 'a\n', after: 'a\nb\n' });
    expect(readFileSync(p, 'utf8')).toBe('a\n');
    expect(statSync(p).mtimeMs).toBe(before.mtimeMs);
    expect(leftovers()).toEqual([]);
  });

  it('creates a missing file and its directory with create=yes', async () => {
    const p = join(dir, 'sub', 'dir', 'hosts');
    await converge(lineinfile, { path: p, line: '192.168.1.99 foo.lab.net foo', create: true, mode: '0640' });
    expect(readFileSync(p, 'utf8')).toBe('192.168.1.99 foo.lab.net foo\n');
    expect(mode(p)).toBe(0o640);
  });

  it('fails on a missing file without create', async () => {
    const r = await runModule(h, lineinfile, { path: join(dir, 'nope'), line: 'x' });
    expect(r.plan.failed).toBe(`Destination ${join(dir, 'nope')} does not exist !`);
  });

  it('a failing validate leaves the old file in place and no temp file', async () => {
    const p = join(dir, 'sudoers');
    writeFileSync(p, 'root ALL=(ALL) ALL\n');
    const r = await runModule(h, lineinfile, { path: p, line: 'bad line', validate: 'grep -q good %s' });
    expect(r.outcome?.failed).toMatch(/^failed to validate: rc:1/);
    expect(readFileSync(p, 'utf8')).toBe('root ALL=(ALL) ALL\n');
    expect(leftovers()).toEqual([]);
  });

  it('a passing validate sees the new content in a temp file of the same directory', async () => {
    const p = join(dir, 'conf');
    writeFileSync(p, 'a\n');
    const seen = join(controller, 'seen');
    const r = await converge(lineinfile, { path: p, line: 'good', validate: `sh -c 'dirname "$1" > ${seen}; grep -q good "$1"' _ %s` });
    expect(r.outcome?.failed).toBeUndefined();
    expect(readFileSync(seen, 'utf8').trim()).toBe(dir);
    expect(readFileSync(p, 'utf8')).toBe('a\ngood\n');
    expect(leftovers()).toEqual([]);
  });

  it('backup keeps the old content under Ansible’s name pattern and reports it', async () => {
    const p = join(dir, 'conf');
    writeFileSync(p, 'old\n');
    const r = await converge(lineinfile, { path: p, regexp: '^old', line: 'new', backup: true });
    const backup = r.outcome?.result?.backup as string;
    expect(backup).toMatch(new RegExp(`^${p}\\.\\d+\\.\\d{4}-\\d{2}-\\d{2}@\\d{2}:\\d{2}:\\d{2}~$`));
    expect(readFileSync(backup, 'utf8')).toBe('old\n');
    expect(readFileSync(p, 'utf8')).toBe('new\n');
  });

  it.skipIf(!isRoot)('keeps the mode and owner of the file it rewrites (atomically: a new inode)', async () => {
    const p = join(dir, 'owned');
    writeFileSync(p, 'a\n');
    chmodSync(p, 0o640);
    chownSync(p, NOBODY, NOBODY);
    const inode = statSync(p).ino;
    await converge(lineinfile, { path: p, line: 'b' });
    const st = statSync(p);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([NOBODY, NOBODY, 0o640]);
    expect(st.ino).not.toBe(inode);
    expect(readFileSync(p, 'utf8')).toBe('a\nb\n');
  });

  it('state=absent removes every matching line and reports found', async () => {
    const p = join(dir, 'sudoers');
    writeFileSync(p, 'root ALL\n%wheel ALL\n%wheel2 ALL\n');
    const r = await converge(lineinfile, { path: p, state: 'absent', regexp: '^%wheel' });
    expect(r.plan.result).toMatchObject({ found: 2, msg: '2 line(s) removed' });
    expect(readFileSync(p, 'utf8')).toBe('root ALL\n');
  });

  it('edits through a symlink, keeping the link', async () => {
    const real = join(dir, 'real');
    writeFileSync(real, 'a\n');
    symlinkSync('real', join(dir, 'link'));
    await converge(lineinfile, { path: join(dir, 'link'), line: 'b' });
    expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe('a\nb\n');
  });

  it('keeps bytes that are not UTF-8 intact', async () => {
    const p = join(dir, 'latin1');
    writeFileSync(p, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    await converge(lineinfile, { path: p, line: 'x' });
    expect(readFileSync(p)).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0x78, 0x0a]));
  });

  it('a mode change alone costs one chmod', async () => {
    const p = join(dir, 'm');
    writeFileSync(p, 'a\n');
    chmodSync(p, 0o644);
    const r = await converge(lineinfile, { path: p, line: 'a', mode: 'u=rw,go=' });
    expect(r.applyCommands).toBe(1);
    expect(mode(p)).toBe(0o600);
    expect(r.plan.result).toMatchObject({ msg: 'ownership, perms or SE linux context changed' });
  });
});

describe('copy on a real file', () => {
  it('writes content with a mode, reports checksum and size, then is a no-op', async () => {
    const p = join(dir, 'motd');
    const r = await converge(copy, { content: 'hello\n', dest: p, mode: '0600' });
    expect(readFileSync(p, 'utf8')).toBe('hello\n');
    expect(mode(p)).toBe(0o600);
    expect(r.plan.result).toMatchObject({ dest: p, checksum: 'f572d396fae9206628714fb2ce00f72e94f2258f', size: 6 });
    expect(r.outcome?.result).toMatchObject({ mode: '0600', state: 'file', size: 6 });
    expect(leftovers()).toEqual([]);
  });

  it('check mode leaves the file untouched but the plan carries the diff', async () => {
    const p = join(dir, 'motd');
    writeFileSync(p, 'old\n');
    const r = await runModule(h, copy, { content: 'new\n', dest: p }, { check: true });
    expect(r.plan.changes[0]!.diff).toEqual({ before: 'old\n', after: 'new\n', beforeHeader: p, afterHeader: p });
    expect(readFileSync(p, 'utf8')).toBe('old\n');
  });

  it('copies a controller file found in files/ and keeps binary bytes exact', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13, 0]);
    mkdirSync(join(controller, 'files'));
    writeFileSync(join(controller, 'files', 'blob.bin'), bytes);
    const p = join(dir, 'blob.bin');
    const r = await converge(copy, { src: 'blob.bin', dest: p });
    expect(readFileSync(p)).toEqual(bytes);
    expect(r.plan.changes[0]!.diff).toBeUndefined();
  });

  it('copies into a directory given as dest', async () => {
    writeFileSync(join(controller, 'app.conf'), 'k=v\n');
    mkdirSync(join(dir, 'etc'));
    await converge(copy, { src: 'app.conf', dest: join(dir, 'etc') });
    expect(readFileSync(join(dir, 'etc', 'app.conf'), 'utf8')).toBe('k=v\n');
  });

  it('a failing validate leaves the old file and reports the validator output', async () => {
    const p = join(dir, 'dnsmasq.conf');
    writeFileSync(p, 'port=53\n');
    const r = await runModule(h, copy, { content: 'broken\n', dest: p, validate: "sh -c 'echo bad config: $1 >&2; exit 3' _ %s" });
    expect(r.outcome?.failed).toBe('failed to validate');
    expect(r.outcome?.result).toMatchObject({ exit_status: 3 });
    expect(String(r.outcome?.result?.stderr)).toContain('bad config:');
    expect(readFileSync(p, 'utf8')).toBe('port=53\n');
    expect(leftovers()).toEqual([]);
  });

  it('backup: yes reports backup_file with the old content', async () => {
    const p = join(dir, 'conf');
    writeFileSync(p, 'v1\n');
    const r = await converge(copy, { content: 'v2\n', dest: p, backup: true });
    const backup = r.outcome?.result?.backup_file as string;
    expect(backup.startsWith(p + '.')).toBe(true);
    expect(readFileSync(backup, 'utf8')).toBe('v1\n');
  });

  it.skipIf(!isRoot)('keeps the old owner and mode on rewrite, and sets requested ones', async () => {
    const p = join(dir, 'conf');
    writeFileSync(p, 'v1\n');
    chmodSync(p, 0o604);
    chownSync(p, NOBODY, NOBODY);
    await converge(copy, { content: 'v2\n', dest: p });
    let st = statSync(p);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([NOBODY, NOBODY, 0o604]);
    await converge(copy, { content: 'v3\n', dest: p, owner: 'root', group: '0', mode: '0640' });
    st = statSync(p);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([0, 0, 0o640]);
  });

  it.skipIf(!isRoot)('an owner change alone is one chown and no rewrite', async () => {
    const p = join(dir, 'conf');
    writeFileSync(p, 'same\n');
    const inode = statSync(p).ino;
    const r = await converge(copy, { content: 'same\n', dest: p, owner: String(NOBODY) });
    expect(r.plan.changes.map((c) => c.summary)).toEqual([`set owner root -> ${NOBODY} on ${p}`]);
    expect(statSync(p).uid).toBe(NOBODY);
    expect(statSync(p).ino).toBe(inode);
  });

  it('force=no leaves an existing file alone', async () => {
    const p = join(dir, 'conf');
    writeFileSync(p, 'mine\n');
    const r = await runModule(h, copy, { content: 'theirs\n', dest: p, force: false });
    expect(r.plan.changes).toEqual([]);
    expect(readFileSync(p, 'utf8')).toBe('mine\n');
  });

  it('remote_src copies a file on the host', async () => {
    const src = join(dir, 'hosts');
    writeFileSync(src, '127.0.0.1 localhost\n');
    const dest = join(dir, 'hosts.orig');
    await converge(copy, { src, dest, remote_src: true, mode: '0400' });
    expect(readFileSync(dest, 'utf8')).toBe('127.0.0.1 localhost\n');
    expect(mode(dest)).toBe(0o400);
  });

  it('replaces a symlink at dest (follow=no) and writes through it with follow=yes', async () => {
    writeFileSync(join(dir, 'real'), 'x\n');
    symlinkSync('real', join(dir, 'link'));
    await converge(copy, { content: 'through\n', dest: join(dir, 'link'), follow: true });
    expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real'), 'utf8')).toBe('through\n');
    await converge(copy, { content: 'replaced\n', dest: join(dir, 'link') });
    expect(lstatSync(join(dir, 'link')).isFile()).toBe(true);
    expect(readFileSync(join(dir, 'real'), 'utf8')).toBe('through\n');
  });

  it('quotes hostile paths and content: nothing in them is run by the shell', async () => {
    const p = join(dir, "it's $(touch pwned) `touch pwned2` x");
    await converge(copy, { content: "$(touch pwned3)\n'", dest: p, validate: 'test -s %s' });
    await converge(lineinfile, { path: p, line: '`touch pwned4`', backup: true });
    expect(readFileSync(p, 'utf8')).toBe("$(touch pwned3)\n'\n`touch pwned4`\n");
    expect(readdirSync(dir).filter((n) => n.startsWith('pwned'))).toEqual([]);
    expect(readdirSync(process.cwd()).filter((n) => n.startsWith('pwned'))).toEqual([]);
  });

  it('fails clearly when the destination directory is missing', async () => {
    const r = await runModule(h, copy, { content: 'x', dest: join(dir, 'no', 'such') });
    expect(r.plan.changes).toHaveLength(1);
    expect(r.outcome?.failed).toBe(`Destination directory ${join(dir, 'no')} does not exist`);
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });
});

describe('template on a real file', () => {
  it('writes the rendered template from templates/, then is a no-op', async () => {
    mkdirSync(join(controller, 'templates'));
    writeFileSync(join(controller, 'templates', 'dnsmasq.conf.j2'), 'interface=eth0\n');
    const p = join(dir, 'dnsmasq.conf');
    const r = await converge(template, { src: 'dnsmasq.conf.j2', dest: p, mode: '0644' });
    expect(readFileSync(p, 'utf8')).toBe('interface=eth0\n');
    expect(mode(p)).toBe(0o644);
    expect(r.plan.changes[0]!.diff).toMatchObject({ before: '', after: 'interface=eth0\n' });
  });

  it('a failing validate keeps the old file', async () => {
    writeFileSync(join(controller, 't.j2'), 'new\n');
    const p = join(dir, 'out');
    writeFileSync(p, 'old\n');
    const r = await runModule(h, template, { src: 't.j2', dest: p, validate: 'false %s' });
    expect(r.outcome?.failed).toBe('failed to validate');
    expect(readFileSync(p, 'utf8')).toBe('old\n');
    expect(leftovers()).toEqual([]);
  });
});

describe('file on real paths', () => {
  it('creates a directory and its parents with the mode, then is a no-op', async () => {
    const p = join(dir, 'a', 'b', 'c');
    const r = await converge(file, { path: p, state: 'directory', mode: '0750' });
    expect(r.applyCommands).toBe(1);
    for (const d of [join(dir, 'a'), join(dir, 'a', 'b'), p]) expect(mode(d)).toBe(0o750);
    expect(r.outcome?.result).toMatchObject({ state: 'directory', mode: '0750' });
  });

  it('check mode creates nothing', async () => {
    const p = join(dir, 'x');
    const r = await runModule(h, file, { path: p, state: 'directory' }, { check: true });
    expect(r.plan.changes).toHaveLength(1);
    expect(existsSync(p)).toBe(false);
  });

  it('state=file on a missing path fails as Ansible does', async () => {
    const p = join(dir, 'missing');
    const r = await runModule(h, file, { path: p, state: 'file' });
    expect(r.plan.failed).toBe(`file (${p}) is absent, cannot continue`);
  });

  it('changes only the mode of an existing file', async () => {
    const p = join(dir, 'f');
    writeFileSync(p, 'x');
    chmodSync(p, 0o644);
    await converge(file, { path: p, mode: 'u+x,g-r,o-r' });
    expect(mode(p)).toBe(0o700);
  });

  it('touch creates a file, and changes it every time unless times are preserved', async () => {
    const p = join(dir, 'stamp');
    const first = await runModule(h, file, { path: p, state: 'touch', mode: '0600' });
    expect(first.outcome?.failed).toBeUndefined();
    expect(mode(p)).toBe(0o600);
    const again = await runModule(h, file, { path: p, state: 'touch', mode: '0600' }, { check: true });
    expect(again.plan.changes.length).toBeGreaterThan(0);
    await converge(file, { path: p, state: 'touch', mode: '0600', access_time: 'preserve', modification_time: 'preserve' });
  });

  it('sets an explicit modification time, then is a no-op', async () => {
    const p = join(dir, 'dated');
    writeFileSync(p, '');
    await converge(file, { path: p, state: 'file', modification_time: '202001021304.05' });
    const m = statSync(p).mtime;
    expect([m.getFullYear(), m.getMonth() + 1, m.getDate(), m.getHours(), m.getMinutes(), m.getSeconds()]).toEqual([2020, 1, 2, 13, 4, 5]);
  });

  it('absent removes a directory tree, then is a no-op', async () => {
    mkdirSync(join(dir, 'tree', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'tree', 'sub', 'f'), 'x');
    await converge(file, { path: join(dir, 'tree'), state: 'absent' });
    expect(existsSync(join(dir, 'tree'))).toBe(false);
  });

  it('creates and repoints a symlink', async () => {
    writeFileSync(join(dir, 'one'), '1');
    writeFileSync(join(dir, 'two'), '2');
    const l = join(dir, 'link');
    await converge(file, { src: 'one', dest: l, state: 'link' });
    expect(readlinkSync(l)).toBe('one');
    const r = await converge(file, { src: 'two', path: l, state: 'link' });
    expect(readlinkSync(l)).toBe('two');
    expect(r.plan.changes[0]!.diff?.after).toContain('"src": "two"');
    expect(leftovers()).toEqual([]);
  });

  it('refuses to link to a missing src without force, links with force', async () => {
    const l = join(dir, 'dangling');
    const r = await runModule(h, file, { src: 'nowhere', path: l, state: 'link' });
    expect(r.plan.failed).toContain('src file does not exist');
    await converge(file, { src: 'nowhere', path: l, state: 'link', force: true });
    expect(readlinkSync(l)).toBe('nowhere');
  });

  it('creates a hard link', async () => {
    writeFileSync(join(dir, 'orig'), 'x');
    await converge(file, { src: join(dir, 'orig'), path: join(dir, 'hard'), state: 'hard' });
    expect(statSync(join(dir, 'hard')).ino).toBe(statSync(join(dir, 'orig')).ino);
  });

  it.skipIf(!isRoot)('recurse sets owner and a symbolic mode on everything below, then is a no-op', async () => {
    const top = join(dir, 'www');
    mkdirSync(join(top, 'sub'), { recursive: true });
    writeFileSync(join(top, 'sub', 'index.html'), 'hi');
    chmodSync(join(top, 'sub', 'index.html'), 0o666);
    symlinkSync('sub/index.html', join(top, 'link'));
    await converge(file, { path: top, state: 'directory', recurse: true, owner: String(NOBODY), mode: 'u=rwX,g=rX,o=' });
    for (const p of [top, join(top, 'sub')]) expect([statSync(p).uid, mode(p)]).toEqual([NOBODY, 0o750]);
    expect([statSync(join(top, 'sub', 'index.html')).uid, mode(join(top, 'sub', 'index.html'))]).toEqual([NOBODY, 0o640]);
    expect(lstatSync(join(top, 'link')).uid).toBe(NOBODY);
  });
});
