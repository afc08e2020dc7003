// The SSH transport (npm ssh2): one connection per host for the whole run, commands run by
// long-lived shell sessions on it (session.ts; at most MAX_CHANNELS channels at once, below sshd's
// MaxSessions=10), jump hosts through one shared connection to the gateway, known_hosts checked
// strictly by default.
import { createPrivateKey, sign as cryptoSign } from 'node:crypto';

import { spawn } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { Duplex } from 'node:stream';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import { UnreachableError } from '../errors.js';
import { FileCache } from '../file-cache.js';
import type { Connection, ExecOptions, ExecResult } from '../module.js';
import { raw, Secret, sh, shellSplit, joinCommands, type ShellCommand } from '../sh.js';
import { becomeCommand, drive, type Proc } from './exec.js';
import { INPUT_VARIABLE, inputFitsVariable, SESSION_COMMAND, sessionToken, ShellSession, type FrameOptions } from './session.js';
import { appendKnownHost, knownKeyTypes, lookupName, readKnownHosts, verifyHostKey } from './known-hosts.js';
import { sshConfigFor } from './ssh-config.js';
import { promptSecret } from './prompt.js';
import { signalChannel, signWithoutAsking, skipHostKeysProof } from './ssh2-patch.js';

const { Client, utils } = ssh2;

/** Channels (shell sessions and exec channels) open at once per connection (sshd's MaxSessions defaults to 10). */
export const MAX_CHANNELS = 8;

// A port that is no number would reach the network as NaN: say what is wrong instead.
function checkPort(value: unknown): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UnreachableError(`invalid SSH port '${String(value)}': ansible_port must be a number from 1 to 65535`);
  }
  return port;
}

/** Where and how to reach one SSH endpoint. */
export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  password?: Secret;
  strict: 'yes' | 'no' | 'accept-new';
  knownHostsFiles: string[];
  timeoutMs: number;
  retries: number;
  /** Jump hosts, outermost first (ProxyJump / -J). */
  jumps: SshEndpoint[];
  /**
   * ProxyCommand (not the `ssh -W` form, which is a jump): a command whose standard input and
   * output carry the connection, with OpenSSH's %h %p %r %n %% expanded when it runs.
   */
  proxyCommand?: string;
  /** The name the host was asked for by (inventory address or alias): ProxyCommand's %n. */
  alias?: string;
}

function endpointKey(e: SshEndpoint): string {
  const via = e.proxyCommand ? [`(${e.proxyCommand})`] : e.jumps.map((j) => `${j.user}@${j.host}:${j.port}`);
  return [...via, `${e.user}@${e.host}:${e.port}`].join(' -> ');
}

/**
 * What a ProxyCommand means: the guides' `ssh -W %h:%p [-q] [-p PORT] [-l USER] [USER@]GATEWAY`
 * is a jump host (one shared connection to the gateway), `none` is none, and any other command
 * runs as OpenSSH runs it, its stdin and stdout as the connection.
 */
export function proxyRoute(value: string): { jump?: string; command?: string } {
  const v = value.trim();
  if (!v || v.toLowerCase() === 'none') return {};
  const w = shellSplit(v);
  if (/(^|\/)ssh$/.test(w[0] ?? '')) {
    let target: string | undefined;
    let port: string | undefined;
    let user: string | undefined;
    let forward = false;
    let plain = true;
    for (let i = 1; i < w.length; i++) {
      const x = w[i]!;
      if (x === '-W' && w[i + 1] === '%h:%p') {
        forward = true;
        i++;
      } else if (x === '-q') continue;
      else if (x === '-p' && w[i + 1]) port = w[++i];
      else if (x === '-l' && w[i + 1]) user = w[++i];
      else if (!x.startsWith('-') && target === undefined && !x.includes('%')) target = x;
      else plain = false;
    }
    if (forward && plain && target) {
      const withUser = user && !target.includes('@') ? `${user}@${target}` : target;
      return { jump: port ? `${withUser}:${port}` : withUser };
    }
  }
  return { command: v };
}

/** ProxyCommand's %-tokens, as OpenSSH expands them. */
export function expandProxyCommand(command: string, e: Pick<SshEndpoint, 'host' | 'port' | 'user' | 'alias'>): string {
  return command.replace(/%([%hpnr])/g, (_m, t: string) =>
    t === '%' ? '%' : t === 'h' ? e.host : t === 'p' ? String(e.port) : t === 'r' ? e.user : (e.alias ?? e.host),
  );
}

