// Python's random.Random, value for value. The expected numbers were printed by CPython 3.11
// (Debian 12) with `random.Random(seed)` and the same calls, in the same order.
import { describe, expect, it } from 'vitest';
import { PyRandom } from '../../engine/expr/pyrandom.js';

describe('PyRandom is CPython random.Random', () => {
  it('seeds from a string (version 2: bytes + sha512) like Python', () => {
    const cases: [string, number, number, bigint][] = [
      ['x', 40, 2, 564475183850708774851n],
      ['node1', 36, 3, 1156108196153773931718n],
      ['gateway', 35, 2, 573781689645917796482n],
      ['', 29, 3, 1021728476814495877248n],
      ['héllo', 0, 2, 334153417444898359538n],
    ];
    for (const [seed, minute, choice, bits] of cases) {
      const r = new PyRandom(seed);
      expect(r.randrange(0n, 60n, 1n), seed).toBe(BigInt(minute));
      expect([1, 2, 3][Number(r.randbelow(3n))], seed).toBe(choice);
      expect(r.getrandbits(70), seed).toBe(bits);
    }
  });

  it('seeds from integers, small, large and negative', () => {
    expect(new PyRandom(0n).getrandbits(32)).toBe(3626764237n);
    const zero = new PyRandom(0n);
    expect([zero.uint32(), zero.uint32(), zero.uint32()]).toEqual([3626764237, 1654615998, 3255389356]);
    expect(new PyRandom(12345n).randrange(0n, 60n, 1n)).toBe(26n);
    expect(new PyRandom(2n ** 40n + 7n).randrange(5n, 100n, 7n)).toBe(68n);
    expect(new PyRandom(-3n).randrange(10n, 0n, -3n)).toBe(7n);
  });

  it('shuffles like random.shuffle and refuses an empty range', () => {
    const l = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    new PyRandom('s').shuffle(l);
    expect(l).toEqual([3, 2, 1, 4, 8, 0, 6, 5, 9, 7]);
    expect(new PyRandom('s').randrange(5n, 5n, 1n)).toBeNull();
    expect(new PyRandom('s').randrange(0n, 10n, 0n)).toBeNull();
  });
});
