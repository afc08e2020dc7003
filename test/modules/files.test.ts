// Pure helpers of the file modules: Ansible modes, attribute plans, the validate command line,
// Python regular expressions and replacement templates, and the file probe's parser.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  atomicWriteCommand,
  formatMode,
  ModeError,
  parseWriteOutput,
  planAttributes,
  resolveMode,
  validateProblem,
  writeAttributes,
} from '../../engine/files.js';
import { fileFact, filesFact, parseFileProbe, type FileFact } from '../../engine/file-fact.js';
import { planEditAttributes } from '../../engine/file-edit.js';
import { expandTemplate, PatternError, pythonRegex } from '../../engine/expr/regex.js';
import { quote } from '../../engine/sh.js';

const file = (current: number) => ({ current, isDirectory: false, umask: 0o022 });

describe('planEditAttributes', () => {
  const identity = { uid: 1000, gid: 1000, user: 'pi', group: 'pi', umask: '0027' };
  const existing: FileFact = {
    path: '/etc/x',
    exists: true,
    type: 'file',
    mode: '0600',
    owner: 'root',
    group: 'root',
    uid: 0,
    gid: 0,
    size: 1,
    parentExists: true,
    identity,
  } as FileFact;
  const missing: FileFact = { path: '/etc/new', exists: false, parentExists: true, identity };
  it('compares with the file as it is', () => {
    expect(planEditAttributes(existing, {})).toMatchObject({ mode: '0600', changed: false });
    expect(planEditAttributes(existing, { mode: 'g+r', owner: 'pi' })).toMatchObject({ change: { mode: '0640', owner: 'pi' } });
  });
  it("compares a file the edit creates with what the writer's umask, user and group give it", () => {
    expect(planEditAttributes(missing, {})).toMatchObject({ mode: '0640', changed: false });
    expect(planEditAttributes(missing, { owner: 'pi', group: '1000' })).toMatchObject({ changed: false });
    expect(planEditAttributes(missing, { owner: 'root' })).toMatchObject({ change: { owner: 'root' } });
  });
  it('returns a mode Ansible refuses as an error message', () => {
    expect(planEditAttributes(existing, { mode: 'u=rwz' })).toEqual({ error: expect.stringContaining('u=rwz') });
  });
});

describe('resolveMode', () => {
  it('reads numbers as the mode bits (YAML 1.1 0644 is 420) and digit strings as octal', () => {
    expect(resolveMode(420, file(0))).toBe(0o644);
    expect(resolveMode('0644', file(0))).toBe(0o644);
    expect(resolveMode('644', file(0))).toBe(0o644);
    expect(resolveMode('1777', file(0))).toBe(0o1777);
    expect(resolveMode('0o750', file(0))).toBe(0o750);
  });
  it('applies symbolic modes to the current mode, like chmod', () => {
    expect(resolveMode('u=rw,g=r,o=r', file(0o777))).toBe(0o644);
    expect(resolveMode('u+x', file(0o644))).toBe(0o744);
    expect(resolveMode('u+rw,g-wx,o-rwx', file(0o777))).toBe(0o740);
    expect(resolveMode('a-w', file(0o666))).toBe(0o444);
    expect(resolveMode('go=u', file(0o640))).toBe(0o666);
    expect(resolveMode('u=rwx,g=rx,o=', file(0))).toBe(0o750);
    expect(resolveMode('+x', { current: 0o600, isDirectory: false, umask: 0o077 })).toBe(0o700);
    expect(resolveMode('o+t,u+s,g+s', file(0o755))).toBe(0o7755);
  });
  it('gives X execute to directories and to files already executable by someone', () => {
    expect(resolveMode('a+X', file(0o644))).toBe(0o644);
    expect(resolveMode('a+X', file(0o744))).toBe(0o755);
    expect(resolveMode('a+X', { current: 0o644, isDirectory: true, umask: 0o022 })).toBe(0o755);
  });
  it('rejects what is neither octal nor symbolic', () => {
    expect(() => resolveMode('u+q', file(0))).toThrow(ModeError);
    expect(() => resolveMode('rwxr-xr-x', file(0))).toThrow('bad symbolic permission for mode');
    expect(() => resolveMode('99999', file(0))).toThrow(ModeError);
    expect(() => resolveMode(0o17777, file(0))).toThrow(ModeError);
  });
  it('formats modes as Ansible prints them', () => {
    expect(formatMode(0o644)).toBe('0644');
    expect(formatMode(0o4755)).toBe('04755');
    expect(formatMode(0)).toBe('0000');
  });
});

