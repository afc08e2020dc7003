// Ansible Vault (format 1.1 and 1.2, AES256) through the `ansible-vault` library, which uses
// node's crypto. Vault secrets come from --vault-password-file / --vault-id / --ask-vault-pass;
// every YAML read decrypts whole encrypted files and `!vault |` values with the secrets set for
// the run, and every decrypted value is registered as a secret so that output masks it.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Vault } from 'ansible-vault';
import { UserError, type SourceLocation } from './errors.js';
import { secretValues } from './redact.js';
import { FileCache } from './file-cache.js';

export const VAULT_HEADER = '$ANSIBLE_VAULT';
const HINT =
  'give the vault password with --ask-vault-pass, --vault-password-file FILE or --vault-id label@FILE (or ANSIBLE_VAULT_PASSWORD_FILE)';

/** One vault password with its label ('default' when none was given). */
export interface VaultSecret {
  id: string;
  password: string;
}

let keyring: VaultSecret[] = [];
/** Controller files already decrypted with the keyring (readVaultFile); undefined: not encrypted. */
const decryptedFiles = new FileCache<string | undefined>((raw, file) => {
  if (!isVaultText(raw.subarray(0, 64).toString('latin1'))) return undefined;
  const text = decryptVaultText(raw.toString('utf8'), { file, line: 1, col: 1 });
  registerDecrypted(text);
  return text;
});

/** The vault secrets every following YAML read decrypts with (the CLI sets them per command). */
export function setVaultSecrets(secrets: VaultSecret[]): void {
  keyring = secrets;
  decryptedFiles.clear();
  for (const s of secrets) secretValues.add(s.password);
}

export function vaultSecrets(): readonly VaultSecret[] {
  return keyring;
}

/** True if the text is vault-encrypted (a whole file or a `!vault` value). */
export function isVaultText(text: string): boolean {
  return text.trimStart().startsWith(VAULT_HEADER + ';');
}

/** The header's parts: format version and, for 1.2, the vault id label. */
export function parseVaultHeader(text: string): { version: string; cipher: string; id?: string } | undefined {
  const [head, version, cipher, id] = text.trimStart().split(/\r?\n/, 1)[0]!.trim().split(';');
  if (head !== VAULT_HEADER || !version || !cipher) return undefined;
  return { version, cipher, ...(id ? { id } : {}) };
}

/**
 * Decrypt vault text with the run's secrets: those whose label matches the header's vault id
 * first, then the others (as Ansible does unless vault_id_match is set). Errors name `loc`.
 */
export function decryptVaultText(text: string, loc: SourceLocation | undefined, secrets: readonly VaultSecret[] = keyring): string {
  const body = text
    .trim()
    .split(/\r?\n/)
    .map((l) => l.trim())
    .join('\n');
  const header = parseVaultHeader(body);
  if (!header || !/^1\.[12]$/.test(header.version) || header.cipher !== 'AES256') {
    throw new UserError('E_VAULT', `unsupported vault format: ${body.split('\n', 1)[0]}`, {
      location: loc,
      hint: 'tsplay reads $ANSIBLE_VAULT;1.1;AES256 and $ANSIBLE_VAULT;1.2;AES256;<label>, as written by ansible-vault',
    });
  }
  if (secrets.length === 0) {
    throw new UserError('E_VAULT', 'Attempting to decrypt but no vault secrets found', { location: loc, hint: HINT });
  }
  const ordered = [...secrets.filter((s) => s.id === header.id), ...secrets.filter((s) => s.id !== header.id)];
  for (const s of ordered) {
    let plain: string | undefined;
    try {
      plain = new Vault({ password: s.password }).decryptSync(body, undefined);
    } catch (e) {
      if (/Integrity check failed/.test((e as Error).message)) continue;
      throw new UserError('E_VAULT', `vault data is damaged: ${(e as Error).message}`, {
        location: loc,
        hint: 'encrypt the value again with `tsplay vault encrypt_string` or `ansible-vault`',
      });
    }
    if (plain !== undefined) return plain;
  }
  const tried = ordered.map((s) => s.id).join(', ');
  throw new UserError(
    'E_VAULT',
    `Decryption failed (no vault secrets were found that could decrypt)${header.id ? ` for vault id '${header.id}'` : ''}`,
    {
      location: loc,
      hint: `${ordered.length > 1 ? `none of the vault passwords given (${tried}) opens it` : `the vault password given (${tried}) does not open it`}; check the password file or --vault-id`,
    },
  );
}

/**
 * A controller file's text decrypted with the run's vault secrets, or undefined when it is not
 * vault-encrypted. Decrypted once per file (a key derivation costs milliseconds, and copy or
 * template reads its file for every host); the decrypted text is masked in all output.
 */
export function readVaultFile(path: string): string | undefined {
  return decryptedFiles.get(path);
}

/** Encrypt text as ansible-vault does: format 1.1 for the default id, 1.2 with a label. */
export function encryptVaultText(plain: string, secret: VaultSecret): string {
  const id = secret.id === 'default' ? undefined : secret.id;
  return new Vault({ password: secret.password }).encryptSync(plain, id as string) + '\n';
}

/** Register the strings of decrypted data as secrets (whole encrypted files). */
export function registerDecrypted(value: unknown): void {
  if (typeof value === 'string') {
    if (value.length >= 4) secretValues.add(value);
  } else if (Array.isArray(value)) value.forEach(registerDecrypted);
  else if (value && typeof value === 'object') Object.values(value).forEach(registerDecrypted);
}

/**
 * A vault password from a file, or from an executable's standard output (a "-client" script gets
 * `--vault-id label`), as Ansible reads --vault-password-file and --vault-id label@file.
 */
export function readVaultPasswordFile(file: string, id: string, cwd: string): VaultSecret {
  const path = resolve(cwd, file);
  let executable: boolean;
  try {
    if (statSync(path).isDirectory()) throw new Error('is a directory');
    try {
      accessSync(path, constants.X_OK);
      executable = true;
    } catch {
      executable = false;
    }
  } catch (e) {
    throw new UserError(
      'E_FILE_NOT_FOUND',
      `The vault password file ${path} was not found (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      {
        hint: 'check the path given to --vault-password-file / --vault-id; it is relative to the current directory',
      },
    );
  }
  let password: string;
  if (executable) {
    const args = /-client(\.[^.]+)?$/.test(basename(path)) ? ['--vault-id', id] : [];
    try {
      password = execFileSync(path, args, { encoding: 'utf8', stdio: ['inherit', 'pipe', 'inherit'] }).replace(/[\r\n]+$/, '');
    } catch (e) {
      throw new UserError(
        'E_VAULT',
        `Vault password script ${path} failed: ${(e as { status?: number }).status !== undefined ? `exit code ${(e as { status?: number }).status}` : (e as Error).message}`,
        {
          hint: 'the script must print the password on its standard output and exit 0',
        },
      );
    }
  } else {
    password = readFileSync(path, 'utf8').trim();
  }
  if (password === '') {
    throw new UserError('E_VAULT', `Invalid vault password was provided from file (${path}): it is empty`, {
      hint: 'put the password on the first line of the file',
    });
  }
  return { id, password };
}

/** Split a --vault-id value: `label@source` or just `source` (label 'default'). */
export function parseVaultId(value: string): { id: string; source: string } {
  const at = value.indexOf('@');
  if (at < 0) return { id: 'default', source: value };
  return { id: value.slice(0, at) || 'default', source: value.slice(at + 1) };
}
