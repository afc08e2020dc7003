// Ansible Vault: encrypted vars files and inline !vault values decrypt with --vault-password-file,
// --ask-vault-pass and --vault-id; decrypted values are masked in output except where a playbook
// debugs them on purpose; `tsplay vault` encrypts and decrypts; files interoperate with the real
// ansible-vault (skipped where it is not installed).
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../engine/cli.js';
import { formatLocation, UserError } from '../../engine/errors.js';
import { decryptVaultText, encryptVaultText, parseVaultHeader } from '../../engine/vault.js';
import { project } from '../e2e/helpers.js';

const PASSWORD = 'vault-pw-Xq81';
const DB_SECRET = 'db-S3cret-41c7';
const API_SECRET = 'api-S3cret-93ad';

interface Run {
  code: number;
  out: string;
  err: string;
  prompts: string[];
}

async function tsplay(
  cwd: string,
  args: string[],
  opts: { answers?: string[]; stdin?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  let out = '';
  let err = '';
  const prompts: string[] = [];
  const answers = [...(opts.answers ?? [])];
  const code = await main(args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...opts.env },
    output: { out: (t) => (out += t), err: (t) => (err += t), isTTY: false },
    prompt: async (q) => {
      prompts.push(q);
      const a = answers.shift();
      if (a === undefined) throw new Error(`unexpected prompt ${q}`);
      return a;
    },
    stdin: async () => opts.stdin ?? '',
  });
  return { code, out, err, prompts };
}