/** Options found in ansible_ssh_common_args / ansible_ssh_extra_args (OpenSSH command-line syntax). */
export interface SshArgs {
  jump?: string;
  /** A ProxyCommand to run (proxyRoute); 'none' when it was given as none. */
  proxyCommand?: string;
  port?: number;
  user?: string;
  identityFiles: string[];
  strict?: string;
  knownHostsFiles: string[];
  configFile?: string;
  connectTimeout?: number;
}

/** Read the OpenSSH options tsplay understands from an ssh argument string. */
export function parseSshArgs(text: string): SshArgs {
  const out: SshArgs = { identityFiles: [], knownHostsFiles: [] };
  const words = shellSplit(text);
  const option = (kv: string) => {
    const m = /^([A-Za-z]+)\s*[= ]\s*(.*)$/.exec(kv.trim());
    if (!m) return;
    const [, key, value] = m as unknown as [string, string, string];
    switch (key.toLowerCase()) {
      case 'proxyjump':
        if (out.jump === undefined && out.proxyCommand === undefined) out.jump = value;
        break;
      case 'proxycommand': {
        if (out.jump !== undefined || out.proxyCommand !== undefined) break; // the first one given wins, as in OpenSSH
        const r = proxyRoute(value);
        if (r.jump) out.jump = r.jump;
        else out.proxyCommand = r.command ?? 'none';
        break;
      }
      case 'port':
        out.port = Number(value);
        break;
      case 'user':
        out.user = value;
        break;
      case 'identityfile':
        out.identityFiles.push(value);
        break;
      case 'stricthostkeychecking':
        out.strict = value;
        break;
      case 'userknownhostsfile':
        out.knownHostsFiles.push(...value.split(/\s+/));
        break;
      case 'connecttimeout':
        out.connectTimeout = Number(value);
        break;
    }
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = () => words[++i] ?? '';
    if (w === '-o') option(next());
    else if (w.startsWith('-o')) option(w.slice(2));
    else if (w === '-J') {
      const v = next();
      if (out.jump === undefined && out.proxyCommand === undefined) out.jump = v;
    } else if (w === '-p') out.port = Number(next());
    else if (w === '-l') out.user = next();
    else if (w === '-i') out.identityFiles.push(next());
    else if (w === '-F') out.configFile = next();
  }
  return out;
}

