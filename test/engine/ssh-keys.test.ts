// The client key's signature: an ed25519 key signs with a KeyObject made once, and the signature is
// the one ssh2's own sign() makes (ed25519 is deterministic) and verifies.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { withKeyObject } from '../../engine/connection/ssh.js';

const keyFile = (type: string) => {
  const f = join(mkdtempSync(join(tmpdir(), 'tsplay-key-')), 'id');
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', f]);
  return readFileSync(f);
};

describe('client key signatures', () => {
  it('an ed25519 key signs as ssh2 does, through a KeyObject of its own', () => {
    const parsed = ssh2.utils.parseKey(keyFile('ed25519'));
    if (parsed instanceof Error || Array.isArray(parsed)) throw new Error('no key');
    const fast = withKeyObject(parsed);
    if (fast instanceof Error || Array.isArray(fast)) throw new Error('no key');
    expect(fast).not.toBe(parsed);
    const data = Buffer.from('session id and userauth request');
    const sig = fast.sign(data) as Buffer;
    expect(sig.equals(parsed.sign(data) as Buffer)).toBe(true);
    expect(parsed.verify(data, sig)).toBe(true);
    expect(fast.getPublicSSH().equals(parsed.getPublicSSH())).toBe(true);
    expect(ssh2.utils.parseKey(fast as never)).toBe(fast); // ssh2 takes it as a parsed key
  });
  it('leaves other key types to ssh2', () => {
    const parsed = ssh2.utils.parseKey(keyFile('ecdsa'));
    expect(withKeyObject(parsed)).toBe(parsed);
  });
});
