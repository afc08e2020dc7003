// A controller file is parsed once per run and again when it changes; a missing file is undefined.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileCache } from '../../engine/file-cache.js';
import { changesFailed } from '../../engine/files.js';

describe('FileCache', () => {
  it('parses a file once, again when it changes, and gives undefined for a missing file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tsplay-cache-')), 'f');
    let parses = 0;
    const cache = new FileCache((b) => (parses++, b.toString()));
    expect(cache.get(file)).toBeUndefined();
    writeFileSync(file, 'one');
    expect([cache.get(file), cache.get(file), parses]).toEqual(['one', 'one', 1]);
    writeFileSync(file, 'two!'); // another size
    expect([cache.get(file), parses]).toEqual(['two!', 2]);
    writeFileSync(file, 'six!');
    utimesSync(file, new Date(5_000), new Date(5_000)); // same size, another mtime
    expect([cache.get(file), parses]).toEqual(['six!', 3]);
    cache.clear();
    expect([cache.get(file), parses]).toEqual(['six!', 4]);
    rmSync(file);
    expect(cache.get(file)).toBeUndefined();
  });
});

describe('changesFailed', () => {
  it("names every change, the exit code and the host's error, else its output", () => {
    const changes = [
      { summary: 'write /etc/a', commands: [] },
      { summary: 'reload', commands: [] },
    ];
    expect(changesFailed(changes, { rc: 3, stdout: 'x', stderr: 'no space\n' })).toEqual({
      failed: 'write /etc/a; reload: failed (rc=3): no space',
      result: { rc: 3, stderr: 'no space\n' },
    });
    expect(
      changesFailed(changes.slice(0, 1), { rc: 1, stdout: '__tsplay__ stat x\nmv: denied\n', stderr: '' }, 'mv: denied\n').failed,
    ).toBe('write /etc/a: failed (rc=1): mv: denied');
  });
});
