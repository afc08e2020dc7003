import { describe, expect, it } from 'vitest';
import { parseKv } from '../../engine/kv.js';
import { splitArgs } from '../../engine/sh.js';

describe('k=v arguments', () => {
  it('splits on spaces outside quotes and Jinja2', () => {
    expect(splitArgs(`path=/etc/hosts line="10.0.0.1 gw" x={{ a | default('b c') }}`)).toEqual([
      'path=/etc/hosts',
      'line="10.0.0.1 gw"',
      "x={{ a | default('b c') }}",
    ]);
  });
  it('parses k=v with quotes removed', () => {
    expect(parseKv(`src=a dest='b c' mode=0644`).args).toEqual({ src: 'a', dest: 'b c', mode: '0644' });
  });
  it('keeps free-form text and takes only known keys for free-form modules', () => {
    const r = parseKv('ls -l /tmp chdir=/var creates=/x foo=bar', new Set(['chdir', 'creates']));
    expect(r.args).toEqual({ chdir: '/var', creates: '/x' });
    expect(r.free).toBe('ls -l /tmp foo=bar');
  });
  it('keeps quotes in free-form text for the shell', () => {
    expect(parseKv(`echo "a  b" | wc -c`, new Set()).free).toBe(`echo "a  b" | wc -c`);
  });
});

describe('k=v continuation', () => {
  it('lets a bare word continue the previous value (debug: msg=hello world)', () => {
    expect(parseKv('msg=hello world verbosity=1').args).toEqual({ msg: 'hello world', verbosity: '1' });
  });
});

describe('free-form text keeps its layout', () => {
  it('a multi-line shell script keeps its newlines; k=v words are taken out', () => {
    const keys = new Set(['chdir', 'creates']);
    expect(parseKv('set -e\nfor i in 1 2; do\n  echo "$i"\ndone\n', keys)).toEqual({
      args: {},
      free: 'set -e\nfor i in 1 2; do\n  echo "$i"\ndone',
    });
    expect(parseKv('echo a chdir=/tmp\necho  b creates=/x', keys)).toEqual({
      args: { chdir: '/tmp', creates: '/x' },
      free: 'echo a\necho  b',
    });
  });
});
