// ~/.ssh/config (or -F FILE) read with the ssh-config library, as OpenSSH computes it per host.
import { existsSync, readFileSync } from 'node:fs';
import SSHConfig from 'ssh-config';

/** The options tsplay uses from ssh_config, for one host. */
export interface HostSshConfig {
  HostName?: string;
  User?: string;
  Port?: string;
  IdentityFile: string[];
  ProxyJump?: string;
  ProxyCommand?: string;
  StrictHostKeyChecking?: string;
  UserKnownHostsFile: string[];
  ConnectTimeout?: string;
}

const cache = new Map<string, SSHConfig | null>();

function load(file: string): SSHConfig | null {
  if (!cache.has(file)) cache.set(file, existsSync(file) ? SSHConfig.parse(readFileSync(file, 'utf8')) : null);
  return cache.get(file)!;
}

function one(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? String(v[0]) : String(v);
}

function many(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(/\s+/)).filter(Boolean);
}

/** The computed ssh_config for `host` from `file` (empty if the file does not exist). */
export function sshConfigFor(host: string, file: string): HostSshConfig {
  const cfg = load(file);
  if (!cfg) return { IdentityFile: [], UserKnownHostsFile: [] };
  const c = cfg.compute(host) as Record<string, unknown>;
  const get = (k: string) => c[k] ?? c[k.toLowerCase()];
  return {
    HostName: one(get('HostName'))?.replace(/%h/g, host),
    User: one(get('User')),
    Port: one(get('Port')),
    IdentityFile: many(get('IdentityFile')),
    ProxyJump: one(get('ProxyJump')),
    ProxyCommand: Array.isArray(get('ProxyCommand')) ? (get('ProxyCommand') as unknown[]).join(' ') : one(get('ProxyCommand')),
    StrictHostKeyChecking: one(get('StrictHostKeyChecking')),
    UserKnownHostsFile: many(get('UserKnownHostsFile')),
    ConnectTimeout: one(get('ConnectTimeout')),
  };
}
