// Python's random.Random with a seed, value for value: the Mersenne Twister (MT19937) seeded as
// CPython 3 seeds it (version 2: a str seed is its UTF-8 bytes followed by their SHA-512, read as
// one big-endian integer; an int seed its absolute value), and the ways Ansible's `random` and
// `shuffle` filters draw from it (randrange, choice, shuffle). So `60 | random(seed=inventory_hostname)`
// gives each host the minute Ansible gives it, and a playbook moved to tsplay keeps its cron times.
import { createHash } from 'node:crypto';

const N = 624;
const M = 397;

export class PyRandom {
  private readonly mt = new Uint32Array(N);
  private mti = N + 1;

  constructor(seed: string | bigint) {
    let n: bigint;
    if (typeof seed === 'string') {
      const bytes = Buffer.from(seed, 'utf8');
      const all = Buffer.concat([bytes, createHash('sha512').update(bytes).digest()]);
      n = BigInt('0x' + all.toString('hex'));
    } else n = seed < 0n ? -seed : seed;
    // The integer as 32-bit words, least significant first ([0] for zero).
    const key: number[] = [];
    while (n > 0n) {
      key.push(Number(n & 0xffffffffn));
      n >>= 32n;
    }
    if (key.length === 0) key.push(0);
    this.initByArray(key);
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.mti = N;
  }

  private initByArray(key: number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = ((mt[i]! ^ Math.imul(prev, 1664525)) + key[j]! + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = ((mt[i]! ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  /** One 32-bit output of MT19937. */
  uint32(): number {
    const mt = this.mt;
    if (this.mti >= N) {
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = (mt[kk]! & 0x80000000) | (mt[kk + 1]! & 0x7fffffff);
        mt[kk] = mt[kk + M]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      for (; kk < N - 1; kk++) {
        const y = (mt[kk]! & 0x80000000) | (mt[kk + 1]! & 0x7fffffff);
        mt[kk] = mt[kk + (M - N)]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      const y = (mt[N - 1]! & 0x80000000) | (mt[0]! & 0x7fffffff);
      mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      this.mti = 0;
    }
    let y = mt[this.mti++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** random.getrandbits(k): words least significant first, the last one cut to what is left. */
  getrandbits(k: number): bigint {
    if (k <= 32) return BigInt(this.uint32() >>> (32 - k));
    let r = 0n;
    for (let shift = 0n, left = k; left > 0; shift += 32n, left -= 32) {
      let w = this.uint32();
      if (left < 32) w >>>= 32 - left;
      r |= BigInt(w) << shift;
    }
    return r;
  }

  /** random._randbelow(n): getrandbits(bit length of n), again until below n. */
  randbelow(n: bigint): bigint {
    if (n <= 0n) return 0n;
    const k = n.toString(2).length;
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }

  /** random.randrange(start, stop, step); null when the range is empty (Python's ValueError). */
  randrange(start: bigint, stop: bigint, step: bigint): bigint | null {
    const width = stop - start;
    if (step === 1n) return width > 0n ? start + this.randbelow(width) : null;
    if (step === 0n) return null;
    const n = step > 0n ? floorDiv(width + step - 1n, step) : floorDiv(width + step + 1n, step);
    if (n <= 0n) return null;
    return start + step * this.randbelow(n);
  }

  /** random.shuffle(x), in place. */
  shuffle<T>(x: T[]): void {
    for (let i = x.length - 1; i > 0; i--) {
      const j = Number(this.randbelow(BigInt(i + 1)));
      [x[i], x[j]] = [x[j]!, x[i]!];
    }
  }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}
