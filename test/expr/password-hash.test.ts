// password_hash: SHA-crypt as Python's crypt (which Ansible 2.14 uses without passlib) makes it.
// The expected values are the specification's test vectors, printed by Python's crypt.crypt.
import { describe, expect, it } from 'vitest';
import { FILTERS } from '../../engine/expr/filters.js';

const hash = (pw: string, args: unknown[], kw: Record<string, unknown> = {}) => FILTERS.password_hash!.fn(pw, args, kw) as string;

describe('password_hash', () => {
  it.each([
    ['sha512', 'saltstring', null, '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
    ['sha256', 'saltstring', null, '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
    // Ansible leaves out its passlib default rounds (656000), so crypt's 5000 apply; 5000 given is written
    [
      'sha512',
      'saltstring',
      656000,
      '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
    ],
    [
      'sha512_crypt',
      'saltstring',
      5000,
      '$6$rounds=5000$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
    ],
    // md5-crypt, as Python's crypt.crypt prints it; rounds end up in its 8-character salt, as in Ansible
    ['md5', 'saltsalt', null, '$1$saltsalt$le8lFSqqnPaRFOlmAZpvH1'],
    ['md5_crypt', 'abc', null, '$1$abc$.FiamM1s4pFo0QKAk4pqS.'],
    ['md5', 'abc', 2000, '$1$rounds=2$iFwy7uoDqeR8UYekcTBEz.'],
    // rounds given are written out
    [
      'sha512',
      'saltstringsaltst',
      10000,
      '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
    ],
  ])('%s, salt %s, rounds %s', (type, salt, rounds, expected) => {
    expect(hash('Hello world!', [type, salt], rounds === null ? {} : { rounds })).toBe(expected);
  });

  // bcrypt as passlib makes it for Ansible (Python's crypt.crypt gives the same): cost 12 unless
  // given, ident 2b, the salt's last character normalized, the password cut at 72 bytes.
  it.each([
    ['Hello world!', 'blowfish', 'abcdefghijklmnopqrstuu', { rounds: 4 }, '$2b$04$abcdefghijklmnopqrstuuyeG8laUfZvsCmc.AE6qIDYSPGM2efmK'],
    ['Hello world!', 'bcrypt', 'a'.repeat(22), { rounds: 6, ident: '2y' }, '$2y$06$aaaaaaaaaaaaaaaaaaaaaOdPD7iUumfWC5I8NCIyKlTnooQsexjR6'],
    ['x'.repeat(80), 'bcrypt', 'b'.repeat(22), { rounds: 4 }, '$2b$04$bbbbbbbbbbbbbbbbbbbbbOcAEX/Ogf.iRpF1D9lnE1erdDDRS4Sn2'],
    ['p\u00e4ss', 'bcrypt', 'b'.repeat(22), { rounds: 4 }, '$2b$04$bbbbbbbbbbbbbbbbbbbbbOdkf1CNDteG0gy7YsDxecb6XwKKMYGuO'],
  ])('bcrypt of %s (%s, salt %s, %o)', (pw, type, salt, kw, expected) => {
    expect(hash(pw, [type, salt], kw)).toBe(expected);
  });

  it('bcrypt defaults to cost 12', () => {
    expect(hash('pw', ['blowfish', 'a'.repeat(22)])).toMatch(/^\$2b\$12\$a{21}O/);
  });

  it('makes a random 16-character salt when none is given, and refuses what it cannot make', () => {
    const a = hash('pw', ['sha512']);
    const b = hash('pw', ['sha512']);
    expect(a).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(a).not.toBe(b);
    expect(hash('pw', ['md5'])).toMatch(/^\$1\$[./0-9A-Za-z]{8}\$[./0-9A-Za-z]{22}$/);
    expect(hash('pw', ['sha256'], { salt_size: 4 })).toMatch(/^\$5\$[./0-9A-Za-z]{4}\$/);
    expect(() => hash('pw', ['sha512', 'x!y'])).toThrow('invalid characters in salt');
    expect(() => hash('pw', ['sha512', 'saltstringsaltstring'])).toThrow('invalid salt size');
    expect(() => hash('pw', ['md5', 'saltsalty'])).toThrow('invalid salt size');
    expect(() => hash('pw', ['des'])).toThrow("crypt.crypt does not support 'des' algorithm");
    expect(hash('pw', ['blowfish'], { rounds: 4 })).toMatch(/^\$2b\$04\$[./0-9A-Za-z]{21}[.Oeu][./0-9A-Za-z]{31}$/);
    expect(() => hash('pw', ['bcrypt', 'short'])).toThrow(/Could not hash the secret/);
    expect(() => hash('pw', ['bcrypt', 'a'.repeat(22)], { rounds: 3 })).toThrow(/Could not hash the secret/);
    expect(() => hash('pw', ['bcrypt', 'a'.repeat(22)], { ident: '2x' })).toThrow(/Could not hash the secret/);
  });
});
