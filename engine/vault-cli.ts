// `tsplay vault encrypt|decrypt|view|create|edit|rekey|encrypt_string` (as ansible-vault, for users without Ansible)
// and the vault options that run and adhoc share: --vault-password-file, --vault-id,
// --ask-vault-pass, ANSIBLE_VAULT_PASSWORD_FILE and ANSIBLE_VAULT_IDENTITY_LIST.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, basename } from 'node:path';
import { Option, type Command } from 'commander';
import { OptionsError, UserError } from './errors.js';
import {
  decryptVaultText,
  encryptVaultText,
  isVaultText,
  parseVaultHeader,
  parseVaultId,
  readVaultPasswordFile,
  type VaultSecret,
} from './vault.js';
import { secretValues } from './redact.js';
import { shellSplit } from './sh.js';

/** The vault options as commander parses them. */
export interface VaultOpts {
  vaultPasswordFile?: string[];
  /** Ansible's other spelling of --vault-password-file. */
  vaultPassFile?: string[];
  vaultId?: string[];
  askVaultPass?: boolean;
}

/** What the vault commands need from the CLI's side effects. */
export interface VaultIO {
  cwd: string;
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
  prompt: (question: string) => Promise<string>;
  stdin: () => Promise<string>;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Add the vault options to a command. */
export function addVaultOptions(cmd: Command): Command {
  return cmd
    .option('--vault-password-file <file>', 'vault password file, or an executable that prints it (repeatable)', collect)
    .addOption(new Option('--vault-pass-file <file>').hideHelp().argParser(collect))
    .option('--vault-id <label@source>', 'vault identity: label@file, label@prompt or a file (repeatable)', collect)
    .option('-J, --ask-vault-pass', 'ask for the vault password')
    .addOption(new Option('--ask-vault-password').hideHelp().implies({ askVaultPass: true }));
}

/**
 * The vault secrets of a command, in Ansible's order: --vault-id values, then password files,
 * then the prompt; ANSIBLE_VAULT_IDENTITY_LIST / ANSIBLE_VAULT_PASSWORD_FILE when none was given.
 */
export async function vaultSecretsFrom(o: VaultOpts, io: Pick<VaultIO, 'cwd' | 'env' | 'prompt'>, confirm = false): Promise<VaultSecret[]> {
  const ids = [...(o.vaultId ?? [])];
  const files = [...(o.vaultPasswordFile ?? []), ...(o.vaultPassFile ?? [])];
  if (ids.length === 0 && files.length === 0 && !o.askVaultPass) {
    ids.push(
      ...(io.env.ANSIBLE_VAULT_IDENTITY_LIST ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
    if (io.env.ANSIBLE_VAULT_PASSWORD_FILE) files.push(io.env.ANSIBLE_VAULT_PASSWORD_FILE);
  }
  const secrets: VaultSecret[] = [];
  const ask = async (id: string): Promise<VaultSecret> => {
    const label = id === 'default' ? '' : ` (${id})`;
    const password = await io.prompt(`${confirm ? 'New ' : ''}Vault password${label}: `);
    if (confirm && (await io.prompt(`Confirm ${confirm ? 'New ' : ''}Vault password${label}: `)) !== password) {
      throw new UserError('E_VAULT', 'Passwords do not match', { hint: 'type the same password twice' });
    }
    if (password === '') throw new UserError('E_VAULT', 'Invalid vault password was provided: it is empty', { hint: 'type a password' });
    return { id, password };
  };
  for (const v of ids) {
    const { id, source } = parseVaultId(v);
    if (source === '') throw new OptionsError(`--vault-id '${v}' names no password source`, 'write --vault-id label@FILE or label@prompt');
    secrets.push(source === 'prompt' ? await ask(id) : readVaultPasswordFile(source, id, io.cwd));
  }
  for (const f of files) secrets.push(readVaultPasswordFile(f, 'default', io.cwd));
  if (o.askVaultPass) secrets.push(await ask('default'));
  for (const s of secrets) secretValues.add(s.password);
  return secrets;
}

// Replace a file atomically: a temporary file beside it with its mode, renamed over it.
function replaceFile(path: string, text: string): void {
  const mode = statSync(path).mode & 0o7777;
  const tmp = join(dirname(path), `.${basename(path)}.tsplay-${process.pid}-${Date.now()}`);
  try {
    writeFileSync(tmp, text, { mode });
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was left behind
    }
    throw e;
  }
}

function readInput(path: string, cwd: string): string {
  try {
    return readFileSync(resolve(cwd, path), 'utf8');
  } catch (e) {
    throw new UserError('E_FILE_NOT_FOUND', `cannot read ${resolve(cwd, path)} (${(e as NodeJS.ErrnoException).code ?? e})`, {
      hint: 'check the path; it is relative to the current directory',
    });
  }
}

/** The decrypted text of a vault file (`-`: standard input, read by the caller), or an error at it with `hint`. */
function openVault(text: string, f: string, cwd: string, secrets: VaultSecret[], hint: string): string {
  const where = { file: f === '-' ? '<stdin>' : resolve(cwd, f), line: 1, col: 1 };
  if (!isVaultText(text)) throw new UserError('E_VAULT', 'input is not vault encrypted data', { location: where, hint });
  return decryptVaultText(text, where, secrets);
}

function chooseEncryptSecret(secrets: VaultSecret[], encryptId: string | undefined): VaultSecret {
  if (secrets.length === 0) {
    throw new OptionsError(
      'A vault password is required to encrypt',
      'give one with --ask-vault-pass, --vault-password-file FILE or --vault-id label@FILE',
    );
  }
  if (encryptId !== undefined) {
    const s = secrets.find((x) => x.id === encryptId);
    if (!s)
      throw new OptionsError(
        `Did not find a match for --encrypt-vault-id=${encryptId} in the known vault-ids [${secrets.map((x) => x.id).join(', ')}]`,
        'give that id with --vault-id LABEL@source',
      );
    return s;
  }
  if (secrets.length > 1) {
    throw new OptionsError(
      `The vault-ids ${secrets.map((x) => x.id).join(',')} are available to encrypt. Specify the vault-id to encrypt with --encrypt-vault-id`,
      'e.g. --encrypt-vault-id prod',
    );
  }
  return secrets[0]!;
}

/** `name: !vault |` followed by the vault text indented as ansible-vault encrypt_string does. */
export function formatEncryptString(vaultText: string, name?: string): string {
  const body = vaultText
    .trimEnd()
    .split('\n')
    .map((l) => `          ${l}`)
    .join('\n');
  return `${name !== undefined ? `${name}: ` : ''}!vault |\n${body}\n`;
}

type Setter = (code: number) => void;

/** Register `tsplay vault ...`. */
export function registerVaultCommand(program: Command, io: () => VaultIO, setCode: Setter): void {
  const vault = program.command('vault').description('encrypt and decrypt Ansible Vault files and values (as ansible-vault)');

  const files = (list: string[] | undefined) => (list && list.length ? list : ['-']);

  addVaultOptions(
    vault
      .command('encrypt')
      .description('encrypt files in place (standard input to standard output for - or no file)')
      .argument('[files...]', 'files to encrypt')
      .option('--encrypt-vault-id <label>', 'the vault id to encrypt with, when several are given')
      .option('--output <file>', 'write to this file (- for standard output) instead of in place'),
  ).action(async (list: string[], o: VaultOpts & { encryptVaultId?: string; output?: string }) => {
    const x = io();
    const secret = chooseEncryptSecret(await vaultSecretsFrom(o, x, true), o.encryptVaultId);
    for (const f of files(list)) {
      const plain = f === '-' ? await x.stdin() : readInput(f, x.cwd);
      if (isVaultText(plain))
        throw new UserError('E_VAULT', `input is already encrypted${f === '-' ? '' : `: ${f}`}`, {
          hint: 'decrypt it first, or use `tsplay vault view` to read it',
        });
      const text = encryptVaultText(plain, secret);
      writeResult(x, f, o.output, text);
    }
    x.err('Encryption successful\n');
    setCode(0);
  });

  addVaultOptions(
    vault
      .command('decrypt')
      .description('decrypt files in place (standard input to standard output for - or no file)')
      .argument('[files...]', 'files to decrypt')
      .option('--output <file>', 'write to this file (- for standard output) instead of in place'),
  ).action(async (list: string[], o: VaultOpts & { output?: string }) => {
    const x = io();
    const secrets = await vaultSecretsFrom(o, x);
    for (const f of files(list)) {
      const text = f === '-' ? await x.stdin() : readInput(f, x.cwd);
      writeResult(
        x,
        f,
        o.output,
        openVault(text, f, x.cwd, secrets, 'only files written by `tsplay vault encrypt` or `ansible-vault encrypt` can be decrypted'),
      );
    }
    x.err('Decryption successful\n');
    setCode(0);
  });

  addVaultOptions(vault.command('view').description('print the decrypted content of files').argument('<files...>', 'files to show')).action(
    async (list: string[], o: VaultOpts) => {
      const x = io();
      const secrets = await vaultSecretsFrom(o, x);
      for (const f of list) {
        const text = f === '-' ? await x.stdin() : readInput(f, x.cwd);
        x.out(openVault(text, f, x.cwd, secrets, 'the file is not encrypted: read it directly'));
      }
      setCode(0);
    },
  );

  addVaultOptions(
    vault
      .command('create')
      .description('create a new encrypted file, written in $EDITOR')
      .argument('<file>', 'the file to create')
      .option('--encrypt-vault-id <label>', 'the vault id to encrypt with, when several are given'),
  ).action(async (file: string, o: VaultOpts & { encryptVaultId?: string }) => {
    const x = io();
    const path = resolve(x.cwd, file);
    if (existsSync(path))
      throw new UserError('E_VAULT', `${path} exists, please use 'edit' instead`, { hint: `tsplay vault edit ${file}` });
    const secret = chooseEncryptSecret(await vaultSecretsFrom(o, x, true), o.encryptVaultId);
    const plain = editInEditor(x, '', file);
    if (plain === '')
      throw new UserError('E_VAULT', 'the file was left empty; nothing was created', {
        hint: 'write the content in the editor and save it',
      });
    secretValues.add(plain);
    writeFileSync(path, encryptVaultText(plain, secret), { mode: 0o600, flag: 'wx' });
    setCode(0);
  });

  addVaultOptions(
    vault
      .command('edit')
      .description('edit an encrypted file in $EDITOR; it is encrypted again, with the same vault id')
      .argument('<file>', 'the file to edit')
      .option('--encrypt-vault-id <label>', 'the vault id to encrypt with, when several are given'),
  ).action(async (file: string, o: VaultOpts & { encryptVaultId?: string }) => {
    const x = io();
    const path = resolve(x.cwd, file);
    const text = readInput(file, x.cwd);
    if (!isVaultText(text)) openVault(text, file, x.cwd, [], `encrypt it first: tsplay vault encrypt ${file}`); // before asking for a password
    const secrets = await vaultSecretsFrom(o, x);
    const plain = openVault(text, file, x.cwd, secrets, `encrypt it first: tsplay vault encrypt ${file}`);
    secretValues.add(plain);
    const edited = editInEditor(x, plain, file);
    if (edited === plain) return setCode(0); // unchanged: the file keeps its bytes
    secretValues.add(edited);
    const label = parseVaultHeader(text)?.id ?? 'default';
    const secret =
      o.encryptVaultId !== undefined
        ? chooseEncryptSecret(secrets, o.encryptVaultId)
        : (secrets.find((s) => s.id === label) ?? chooseEncryptSecret(secrets, undefined));
    replaceFile(path, encryptVaultText(edited, secret));
    setCode(0);
  });

  addVaultOptions(
    vault
      .command('rekey')
      .description('encrypt files again with a new password (--new-vault-password-file, --new-vault-id, or asked)')
      .argument('<files...>', 'files to rekey')
      .option('--new-vault-password-file <file>', 'the new vault password file, or an executable that prints it')
      .option('--new-vault-id <label@source>', 'the new vault identity: label@file or label@prompt'),
  ).action(async (list: string[], o: VaultOpts & { newVaultPasswordFile?: string; newVaultId?: string }) => {
    const x = io();
    const secrets = await vaultSecretsFrom(o, x);
    const fresh = await vaultSecretsFrom(
      o.newVaultId !== undefined
        ? { vaultId: [o.newVaultId] }
        : o.newVaultPasswordFile !== undefined
          ? { vaultPasswordFile: [o.newVaultPasswordFile] }
          : { askVaultPass: true },
      { ...x, env: {} },
      true,
    );
    const secret = fresh[0]!;
    const texts = list.map((f) => {
      return openVault(readInput(f, x.cwd), f, x.cwd, secrets, `encrypt it first: tsplay vault encrypt ${f}`); // every file opens before any is written
    });
    list.forEach((f, i) => replaceFile(resolve(x.cwd, f), encryptVaultText(texts[i]!, secret)));
    x.err('Rekey successful\n');
    setCode(0);
  });

  addVaultOptions(
    vault
      .command('encrypt_string')
      .alias('encrypt-string')
      .description('encrypt a value for use as `name: !vault |` in YAML (standard input when no value is given)')
      .argument('[values...]', 'values to encrypt')
      .option('-n, --name <name>', 'the variable name to print before the value (repeatable, one per value)', collect)
      .option('--stdin-name <name>', 'the variable name for the value read from standard input')
      .option('--encrypt-vault-id <label>', 'the vault id to encrypt with, when several are given'),
  ).action(async (values: string[], o: VaultOpts & { name?: string[]; stdinName?: string; encryptVaultId?: string }) => {
    const x = io();
    const secret = chooseEncryptSecret(await vaultSecretsFrom(o, x, true), o.encryptVaultId);
    const items: Array<{ name?: string; value: string }> = [];
    if (values.length === 0 || values.includes('-')) items.push({ name: o.stdinName, value: (await x.stdin()).replace(/\r?\n$/, '') });
    values.filter((v) => v !== '-').forEach((v, i) => items.push({ name: o.name?.[i], value: v }));
    for (const it of items) {
      if (it.value === '')
        throw new UserError('E_VAULT', 'The plaintext provided was empty; refusing to encrypt an empty string', {
          hint: 'give the value as an argument or on standard input',
        });
      x.out(formatEncryptString(encryptVaultText(it.value, secret), it.name));
    }
    x.err('Encryption successful\n');
    setCode(0);
  });
}

/**
 * Let the user edit `text` in $EDITOR (as ansible-vault: `vi` when unset; EDITOR may hold
 * arguments) and return what was saved. The plaintext lives only in a file of a private temporary
 * directory (0700, the file 0600), overwritten and removed afterwards.
 */
function editInEditor(x: VaultIO, text: string, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-vault-'));
  const file = join(dir, basename(name) || 'vault');
  try {
    writeFileSync(file, text, { mode: 0o600 });
    const editor = shellSplit(x.env.EDITOR || 'vi');
    const r = spawnSync(editor[0]!, [...editor.slice(1), file], { stdio: 'inherit', env: x.env });
    if (r.error || r.status !== 0) {
      throw new UserError(
        'E_VAULT',
        `the editor (${editor.join(' ')}) ${r.error ? `could not be started: ${r.error.message}` : `exited with ${r.status ?? r.signal}`}; nothing was written`,
        {
          hint: 'set EDITOR to an editor that exits 0 when the file is saved',
        },
      );
    }
    return readFileSync(file, 'utf8');
  } finally {
    try {
      writeFileSync(file, Buffer.alloc(Math.max(text.length, 1)));
    } catch {
      // the editor removed it
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function writeResult(x: VaultIO, input: string, output: string | undefined, text: string): void {
  const target = output ?? input;
  if (target === '-') x.out(text);
  else if (output !== undefined) writeFileSync(resolve(x.cwd, output), text, { mode: 0o600 });
  else replaceFile(resolve(x.cwd, input), text);
}
