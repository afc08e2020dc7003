// password_hash: SHA-crypt as Python's crypt (which Ansible 2.14 uses without passlib) makes it.
// The expected values are the specification's test vectors, printed by Python's crypt.crypt.
import { describe, expect, it } from 'vitest';
import { FILTERS } from '../../engine/expr/filters.js';

const hash = (pw: string, args: unknown[], kw: Record<string, unknown> = {}) => FILTERS.password_hash!.fn(pw, args, kw) as string;

describe('password_hash', () => {
  it.each([
    ['sha512', 'saltstring', null, '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
    ['sha256', 'saltstring', null, '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
    // the salt is cut to 16 characters; rounds other than 5000 are written out
    [
      'sha512',
      'saltstringsaltstring',
      10000,
      '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
    ],
  ])('%s, salt %s, rounds %s', (type, salt, rounds, expected) => {
    expect(hash('Hello world!', [type, salt], rounds === null ? {} : { rounds })).toBe(expected);
  });

  it('makes a random 16-character salt when none is given, and refuses what it cannot make', () => {
    const a = hash('pw', ['sha512']);
    const b = hash('pw', ['sha512']);
    expect(a).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(a).not.toBe(b);
    expect(() => hash('pw', ['md5'])).toThrow(/md5 is not supported by tsplay/);
  });
});
