import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { hereDocSafe, ShellSession, type SessionChannel } from '../../engine/connection/session.js';
import { drive } from '../../engine/connection/exec.js';

// A channel that records what the controller writes and lets the test play the host's side.
class FakeChannel extends EventEmitter implements SessionChannel {
  written: Buffer[] = [];
  stderr = new EventEmitter();
  closed = false;
  write(d: string | Buffer): boolean {
    this.written.push(Buffer.from(d));
    return true;
  }
  close(): void {
    this.closed = true;
  }
}

const TOKEN = '__tsplay_end_0123456789abcdef';

describe('shell session framing', () => {
  it('writes the command as one piece of script, its input as a here-document: text as it is, the rest in base64', () => {
    const ch = new FakeChannel();
    new ShellSession(ch, TOKEN).start("echo 'a'\necho b", 'in');
    const report = `__tsplay_r=$?; printf '%s %d\\n' ${TOKEN} "$__tsplay_r"; printf '%s %d\\n' ${TOKEN} "$__tsplay_r" >&2\n`;
    expect(Buffer.concat(ch.written).toString()).toBe(
      `base64 -d 2>/dev/null <<'${TOKEN}_EOF' | /bin/sh -c 'echo '\\''a'\\''\necho b'\naW4=\n${TOKEN}_EOF\n${report}`,
    );
    const text = new FakeChannel();
    new ShellSession(text, TOKEN).start('cat', "a $b `c` 'd' \\e\r\nEOF\n");
    expect(Buffer.concat(text.written).toString()).toBe(
      `/bin/sh -c cat <<'${TOKEN}_EOF'\na $b \`c\` 'd' \\e\r\nEOF\n${TOKEN}_EOF\n${report}`,
    );
    const none = new FakeChannel();
    new ShellSession(none, TOKEN).start('true', undefined);
    expect(Buffer.concat(none.written).toString()).toBe(`/bin/sh -c true </dev/null\n${report}`);
  });

  it("runs a command that needs no shell of its own in a subshell of the session's shell, by eval", () => {
    const ch = new FakeChannel();
    new ShellSession(ch, TOKEN).start("printf %s 'it''s'", undefined, { subshell: true });
    expect(Buffer.concat(ch.written).toString()).toMatch(
      new RegExp(`^\\( eval 'printf %s '\\\\''it'\\\\'''\\\\''s'\\\\''' \\) </dev/null\n__tsplay_r=`),
    );
  });

  it('hands input the command prints from a variable over as that variable, in the frame itself', () => {
    const ch = new FakeChannel();
    new ShellSession(ch, TOKEN).start('printf %s "$__tsplay_in" > f', Buffer.from("it's\n"), { subshell: true, inputInVariable: true });
    expect(Buffer.concat(ch.written).toString()).toMatch(
      /^\( __tsplay_in='it'\\''s\n'; eval 'printf %s "\$__tsplay_in" > f' \) <\/dev\/null\n/,
    );
    // input a variable cannot hold cannot be sent that way: the text would print an empty variable
    expect(() =>
      new ShellSession(new FakeChannel(), TOKEN).start('printf %s "$__tsplay_in" > f', Buffer.from([0, 0x0a]), {
        subshell: true,
        inputInVariable: true,
      }),
    ).toThrow(/inputFitsVariable/);
    expect(() =>
      new ShellSession(new FakeChannel(), TOKEN).start('printf %s "$__tsplay_in" > f', Buffer.from('x\n'), { inputInVariable: true }),
    ).toThrow(/subshell/);
  });

  it('reads the shell’s pid from the first line, written ahead of the first command', async () => {
    const ch = new FakeChannel();
    const s = new ShellSession(ch, TOKEN, { readPid: true });
    const result = drive(s.start('echo hi', undefined), {}, {});
    expect(Buffer.concat(ch.written).toString()).toMatch(/^echo \$\$\n\/bin\/sh -c /);
    ch.emit('data', Buffer.from('42'));
    expect(s.pid).toBeUndefined();
    ch.emit('data', Buffer.from(`17\nhi\n${TOKEN} 0\n`));
    ch.stderr.emit('data', Buffer.from(`${TOKEN} 0\n`));
    expect(await result).toEqual({ rc: 0, stdout: 'hi\n', stderr: '' });
    expect(s.pid).toBe(4217);
  });

  it('sends input as it is only when a here-document keeps every byte', () => {
    const end = `${TOKEN}_EOF`;
    expect(hereDocSafe(Buffer.from('a\nb\n'), end)).toBe(true);
    expect(hereDocSafe(Buffer.from([0xff, 0xfe, 0x0a]), end)).toBe(true);
    expect(hereDocSafe(Buffer.from('no final newline'), end)).toBe(false);
    expect(hereDocSafe(Buffer.from('nul\0\n'), end)).toBe(false);
    expect(hereDocSafe(Buffer.from(`x\n${end}\ny\n`), end)).toBe(false);
    expect(hereDocSafe(Buffer.from(`${end}\n`), end)).toBe(false);
    expect(hereDocSafe(Buffer.from(`${end}x\n`), end)).toBe(true);
  });

  it('finds the end of a command split across chunks, byte by byte', async () => {
    const ch = new FakeChannel();
    const s = new ShellSession(ch, TOKEN);
    const proc = s.start('x', undefined);
    const result = drive(proc, {}, {});
    const out = Buffer.from(`out${TOKEN.slice(0, 5)}not-the-end\n${TOKEN} 3\n`);
    for (const b of out) ch.emit('data', Buffer.from([b]));
    expect(s.busy).toBe(true); // stderr has not ended yet
    ch.stderr.emit('data', Buffer.from(`err\n${TOKEN} 3\n`));
    expect(await result).toEqual({ rc: 3, stdout: `out${TOKEN.slice(0, 5)}not-the-end\n`, stderr: 'err\n' });
    expect(s.busy).toBe(false);
  });

  it('settles a killed command at once and is not used again', async () => {
    const ch = new FakeChannel();
    const s = new ShellSession(ch, TOKEN);
    const proc = s.start('sleep 9', undefined);
    const result = drive(proc, { timeoutMs: 10 }, {});
    expect((await result).rc).toBe(124);
    expect(ch.closed).toBe(true);
    expect(s.closed).toBe(true);
    expect(() => s.start('true', undefined)).toThrow(/closed/);
  });

  it('ends the running command with the exit code when the channel closes under it', async () => {
    const ch = new FakeChannel();
    const s = new ShellSession(ch, TOKEN);
    const result = drive(s.start('exit', undefined), {}, {});
    ch.emit('data', Buffer.from('partial'));
    ch.emit('close', 1);
    expect(await result).toEqual({ rc: 1, stdout: 'partial', stderr: '' });
  });
});