function expandHome(p: string): string {
  return p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

function strictness(v: unknown): SshEndpoint['strict'] | undefined {
  if (v === undefined || v === null) return undefined;
  const s = String(v).toLowerCase();
  if (s === 'accept-new') return 'accept-new';
  if (['no', 'off', 'false', '0'].includes(s)) return 'no';
  return 'yes';
}

/** Settings from the run (command line and environment) that shape SSH endpoints. */
export interface SshSettings {
  env: NodeJS.ProcessEnv;
  /** -T / --timeout in seconds. */
  timeout?: number;
  privateKeyFile?: string;
  password?: Secret;
  sshCommonArgs?: string;
  sshExtraArgs?: string;
  configFile?: string;
}

/** Build the endpoint for a host from its variables, ssh args and ~/.ssh/config. */
export function resolveEndpoint(hostName: string, vars: Record<string, unknown>, settings: SshSettings): SshEndpoint {
  const args = parseSshArgs(
    [vars.ansible_ssh_common_args ?? settings.sshCommonArgs ?? '', vars.ansible_ssh_extra_args ?? settings.sshExtraArgs ?? ''].join(' '),
  );
  const configFile = args.configFile ?? settings.configFile;
  const addr = String(vars.ansible_host ?? vars.ansible_ssh_host ?? hostName);
  const cfg = sshConfigFor(addr, configFile ?? join(homedir(), '.ssh', 'config'));
  const env = settings.env;
  const hkcEnv = env.ANSIBLE_HOST_KEY_CHECKING;
  const strict =
    strictness(args.strict) ??
    (vars.ansible_host_key_checking !== undefined
      ? String(vars.ansible_host_key_checking)
          .toLowerCase()
          .match(/^(false|no|0|off)$/)
        ? 'no'
        : 'yes'
      : undefined) ??
    (hkcEnv !== undefined ? (/^(false|no|0|off)$/i.test(hkcEnv) ? 'no' : 'yes') : undefined) ??
    strictness(cfg.StrictHostKeyChecking) ??
    'yes';
  const timeoutS = Number(
    vars.ansible_ssh_timeout ?? vars.ansible_timeout ?? args.connectTimeout ?? settings.timeout ?? cfg.ConnectTimeout ?? 10,
  );
  const keyVar = vars.ansible_ssh_private_key_file ?? vars.ansible_private_key_file ?? settings.privateKeyFile;
  const identityFiles = [...(keyVar ? [String(keyVar)] : []), ...args.identityFiles, ...cfg.IdentityFile].map(expandHome);
  const knownHostsFiles = [...args.knownHostsFiles, ...cfg.UserKnownHostsFile].map(expandHome);
  if (knownHostsFiles.length === 0) knownHostsFiles.push(join(homedir(), '.ssh', 'known_hosts'), join(homedir(), '.ssh', 'known_hosts2'));
  const passwordVar = vars.ansible_password ?? vars.ansible_ssh_pass ?? vars.ansible_ssh_password;
  const base: Omit<SshEndpoint, 'host' | 'port' | 'user' | 'jumps'> = {
    identityFiles,
    password: passwordVar instanceof Secret ? passwordVar : passwordVar !== undefined ? new Secret(String(passwordVar)) : settings.password,
    strict,
    knownHostsFiles,
    timeoutMs: timeoutS * 1000,
    retries: Number(vars.ansible_ssh_retries ?? 0),
  };
  const user = String(vars.ansible_user ?? vars.ansible_ssh_user ?? args.user ?? cfg.User ?? env.USER ?? 'root');
  // How to get there: the command line first, then ssh_config; a jump host or a proxy command
  const fromConfig =
    cfg.ProxyJump !== undefined ? { jump: cfg.ProxyJump } : cfg.ProxyCommand !== undefined ? proxyRoute(cfg.ProxyCommand) : {};
  const route =
    args.jump !== undefined || args.proxyCommand !== undefined
      ? { jump: args.jump, command: args.proxyCommand === 'none' ? undefined : args.proxyCommand }
      : fromConfig;
  const jumpSpec = route.jump;
  const jumps = jumpSpec && jumpSpec.toLowerCase() !== 'none' ? parseJumps(jumpSpec, base, configFile) : [];
  return {
    ...base,
    host: cfg.HostName ?? addr,
    port: checkPort(vars.ansible_port ?? vars.ansible_ssh_port ?? args.port ?? cfg.Port ?? 22),
    user,
    jumps,
    ...(route.command && !jumps.length ? { proxyCommand: route.command, alias: addr } : {}),
  };
}

// `-J user@gw:2222,user2@gw2`: each hop's own ~/.ssh/config applies; keys fall back to the target's.
function parseJumps(
  spec: string,
  base: Omit<SshEndpoint, 'host' | 'port' | 'user' | 'jumps'>,
  configFile: string | undefined,
): SshEndpoint[] {
  return spec.split(',').map((hop) => {
    const m = /^(?:ssh:\/\/)?(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hop.trim());
    if (!m) throw new UnreachableError(`cannot understand jump host '${hop}'`);
    const name = m[2]!.replace(/^\[|\]$/g, '');
    const cfg = sshConfigFor(name, configFile ?? join(homedir(), '.ssh', 'config'));
    return {
      ...base,
      identityFiles: [...cfg.IdentityFile.map(expandHome), ...base.identityFiles],
      host: cfg.HostName ?? name,
      port: Number(m[3] ?? cfg.Port ?? 22),
      user: m[1] ?? cfg.User ?? process.env.USER ?? 'root',
      jumps: [],
    };
  });
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

// Passphrases typed for encrypted keys, asked once per key file for the whole run.
const passphrases = new Map<string, Promise<string | undefined>>();

/** Ask for an encrypted key's passphrase on the terminal (once per key); none without a terminal. */
function passphraseFor(file: string): Promise<string | undefined> {
  let p = passphrases.get(file);
  if (!p) {
    p = process.stdin.isTTY ? promptSecret(`Enter passphrase for key '${file}': `, 'add the key to ssh-agent') : Promise.resolve(undefined);
    passphrases.set(file, p);
  }
  return p;
}

/** Key files, read and parsed once per run (a run opens one connection per host). */
const keyFiles = new FileCache((key) => ({ key, parsed: withKeyObject(utils.parseKey(key)) }));

/**
 * An ed25519 key that signs with a KeyObject made once, not with its PEM text as ssh2's sign() does
 * (docs/performance.md, "Why the connection is built this way"). The result is the same ParsedKey
 * (its prototype) with only sign() of its own; other key types are left to ssh2.
 */
export function withKeyObject(parsed: ReturnType<typeof utils.parseKey>): ReturnType<typeof utils.parseKey> {
  if (parsed instanceof Error || Array.isArray(parsed) || parsed.type !== 'ssh-ed25519' || !parsed.isPrivateKey()) return parsed;
  const pem = parsed.getPrivatePEM();
  if (!pem) return parsed;
  const keyObject = createPrivateKey(pem);
  return Object.create(parsed, {
    sign: { value: (data: Buffer) => cryptoSign(null, data, keyObject) },
  }) as typeof parsed;
}

async function authMethods(e: SshEndpoint, env: NodeJS.ProcessEnv): Promise<ConnectConfig['authHandler']> {
  const methods: unknown[] = [];
  if (env.SSH_AUTH_SOCK) methods.push({ type: 'agent', username: e.user, agent: env.SSH_AUTH_SOCK });
  const files = [...e.identityFiles, ...DEFAULT_KEYS.map((k) => join(homedir(), '.ssh', k))];
  for (const f of [...new Set(files.map((x) => resolve(x)))]) {
    const read = keyFiles.get(f);
    if (!read) continue;
    const { key, parsed } = read;
    if (parsed instanceof Error) {
      // an encrypted key: ask for its passphrase on a terminal; without one, the agent is the way
      if (!/encrypt|passphrase/i.test(parsed.message)) continue;
      const passphrase = await passphraseFor(f);
      if (passphrase === undefined || utils.parseKey(key, passphrase) instanceof Error) continue;
      methods.push({ type: 'publickey', username: e.user, key, passphrase });
      continue;
    }
    methods.push({ type: 'publickey', username: e.user, key: Array.isArray(parsed) ? key : parsed });
  }
  if (e.password) methods.push({ type: 'password', username: e.user, password: e.password.reveal() });
  if (methods.length === 0) methods.push({ type: 'none', username: e.user });
  return methods as ConnectConfig['authHandler'];
}

const KEY_ALGOS: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/** Opens ssh2 clients, sharing one per endpoint (so nodes behind a gateway share its connection). */
export class SshTransport {
  readonly #clients = new Map<string, Promise<InstanceType<typeof Client>>>();
  /** Connects in progress: each one's way to give up (Ctrl-C). */
  readonly #connecting = new Set<(reason: string) => void>();
  #interrupted = false;
  constructor(readonly env: NodeJS.ProcessEnv = process.env) {}

  /** Ctrl-C: every connect in progress fails now, and no new one starts. */
  interrupt(): void {
    this.#interrupted = true;
    for (const giveUp of [...this.#connecting]) giveUp('interrupted (Ctrl-C) while connecting');
  }

  client(e: SshEndpoint, name: string): Promise<InstanceType<typeof Client>> {
    const key = endpointKey(e);
    let c = this.#clients.get(key);
    if (!c) {
      const made = this.#connectWithRetries(e, name);
      this.#clients.set(key, made);
      // A client that ended or closed (sshd restarted, network cut, host rebooted) is forgotten,
      // so the next command connects again instead of failing on a dead connection.
      const forget = () => {
        if (this.#clients.get(key) === made) this.#clients.delete(key);
      };
      made.then((client) => client.once('end', forget).once('close', forget), forget);
      c = made;
    }
    return c;
  }

  /** Forget the endpoint's client and end it, so the next `client` call connects anew. */
  async drop(e: SshEndpoint): Promise<void> {
    const key = endpointKey(e);
    const c = this.#clients.get(key);
    this.#clients.delete(key);
    if (c) await c.then((x) => x.end()).catch(() => undefined);
  }

  /** A new connection (jump hosts shared as usual) that runs `true` and is closed again. */
  async probe(e: SshEndpoint, name: string, timeoutMs: number): Promise<void> {
    const client = await this.#connect({ ...e, timeoutMs }, name);
    try {
      await new Promise<void>((res, rej) => {
        const timer = setTimeout(
          () => rej(new UnreachableError(`${name}: a new connection did not run a command within ${timeoutMs} ms`)),
          timeoutMs,
        );
        client.exec('true', (err, ch) => {
          if (err) {
            clearTimeout(timer);
            return rej(new UnreachableError(`${name}: ${err.message}`));
          }
          ch.on('close', (code: number | null) => {
            clearTimeout(timer);
            return code === 0 ? res() : rej(new UnreachableError(`${name}: a command over a new connection exited with ${code}`));
          });
          ch.resume();
          ch.stderr.resume();
        });
      });
    } finally {
      client.end();
    }
  }

  async #connectWithRetries(e: SshEndpoint, name: string): Promise<InstanceType<typeof Client>> {
    for (let attempt = 0; ; attempt++) {
      if (this.#interrupted) throw new UnreachableError(`${name}: interrupted (Ctrl-C) before connecting`);
      try {
        return await this.#connect(e, name);
      } catch (err) {
        const retryable = err instanceof UnreachableError && !/host key|Permission denied|authentication/i.test(err.message);
        if (!retryable || attempt >= e.retries) throw err;
        await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** attempt, 5000)));
      }
    }
  }

  async #connect(e: SshEndpoint, name: string): Promise<InstanceType<typeof Client>> {
    let sock: ClientChannel | undefined;
    let deadline: number | undefined;
    if (e.jumps.length) {
      const hops = e.jumps;
      const last = hops[hops.length - 1]!;
      const via: SshEndpoint = { ...last, jumps: hops.slice(0, -1) };
      const gw = await this.client(via, via.host);
      // The jump host's sshd connects to the host only when asked for the channel, and a host
      // without its address yet (a node before its DHCP lease) leaves that connect waiting for
      // TCP's own timeout, about two minutes: the channel and the handshake after it share the
      // connect timeout (-T, ConnectTimeout), as OpenSSH's ConnectTimeout covers a ProxyJump.
      deadline = Date.now() + e.timeoutMs;
      sock = await new Promise<ClientChannel>((res, rej) => {
        let late = false;
        const giveUp = (why: string) => {
          late = true;
          clearTimeout(timer);
          this.#connecting.delete(giveUp);
          rej(new UnreachableError(`Failed to connect to the host via ssh: ${e.user}@${e.host} port ${e.port} (via ${via.host}): ${why}`));
        };
        const timer = setTimeout(
          () => giveUp(`Connection timed out: the jump host opened no channel to ${e.host}:${e.port} within ${e.timeoutMs / 1000} s`),
          e.timeoutMs,
        );
        this.#connecting.add(giveUp);
        gw.forwardOut('127.0.0.1', 0, e.host, e.port, (err, stream) => {
          clearTimeout(timer);
          this.#connecting.delete(giveUp);
          if (late) return stream?.close();
          if (err)
            return rej(
              new UnreachableError(
                `Failed to connect to the host via ssh: jump host ${via.host} could not open a channel to ${e.host}:${e.port}: ${err.message}`,
              ),
            );
          res(stream);
        });
      });
    }
    const entries = readKnownHosts(e.knownHostsFiles);
    const names = [lookupName(e.host, e.port)];
    const types = knownKeyTypes(entries, names).flatMap((t) => KEY_ALGOS[t] ?? [t]);
    let keyProblem: string | undefined;
    const authHandler = await authMethods(e, this.env);
    const client = new Client();
    return new Promise((res, rej) => {
      let settled = false;
      // the TCP socket is tsplay's own (ssh2 cannot stop a connect() it started): giving up
      // destroys it, so that no timer or half-open socket keeps the process alive
      const proxy = !sock && e.proxyCommand ? proxyStream(expandProxyCommand(e.proxyCommand, e)) : undefined;
      const tcp = sock || proxy ? undefined : netConnect({ host: e.host, port: e.port });
      const giveUp = (why: string) => {
        settle(`Failed to connect to the host via ssh: ${e.user}@${e.host} port ${e.port}: ${why}`);
        client.destroy();
        tcp?.destroy();
        proxy?.stop();
      };
      const proxyFailed = (code: number | null) =>
        `Failed to connect to the host via ssh: ProxyCommand (${expandProxyCommand(e.proxyCommand!, e)}) exited with ${code}${proxy!.stderr() ? `: ${proxy!.stderr()}` : ''}`;
      if (proxy) {
        // a proxy that ends before the handshake did is the reason the connection failed
        proxy.exited.then((code) => settle(proxyFailed(code)));
        client.once('close', () => proxy.stop());
        client.once('end', () => proxy.stop());
      }
      const settle = (msg: string, cause?: unknown) => {
        if (settled) return;
        settled = true;
        this.#connecting.delete(giveUp);
        client.end();
        rej(new UnreachableError(msg, { cause }));
      };
      // Through a proxy command, ssh2's error (EPIPE, connection lost) comes before the proxy's
      // exit, which says why: wait for that briefly and report it instead.
      let waited = false;
      const fail = (msg: string, cause?: unknown) => {
        if (settled || !proxy) return settle(msg, cause);
        if (waited) return;
        waited = true;
        let timer: NodeJS.Timeout | undefined;
        const soon = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 1000)));
        void Promise.race([proxy.exited, soon]).then((code) => {
          clearTimeout(timer);
          settle(code === undefined || code === 0 ? msg : proxyFailed(code), cause);
        });
      };
      this.#connecting.add(giveUp);
      if (this.#interrupted) giveUp('interrupted (Ctrl-C) while connecting');
      client.on('ready', () => {
        settled = true;
        this.#connecting.delete(giveUp);
        res(client);
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (keyProblem) return fail(keyProblem);
        const where = `${e.user}@${e.host} port ${e.port}${e.jumps.length ? ` (via ${e.jumps.map((j) => j.host).join(', ')})` : ''}`;
        if (err.level === 'client-authentication')
          return fail(
            `Failed to connect to the host via ssh: ${where}: Permission denied (no accepted key, agent identity or password)`,
            err,
          );
        if (err.level === 'client-timeout') return fail(`Failed to connect to the host via ssh: ${where}: Connection timed out`, err);
        if (err.code === 'ECONNREFUSED')
          return fail(`Failed to connect to the host via ssh: connect to host ${e.host} port ${e.port}: Connection refused`, err);
        if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH')
          return fail(`Failed to connect to the host via ssh: connect to host ${e.host} port ${e.port}: No route to host`, err);
        if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN')
          return fail(`Failed to connect to the host via ssh: Could not resolve hostname ${e.host}`, err);
        fail(`Failed to connect to the host via ssh: ${where}: ${err.message}`, err);
      });
      client.on('close', () => fail(keyProblem ?? `Failed to connect to the host via ssh: ${e.host} closed the connection`));
      // A forwarded channel (jump host) may only end, never close, when the host goes away during the
      // handshake (a reboot): ssh2 then stops its ready timeout, so 'end' must fail the connect too.
      client.on('end', () => fail(keyProblem ?? `Failed to connect to the host via ssh: ${e.host} closed the connection`));
      const config: ConnectConfig = {
        sock: sock ?? proxy?.stream ?? tcp,
        username: e.user,
        readyTimeout: deadline === undefined ? e.timeoutMs : Math.max(1, deadline - Date.now()),
        keepaliveInterval: 15_000,
        keepaliveCountMax: 3,
        authHandler,
        hostVerifier: (key: Buffer) => {
          const v = verifyHostKey(entries, names, key);
          if (v.kind === 'known') return true;
          if (v.kind === 'revoked') {
            keyProblem = `host key for ${names[0]} is marked as revoked in ${v.entry.file}:${v.entry.line}`;
            return false;
          }
          if (v.kind === 'changed') {
            keyProblem = `REMOTE HOST IDENTIFICATION HAS CHANGED for ${names[0]} (${name}): the key offered differs from ${v.entry.file}:${v.entry.line}. If the host was re-installed, remove the old key with: ssh-keygen -R '${names[0]}'`;
            return false;
          }
          if (e.strict === 'yes') {
            keyProblem = `host key for ${names[0]} (${name}) is not in ${e.knownHostsFiles.join(' or ')} and host key checking is strict; add it (ssh-keyscan -p ${e.port} ${e.host} >> ~/.ssh/known_hosts) or set ANSIBLE_HOST_KEY_CHECKING=False / StrictHostKeyChecking=accept-new`;
            return false;
          }
          if (e.strict === 'accept-new') appendKnownHost(e.knownHostsFiles[0]!, names[0]!, key);
          return true;
        },
      };
      if (types.length) config.algorithms = { serverHostKey: { remove: types, prepend: types } as never };
      client.connect(config);
      skipHostKeysProof(client);
      signWithoutAsking(client);
    });
  }

  readonly #detached = new Set<Promise<void>>();

  /** Run a command on its own channel without waiting for it; closeAll waits (briefly) for it. */
  runDetached(client: InstanceType<typeof Client>, text: string): void {
    const done = new Promise<void>((res) => {
      const timer = setTimeout(res, 3000);
      try {
        client.exec(text, (err, ch) => {
          if (err) return (clearTimeout(timer), res());
          ch.on('close', () => (clearTimeout(timer), res()));
          ch.resume();
          ch.stderr.resume();
        });
      } catch {
        clearTimeout(timer);
        res();
      }
    });
    this.#detached.add(done);
    done.then(() => this.#detached.delete(done));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#detached]);
    const all = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(all.map((c) => c.then((x) => x.end()).catch(() => undefined)));
  }
}

