import { describe, expect, it } from 'vitest';
import { SecretValues } from '../../engine/redact.js';
import { pyJson } from '../../engine/report/format.js';

describe('SecretValues', () => {
  it('masks a value, its JSON-escaped forms and the lines of a multi-line value', () => {
    const s = new SecretValues();
    expect(s.redact('nothing registered')).toBe('nothing registered');
    s.add('pa"ss wörd');
    s.add('-----BEGIN KEY-----\nAAAABBBBCCCCDDDD\n-----END KEY-----');
    expect(s.redact('x pa"ss wörd y')).toBe('x ******** y');
    expect(s.redact(JSON.stringify({ v: 'pa"ss wörd' }))).toBe('{"v":"********"}');
    expect(s.redact(pyJson({ v: 'pa"ss wörd' }))).not.toContain('ss w');
    expect(s.redact('line AAAABBBBCCCCDDDD alone')).toBe('line ******** alone');
  });

  it('masks what | upper, | lower and | b64encode make of a value; says plainly that a slice is not masked', () => {
    const s = new SecretValues();
    s.add('Corpus-S3cret');
    expect(s.redact('u CORPUS-S3CRET l corpus-s3cret b Q29ycHVzLVMzY3JldA==')).toBe('u ******** l ******** b ********');
    // a slice, a hash, a value joined into a longer text: new values, not recognised (README)
    expect(s.redact('slice Corpus')).toBe('slice Corpus');
  });

  it('leaves values shorter than 3 characters alone (they would garble every line)', () => {
    const s = new SecretValues();
    s.add('no');
    expect(s.redact('no change')).toBe('no change');
  });
});
