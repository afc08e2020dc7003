// engine/connection/ssh2-patch.ts hooks into ssh2's protocol object, which is not ssh2's public API:
// an update may move what a hook expects, and the hook would then change nothing, silently. This
// runs each hook against an ssh2 server in this process (on loopback) and fails, naming the hook
// and the ssh2 version it was written against, when it no longer applies. test/integration/ssh.test.ts
// shows what each one saves against a real OpenSSH server.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import ssh2, { type ClientChannel } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signalChannel, signWithoutAsking, skipHostKeysProof, SSH2_VERSION } from '../../engine/connection/ssh2-patch.js';

const { Client, Server, utils } = ssh2;
const root = join(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);
const gone = (hook: string, what: string) =>
  `${hook} no longer applies: ${what}. engine/connection/ssh2-patch.ts was written against ssh2 ${SSH2_VERSION}; adapt it to the installed ssh2, or keep the pinned version`;

/** What the server saw: each publickey request (signed or a question), global replies, signals. */
interface Seen {
  publickey: ('signed' | 'question')[];
  signals: string[];
}

let server: InstanceType<typeof Server>;
let port: number;
let seen: Seen;
const conns: { ping(): void }[] = [];
const clientKey = utils.generateKeyPairSync('ed25519');

beforeAll(async () => {
  server = new Server({ hostKeys: [utils.generateKeyPairSync('ed25519').private] }, (conn) => {
    conn.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      seen.publickey.push(ctx.signature ? 'signed' : 'question');
      ctx.accept();
    });
    conn.on('ready', () => {
      conns.push((conn as unknown as { _protocol: { ping(): void } })._protocol);
      conn.on('session', (accept) => {
        const session = accept();
        session.on('signal', (_accept, _reject, info) => {
          seen.signals.push(info.name);
          channel?.exit(143);
          channel?.end();
        });
        let channel: ssh2.ServerChannel | undefined;
        session.on('exec', (acceptExec) => {
          channel = acceptExec();
          channel.resume();
        });
      });
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((res) => server.close(() => res())));

// A client connected to the server, with `patch` applied right after connect() as ssh.ts does.
async function connect(
  patch: (c: InstanceType<typeof Client>) => boolean = () => true,
): Promise<{ client: InstanceType<typeof Client>; applied: boolean }> {
  seen = { publickey: [], signals: [] };
  const client = new Client();
  let applied = false;
  await new Promise<void>((res, rej) => {
    client.on('ready', res).on('error', rej);
    client.connect({ host: '127.0.0.1', port, username: 'tsplay', privateKey: clientKey.private, hostVerifier: () => true });
    applied = patch(client);
  });
  return { client, applied };
}

describe(`ssh2's internals (written against ssh2 ${SSH2_VERSION})`, () => {
  it('are those of the ssh2 package.json pins', () => {
    const pinned = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies
      .ssh2;
    const installed = (require('ssh2/package.json') as { version: string }).version;
    expect(
      pinned,
      `package.json must pin ssh2 exactly to ${SSH2_VERSION}, the version engine/connection/ssh2-patch.ts was written against`,
    ).toBe(SSH2_VERSION);
    expect(
      installed,
      `ssh2 ${installed} is installed; engine/connection/ssh2-patch.ts was written against ssh2 ${SSH2_VERSION} (run npm ci)`,
    ).toBe(SSH2_VERSION);
  });

  it('skipHostKeysProof: global requests reach the handler it replaces', async () => {
    const { client, applied } = await connect(skipHostKeysProof);
    try {
      expect(applied, gone('skipHostKeysProof', 'client._protocol._handlers.GLOBAL_REQUEST is missing')).toBe(true);
      // the patched handler must be what ssh2 calls for a global request that arrives
      const handlers = (client as unknown as { _protocol: { _handlers: Record<string, (...a: unknown[]) => void> } })._protocol._handlers;
      const patched = handlers.GLOBAL_REQUEST!;
      const names: unknown[] = [];
      handlers.GLOBAL_REQUEST = (...a) => (names.push(a[1]), patched(...a));
      conns.at(-1)!.ping(); // keepalive@openssh.com, a global request from the server
      await new Promise((r) => setTimeout(r, 200));
      expect(
        names,
        gone('skipHostKeysProof', "ssh2 no longer calls client._protocol._handlers.GLOBAL_REQUEST for the server's global requests"),
      ).toContain('keepalive@openssh.com');
    } finally {
      client.end();
    }
  });

  it('signWithoutAsking: a key file signs its first request', async () => {
    const plain = await connect();
    plain.client.end();
    expect(seen.publickey).toEqual(['question', 'signed']); // ssh2's own way: ask, then sign
    const { client, applied } = await connect(signWithoutAsking);
    client.end();
    expect(applied, gone('signWithoutAsking', 'client._protocol.authPK is missing')).toBe(true);
    expect(
      seen.publickey,
      gone('signWithoutAsking', 'the first publickey request still asks whether the server would take the key'),
    ).toEqual(['signed']);
  });

  // (after stdin ended, as tsplay sends it, ssh2's own server refuses every request: sshd does
  // not: test/integration/ssh.test.ts "kills a command at its timeout" runs that on a real sshd)
  it('signalChannel: a signal reaches the command through the protocol object', async () => {
    const { client } = await connect();
    try {
      const channel = await new Promise<ClientChannel>((res, rej) => client.exec('sleep 60', (err, ch) => (err ? rej(err) : res(ch))));
      channel.resume();
      channel.stderr.resume();
      const closed = new Promise((res) => channel.on('close', res));
      const sent = signalChannel(channel, 'TERM');
      expect(sent, gone('signalChannel', "channel.outgoing (id, state) or the client's _protocol.signal is missing")).toBe(true);
      await closed;
      expect(seen.signals, gone('signalChannel', 'the signal request did not reach the server')).toEqual(['TERM']);
    } finally {
      client.end();
    }
  });
});
