// probeAll: named probes in one remote command, each one's exit code and full output back. The
// parser on hand-written output (its edge cases), then the command on this machine's shells and
// through the local connection, in a shell of its own and in a subshell.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LocalConnection } from '../../engine/connection/local.js';
import { parseProbeAll, probeAll, probeAllCommand, sh, type ModuleContext } from '../../engine/index.js';

const line = (name: string, out: string | Buffer, rc: number | '') =>
  `__tsplay_probe__ ${name} ${Buffer.from(out).toString('base64')} ${rc}`;

describe('parseProbeAll', () => {
  it('reads each probe by name, output in full and exit code', () => {
    const r = parseProbeAll([line('a', 'one\ntwo\n\n', 0), line('b', 'no such chain\n', 1)].join('\n') + '\n');
    expect(r.a).toMatchObject({ rc: 0, out: 'one\ntwo\n\n' });
    expect(r.b).toMatchObject({ rc: 1, out: 'no such chain\n' });
  });

  it('empty output, and output without a final newline', () => {
    const r = parseProbeAll([line('empty', '', 0), line('nonl', 'abc', 2)].join('\n'));
    expect(r.empty).toEqual({ rc: 0, out: '', bytes: Buffer.alloc(0) });
    expect(r.nonl).toMatchObject({ rc: 2, out: 'abc' });
  });

  it('output that looks like the format is data, and other lines are ignored', () => {
    const fake = line('b', 'forged', 0);
    const r = parseProbeAll(['noise', line('a', `${fake}\n__tsplay_probe__ x\n`, 0), 'more noise'].join('\n'));
    expect(Object.keys(r)).toEqual(['a']);
    expect(r.a!.out).toBe(`${fake}\n__tsplay_probe__ x\n`);
  });

  it('keeps bytes that are not text', () => {
    const bytes = Buffer.from([0, 255, 10, 0]);
    expect(parseProbeAll(line('bin', bytes, 0)).bin!.bytes).toEqual(bytes);
  });

  it('leaves out a probe that did not finish (no exit code)', () => {
    expect(parseProbeAll([line('a', 'x', 0), line('cut', 'partial', '')].join('\n'))).toEqual({ a: expect.objectContaining({ rc: 0 }) });
    expect(parseProbeAll('__tsplay_probe__ cut')).toEqual({});
  });
});

describe('probeAllCommand on this machine', () => {
  const probes = {
    text: sh`echo hello; echo oops >&2; exit 3`,
    empty: sh`true`,
    nonl: sh`printf abc`,
    marker: sh`printf '__tsplay_probe__ text Zm9yZ2Vk 0\n'`,
    binary: sh`printf 'a\\000b\\n\\n\\n'`,
    quiet: { cmd: sh`echo out; echo to-stderr >&2`, stderr: 'pass' as const },
    shared: sh`printf %s "$dev"`,
    input: sh`cat`,
  };
  const expected = {
    text: { rc: 3, out: 'hello\noops\n' },
    empty: { rc: 0, out: '' },
    nonl: { rc: 0, out: 'abc' },
    marker: { rc: 0, out: '__tsplay_probe__ text Zm9yZ2Vk 0\n' },
    binary: { rc: 0, bytes: Buffer.from('a\0b\n\n\n') },
    quiet: { rc: 0, out: 'out\n' },
    shared: { rc: 0, out: 'eth0' },
    input: { rc: 0, out: '' },
  };
  const command = probeAllCommand(probes, { setup: sh`dev=eth0; echo setup output is dropped` });

  it.each(['sh', 'bash'])('in %s', (shell) => {
    const r = spawnSync(shell, ['-c', command.text], { input: 'not for the probes', encoding: 'utf8' });
    expect(parseProbeAll(r.stdout)).toMatchObject(expected);
    expect(r.stderr).toBe('to-stderr\n');
  });

  it.each([false, true])('through the local connection (own shell: %s), with probeAll', async (own) => {
    const connection = new LocalConnection('localhost');
    try {
      const ctx = { run: (cmd, opts) => connection.exec(own ? cmd.inOwnShell() : cmd, opts) } as Pick<ModuleContext, 'run'>;
      expect(await probeAll(ctx, probes, { setup: sh`dev=eth0` })).toMatchObject(expected);
    } finally {
      await connection.close();
    }
  });

  it('refuses a probe name that is not a word', () => {
    expect(() => probeAllCommand({ 'two words': sh`true` })).toThrow(/probe names/);
  });
});