describe('attributes', () => {
  const current = { mode: '0644', owner: 'root', group: 'root', uid: 0, gid: 0 };
  it('compares owners by name or by numeric id', () => {
    expect(planAttributes(current, { owner: '0', group: 'root', mode: '0644' }, { isDirectory: false, umask: 0o022 }).changed).toBe(false);
    const p = planAttributes(current, { owner: 'www-data', mode: 'g+w' }, { isDirectory: false, umask: 0o022 });
    expect(p.change).toEqual({ owner: 'www-data', mode: '0664' });
    expect(p.before).toEqual({ owner: 'root', mode: '0644' });
  });
  it('a rewrite keeps the old mode and, for root, the old owner; a new file gets the umask default', () => {
    const old = { mode: '0600', owner: 'nobody', group: 'nogroup', uid: 65534, gid: 65534 };
    expect(writeAttributes(old, {}, { uid: 0, gid: 0, umask: 0o022 })).toEqual({
      mode: '0600',
      owner: undefined,
      group: undefined,
      keepOwner: '65534',
      keepGroup: '65534',
    });
    expect(writeAttributes({ ...old, uid: 1000, gid: 1000 }, {}, { uid: 1000, gid: 1000, umask: 0o022 })).toEqual({
      mode: '0600',
      owner: undefined,
      group: undefined,
      keepOwner: undefined,
      keepGroup: undefined,
    });
    // what is asked for is set (and must succeed); what is not is passed on from the old file if it may be
    expect(writeAttributes({ ...old, uid: 1000, gid: 50 }, { owner: 'pi' }, { uid: 1000, gid: 1000, umask: 0o022 })).toEqual({
      mode: '0600',
      owner: 'pi',
      group: undefined,
      keepOwner: undefined,
      keepGroup: '50',
    });
    expect(writeAttributes(undefined, {}, { uid: 0, gid: 0, umask: 0o027 })).toEqual({ mode: '0640', owner: undefined, group: undefined });
  });
});

