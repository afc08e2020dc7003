// Faults a run must survive, against real OpenSSH servers on loopback: a host that dies in the
// middle of a play, a connection cut while a file is written (repeated), sshd restarted between
// tasks, a command that hangs, and a run over hundreds of hosts.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { project, recap, tsplay } from '../e2e/helpers.js';
import {
  createSshLab,
  cuttableProxy,
  knownHostsLine,
  silentPort,
  sshdAvailable,
  USER_NOPASS,
  type SshLab,
  type SshServer,
} from './sshd.js';

const run = sshdAvailable() || process.env.CI ? describe : describe.skip;

run('faults survived', () => {
  let lab: SshLab;
  let servers: SshServer[];
  const vars = () => [
    '[all:vars]',
    `ansible_user=${USER_NOPASS}`,
    `ansible_ssh_private_key_file=${lab.clientKey}`,
    `ansible_ssh_common_args='-o UserKnownHostsFile=${lab.knownHosts}'`,
  ];
  const trust = (port: number, server: SshServer) =>
    writeFileSync(lab.knownHosts, readFileSync(lab.knownHosts, 'utf8') + `[127.0.0.1]:${port} ${server.hostKeyPub}\n`);

  beforeAll(async () => {
    lab = createSshLab();
    servers = [await lab.start(), await lab.start()];
    writeFileSync(lab.knownHosts, servers.map(knownHostsLine).join('\n') + '\n');
  });
  afterAll(async () => lab?.stop());

  it('a host that dies mid-play is unreachable in the recap, the others finish, exit code 4', async () => {
    const proxy = await cuttableProxy(servers[1]!.port);
    trust(proxy.port, servers[1]!);
    const dir = project({
      hosts: [
        '[nodes]',
        `alive ansible_host=127.0.0.1 ansible_port=${servers[0]!.port}`,
        `dying ansible_host=127.0.0.1 ansible_port=${proxy.port}`,
        ...vars(),
      ].join('\n'),
      'site.yml': `- hosts: nodes
  gather_facts: false
  tasks:
    - ping:
    - name: long step
      command: sleep 2
      changed_when: false
    - debug: msg=after
`,
    });
    // the host dies one second into the long step: its connection is cut and it accepts no new one
    const pending = tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    await new Promise((r) => setTimeout(r, 1000));
    await proxy.close();
    const r = await pending;
    expect(r.code, r.out + r.err).toBe(4);
    expect(r.out).toMatch(/fatal: \[dying\]: UNREACHABLE!/);
    expect(recap(r.out, 'dying')).toMatchObject({ ok: 1, unreachable: 1 });
    expect(recap(r.out, 'alive')).toMatchObject({ ok: 3, unreachable: 0, failed: 0 });
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  // The host must check what it received: a cut ends the input early, and the host's shell takes
  // that for the end of the here-document (or of the input), so without the check it renamed a
  // prefix into place, sometimes seconds after tsplay had exited. The upload is throttled so that
  // the cuts, spread from before the upload to after it, land inside it often; after each round
  // the host gets time to finish whatever it still does before the file is judged.
  it.each([
    // about 3 MB of text (a here-document), different in every round
    [
      'large text',
      (i: number) => Buffer.from(Array.from({ length: 60_000 }, (_, n) => `line ${n} of version ${i} ${'x'.repeat(30)}`).join('\n') + '\n'),
    ],
    // about 1 MB of bytes with NULs (base64 through the session)
    [
      'binary',
      (i: number) =>
        Buffer.concat([Buffer.from([0, 1, 2, i]), createHash('sha512').update(String(i)).digest(), Buffer.alloc(1_000_000, i % 7)]),
    ],
  ])(
    'a connection cut while a file is written leaves the old file or the new one, never part of one, and no temp file (%s)',
    async (kind, content) => {
      const server = servers[0]!;
      const proxy = await cuttableProxy(server.port, { bytesPerSecond: 2_000_000 });
      trust(proxy.port, server);
      const where = `/tmp/tsplay-faults-${process.pid}-${kind.replace(/\W/g, '')}`;
      const dest = `${where}/big.conf`;
      execFileSync('install', ['-d', '-o', USER_NOPASS, '-m', '0755', where]);
      const dir = project({
        hosts: ['[nodes]', `h ansible_host=127.0.0.1 ansible_port=${proxy.port}`, ...vars()].join('\n'),
        'site.yml': `- hosts: nodes
  gather_facts: false
  tasks:
    - copy:
        src: "{{ playbook_dir }}/payload"
        dest: ${dest}
        backup: true
`,
      });
      const write = (i: number) => writeFileSync(join(dir, 'payload'), content(i));
      const leftovers = () => readdirSync(where).filter((f) => f.startsWith('.big.conf.'));
      // let the host finish: no temp file, and the file unchanged for a while
      const settle = async () => {
        let last = '';
        for (let waited = 0; waited < 10_000; waited += 250) {
          const now = `${leftovers().join(',')}|${existsSync(dest) ? statSync(dest).mtimeMs : 0}`;
          if (now === last && leftovers().length === 0) return;
          last = now;
          await new Promise((r) => setTimeout(r, 250));
        }
      };
      write(0);
      const t0 = Date.now();
      const first = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
      const duration = Date.now() - t0;
      expect(first.code, first.out + first.err).toBe(0);
      expect(readFileSync(dest).equals(content(0))).toBe(true);

      const outcomes = { old: 0, new: 0 };
      let current = 0;
      const rounds = 12;
      for (let i = 1; i <= rounds; i++) {
        write(i);
        // cut from early in the run (before the upload) to after its end, evenly spread
        const at = Math.round((duration * 1.2 * i) / rounds);
        const timer = setTimeout(() => proxy.cut(), at);
        const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
        clearTimeout(timer);
        await settle();
        expect(leftovers(), `round ${i}: temp files left`).toEqual([]);
        const got = readFileSync(dest);
        if (got.equals(content(i))) {
          outcomes.new++;
          // the old version is kept as a backup beside it
          const backups = readdirSync(where).filter((f) => f.startsWith('big.conf.') && f.endsWith('~'));
          expect(
            backups.some((b) => readFileSync(`${where}/${b}`).equals(content(current))),
            `round ${i}: no backup of version ${current} among ${backups}`,
          ).toBe(true);
          current = i;
        } else {
          expect(
            got.equals(content(current)),
            `round ${i} (cut at ${at} ms, rc ${r.code}): the file is neither version ${current} nor ${i} (${got.length} bytes)`,
          ).toBe(true);
          expect(r.code, r.out).not.toBe(0);
          outcomes.old++;
        }
      }
      // the cuts landed both before and after the rename, so both cases were really exercised
      expect(outcomes.old).toBeGreaterThan(0);
      expect(outcomes.new).toBeGreaterThan(0);
      await proxy.close();
    },
    240_000,
  );

  it('two runs at once adding lines to the same files lose none: an edit of a file changed since it was read is planned again', async () => {
    const where = `/tmp/tsplay-concurrent-${process.pid}`;
    execFileSync('install', ['-d', '-o', USER_NOPASS, '-m', '0755', where]);
    // four hosts, each with its own file that both runs edit
    const four = [...servers, await lab.start(), await lab.start()];
    writeFileSync(lab.knownHosts, readFileSync(lab.knownHosts, 'utf8') + four.slice(2).map(knownHostsLine).join('\n') + '\n');
    const hosts = four.map((sv, i) => `c${i} ansible_host=127.0.0.1 ansible_port=${sv.port}`);
    const site = (who: string) => `- hosts: nodes
  gather_facts: false
  tasks:
    - lineinfile:
        path: ${where}/{{ inventory_hostname }}.conf
        line: "${who} line {{ item }}"
        create: true
      loop: "{{ range(1, 31) | list }}"
`;
    const dir = project({ hosts: ['[nodes]', ...hosts, ...vars()].join('\n'), 'a.yml': site('run A'), 'b.yml': site('run B') });
    const [a, b] = await Promise.all([tsplay(dir, ['run', 'a.yml', '-i', 'hosts']), tsplay(dir, ['run', 'b.yml', '-i', 'hosts'])]);
    expect(a.code, a.out.slice(-2000)).toBe(0);
    expect(b.code, b.out.slice(-2000)).toBe(0);
    for (const h of ['c0', 'c1', 'c2', 'c3']) {
      const lines = readFileSync(`${where}/${h}.conf`, 'utf8').split('\n').filter(Boolean);
      expect(lines.length, `${h}: ${lines.length} of 60 lines`).toBe(60);
      expect(new Set(lines).size).toBe(60);
    }
    expect(readdirSync(where).filter((f) => f.startsWith('.'))).toEqual([]);
  }, 180_000);

  it('reconnects for the next task when sshd was restarted and the connection dropped', async () => {
    const server = await lab.start();
    const proxy = await cuttableProxy(server.port);
    trust(proxy.port, server);
    const marker = `/tmp/tsplay-faults-restart-${process.pid}`;
    const dir = project({
      hosts: ['[nodes]', `h ansible_host=127.0.0.1 ansible_port=${proxy.port}`, ...vars()].join('\n'),
      'site.yml': `- hosts: nodes
  gather_facts: false
  tasks:
    - command: echo before
      changed_when: false
    - name: on the controller, while sshd restarts
      command: sh -c 'touch ${marker}; sleep 2'
      delegate_to: localhost
      changed_when: false
    - command: echo after
      register: after
      changed_when: false
    - assert:
        that: after.stdout == 'after'
`,
    });
    const pending = tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 50));
    proxy.cut();
    await server.restart();
    const r = await pending;
    expect(r.code, r.out + r.err).toBe(0);
    expect(recap(r.out, 'h')).toMatchObject({ ok: 4, failed: 0, unreachable: 0 });
    await proxy.close();
  }, 60_000);

  it('a command that hangs is ended by the task timeout, failing that host only', async () => {
    // a duration no other process on the machine sleeps for, to find it afterwards
    const tag = `sleep ${3000 + (process.pid % 997)}.5`;
    const dir = project({
      hosts: ['[nodes]', ...servers.map((s, i) => `n${i} ansible_host=127.0.0.1 ansible_port=${s.port}`), ...vars()].join('\n'),
      'site.yml': `- hosts: nodes
  gather_facts: false
  tasks:
    - name: hangs on n0
      shell: "{{ '${tag}; echo never' if inventory_hostname == 'n0' else 'true' }}"
      timeout: 2
    - debug: msg=after
`,
    });
    const t0 = Date.now();
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts']);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.code, r.out).toBe(2);
    expect(r.out).toMatch(/fatal: \[n0\]: FAILED! => .*timed out/);
    expect(recap(r.out, 'n0')).toMatchObject({ failed: 1 });
    expect(recap(r.out, 'n1')).toMatchObject({ ok: 2, failed: 0 });
    // the hung command does not outlive its task on the host
    await new Promise((res) => setTimeout(res, 500));
    // ([s]leep: the pattern must not match the shell that runs pgrep)
    const left = execFileSync('sh', ['-c', `pgrep -af '[s]${tag.slice(1)}' || true`])
      .toString()
      .trim();
    expect(left, 'the timed-out command is still running on the host').toBe('');
  }, 60_000);

  for (const become of [false, true]) {
    it(`Ctrl-C ends the run with exit code 99 and a recap, and kills the running command on the host${become ? ' (with become)' : ''}`, async () => {
      const marker = `/tmp/tsplay-faults-ctrlc-${process.pid}-${become}`;
      const tag = `sleep ${4000 + (process.pid % 997)}.${become ? 2 : 1}`;
      const dir = project({
        hosts: ['[nodes]', `h ansible_host=127.0.0.1 ansible_port=${servers[0]!.port}`, ...vars()].join('\n'),
        'site.yml': `- hosts: nodes
  gather_facts: false
  become: ${become}
  tasks:
    - name: slow
      shell: "${tag}; touch ${marker}"
    - name: after
      command: touch ${marker}-after
`,
      });
      const child = spawn(process.execPath, [resolve('dist/engine/tsplay.cjs'), 'run', 'site.yml', '-i', 'hosts'], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1' },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('TASK [slow]')) setTimeout(() => child.kill('SIGINT'), 700);
      });
      const code = await new Promise<number | null>((res) => child.on('close', res));
      expect(code, out).toBe(99);
      expect(out).toContain('PLAY RECAP');
      expect(out).not.toContain('TASK [after]');
      // the command was killed on the host: it never finishes, and nothing of it is left running
      await new Promise((res) => setTimeout(res, 500));
      const left = execFileSync('sh', ['-c', `pgrep -af '[s]${tag.slice(1)}' || true`])
        .toString()
        .trim();
      expect(left, 'the interrupted command is still running on the host').toBe('');
      expect(existsSync(marker)).toBe(false);
      expect(existsSync(`${marker}-after`)).toBe(false);
    }, 60_000);
  }

  it.each([
    ['a host whose TCP connect hangs', false],
    ['a host behind a jump host that cannot reach it', true],
  ])(
    'Ctrl-C during the handshake with %s ends the run at once (exit 99, recap), not at the -T deadline',
    async (_name, viaJump) => {
      const silent = await silentPort();
      try {
        const jump = viaJump
          ? ` ansible_ssh_common_args='-J ${USER_NOPASS}@127.0.0.1:${servers[0]!.port} -o UserKnownHostsFile=${lab.knownHosts}'`
          : '';
        const dir = project({
          hosts: [
            '[nodes]',
            `ok ansible_host=127.0.0.1 ansible_port=${servers[1]!.port}`,
            `hung ansible_host=127.0.0.1 ansible_port=${silent.port}${jump}`,
            ...vars(),
          ].join('\n'),
          'site.yml': '- hosts: nodes\n  gather_facts: false\n  tasks:\n    - ping:\n    - name: after\n      ping:\n',
        });
        const child = spawn(process.execPath, [resolve('dist/engine/tsplay.cjs'), 'run', 'site.yml', '-i', 'hosts', '-T', '300'], {
          cwd: dir,
          env: { ...process.env, NO_COLOR: '1' },
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        const closed = new Promise<number | null>((res) => child.on('close', res));
        // the ok host answered; the other is in its handshake
        for (let i = 0; i < 100 && !out.includes('ok: [ok]'); i++) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 500));
        const t0 = Date.now();
        child.kill('SIGINT');
        const code = await closed;
        expect(Date.now() - t0, out).toBeLessThan(5000);
        expect(code, out).toBe(99);
        expect(out).toContain('PLAY RECAP');
        expect(out).not.toContain('TASK [after]');
        expect(out).not.toMatch(/internal error|\n\s+at /);
      } finally {
        silent.close();
      }
    },
    60_000,
  );

  it('runs over 200 hosts and leaves no descriptor behind, with bounded memory', async () => {
    // 200 distinct SSH endpoints: 20 servers, each reached under 10 loopback addresses (sshd
    // listens on at most 16)
    const fleet = await Promise.all(
      Array.from({ length: 20 }, () => lab.start({ listen: Array.from({ length: 10 }, (_, i) => `127.0.1.${i + 1}`) })),
    );
    const lines: string[] = [];
    const known: string[] = [];
    fleet.forEach((s, si) => {
      for (let i = 1; i <= 10; i++) {
        lines.push(`h${si}-${i} ansible_host=127.0.1.${i} ansible_port=${s.port}`);
        known.push(`[127.0.1.${i}]:${s.port} ${s.hostKeyPub}`);
      }
    });
    writeFileSync(lab.knownHosts, readFileSync(lab.knownHosts, 'utf8') + known.join('\n') + '\n');
    const dir = project({
      hosts: ['[fleet]', ...lines, ...vars()].join('\n'),
      'site.yml': `- hosts: fleet
  gather_facts: false
  tasks:
    - command: echo one
      changed_when: false
    - command: echo two
      changed_when: false
    - file: path=/tmp state=directory
`,
    });
    const fds = () => readdirSync('/proc/self/fd').length;
    const fdsBefore = fds();
    const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', '-f', '50']);
    expect(r.code, r.out.slice(-3000) + r.err).toBe(0);
    expect(r.out.match(/ : ok=3 +changed=0 +unreachable=0 +failed=0/g)?.length).toBe(200);
    // every connection is closed at the end of the run: no descriptor is left behind
    await new Promise((res) => setTimeout(res, 200));
    expect(fds() - fdsBefore).toBeLessThan(10);
    expect(process.memoryUsage().rss).toBeLessThan(600 * 1024 * 1024);
  }, 180_000);
});
