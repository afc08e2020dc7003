// One connection per host for the whole run, opened when first needed and shared by every task.
import { UnreachableError } from '../errors.js';
import type { Connection } from '../module.js';
import { LocalConnection } from './local.js';
import type { SshSettings, SshTransport } from './ssh.js';

/** Opens a connection for a host from its variables (ansible_connection, ansible_host, ...). */
export interface ConnectionOpener {
  open(host: string, vars: Record<string, unknown>): Promise<Connection>;
  /** Close what the opener shares between hosts (jump-host connections). */
  closeAll?(): Promise<void>;
  /** Ctrl-C: fail every connection still being opened, at once, and open no new one. */
  interrupt?(): void;
}

/** The default opener: `local` runs on the controller, `ssh` (the default) over ssh2. */
export function defaultOpener(settings: SshSettings = { env: process.env }): ConnectionOpener {
  // ssh2 is loaded on the first SSH host only: local runs start faster without it
  let ssh: Promise<{ mod: typeof import('./ssh.js'); transport: SshTransport }> | undefined;
  const loadSsh = () => (ssh ??= import('./ssh.js').then((mod) => ({ mod, transport: new mod.SshTransport(settings.env) })));
  return {
    async open(host, vars) {
      const kind = String(vars.ansible_connection ?? 'ssh');
      if (kind === 'local') return new LocalConnection(host);
      if (kind === 'ssh' || kind === 'paramiko' || kind === 'smart') {
        const { mod, transport } = await loadSsh();
        const endpoint = mod.resolveEndpoint(host, vars, settings);
        const conn = new mod.SshConnection(host, endpoint, transport);
        await transport.client(endpoint, host);
        return conn;
      }
      throw new UnreachableError(`connection type '${kind}' is not supported (use ssh or local)`);
    },
    closeAll: async () => {
      if (ssh) await (await ssh).transport.closeAll();
    },
    interrupt() {
      void ssh?.then(({ transport }) => transport.interrupt());
    },
  };
}

/** Caches one connection per host; a failed open is remembered so a dead host is not retried per task. */
export class ConnectionPool {
  readonly #open = new Map<string, Promise<Connection>>();
  constructor(readonly opener: ConnectionOpener = defaultOpener()) {}

  /** The host's connection; `vars` (its templated connection variables) is called only to open one. */
  get(host: string, vars: () => Record<string, unknown>): Promise<Connection> {
    let c = this.#open.get(host);
    if (!c) {
      c = this.opener.open(host, vars());
      this.#open.set(host, c);
    }
    return c;
  }

  /** Drop a host's connection so the next command reconnects (meta: reset_connection, reboot). */
  async reset(host: string): Promise<void> {
    const c = this.#open.get(host);
    this.#open.delete(host);
    if (c) await c.then((x) => (x.reset ? x.reset() : x.close())).catch(() => undefined);
  }

  /** Commands run and SSH channels opened, per host with an open SSH connection (for -vvvv and the benchmark). */
  async usage(): Promise<Map<string, { commands: number; channels: number }>> {
    const out = new Map<string, { commands: number; channels: number }>();
    for (const [host, c] of this.#open) {
      const conn = (await c.catch(() => undefined)) as Partial<{ commandsRun: number; channelsOpened: number }> | undefined;
      if (conn?.commandsRun !== undefined && conn.channelsOpened !== undefined)
        out.set(host, { commands: conn.commandsRun, channels: conn.channelsOpened });
    }
    return out;
  }

  /** Ctrl-C: connections still being opened fail at once (a handshake would wait for -T). */
  interrupt(): void {
    this.opener.interrupt?.();
  }

  async closeAll(): Promise<void> {
    const all = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(all.map((c) => c.then((x) => x.close()).catch(() => undefined)));
    await this.opener.closeAll?.();
  }
}