const hasAnsibleVault = (() => {
  try {
    execFileSync('ansible-vault', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const indent = (text: string, n: number) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

/** A project whose secrets sit in an encrypted vars file, an inline !vault value in host_vars, and an encrypted group_vars file. */
function vaultProject(secret = { id: 'default', password: PASSWORD }): string {
  return project({
    pw: PASSWORD + '\n',
    hosts: 'local ansible_connection=local\n',
    'secrets.yml': encryptVaultText(`db_password: ${DB_SECRET}\n`, secret),
    'host_vars/local.yml': `plain: visible\napi_key: !vault |\n${indent(encryptVaultText(API_SECRET, secret), 10)}\n`,
    'group_vars/all.yml': encryptVaultText('from_group: group-S3cret-5d\n', secret),
    'site.yml': `- hosts: local
  gather_facts: false
  vars_files: [secrets.yml]
  tasks:
    - name: use them in a command
      command: echo {{ plain }} {{ db_password }} {{ api_key }} {{ from_group }}
      register: echoed
      check_mode: false
    - name: put one in a file
      copy:
        content: "key={{ api_key }}\\n"
        dest: "{{ playbook_dir }}/out.txt"
    - name: fail showing one
      fail:
        msg: "the password is {{ db_password }}"
      ignore_errors: true
    - name: the command saw the values
      assert:
        that: echoed.stdout == 'visible ${DB_SECRET} ${API_SECRET} group-S3cret-5d'
`,
  });
}

describe('vault format (ansible-vault library)', () => {
  it('encrypts as 1.1 for the default id and 1.2 with a label, and decrypts both', () => {
    const v11 = encryptVaultText('hello\n', { id: 'default', password: 'pw' });
    const v12 = encryptVaultText('hello\n', { id: 'prod', password: 'pw' });
    expect(v11.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');
    expect(parseVaultHeader(v12)).toEqual({ version: '1.2', cipher: 'AES256', id: 'prod' });
    for (const line of v11.trim().split('\n').slice(1)) expect(line).toMatch(/^[0-9a-f]{1,80}$/);
    expect(decryptVaultText(v11, undefined, [{ id: 'default', password: 'pw' }])).toBe('hello\n');
    expect(
      decryptVaultText(v12, undefined, [
        { id: 'other', password: 'nope' },
        { id: 'x', password: 'pw' },
      ]),
    ).toBe('hello\n');
  });

  it('refuses a wrong password, no password and damaged data with the place and a hint', () => {
    const v = encryptVaultText('x', { id: 'default', password: 'pw' });
    const at = { file: 'f.yml', line: 3, col: 9 };
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as UserError;
      }
      throw new Error('no error');
    };
    const wrong = err(() => decryptVaultText(v, at, [{ id: 'default', password: 'nope' }]));
    expect(wrong).toBeInstanceOf(UserError);
    expect(wrong.message).toMatch(/Decryption failed/);
    expect(formatLocation(wrong.location)).toBe('f.yml:3:9');
    expect(err(() => decryptVaultText(v, at, [])).message).toBe('Attempting to decrypt but no vault secrets found');
    expect(err(() => decryptVaultText(v.replace(/\n[0-9a-f]{10}/, '\nzzzz'), at, [{ id: 'default', password: 'pw' }])).hint).toBeTruthy();
  });
});

describe('playbooks with vault values', () => {
  it('decrypts vars_files, group_vars files and inline !vault values with --vault-password-file', async () => {
    const dir = vaultProject();
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--vault-password-file', 'pw']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe(`key=${API_SECRET}\n`);
  });

  for (const extra of [
    ['-v'],
    ['-vvvv'],
    ['-vvvv', '--diff'],
    ['--output', 'json'],
    ['--diff', '--output', 'json'],
    ['--check', '--diff', '-vvv'],
  ]) {
    it(`never prints a decrypted value in results, command lines, diffs or errors (${extra.join(' ')})`, async () => {
      const dir = vaultProject();
      const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--vault-password-file', 'pw', ...extra]);
      expect(r.code, r.out + r.err).toBe(0);
      for (const s of [DB_SECRET, API_SECRET, 'group-S3cret-5d', PASSWORD]) expect(r.out + r.err).not.toContain(s);
      expect(r.out).toContain('********');
      expect(r.out).toContain('visible'); // plain values stay readable
    });
  }

  it('renders a vault-encrypted template, and no diff shows its content', async () => {
    const dir = vaultProject();
    writeFileSync(
      join(dir, 'conf.j2'),
      encryptVaultText('password={{ db_password }}\nliteral=tpl-S3cret-0b\n', { id: 'default', password: PASSWORD }),
    );
    writeFileSync(join(dir, 'plain.j2'), 'plain={{ plain }}\n');
    writeFileSync(
      join(dir, 'tpl.yml'),
      '- hosts: local\n  gather_facts: false\n  vars_files: [secrets.yml]\n  tasks:\n    - template: src=conf.j2 dest={{ playbook_dir }}/conf\n    - template: src=plain.j2 dest={{ playbook_dir }}/plain\n',
    );
    const r = await tsplay(dir, ['run', 'tpl.yml', '-i', 'hosts', '--vault-password-file', 'pw', '--diff', '-vvv']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(readFileSync(join(dir, 'conf'), 'utf8')).toBe(`password=${DB_SECRET}\nliteral=tpl-S3cret-0b\n`);
    expect(r.out).toContain('+plain=visible'); // the control: a plain template's diff is shown
    expect(r.out).not.toContain('+password=');
    expect(r.out + r.err).not.toContain(DB_SECRET);
    expect(r.out + r.err).not.toContain('tpl-S3cret-0b');
  });

  it('copies a vault-encrypted src decrypted, never showing it; decrypt: false copies it as it is', async () => {
    const FILE_SECRET = 'wifi-S3cret-77e2';
    const plainText = `network={\n  ssid="lab"\n  psk="${FILE_SECRET}"\n}\n`;
    const encrypted = encryptVaultText(plainText, { id: 'default', password: PASSWORD });
    const dir = project({ pw: PASSWORD + '\n', hosts: 'local ansible_connection=local\n', 'files/wpa.conf': encrypted });
    writeFileSync(
      join(dir, 'copy.yml'),
      '- hosts: local\n  gather_facts: false\n  tasks:\n    - copy: src=wpa.conf dest={{ playbook_dir }}/wpa.conf mode=0600\n    - copy: src=wpa.conf dest={{ playbook_dir }}/wpa.vault decrypt=false\n',
    );
    const args = ['run', 'copy.yml', '-i', 'hosts', '--vault-password-file', 'pw', '--diff', '-vvvv'];
    const check = await tsplay(dir, [...args, '--check']);
    expect(check.code, check.out + check.err).toBe(0);
    expect(existsSync(join(dir, 'wpa.conf'))).toBe(false);
    expect(check.out + check.err).not.toContain(FILE_SECRET);
    const first = await tsplay(dir, args);
    expect(first.code, first.out + first.err).toBe(0);
    expect(first.out).toMatch(/local\s+: ok=2\s+changed=2/);
    expect(readFileSync(join(dir, 'wpa.conf'), 'utf8')).toBe(plainText);
    expect(statSync(join(dir, 'wpa.conf')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'wpa.vault'), 'utf8')).toBe(encrypted);
    expect(first.out + first.err).not.toContain(FILE_SECRET);
    const second = await tsplay(dir, args);
    expect(second.out).toMatch(/local\s+: ok=2\s+changed=0/);
    const noPassword = await tsplay(dir, ['run', 'copy.yml', '-i', 'hosts']);
    expect(noPassword.code).toBe(2); // fails on the host's task, as Ansible's copy does
    expect(noPassword.out).toContain('no vault secrets found');
    expect(noPassword.out + noPassword.err).not.toContain(FILE_SECRET);
  });

  it('prints a vault value that the playbook debugs on purpose, as Ansible does', async () => {
    const dir = vaultProject();
    writeFileSync(
      join(dir, 'debug.yml'),
      '- hosts: local\n  gather_facts: false\n  vars_files: [secrets.yml]\n  tasks:\n    - debug: var=db_password\n    - debug: msg="key {{ api_key }}"\n',
    );
    const r = await tsplay(dir, ['run', 'debug.yml', '-i', 'hosts', '--vault-password-file', 'pw']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`"db_password": "${DB_SECRET}"`);
    expect(r.out).toContain(`"msg": "key ${API_SECRET}"`);
  });

  it("without a vault password: Ansible's message at the file, exit 1, nothing run", async () => {
    const dir = vaultProject();
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ERROR! .*:\d+:\d+: Attempting to decrypt but no vault secrets found\n {2}hint: .*--ask-vault-pass/);
    expect(r.out).not.toMatch(/TASK \[/);
  });

  it('points at the line of an inline !vault value that does not decrypt', async () => {
    const dir = vaultProject();
    writeFileSync(join(dir, 'other'), 'not-the-password\n');
    writeFileSync(join(dir, 'group_vars/all.yml'), 'a: 1\n'); // only the inline value is left to fail
    writeFileSync(join(dir, 'secrets.yml'), 'db_password: x\n');
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--vault-password-file', 'other']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^ERROR! ${dir}/host_vars/local\\.yml:2:\\d+: Decryption failed .*\\n  hint: `));
    expect(r.err).not.toContain('not-the-password');
  });

  it('--ask-vault-pass prompts; ANSIBLE_VAULT_PASSWORD_FILE and an executable password script work', async () => {
    const dir = vaultProject();
    const asked = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--ask-vault-pass'], { answers: [PASSWORD] });
    expect(asked.code, asked.out + asked.err).toBe(0);
    expect(asked.prompts).toEqual(['Vault password: ']);
    const fromEnv = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts'], { env: { ANSIBLE_VAULT_PASSWORD_FILE: join(dir, 'pw') } });
    expect(fromEnv.code, fromEnv.err).toBe(0);
    writeFileSync(join(dir, 'pass.sh'), `#!/bin/sh\necho '${PASSWORD}'\n`);
    chmodSync(join(dir, 'pass.sh'), 0o755);
    const script = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--vault-password-file', 'pass.sh']);
    expect(script.code, script.err).toBe(0);
  });

  it('--vault-id label@file (repeatable) opens 1.2 files of several labels; -e @encrypted file', async () => {
    const dir = vaultProject({ id: 'prod', password: 'prod-pw' });
    writeFileSync(join(dir, 'prod'), 'prod-pw\n');
    writeFileSync(join(dir, 'dev'), 'dev-pw\n');
    writeFileSync(join(dir, 'extra.yml'), encryptVaultText('extra_value: from-dev\n', { id: 'dev', password: 'dev-pw' }));
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--vault-id', 'dev@dev', '--vault-id', 'prod@prod', '-e', '@extra.yml']);
    expect(r.code, r.out + r.err).toBe(0);
    const prompt = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--vault-id', 'prod@prompt'], { answers: ['prod-pw'] });
    expect(prompt.code, prompt.err).toBe(0);
    expect(prompt.prompts).toEqual(['Vault password (prod): ']);
  });

  it('a missing password file is a clear error, exit 1', async () => {
    const dir = vaultProject();
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--vault-password-file', 'nope']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/The vault password file .*nope was not found/);
    expect(r.err).not.toMatch(/^\s+at /m);
  });
});

describe('tsplay vault', () => {
  it('create and edit go through $EDITOR, the plaintext only in a private temp file; rekey changes the password', async () => {
    const dir = project({
      pw: PASSWORD + '\n',
      pw2: 'new-pw-77x\n',
      // records the file it was given, with its mode and its directory's mode, and adds a line
      'editor.sh':
        '#!/bin/sh\nf=$1\nstat -c %a "$f" >> "$LOG"; stat -c %a "${f%/*}" >> "$LOG"; echo "$f" >> "$LOG"\nprintf \'line %s\\n\' "$(wc -l < "$f")" >> "$f"\n',
    });
    const log = join(dir, 'editor.log');
    const env = { EDITOR: `sh ${join(dir, 'editor.sh')}`, LOG: log };
    const pw = ['--vault-password-file', 'pw'];
    const view = async (file: string, p = pw) => (await tsplay(dir, ['vault', 'view', file, ...p])).out;

    expect((await tsplay(dir, ['vault', 'create', 'secret.yml', ...pw], { env })).code).toBe(0);
    expect(readFileSync(join(dir, 'secret.yml'), 'utf8')).toMatch(/^\$ANSIBLE_VAULT;1\.1;AES256\n/);
    expect(statSync(join(dir, 'secret.yml')).mode & 0o777).toBe(0o600);
    expect(await view('secret.yml')).toBe('line 0\n');
    expect((await tsplay(dir, ['vault', 'edit', 'secret.yml', ...pw], { env })).code).toBe(0);
    expect(await view('secret.yml')).toBe('line 0\nline 1\n');
    const [mode, dirMode, temp] = readFileSync(log, 'utf8').trim().split('\n').slice(-3);
    expect([mode, dirMode]).toEqual(['600', '700']);
    expect(existsSync(temp!)).toBe(false);
    expect(existsSync(temp!.replace(/\/[^/]*$/, ''))).toBe(false);

    // an editor that fails, or saves nothing new, leaves the file as it was
    const before = readFileSync(join(dir, 'secret.yml'), 'utf8');
    const failed = await tsplay(dir, ['vault', 'edit', 'secret.yml', ...pw], { env: { EDITOR: 'false' } });
    expect(failed.code).toBe(1);
    expect(failed.err).toContain('nothing was written');
    expect((await tsplay(dir, ['vault', 'edit', 'secret.yml', ...pw], { env: { EDITOR: 'true' } })).code).toBe(0);
    expect(readFileSync(join(dir, 'secret.yml'), 'utf8')).toBe(before);
    const exists = await tsplay(dir, ['vault', 'create', 'secret.yml', ...pw], { env });
    expect(exists.code).toBe(1);
    expect(exists.err).toContain("please use 'edit' instead");

    const rekey = await tsplay(dir, ['vault', 'rekey', 'secret.yml', ...pw, '--new-vault-password-file', 'pw2']);
    expect(rekey.code, rekey.err).toBe(0);
    expect(rekey.err).toContain('Rekey successful');
    expect(await view('secret.yml', ['--vault-password-file', 'pw2'])).toBe('line 0\nline 1\n');
    expect((await tsplay(dir, ['vault', 'view', 'secret.yml', ...pw])).code).toBe(1);
    // asked twice when no new password source is given
    const asked = await tsplay(dir, ['vault', 'rekey', 'secret.yml', '--vault-password-file', 'pw2'], {
      answers: ['third-pw', 'third-pw'],
    });
    expect(asked.code, asked.err).toBe(0);
    expect(asked.prompts).toEqual(['New Vault password: ', 'Confirm New Vault password: ']);
    expect((await tsplay(dir, ['vault', 'view', 'secret.yml', '--ask-vault-pass'], { answers: ['third-pw'] })).out).toBe(
      'line 0\nline 1\n',
    );
  });

  it('encrypts a file in place (mode kept), views and decrypts it', async () => {
    const dir = project({ pw: PASSWORD + '\n', 'vars.yml': `token: ${DB_SECRET}\n` });
    chmodSync(join(dir, 'vars.yml'), 0o640);
    const enc = await tsplay(dir, ['vault', 'encrypt', 'vars.yml', '--vault-password-file', 'pw']);
    expect(enc.code, enc.err).toBe(0);
    expect(enc.err).toContain('Encryption successful');
    const text = readFileSync(join(dir, 'vars.yml'), 'utf8');
    expect(text).toMatch(/^\$ANSIBLE_VAULT;1\.1;AES256\n/);
    expect(text).not.toContain(DB_SECRET);
    expect(statSync(join(dir, 'vars.yml')).mode & 0o777).toBe(0o640);
    const again = await tsplay(dir, ['vault', 'encrypt', 'vars.yml', '--vault-password-file', 'pw']);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already encrypted/);
    const view = await tsplay(dir, ['vault', 'view', 'vars.yml', '--vault-password-file', 'pw']);
    expect(view.out).toBe(`token: ${DB_SECRET}\n`);
    const dec = await tsplay(dir, ['vault', 'decrypt', 'vars.yml', '--vault-password-file', 'pw']);
    expect(dec.code).toBe(0);
    expect(readFileSync(join(dir, 'vars.yml'), 'utf8')).toBe(`token: ${DB_SECRET}\n`);
  });

  it('encrypt_string writes YAML that a playbook reads back; asks twice with --ask-vault-pass', async () => {
    const dir = project({ hosts: 'local ansible_connection=local\n' });
    const r = await tsplay(dir, ['vault', 'encrypt_string', '--ask-vault-pass', '--name', 'api_key', API_SECRET], {
      answers: [PASSWORD, PASSWORD],
    });
    expect(r.code, r.err).toBe(0);
    expect(r.prompts).toEqual(['New Vault password: ', 'Confirm New Vault password: ']);
    expect(r.out).toMatch(/^api_key: !vault \|\n {10}\$ANSIBLE_VAULT;1\.1;AES256\n( {10}[0-9a-f]+\n)+$/);
    writeFileSync(join(dir, 'vars.yml'), r.out);
    writeFileSync(
      join(dir, 'site.yml'),
      `- hosts: local\n  gather_facts: false\n  vars_files: [vars.yml]\n  tasks:\n    - assert:\n        that: api_key == '${API_SECRET}'\n`,
    );
    writeFileSync(join(dir, 'pw'), PASSWORD);
    const run = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--vault-password-file', 'pw']);
    expect(run.code, run.out + run.err).toBe(0);
    const mismatch = await tsplay(dir, ['vault', 'encrypt_string', '--ask-vault-pass', 'x'], { answers: ['a', 'b'] });
    expect(mismatch.code).toBe(1);
    expect(mismatch.err).toMatch(/do not match/);
  });

  it('reads standard input for - or no file; --encrypt-vault-id picks the label', async () => {
    const dir = project({ a: 'a-pw\n', b: 'b-pw\n' });
    const ambiguous = await tsplay(dir, ['vault', 'encrypt', '--vault-id', 'a@a', '--vault-id', 'b@b'], { stdin: 'x: 1\n' });
    expect(ambiguous.code).toBe(5);
    expect(ambiguous.err).toMatch(/--encrypt-vault-id/);
    const enc = await tsplay(dir, ['vault', 'encrypt', '-', '--vault-id', 'a@a', '--vault-id', 'b@b', '--encrypt-vault-id', 'b'], {
      stdin: 'x: 1\n',
    });
    expect(enc.code, enc.err).toBe(0);
    expect(enc.out.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;b');
    const dec = await tsplay(dir, ['vault', 'decrypt', '--vault-id', 'b@b'], { stdin: enc.out });
    expect(dec.out).toBe('x: 1\n');
    const plain = await tsplay(dir, ['vault', 'decrypt', '--vault-id', 'b@b'], { stdin: 'x: 1\n' });
    expect(plain.code).toBe(1);
    expect(plain.err).toMatch(/not vault encrypted/);
  });
});

describe.skipIf(!hasAnsibleVault)('interoperability with ansible-vault', () => {
  const av = (cwd: string, args: string[], input?: string) =>
    execFileSync('ansible-vault', args, {
      cwd,
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ANSIBLE_NOCOLOR: '1' },
    });

  it('tsplay reads files and strings encrypted by ansible-vault (1.1 and 1.2)', async () => {
    const dir = project({
      pw: PASSWORD + '\n',
      prod: 'prod-pw\n',
      hosts: 'local ansible_connection=local\n',
      'secrets.yml': `db_password: ${DB_SECRET}\n`,
    });
    av(dir, ['encrypt', '--vault-password-file', 'pw', 'secrets.yml']);
    const inline = av(dir, ['encrypt_string', '--vault-id', 'prod@prod', '--name', 'api_key', API_SECRET]);
    writeFileSync(join(dir, 'inline.yml'), inline);
    expect(inline).toContain('$ANSIBLE_VAULT;1.2;AES256;prod');
    const view = await tsplay(dir, ['vault', 'view', 'secrets.yml', '--vault-password-file', 'pw']);
    expect(view.out).toBe(`db_password: ${DB_SECRET}\n`);
    writeFileSync(
      join(dir, 'site.yml'),
      `- hosts: local\n  gather_facts: false\n  vars_files: [secrets.yml, inline.yml]\n  tasks:\n    - assert:\n        that:\n          - db_password == '${DB_SECRET}'\n          - api_key == '${API_SECRET}'\n`,
    );
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--vault-password-file', 'pw', '--vault-id', 'prod@prod']);
    expect(r.code, r.out + r.err).toBe(0);
  });

  it('ansible-vault and ansible-playbook read what tsplay vault encrypts', async () => {
    const dir = project({ pw: PASSWORD + '\n', prod: 'prod-pw\n', 'secrets.yml': `db_password: ${DB_SECRET}\n` });
    expect((await tsplay(dir, ['vault', 'encrypt', 'secrets.yml', '--vault-password-file', 'pw'])).code).toBe(0);
    expect(av(dir, ['view', '--vault-password-file', 'pw', 'secrets.yml'])).toBe(`db_password: ${DB_SECRET}\n`);
    const s = await tsplay(dir, ['vault', 'encrypt_string', '--vault-id', 'prod@prod', '--name', 'api_key', API_SECRET]);
    expect(parse(s.out.replace('!vault', ''))).toHaveProperty('api_key');
    writeFileSync(join(dir, 'inline.yml'), s.out);
    writeFileSync(
      join(dir, 'site.yml'),
      '- hosts: localhost\n  gather_facts: false\n  vars_files: [secrets.yml, inline.yml]\n  tasks:\n    - debug: msg="{{ db_password }} {{ api_key }}"\n',
    );
    const out = execFileSync('ansible-playbook', ['site.yml', '-c', 'local', '--vault-password-file', 'pw', '--vault-id', 'prod@prod'], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
        ANSIBLE_LOCALHOST_WARNING: 'False',
        ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False',
      },
    });
    expect(out).toContain(`"msg": "${DB_SECRET} ${API_SECRET}"`);
  });
});