describe('atomicWriteCommand', () => {
  it('puts the temp file in the target directory and %s as the temp path, each word quoted', () => {
    const cmd = atomicWriteCommand("/etc/it's here/dnsmasq.conf", {
      validate: "dnsmasq --test -C %s --name='a b' 100%%",
      mode: '0644',
      content: 'x\n',
    }).text;
    expect(cmd).toContain(`t='/etc/it'\\''s here/.dnsmasq.conf.tsplay-'$$ c=`);
    expect(cmd).toContain(`mktemp -- '/etc/it'\\''s here/.dnsmasq.conf.tsplay-'XXXXXX`);
    expect(cmd).toContain(`dnsmasq --test -C "$t" '--name=a b' 100%`);
    expect(cmd).toContain(`mv -fT -- "$t" '/etc/it'\\''s here/dnsmasq.conf'`);
  });
  // Run for real by /bin/sh in a temp directory. `$$` is replaced by a fixed name in the fallback
  // case, so that the temp file's name can be taken beforehand.
  const write = (opts: Parameters<typeof atomicWriteCommand>[1], content: string, taken = false) => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-atomic-'));
    const target = join(dir, 'target.conf');
    let text = atomicWriteCommand(target, { content, ...opts }).text;
    if (taken) {
      text = text.replaceAll('$$', 'PID');
      writeFileSync(join(dir, '.target.conf.tsplay-PID'), 'a leftover');
    }
    const r = spawnSync('/bin/sh', ['-c', `umask 022\n${text}`], { input: content, encoding: 'utf8' });
    return { r, dir, target, mode: () => (statSync(target).mode & 0o7777).toString(8), left: () => readdirSync(dir).sort() };
  };
  it.each([
    ['0640', { mode: '0640' }, false, '640'],
    ['0600, the name taken', { mode: '0600' }, true, '600'],
    ['the default (0666 minus the umask)', {}, false, '644'],
    ['the default, the name taken', {}, true, '644'],
    ['0755 (x bits: mktemp and chmod)', { mode: '0755' }, false, '755'],
    ['0444 (not writable: mktemp and chmod)', { mode: '0444' }, false, '444'],
  ])('writes the file with mode %s and leaves no temp file', (_name, opts, taken, mode) => {
    const w = write(opts, 'new content\n', taken);
    expect(w.r.stderr).toBe('');
    expect(w.r.status).toBe(0);
    expect(readFileSync(w.target, 'utf8')).toBe('new content\n');
    expect(w.mode()).toBe(mode);
    expect(w.left()).toEqual(taken ? ['.target.conf.tsplay-PID', 'target.conf'] : ['target.conf']);
    if (taken) expect(readFileSync(join(w.dir, '.target.conf.tsplay-PID'), 'utf8')).toBe('a leftover');
  });
  it('writes input printed from a shell variable (an SSH session subshell) byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-atomic-'));
    const target = join(dir, 'target.conf');
    const content = "a 'b' '' \\ $x `y`\r\nno final newline";
    const cmd = atomicWriteCommand(target, { mode: '0640', content });
    expect(cmd.readsInput).toBe(true);
    const script = `umask 022\nv=${quote(content)}\n${cmd.withInputIn('v')}`;
    expect(script).not.toMatch(/\bcat\b/);
    const r = spawnSync('/bin/sh', ['-c', script], { input: 'not this', encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe(content);
    expect((statSync(target).mode & 0o7777).toString(8)).toBe('640');
    expect(readdirSync(dir)).toEqual(['target.conf']);
  });
  it('keeps two backups made in the same second by the same shell', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-atomic-'));
    const target = join(dir, 'target.conf');
    writeFileSync(target, 'one\n');
    // both writes in one shell: the same $$, as in an SSH session's subshells
    const once = (content: string) => `(${atomicWriteCommand(target, { backup: true, content }).text}) <<'EOF'\n${content}EOF\n`;
    const r = spawnSync('/bin/sh', ['-c', `umask 022\n${once('two\n')}\n${once('three\n')}`], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const backups = readdirSync(dir)
      .filter((f) => f.endsWith('~'))
      .sort();
    expect(backups).toHaveLength(2);
    expect(backups.map((f) => readFileSync(join(dir, f), 'utf8')).sort()).toEqual(['one\n', 'two\n']);
    expect(readFileSync(target, 'utf8')).toBe('three\n');
  });
  it.each([
    ['a here-document cut short (end of input before its end line)', 'line one\nline two\n', (t: string) => `(${t}) <<'EOF'\nline one\nli`],
    ['input through cat ended early', 'line one\nline two\n', (t: string) => `printf 'line one\\nli' | (${t})`],
    ['binary content cut short', '\u0000\u0001binary', (t: string) => `printf '\\000' | (${t})`],
  ])('%s: the target keeps its old content, no temp file is left, the failure says so', (_name, content, frame) => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-atomic-'));
    const target = join(dir, 'target.conf');
    writeFileSync(target, 'old\n');
    const cmd = atomicWriteCommand(target, { mode: '0644', content, backup: true }).text;
    const r = spawnSync('/bin/sh', ['-c', `umask 022\n${frame(cmd)}`], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(readFileSync(target, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['target.conf']);
    expect(parseWriteOutput(r.stdout).failure).toMatch(
      new RegExp(`^received \\d+ of ${Buffer.byteLength(content)} bytes \\(the transfer was cut short\\); the file is unchanged$`),
    );
  });
  it('passes on the old group where the writer may not set it, but fails on a group that was asked for', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-atomic-'));
    const target = join(dir, 'target.conf');
    writeFileSync(target, 'old\n');
    // chgrp to a group that does not exist fails as EPERM would for a user outside the group
    const keep = spawnSync(
      '/bin/sh',
      ['-c', atomicWriteCommand(target, { mode: '0644', content: 'new\n', keepGroup: 'no-such-group-tsplay' }).text],
      { input: 'new\n', encoding: 'utf8' },
    );
    expect(keep.status).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('new\n');
    const asked = spawnSync(
      '/bin/sh',
      ['-c', atomicWriteCommand(target, { mode: '0644', content: 'newer\n', group: 'no-such-group-tsplay' }).text],
      { input: 'newer\n', encoding: 'utf8' },
    );
    expect(asked.status).not.toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('new\n');
    expect(readdirSync(dir)).toEqual(['target.conf']);
  });
  it('writes only if the file is still what the plan read; else says stale, writes nothing, leaves no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-atomic-'));
    const target = join(dir, 'target.conf');
    const run = (expect: string | null, content: string) =>
      spawnSync('/bin/sh', ['-c', atomicWriteCommand(target, { mode: '0644', content, expect, backup: true }).text], {
        input: content,
        encoding: 'utf8',
      });
    // the plan read "one", and the file is still "one": written
    writeFileSync(target, 'one\n');
    expect(run('one\n', 'one\ntwo\n').status).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('one\ntwo\n');
    // another run wrote meanwhile: stale, the other run's content stays
    const stale = run('one\n', 'one\nmine\n');
    expect(stale.status).toBe(75);
    expect(parseWriteOutput(stale.stdout).stale).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('one\ntwo\n');
    expect(readdirSync(dir).filter((f) => !f.endsWith('~'))).toEqual(['target.conf']);
    // the plan saw no file, but one appeared
    expect(run(null, 'created\n').status).toBe(75);
    expect(readFileSync(target, 'utf8')).toBe('one\ntwo\n');
  });
  it('refuses to build a write whose content it cannot check', () => {
    expect(() => atomicWriteCommand('/etc/x', { mode: '0644' })).toThrow(/give the content that standard input carries/);
    expect(atomicWriteCommand('/etc/x', { source: '/etc/y' }).text).not.toContain('sha256sum');
  });
  it('a failed validation leaves the target untouched and no temp file', () => {
    const w = write({ mode: '0644', validate: 'grep -q good %s' }, 'bad\n');
    expect(w.r.status).toBe(1);
    expect(w.left()).toEqual([]);
  });
  it('validate must contain %s', () => {
    expect(validateProblem('visudo -c')).toBe('validate must contain %s: visudo -c');
    expect(validateProblem('visudo -cf %s')).toBeUndefined();
  });
  it('reads the backup, stat and validation markers', () => {
    const out = parseWriteOutput('checking\n__tsplay__ validate-failed 2\n');
    expect(out).toEqual({ stdout: 'checking\n', validateFailed: 2 });
    const ok = parseWriteOutput('__tsplay__ backup /etc/x.1.2024-01-01@00:00:00~\n__tsplay__ stat 81a4 0 0 5 root root\n');
    expect(ok.backupFile).toBe('/etc/x.1.2024-01-01@00:00:00~');
    expect(ok.stat).toEqual({ type: 'file', mode: '0644', uid: 0, gid: 0, size: 5, owner: 'root', group: 'root' });
  });
});

