import { describe, expect, it } from 'vitest';
import { joinCommands, quote, raw, Secret, sh, shellSplit, splitArgs } from '../../engine/sh.js';

describe('sh', () => {
  it('quotes interpolated values and keeps literal text', () => {
    expect(sh`echo ${'a b'} ${"it's"}`.text).toBe(`echo 'a b' 'it'\\''s'`);
    expect(sh`ls ${'/etc/hosts'}`.text).toBe('ls /etc/hosts');
  });
  it('turns arrays into separately quoted words', () => {
    expect(sh`iptables ${['-A', 'FORWARD', '-m', 'comment', '--comment', 'x y']}`.text).toBe(
      "iptables -A FORWARD -m comment --comment 'x y'",
    );
  });
  it('neutralises shell metacharacters', () => {
    const evil = '$(rm -rf /); `x` | y > z';
    const cmd = sh`echo ${evil}`;
    expect(cmd.text).toBe(`echo '$(rm -rf /); \`x\` | y > z'`);
  });
  it('masks secrets in display and JSON but not in text', () => {
    const cmd = sh`printf %s ${new Secret('hunter2')}`;
    expect(cmd.text).toBe('printf %s hunter2');
    expect(cmd.display).toBe('printf %s ********');
    expect(JSON.stringify({ cmd })).not.toContain('hunter2');
    expect(String(cmd)).not.toContain('hunter2');
  });
  it('nests commands and raw text unquoted', () => {
    const inner = sh`cat ${'a b'}`;
    expect(sh`${inner} | ${raw('wc -l')}`.text).toBe(`cat 'a b' | wc -l`);
    expect(joinCommands([sh`true`, sh`echo ${'x y'}`], ' && ').text).toBe(`true && echo 'x y'`);
  });
  it('refuses undefined values', () => {
    expect(() => sh`echo ${undefined}`).toThrow(/undefined/);
  });
  it('quote() handles the empty string', () => {
    expect(quote('')).toBe("''");
  });
});

describe('inOwnShell', () => {
  it('marks a command, and every command built with it, to run by a /bin/sh of its own', () => {
    const user = sh`${raw('echo $$')}`.inOwnShell();
    expect(sh`echo hi`.ownShell).toBe(false);
    expect(user.ownShell).toBe(true);
    expect(user.inOwnShell()).toBe(user);
    expect(user.text).toBe('echo $$');
    expect(sh`cd /tmp && ${user}`.ownShell).toBe(true);
    expect(sh`x ${[sh`a`, user]}`.ownShell).toBe(true);
    expect(joinCommands([sh`true`, user], ' && ').ownShell).toBe(true);
    expect(joinCommands([sh`true`, sh`false`], ' && ').ownShell).toBe(false);
  });
});

describe('the one word splitter, in its two dialects', () => {
  it('shellSplit removes quotes and resolves escapes as a POSIX shell (and shlex.split)', () => {
    expect(shellSplit(`a\\ b 'c d' "e\\"f\\x" ''`)).toEqual(['a b', 'c d', 'e"f\\x', '']);
    expect(() => shellSplit(`echo 'open`)).toThrow('No closing quotation');
  });

  it("splitArgs keeps each word as written, as Ansible's split_args does for k=v", () => {
    expect(splitArgs(`a\\ b msg='it\\'s here' x="{{ 'a b' }}" {{ y | default('c d') }}`)).toEqual([
      'a\\',
      'b',
      "msg='it\\'s here'",
      `x="{{ 'a b' }}"`,
      "{{ y | default('c d') }}",
    ]);
    expect(splitArgs(`a='open end`)).toEqual([`a='open end`]);
  });
});
