// What tsplay changes inside ssh2, in one place: three hooks into the protocol object of an ssh2
// Client (`client._protocol`, not public API) and its channels' `outgoing` state. package.json
// pins ssh2 to the version they were written against (SSH2_VERSION); without the member a hook
// expects, it changes nothing and says so by returning false, and
// test/connection/ssh2-patch.test.ts fails, naming the hook, when an update no longer has it.
// Why each exists, with what it saves: docs/performance.md, "Why the connection is built this way".
import type ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';

/** The ssh2 whose internals these hooks were written against. */
export const SSH2_VERSION = '1.17.0';

type Client = InstanceType<typeof ssh2.Client>;

/**
 * Leave sshd's announcement of its host keys (hostkeys-00@openssh.com, which asks no reply)
 * unanswered, as OpenSSH's client does with UpdateHostKeys off, instead of asking the server to
 * prove every key. Call right after `client.connect()`. False: ssh2 has no such handler.
 */
export function skipHostKeysProof(client: Client): boolean {
  type Handler = (p: unknown, name: string, wantReply: boolean, data: unknown) => void;
  const protocol = (client as unknown as { _protocol?: { _handlers?: { GLOBAL_REQUEST?: Handler } } })._protocol;
  const handlers = protocol?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (!handlers || typeof original !== 'function') return false;
  handlers.GLOBAL_REQUEST = (p, name, wantReply, data) => {
    if (name === 'hostkeys-00@openssh.com' && !wantReply) return;
    original(p, name, wantReply, data);
  };
  return true;
}

/**
 * Send a key file's signed request at once (RFC 4252 allows it) instead of first asking whether
 * the server would take the key. RSA keys keep ssh2's way (their signature algorithm comes from
 * the server's answer), and so do agent keys (an agent may ask its user before it signs). Call
 * right after `client.connect()`. False: ssh2's protocol object has no authPK.
 */
export function signWithoutAsking(client: Client): boolean {
  type Key = { type?: string; isPrivateKey?(): boolean; sign?(data: Buffer): Buffer | Error };
  type AuthPK = (user: string, key: Key, algo?: unknown, cbSign?: unknown) => void;
  const protocol = (client as unknown as { _protocol?: { authPK?: AuthPK } })._protocol;
  const original = protocol?.authPK;
  if (!protocol || typeof original !== 'function') return false;
  protocol.authPK = function (this: unknown, user, key, algo, cbSign) {
    const query = algo === undefined && cbSign === undefined;
    if (!query || key?.type === 'ssh-rsa' || typeof key?.sign !== 'function' || !key.isPrivateKey?.()) {
      return original.call(this, user, key, algo, cbSign);
    }
    return original.call(this, user, key, undefined, (data: Buffer, send: (signature: Buffer) => void) => {
      const signature = key.sign!(data);
      if (signature instanceof Error) {
        client.emit(
          'error',
          Object.assign(new Error(`Error signing data with key: ${signature.message}`), { level: 'client-authentication' }),
        );
        return;
      }
      send(signature);
    });
  };
  return true;
}

/**
 * Send a signal to the command of an open channel. ssh2's channel.signal() sends nothing once
 * stdin is ended (it checks `writable`), and tsplay ends stdin right after writing it; the request
 * is still valid on an open channel, so it goes through the protocol object, which is what
 * signal() calls. False: the channel is not open, or ssh2 has no such members.
 */
export function signalChannel(channel: ClientChannel, name: string): boolean {
  const c = channel as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal?(id: number, name: string): void } };
  };
  const protocol = c._client?._protocol;
  if (
    (c.outgoing?.state !== 'open' && c.outgoing?.state !== 'eof') ||
    c.outgoing.id === undefined ||
    typeof protocol?.signal !== 'function'
  )
    return false;
  try {
    protocol.signal(c.outgoing.id, name);
    return true;
  } catch {
    return false; // the connection is already gone
  }
}