describe('pythonRegex', () => {
  it('translates named groups, anchors and Python’s dot and dollar', () => {
    expect(pythonRegex('^(?P<k>\\w+)=(?P=k)$').exec('ab=ab\n')?.groups).toEqual({ k: 'ab' });
    expect(pythonRegex('^a=.*$').test('a=1\r\n')).toBe(true);
    expect(pythonRegex('x$').test('x\ny\n')).toBe(false);
    expect(pythonRegex('\\Aa\\Z').test('a')).toBe(true);
    expect(pythonRegex('(?i)^listen').test('LISTEN 80\n')).toBe(true);
    expect(pythonRegex('(?x) ^ a  # comment\n b').test('ab')).toBe(true);
    // bytes patterns (lineinfile's) and re.ASCII: \s is ASCII whitespace; str patterns: Unicode's
    expect(pythonRegex('a\\sb', { ascii: true }).test('a\xa0b')).toBe(false);
    expect(pythonRegex('(?a)a\\sb').test('a\xa0b')).toBe(false);
    expect(pythonRegex('a\\sb').test('a\xa0b')).toBe(true);
  });
  it('fails clearly on a broken pattern', () => {
    expect(() => pythonRegex('(a')).toThrow(PatternError);
  });
  it('expands templates as match.expand does', () => {
    const m = pythonRegex('^(?P<key>\\w+)=(\\d+)(x)?').exec('port=22\n')!;
    expect(expandTemplate('\\1 \\g<2> \\g<key> [\\3] \\g<0>\\t\\\\', m)).toBe('port 22 port [] port=22\t\\');
    expect(() => expandTemplate('\\9', m)).toThrow('invalid group reference');
    expect(() => expandTemplate('\\g<nope>', m)).toThrow("unknown group name 'nope'");
  });
});