// sshd signals only the process it started, and waits for every process that holds the
// channel's output: a child of a killed shell would keep the channel (and the task) open. So each
// command runs under a guard shell that, on TERM, kills the whole process group (sshd gives every
// session its own). The command keeps its stdin (through fd 3: a background job would get
// /dev/null) and its exit status. Inside sudo, the guard runs as the target user, so it can kill.
export function guardCommand(cmd: ShellCommand): ShellCommand {
  return sh`trap 'kill -9 0' TERM HUP; exec 3<&0; (
${cmd}
) <&3 3<&- & wait $!`;
}

const KILL_GRACE_MS = 2000;

/** Kill a session's whole process group on the host; as root (sudo -n) when its command was. */
export function killGroupCommand(pid: number, become: boolean): string {
  const kill = `kill -9 -${pid}`; // dash: no `--` before a negative pid
  return become ? sh`sudo -n /bin/sh -c ${kill} 2>/dev/null; ${raw(kill)} 2>/dev/null; true`.text : `${kill} 2>/dev/null; true`;
}

/** The client was closed before a channel could be opened: nothing ran, so reconnecting is safe. */
class NotConnected extends UnreachableError {}

/** A host reached over SSH. */
export class SshConnection implements Connection {
  readonly #limit: LimitFunction = pLimit(MAX_CHANNELS);
  /** Channels opened over the connection's life (for measurements). */
  channelsOpened = 0;
  /** Channel opens the server refused and that were retried. */
  channelRetries = 0;
  /** Commands run (for measurements). */
  commandsRun = 0;
  /** Most channels ever open at once on this connection (bounded by MAX_CHANNELS). */
  maxChannelsOpen = 0;
  /** Most commands ever running at once on this connection (bounded by MAX_CHANNELS). */
  maxInFlight = 0;
  #inFlight = 0;
  #execChannels = 0;
  readonly #sessions: { session: ShellSession; client: InstanceType<typeof Client> }[] = [];
  readonly #useSessions: boolean;

