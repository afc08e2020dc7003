// known_hosts as OpenSSH reads it: plain and hashed (|1|salt|hash) host names, [host]:port,
// patterns with * ? and !, @revoked, several key types per host.
import { createHmac } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { FileCache } from '../file-cache.js';

/** One usable line of a known_hosts file. */
export interface KnownHostEntry {
  file: string;
  line: number;
  marker?: '@revoked' | '@cert-authority';
  hosts: string;
  keyType: string;
  key: Buffer;
}

/** What the known_hosts files say about a host's key. */
export type HostKeyVerdict =
  | { kind: 'known'; entry: KnownHostEntry }
  | { kind: 'unknown' }
  | { kind: 'changed'; entry: KnownHostEntry }
  | { kind: 'revoked'; entry: KnownHostEntry };

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const words = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (words[0] === '@revoked' || words[0] === '@cert-authority') marker = words.shift() as KnownHostEntry['marker'];
    const [hosts, keyType, b64] = words;
    if (!hosts || !keyType || !b64) return;
    out.push({ file, line: i + 1, marker, hosts, keyType, key: Buffer.from(b64, 'base64') });
  });
  return out;
}

/** The name OpenSSH looks up: `host`, or `[host]:port` when the port is not 22. */
export function lookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

// Compiled once per pattern: every connection checks its name against every line of the file.
const patterns = new Map<string, RegExp>();

function globToRegExp(p: string): RegExp {
  let re = patterns.get(p);
  if (!re) {
    re = new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
      'i',
    );
    patterns.set(p, re);
  }
  return re;
}

/** Does the host field of a known_hosts line match this name? */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const h = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return h === hash;
  }
  let matched = false;
  for (const pat of field.split(',')) {
    if (pat.startsWith('!')) {
      if (globToRegExp(pat.slice(1)).test(name)) return false;
    } else if (globToRegExp(pat).test(name)) matched = true;
  }
  return matched;
}

/** The key type name inside an SSH public key blob (first string of the wire format). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('latin1');
}

// Entries by plain host name (no pattern, negation or hash), and the others, per entries array: a
// run checks one host key per host against the same files.
const indexes = new WeakMap<KnownHostEntry[], { plain: Map<string, KnownHostEntry[]>; other: KnownHostEntry[] }>();

/** The entries whose host field matches one of `names`, in file order. */
function matching(entries: KnownHostEntry[], names: string[]): KnownHostEntry[] {
  let index = indexes.get(entries);
  if (!index) {
    index = { plain: new Map(), other: [] };
    for (const e of entries) {
      if (/[*?!|]/.test(e.hosts)) {
        index.other.push(e);
        continue;
      }
      for (const h of new Set(e.hosts.toLowerCase().split(','))) {
        const list = index.plain.get(h) ?? [];
        list.push(e);
        index.plain.set(h, list);
      }
    }
    indexes.set(entries, index);
  }
  const found = new Set<KnownHostEntry>();
  for (const n of names) for (const e of index.plain.get(n.toLowerCase()) ?? []) found.add(e);
  for (const e of index.other) if (names.some((n) => hostFieldMatches(e.hosts, n))) found.add(e);
  return entries.filter((e) => found.has(e));
}

/** Check a presented host key against the entries for `name` (and the host's address). */
export function verifyHostKey(entries: KnownHostEntry[], names: string[], key: Buffer): HostKeyVerdict {
  const forHost = matching(entries, names).filter((e) => e.marker !== '@cert-authority');
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key.equals(key));
  if (revoked) return { kind: 'revoked', entry: revoked };
  const exact = forHost.find((e) => !e.marker && e.key.equals(key));
  if (exact) return { kind: 'known', entry: exact };
  // Any other key known for the host means it changed, of the same type or not: the key exchange
  // prefers the known types (knownKeyTypes), so a host that offers none of them has lost its
  // keys. OpenSSH refuses this as "REMOTE HOST IDENTIFICATION HAS CHANGED", accept-new included.
  const type = keyTypeOf(key);
  const other = forHost.find((e) => !e.marker && e.keyType === type) ?? forHost.find((e) => !e.marker);
  if (other) return { kind: 'changed', entry: other };
  return { kind: 'unknown' };
}

/** Key types recorded for a host, to prefer them in the key exchange (as OpenSSH does). */
export function knownKeyTypes(entries: KnownHostEntry[], names: string[]): string[] {
  return [
    ...new Set(
      matching(entries, names)
        .filter((e) => !e.marker)
        .map((e) => e.keyType),
    ),
  ];
}

const knownHostsFiles = new FileCache((bytes, file) => parseKnownHosts(bytes.toString('utf8'), file));

/** The entries of these files, each read and parsed again only when it has changed (a run opens one connection per host). */
export function readKnownHosts(files: string[]): KnownHostEntry[] {
  return files.flatMap((f) => knownHostsFiles.get(f) ?? []);
}

/** Record a new key (StrictHostKeyChecking=accept-new / no). */
export function appendKnownHost(file: string, name: string, key: Buffer): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  appendFileSync(file, `${name} ${keyTypeOf(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
}