describe('file fact', () => {
  it('is one command that probes every path', () => {
    const cmd = filesFact.command([{ path: '/a' }, { path: "/b c'd", content: true, checksum: true }]).text;
    expect(cmd).toContain('probe /a none 0 0 0 no');
    expect(cmd).toContain(`probe '/b c'\\''d' all 1 0 0 no`);
    expect(fileFact.command({ path: '/x', content: 100 }).text).toContain('probe /x 100 0 0 0 no');
  });
  it('parses command output into facts', () => {
    const b = (s: string) => Buffer.from(s).toString('base64');
    const stdout = [
      `__tsplay__ path ${b('/etc/l')}`,
      '__tsplay__ stat a1ff 0 0 5 1 12 root root',
      '__tsplay__ mtime 2024-01-01 12:00:00.000000000 +0000',
      '__tsplay__ atime 2024-01-01 12:00:00.000000000 +0000',
      `__tsplay__ link ${b('hosts\n')}`,
      `__tsplay__ real ${b('/etc/hosts')}`,
      '__tsplay__ linked 81a4 0 0 10 1 13 root root',
      '__tsplay__ sha1 0123456789012345678901234567890123456789',
      `__tsplay__ content ${b('127.0.0.1\n')}`,
      '__tsplay__ parent',
      `__tsplay__ path ${b('/nope/x')}`,
      `__tsplay__ ancestor ${b('/')}`,
      '__tsplay__ umask 0002',
      '__tsplay__ ids uid=1000(pi) gid=1000(pi) groups=1000(pi),27(sudo)',
      '',
    ].join('\n');
    const [link, missing] = parseFileProbe({ rc: 0, stdout, stderr: '' }, 2);
    expect(link).toMatchObject({
      path: '/etc/l',
      exists: true,
      type: 'link',
      mode: '0777',
      linkTarget: 'hosts',
      realPath: '/etc/hosts',
      linked: { type: 'file', mode: '0644', size: 10, inode: 13 },
      checksum: '0123456789012345678901234567890123456789',
      parentExists: true,
      identity: { uid: 1000, user: 'pi', umask: '0002' },
    });
    expect(Buffer.from(link!.content!, 'base64').toString()).toBe('127.0.0.1\n');
    expect(missing).toMatchObject({ path: '/nope/x', exists: false, parentExists: false, existingAncestor: '/' });
  });
  // Run for real by /bin/sh, as root and as nobody (setpriv): the ids come from the shell's own
  // /proc/self/status; their names, which only a new file needs, from `id` when a path is missing.
  it.each([
    ['root', [] as string[], 0, 'root'],
    ['nobody', ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], 65534, 'nobody'],
  ])('says who runs the commands (%s), with their names only when asked and needed', (_who, prefix, uid, name) => {
    const probe = (path: string, names?: 'if-missing' | 'unless-link') => {
      const argv = [...prefix, '/bin/sh', '-c', fileFact.command({ path, names }).text];
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
      return {
        identity: fileFact.process({ rc: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }, { path }).identity,
        ran: r.stdout.includes('groups='),
      };
    };
    const numbers = { identity: expect.objectContaining({ uid, user: String(uid), group: String(uid) }), ran: false };
    const names = { identity: expect.objectContaining({ uid, user: name }), ran: true };
    expect(probe('/etc/hostname')).toEqual(numbers);
    expect(probe('/nonexistent/file')).toEqual(numbers);
    expect(probe('/etc/hostname', 'if-missing')).toEqual(numbers);
    expect(probe('/nonexistent/file', 'if-missing')).toEqual(names);
    expect(probe('/etc/hostname', 'unless-link')).toEqual(names);
    expect(probe('/proc/self/exe', 'unless-link')).toEqual(numbers);
  });
  it('finds the nearest existing ancestor of a missing path, as dirname would', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-probe-'));
    mkdirSync(join(dir, 'x\ny'));
    const cases: [string, string][] = [
      [`${dir}/a/b/c`, dir],
      [`${dir}//a//b//`, dir],
      [`${dir}/x\ny/z/w`, `${dir}/x\ny`],
      ['rel/a/b', '.'],
      ['/nonexistent-top/x', '/'],
    ];
    const probes = cases.map(([path]) => ({ path, ancestor: true }));
    const r = spawnSync('/bin/sh', ['-c', filesFact.command(probes).text], { cwd: dir, encoding: 'utf8' });
    const facts = filesFact.process({ rc: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }, probes);
    expect(facts.map((f) => f.existingAncestor)).toEqual(cases.map(([, a]) => a));
  });
  it('says what is missing when the host cannot run the probe', () => {
    expect(() => parseFileProbe({ rc: 127, stdout: '', stderr: 'sh: stat: not found' }, 1)).toThrow('sh: stat: not found');
  });
});
