// YAML that is small on disk but huge in memory: aliases of aliases (a "billion laughs" file).
import { describe, expect, it } from 'vitest';
import { UserError } from '../../engine/errors.js';
import { parseYaml } from '../../engine/load/yaml.js';

// nine levels, each nine aliases of the one before: 9^9 (387 million) strings from ~500 bytes
const BOMB =
  ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    .concat(
      Array.from({ length: 8 }, (_, i) => {
        const prev = String.fromCharCode(97 + i);
        const name = String.fromCharCode(98 + i);
        return `${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`;
      }),
    )
    .join('\n') + '\n';

describe('YAML aliases', () => {
  it('an alias bomb is refused at once, naming the alias that crossed the budget', () => {
    expect(BOMB.length).toBeLessThan(600);
    const started = Date.now();
    let err: unknown;
    try {
      parseYaml(BOMB, 'vars/bomb.yml');
    } catch (e) {
      err = e;
    }
    expect(Date.now() - started).toBeLessThan(3000);
    expect(err).toBeInstanceOf(UserError);
    const e = err as UserError;
    expect(e.message).toMatch(/^YAML aliases expand to more than \d+ values: refused/);
    expect(e.location?.file).toBe('vars/bomb.yml');
    expect(e.location?.line).toBeGreaterThan(1);
    expect(e.location?.col).toBeGreaterThan(1);
  });

  it('many aliases of a flat anchor (merge keys in a big inventory) still load, each a full copy', () => {
    const text =
      'defaults: &d { user: pi, port: 22, become: true }\n' +
      Array.from({ length: 5000 }, (_, i) => `h${i}: { <<: *d, ip: "10.0.${i >> 8}.${i & 255}" }`).join('\n') +
      '\n';
    const data = parseYaml(text, 'hosts.yml') as Record<string, Record<string, unknown>>;
    expect(Object.keys(data)).toHaveLength(5001);
    expect(data.h4999).toEqual({ user: 'pi', port: 22, become: true, ip: '10.0.19.135' });
  });
});

describe('YAML merge keys, as PyYAML reads them', () => {
  it('<< merges a mapping (block or flow), a list of them, keeps keys set beside it; a quoted "<<" is a plain key', () => {
    const data = parseYaml(
      'd: &d {a: 1, b: 1}\ne: &e {c: 3}\nblock:\n  <<: *d\n  b: 2\nflow: {<<: *d, a: 0}\nboth: {<<: [*d, *e]}\nquoted: {"<<": x}\n',
      'm.yml',
    ) as Record<string, unknown>;
    expect(data.block).toEqual({ a: 1, b: 2 });
    expect(data.flow).toEqual({ a: 0, b: 1 });
    expect(data.both).toEqual({ a: 1, b: 1, c: 3 });
    expect(data.quoted).toEqual({ '<<': 'x' });
  });
});
