// bcrypt ($2b$, Provos and Mazières' eksblowfish), as passlib makes it for Ansible's
// password_hash('blowfish'). Blowfish's initial state is the hexadecimal digits of pi, computed
// here once (Machin's formula in BigInt) rather than carried as a 4 KiB table.

const WORDS = 18 + 4 * 256;
let initial: Uint32Array | undefined;

// The first WORDS 32-bit words of pi's fractional part.
function piWords(): Uint32Array {
  if (initial) return initial;
  const bits = BigInt(WORDS * 32 + 64);
  const one = 1n << bits;
  const atanInv = (x: bigint) => {
    let sum = 0n;
    let term = one / x;
    const x2 = x * x;
    for (let k = 1n, sign = 1n; term !== 0n; k += 2n, sign = -sign, term /= x2) sum += (sign * term) / k;
    return sum;
  };
  const pi = 16n * atanInv(5n) - 4n * atanInv(239n);
  const fraction = (pi - 3n * one) >> 64n;
  const words = new Uint32Array(WORDS);
  for (let i = 0; i < WORDS; i++) words[i] = Number((fraction >> BigInt((WORDS - 1 - i) * 32)) & 0xffffffffn);
  initial = words;
  return words;
}

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** bcrypt's base64 (its own alphabet, no padding). */
export function bcryptBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const [a, b = 0, c = 0] = [bytes[i]!, bytes[i + 1], bytes[i + 2]];
    const n = (a << 16) | (b << 8) | c;
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let j = 0; j < chars; j++) out += BCRYPT_ALPHABET[(n >> (18 - 6 * j)) & 63];
  }
  return out;
}

function decodeBase64(s: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const ch of s) {
    acc = (acc << 6) | BCRYPT_ALPHABET.indexOf(ch);
    bits += 6;
    if (bits >= 8 && o < length) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

class Blowfish {
  P: Uint32Array;
  S: Uint32Array;

  constructor() {
    const pi = piWords();
    this.P = pi.slice(0, 18);
    this.S = pi.slice(18);
  }

  private f(x: number): number {
    const S = this.S;
    return ((((S[x >>> 24]! + S[256 + ((x >>> 16) & 0xff)]!) >>> 0) ^ S[512 + ((x >>> 8) & 0xff)]!) + S[768 + (x & 0xff)]!) >>> 0;
  }

  encipher(lr: Uint32Array, off: number): void {
    let l = lr[off]!;
    let r = lr[off + 1]!;
    l ^= this.P[0]!;
    for (let i = 1; i < 16; i += 2) {
      r ^= this.f(l) ^ this.P[i]!;
      l ^= this.f(r) ^ this.P[i + 1]!;
    }
    lr[off] = (r ^ this.P[17]!) >>> 0;
    lr[off + 1] = l >>> 0;
  }

  // Blowfish's key schedule, with salt (eksblowfish's ExpandKey) or without (salt empty).
  expand(key: Uint8Array, salt: Uint8Array): void {
    let k = 0;
    const word = (data: Uint8Array, pos: { i: number }) => {
      let w = 0;
      for (let j = 0; j < 4; j++) {
        w = ((w << 8) | data[pos.i]!) >>> 0;
        pos.i = (pos.i + 1) % data.length;
      }
      return w;
    };
    const kp = { i: k };
    for (let i = 0; i < 18; i++) this.P[i] = (this.P[i]! ^ word(key, kp)) >>> 0;
    k = 0;
    const sp = { i: k };
    const lr = new Uint32Array(2);
    const fill = (target: Uint32Array, count: number) => {
      for (let i = 0; i < count; i += 2) {
        if (salt.length) {
          lr[0] = (lr[0]! ^ word(salt, sp)) >>> 0;
          lr[1] = (lr[1]! ^ word(salt, sp)) >>> 0;
        }
        this.encipher(lr, 0);
        target[i] = lr[0]!;
        target[i + 1] = lr[1]!;
      }
    };
    fill(this.P, 18);
    fill(this.S, 1024);
  }
}

/** bcrypt of password with a 22-character salt and a cost (log2 of the rounds), as `$2b$`. */
export function bcrypt(password: string, salt22: string, cost: number, ident = '2b'): string {
  const key = Buffer.concat([Buffer.from(password, 'utf8'), Buffer.from([0])]).subarray(0, 72);
  const salt = decodeBase64(salt22, 16);
  const bf = new Blowfish();
  bf.expand(key, salt);
  const none = new Uint8Array(0);
  for (let i = 0; i < 2 ** cost; i++) {
    bf.expand(key, none);
    bf.expand(salt, none);
  }
  const text = Buffer.from('OrpheanBeholderScryDoubt', 'latin1');
  const lr = new Uint32Array(6);
  for (let i = 0; i < 6; i++) lr[i] = text.readUInt32BE(i * 4);
  for (let n = 0; n < 64; n++) for (let i = 0; i < 6; i += 2) bf.encipher(lr, i);
  const out = Buffer.alloc(24);
  for (let i = 0; i < 6; i++) out.writeUInt32BE(lr[i]!, i * 4);
  return `$${ident}$${String(cost).padStart(2, '0')}$${bcryptBase64(salt)}${bcryptBase64(out.subarray(0, 23))}`;
}
