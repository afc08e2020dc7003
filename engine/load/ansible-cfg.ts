// ansible.cfg, found and read as Ansible does: the first of $ANSIBLE_CONFIG, ./ansible.cfg,
// ~/.ansible.cfg, /etc/ansible/ansible.cfg. An INI file (Python's configparser: `key = value` or
// `key: value`, `#`/`;` comment lines, `;` inline comments, indented continuation lines). Settings
// tsplay has no use for are ignored, as Ansible ignores the ones it does not know.
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { readText } from './read.js';

/** An ansible.cfg: its sections' settings, and where it was found (relative paths start there). */
export interface AnsibleConfig {
  file?: string;
  sections: Map<string, Map<string, string>>;
}

/** Where Ansible would read its configuration from, or undefined when there is none. */
export function findAnsibleConfig(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const fromEnv = env.ANSIBLE_CONFIG;
  if (fromEnv) {
    const p = resolve(cwd, fromEnv);
    // ANSIBLE_CONFIG may name a directory holding ansible.cfg
    const file = existsSync(p) && statSync(p).isDirectory() ? join(p, 'ansible.cfg') : p;
    if (existsSync(file)) return file;
  }
  // Ansible skips ./ansible.cfg in a world-writable directory; so do we
  const local = join(cwd, 'ansible.cfg');
  if (existsSync(local) && (statSync(cwd).mode & 0o002) === 0) return local;
  for (const p of [join(homedir(), '.ansible.cfg'), '/etc/ansible/ansible.cfg']) if (existsSync(p)) return p;
  return undefined;
}

/** Parse an ansible.cfg's text. */
export function parseAnsibleConfig(text: string, file?: string): AnsibleConfig {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  let lastKey: string | undefined;
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    if (/^\s*([#;].*)?$/.test(raw)) {
      lastKey = undefined;
      continue;
    }
    // an indented line continues the value above it
    if (/^\s/.test(raw) && current && lastKey !== undefined) {
      current.set(lastKey, `${current.get(lastKey)}\n${stripInline(raw.trim())}`);
      continue;
    }
    const section = /^\s*\[([^\]]+)\]\s*$/.exec(raw);
    if (section) {
      const name = section[1]!.trim();
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      lastKey = undefined;
      continue;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw.trim());
    if (!kv || !current) {
      throw new UserError(
        'E_OPTIONS',
        current
          ? `cannot read line ${i + 1} of the Ansible configuration: ${raw.trim()}`
          : 'the Ansible configuration has a setting before any [section]',
        {
          location: file ? { file, line: i + 1, col: 1 } : undefined,
          hint: 'write settings as "key = value" under a section such as [defaults]',
        },
      );
    }
    lastKey = kv[1]!.trim().toLowerCase();
    current.set(lastKey, stripInline(kv[2]!));
  }
  return { file, sections };
}

function stripInline(v: string): string {
  // configparser with inline_comment_prefixes=(';',): a ';' after whitespace starts a comment
  return v.replace(/\s;.*$/, '').trim();
}

/** Read the configuration Ansible would read ({} when there is none). */
export function loadAnsibleConfig(env: NodeJS.ProcessEnv, cwd: string): AnsibleConfig {
  const file = findAnsibleConfig(env, cwd);
  if (!file) return { sections: new Map() };
  return parseAnsibleConfig(readText(file, 'Ansible configuration'), file);
}

/** A setting: its environment variable first, then the file's `[section] key`. */
export function configValue(
  cfg: AnsibleConfig,
  env: NodeJS.ProcessEnv,
  section: string,
  key: string,
  envName?: string,
): string | undefined {
  if (envName && env[envName] !== undefined && env[envName] !== '') return env[envName];
  return cfg.sections.get(section)?.get(key);
}

/** A path list setting (roles_path): colon separated, ~ expanded, relative to the file that sets it. */
export function configPaths(
  cfg: AnsibleConfig,
  env: NodeJS.ProcessEnv,
  cwd: string,
  section: string,
  key: string,
  envName?: string,
): string[] | undefined {
  const fromEnv = envName ? env[envName] : undefined;
  const v = fromEnv !== undefined && fromEnv !== '' ? fromEnv : cfg.sections.get(section)?.get(key);
  if (v === undefined) return undefined;
  const base = fromEnv !== undefined && fromEnv !== '' ? cwd : cfg.file ? dirname(cfg.file) : cwd;
  return v
    .split(/[:\n]/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => (p.startsWith('~') ? join(homedir(), p.slice(1)) : p))
    .map((p) => (isAbsolute(p) ? p : resolve(base, p)));
}
