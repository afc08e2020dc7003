import { describe, expect, it } from 'vitest';
import { banner, colorEnabled, pyJson, pyRepr, unifiedDiff } from '../../engine/report/format.js';
import { DefaultReporter } from '../../engine/report/default.js';
import { emptyStats } from '../../engine/run/results.js';

describe('output format', () => {
  it('prints JSON as Python does: sorted keys, spaced separators', () => {
    expect(pyJson({ rc: 0, changed: true, cmd: ['ls', '-l'] })).toBe('{"changed": true, "cmd": ["ls", "-l"], "rc": 0}');
    expect(pyJson({ msg: 'hi' }, 4)).toBe('{\n    "msg": "hi"\n}');
  });
  it('prints item labels as Python str()', () => {
    expect(pyRepr('eth0')).toBe('eth0');
    expect(pyRepr({ key: 'a', value: 1 })).toBe("{'key': 'a', 'value': 1}");
    expect(pyRepr([true, null])).toBe('[True, None]');
  });
  it('pads banners to 80 columns with stars', () => {
    const b = banner('TASK [ping]');
    expect(b.startsWith('TASK [ping] ***')).toBe(true);
    expect(b.length).toBe(80);
    expect(banner('x'.repeat(100)).endsWith(' ***')).toBe(true);
  });
  it('honours NO_COLOR and FORCE_COLOR', () => {
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
  });
  it('writes unified diffs with before/after headers and 3 lines of context', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\n';
    const after = 'a\nb\nc\nd\nE\nf\ng\n';
    const d = unifiedDiff({ before, after, beforeHeader: '/etc/x', afterHeader: '/etc/x' });
    expect(d).toContain('--- before: /etc/x');
    expect(d).toContain('+++ after: /etc/x');
    expect(d).toContain('@@ -2,6 +2,6 @@');
    expect(d).toContain('-e\n+E');
  });
  it("prints the PLAY RECAP in Ansible's exact columns", () => {
    const lines: string[] = [];
    const r = new DefaultReporter(0, { out: (t) => lines.push(t), err: () => undefined }, { color: false });
    r.recap(new Map([['node1', { ...emptyStats(), ok: 3, changed: 1, skipped: 2 }]]));
    const text = lines.join('');
    expect(text).toContain('PLAY RECAP *****');
    expect(text).toContain(
      'node1                      : ok=3    changed=1    unreachable=0    failed=0    skipped=2    rescued=0    ignored=0   \n',
    );
  });
});
