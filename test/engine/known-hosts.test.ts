// known_hosts lookups as OpenSSH does them: plain names (any case), [host]:port, patterns with * ?
// and !, hashed names, @revoked; a changed key is told from an unknown host.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { knownKeyTypes, lookupName, parseKnownHosts, verifyHostKey } from '../../engine/connection/known-hosts.js';

const blob = (type: string, n: number) => {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.alloc(32, n)]);
};
const line = (hosts: string, type: string, n: number) => `${hosts} ${type} ${blob(type, n).toString('base64')}`;
const hashed = (name: string) => {
  const salt = Buffer.alloc(20, 9);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
};

const text = [
  line('gateway,10.0.0.1', 'ssh-ed25519', 1),
  line('[10.0.0.2]:2222', 'ssh-ed25519', 2),
  line('node*.lab,!node9.lab', 'ssh-ed25519', 3),
  line(hashed('secret-host'), 'ssh-ed25519', 4),
  `@revoked ${line('*', 'ssh-ed25519', 5)}`,
  line('GATEWAY', 'ecdsa-sha2-nistp256', 6),
  '# a comment',
  '',
].join('\n');
const entries = parseKnownHosts(text, 'known_hosts');

describe('known_hosts', () => {
  it('finds keys by plain name in any case, by address, by [host]:port, by pattern and by hashed name', () => {
    expect(verifyHostKey(entries, ['Gateway'], blob('ssh-ed25519', 1)).kind).toBe('known');
    expect(verifyHostKey(entries, ['unknown-name', '10.0.0.1'], blob('ssh-ed25519', 1)).kind).toBe('known');
    expect(verifyHostKey(entries, [lookupName('10.0.0.2', 2222)], blob('ssh-ed25519', 2)).kind).toBe('known');
    expect(verifyHostKey(entries, ['10.0.0.2'], blob('ssh-ed25519', 2)).kind).toBe('unknown');
    expect(verifyHostKey(entries, ['node3.lab'], blob('ssh-ed25519', 3)).kind).toBe('known');
    expect(verifyHostKey(entries, ['node9.lab'], blob('ssh-ed25519', 3)).kind).toBe('unknown');
    expect(verifyHostKey(entries, ['secret-host'], blob('ssh-ed25519', 4)).kind).toBe('known');
  });
  it('tells a changed key from an unknown host, and refuses a revoked key anywhere', () => {
    expect(verifyHostKey(entries, ['gateway'], blob('ssh-ed25519', 7)).kind).toBe('changed');
    expect(verifyHostKey(entries, ['elsewhere'], blob('ssh-ed25519', 7)).kind).toBe('unknown');
    expect(verifyHostKey(entries, ['gateway'], blob('ssh-ed25519', 5)).kind).toBe('revoked');
  });
  it('a key of another type than every key known for the host is a changed key, as OpenSSH has it', () => {
    const rsaOnly = parseKnownHosts(line('pi', 'ssh-rsa', 8), 'kh');
    const v = verifyHostKey(rsaOnly, ['pi'], blob('ssh-ed25519', 9));
    expect(v.kind).toBe('changed');
    expect(v.kind === 'changed' && v.entry.keyType).toBe('ssh-rsa');
    expect(verifyHostKey(rsaOnly, ['other'], blob('ssh-ed25519', 9)).kind).toBe('unknown');
  });
  it('lists the key types known for a host, in file order', () => {
    expect(knownKeyTypes(entries, ['gateway'])).toEqual(['ssh-ed25519', 'ecdsa-sha2-nistp256']);
    expect(knownKeyTypes(entries, ['node1.lab'])).toEqual(['ssh-ed25519']);
    expect(knownKeyTypes(entries, ['nowhere'])).toEqual([]);
  });
});
