// stat, slurp, find and tempfile through a real OpenSSH server on loopback, as a user who must
// become root to see a root-only directory: without become the read-only modules fail or skip as
// Ansible's do, with become they read it; tempfile creates as whoever the task runs as.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { project, recap, tsplay } from '../e2e/helpers.js';
import { createSshLab, knownHostsLine, sshdAvailable, USER_NOPASS, type SshLab } from './sshd.js';

const run = sshdAvailable() || process.env.CI ? describe : describe.skip;

const REGISTERED = ['plain_stat', 'root_stat', 'root_slurp', 'plain_find', 'root_find', 'plain_tmp', 'root_tmp', 'home'] as const;

run('stat, slurp, find and tempfile over SSH with become', () => {
  let lab: SshLab;
  let inventory: string;
  const secret = `/tmp/tsplay-file-facts-${process.pid}`;

  beforeAll(async () => {
    lab = createSshLab();
    const server = await lab.start();
    writeFileSync(lab.knownHosts, knownHostsLine(server) + '\n');
    inventory = [
      `node1 ansible_host=127.0.0.1 ansible_port=${server.port} ansible_user=${USER_NOPASS}`,
      '[all:vars]',
      `ansible_ssh_private_key_file=${lab.clientKey}`,
      `ansible_ssh_common_args='-o UserKnownHostsFile=${lab.knownHosts}'`,
    ].join('\n');
    mkdirSync(`${secret}/inner`, { recursive: true });
    writeFileSync(`${secret}/key.pem`, 'secret\n', { mode: 0o600 });
    writeFileSync(`${secret}/inner/other.pem`, 'other\n', { mode: 0o600 });
    chmodSync(secret, 0o700);
  });
  afterAll(async () => {
    await lab?.stop();
    rmSync(secret, { recursive: true, force: true });
  });

  it('reads a root-only file with become, fails without it as Ansible does; a second run and --check change nothing', async () => {
    const dir = project({
      hosts: inventory,
      'site.yml': `
- hosts: node1
  gather_facts: false
  vars:
    d: ${secret}
  tasks:
    - stat: path={{ d }}/key.pem
      register: plain_stat
      ignore_errors: true
    - stat: path={{ d }}/key.pem
      become: true
      register: root_stat
    - slurp: src={{ d }}/key.pem
      become: true
      register: root_slurp
    - find: { paths: "{{ d }}", recurse: true, patterns: '*.pem', get_checksum: true }
      register: plain_find
    - find: { paths: "{{ d }}", recurse: true, patterns: '*.pem', get_checksum: true, contains: 'sec' }
      become: true
      register: root_find
    - tempfile: { suffix: .plain }
      register: plain_tmp
    - tempfile: { suffix: .root }
      become: true
      register: root_tmp
    - stat: path=~
      register: home
    - debug: msg="{{ item | to_json }}"
      loop: [${REGISTERED.map((r) => `"{{ ${r} }}"`).join(', ')}]
      loop_control: { label: result }
`,
    });
    const first = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(first.err).not.toMatch(/internal error|please report/);
    expect(first.code, first.out + first.err).toBe(0);
    const msgs = first.out
      .split('\n')
      .filter((l) => /^\s+"msg": "\{/.test(l))
      .map((l) => JSON.parse(JSON.parse(`{${l.trim()}}`).msg as string) as Record<string, any>);
    expect(msgs).toHaveLength(REGISTERED.length);
    const r = Object.fromEntries(REGISTERED.map((n, i) => [n, msgs[i]!])) as Record<(typeof REGISTERED)[number], Record<string, any>>;

    // as the user: Ansible's lstat raises EACCES, and its message is the module's msg
    expect(r.plain_stat).toMatchObject({ failed: true, msg: 'Permission denied' });
    expect(r.root_stat.stat).toMatchObject({ exists: true, isreg: true, mode: '0600', pw_name: 'root', readable: true });
    expect(r.root_stat.stat.checksum).toBe(execFileSync('sha1sum', [`${secret}/key.pem`], { encoding: 'utf8' }).split(' ')[0]);
    expect(Buffer.from(r.root_slurp.content, 'base64').toString()).toBe('secret\n');
    // os.walk cannot list the directory: the path is skipped with Python's error, nothing found
    expect(r.plain_find).toMatchObject({
      matched: 0,
      files: [],
      msg: 'Not all paths examined, check warnings for details',
      skipped_paths: { [secret]: `[Errno 13] Permission denied: '${secret}'` },
    });
    expect(r.root_find).toMatchObject({
      matched: 1,
      examined: 3,
      files: [expect.objectContaining({ path: `${secret}/key.pem`, pw_name: 'root', checksum: r.root_stat.stat.checksum })],
    });
    expect(r.plain_tmp).toMatchObject({ changed: true, owner: USER_NOPASS, mode: '0600', state: 'file' });
    expect(r.root_tmp).toMatchObject({ changed: true, owner: 'root', uid: 0, mode: '0600' });
    expect(r.plain_tmp.path).toMatch(/\.plain$/);
    expect(r.home.stat).toMatchObject({ exists: true, isdir: true, path: `/home/${USER_NOPASS}`, pw_name: USER_NOPASS });
    for (const t of [r.plain_tmp.path, r.root_tmp.path]) rmSync(t);

    const second = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(second.code).toBe(0);
    expect(recap(second.out, 'node1')).toMatchObject({ changed: 2, failed: 0, ignored: 1 }); // the two new temporary files
    for (const line of second.out.split('\n').filter((l) => /^\s+"msg": "\{.*\.(plain|root)\\"/.test(l)))
      rmSync(JSON.parse(JSON.parse(`{${line.trim()}}`).msg as string).path as string);

    const check = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '--check']);
    expect(check.code).toBe(0);
    expect(recap(check.out, 'node1')).toMatchObject({ changed: 0, failed: 0, skipped: 2, ignored: 1 });
    expect(check.out).toContain('\\"matched\\": 1');
  }, 120_000);
});