  constructor(
    readonly host: string,
    readonly endpoint: SshEndpoint,
    readonly transport: SshTransport,
  ) {
    // TSPLAY_SSH_SESSION=0: one exec channel per command (to measure what the sessions save)
    this.#useSessions = transport.env.TSPLAY_SSH_SESSION !== '0';
  }

  exec(command: ShellCommand, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.#limit(async () => {
      this.maxInFlight = Math.max(this.maxInFlight, ++this.#inFlight);
      this.commandsRun++;
      try {
        return await this.#exec(command, opts);
      } finally {
        this.#inFlight--;
      }
    });
  }

  async #exec(command: ShellCommand, opts: ExecOptions): Promise<ExecResult> {
    let client = await this.transport.client(this.endpoint, this.host);
    const withEnv =
      opts.env && Object.keys(opts.env).length
        ? joinCommands([...Object.entries(opts.env).map(([k, v]) => sh`export ${`${k}=${v}`};`), command], ' ')
        : command;
    // A command that may have to be killed (it has a timeout) runs on an exec channel of its own
    // under the guard shell, so a kill reaches its whole process group; so does a sudo password
    // dialogue. Everything else runs in a session shell (session.ts): no channel per command.
    const viaChannel = !this.#useSessions || opts.become?.password !== undefined || opts.timeoutMs !== undefined;
    const wrap = becomeCommand(viaChannel ? guardCommand(withEnv) : withEnv, opts);
    // The connection decides where a command runs: in a subshell of the session's shell (a fork,
    // no program started, its text never a program's argument), unless it holds a user's shell text
    // (ShellCommand.inOwnShell); sudo's /bin/sh -c gives a become command its own shell, so the
    // sudo line itself needs none
    const subshell = !command.ownShell || opts.become !== undefined;
    // input the command reads whole (INPUT) goes as a variable of its subshell: no `cat` to start
    const input = opts.stdin === undefined ? undefined : Buffer.isBuffer(opts.stdin) ? opts.stdin : Buffer.from(opts.stdin);
    const inVariable =
      !viaChannel && !command.ownShell && !opts.become && input !== undefined && withEnv.readsInput && inputFitsVariable(input);
    const text = inVariable ? withEnv.withInputIn(INPUT_VARIABLE) : wrap.cmd.text;
    const start = (c: InstanceType<typeof Client>) =>
      viaChannel
        ? this.#inChannel(c, text)
        : this.#inSession(c, text, input, opts.become !== undefined, { subshell, inputInVariable: inVariable });
    let proc: Proc;
    try {
      proc = await start(client);
    } catch (err) {
      // The connection died between commands (nothing of this one ran): connect again, once.
      if (!(err instanceof NotConnected)) throw err;
      await this.transport.drop(this.endpoint);
      client = await this.transport.client(this.endpoint, this.host);
      proc = await start(client);
    }
    const live = client;
    let done = false;
    const exited = new Promise<number | null>((res, rej) => {
      const onGone = () => {
        if (!done) rej(new UnreachableError(`connection to ${this.host} was lost while a command was running`));
      };
      client.once('close', onGone);
      // through a jump host a lost connection may only end (see #connect)
      live.once('end', onGone);
      proc.exited.then((code) => {
        done = true;
        live.off('close', onGone);
        live.off('end', onGone);
        res(code);
      });
    });
    return drive({ ...proc, exited }, opts, wrap);
  }

  // Runs the command in an idle session shell, opening one if none is free.
  async #inSession(
    client: InstanceType<typeof Client>,
    text: string,
    stdin: Buffer | undefined,
    become: boolean,
    frame: FrameOptions,
  ): Promise<Proc> {
    let entry = this.#sessions.find((s) => s.client === client && !s.session.busy && !s.session.closed);
    if (!entry) {
      const token = sessionToken();
      const channel = await this.#openChannel(client, SESSION_COMMAND);
      // the session's shell leads its own process group (sshd makes each session a new Unix
      // session): its pid is how a killed command is found on the host
      const session = new ShellSession(channel, token, { readPid: true });
      entry = { session, client };
      const e = entry;
      session.onClose = () => {
        const i = this.#sessions.indexOf(e);
        if (i >= 0) this.#sessions.splice(i, 1);
      };
      this.#sessions.push(entry);
      this.#countChannels();
    }
    const { session } = entry;
    entry.session.onKill = () => {
      if (session.pid !== undefined) this.transport.runDetached(client, killGroupCommand(session.pid, become));
    };
    return entry.session.start(text, stdin, frame);
  }

  async #inChannel(client: InstanceType<typeof Client>, text: string): Promise<Proc> {
    // the channel budget is MAX_CHANNELS: an idle session gives its place up
    if (this.#sessions.length + this.#execChannels >= MAX_CHANNELS)
      this.#sessions.find((s) => !s.session.busy && !s.session.closed)?.session.close();
    const channel = await this.#openChannel(client, text);
    this.#execChannels++;
    this.#countChannels();
    let settled = false;
    let settle: (code: number | null) => void = () => undefined;
    const exited = new Promise<number | null>((res) => {
      settle = (code) => {
        if (settled) return;
        settled = true;
        this.#execChannels--;
        res(code);
      };
      channel.on('close', (code: number | null) => settle(typeof code === 'number' ? code : null));
    });
    // Killing (timeout, Ctrl-C): TERM reaches the guard, which kills the command's process group;
    // a channel that still does not close after a grace period is abandoned.
    const kill = () => {
      signalChannel(channel, 'TERM');
      setTimeout(() => {
        channel.close();
        settle(null);
      }, KILL_GRACE_MS).unref();
    };
    return { stdin: channel, stdout: channel, stderr: channel.stderr, kill, exited };
  }

  #countChannels(): void {
    this.maxChannelsOpen = Math.max(this.maxChannelsOpen, this.#sessions.length + this.#execChannels);
  }

  // sshd may still count a just-closed session against MaxSessions: retry a refused open briefly.
  async #openChannel(client: InstanceType<typeof Client>, text: string): Promise<ClientChannel> {
    for (let attempt = 0; ; attempt++) {
      try {
        const channel = await new Promise<ClientChannel>((res, rej) => {
          client.exec(text, (err, stream) => (err ? rej(err) : res(stream)));
        });
        this.channelsOpened++;
        return channel;
      } catch (err) {
        const refused = (err as { reason?: number }).reason !== undefined;
        if (/Not connected|No response from server/.test((err as Error).message)) {
          throw new NotConnected(`ssh channel to ${this.host} failed: ${(err as Error).message}`, { cause: err });
        }
        if (!refused || attempt >= 20) {
          throw new UnreachableError(`ssh channel to ${this.host} failed: ${(err as Error).message}`, { cause: err });
        }
        this.channelRetries++;
        await new Promise((r) => setTimeout(r, 10 * (attempt + 1)));
      }
    }
  }

  async close(): Promise<void> {
    /* connections are shared and closed by the transport at the end of the run */
  }

  reset(): Promise<void> {
    return this.transport.drop(this.endpoint);
  }

  probeNew(timeoutMs: number): Promise<void> {
    return this.transport.probe(this.endpoint, this.host, timeoutMs);
  }
}

/** A ProxyCommand running: its stdin and stdout as one stream, as OpenSSH uses them. */
interface ProxyProcess {
  stream: Duplex;
  exited: Promise<number | null>;
  stderr(): string;
  stop(): void;
}

// Run a ProxyCommand with the user's shell as OpenSSH does (`exec` in /bin/sh -c); what it prints
// on stderr is kept (the last lines) for the error when it fails.
function proxyStream(command: string): ProxyProcess {
  const child = spawn('/bin/sh', ['-c', `exec ${command}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString('utf8')).slice(-2000);
  });
  child.stdin.on('error', () => undefined);
  const exited = new Promise<number | null>((res) => {
    child.once('exit', (code, signal) => res(code ?? (signal ? 128 : null)));
    child.once('error', (e) => {
      err += e.message;
      res(127);
    });
  });
  const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
  stream.on('error', () => undefined);
  return {
    stream,
    exited,
    stderr: () => err.trim().split('\n').slice(-3).join('; '),
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
