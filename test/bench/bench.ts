// The performance benchmark (npm run bench): tsplay against ansible-playbook and against the SSH
// floor (the same checks as plain commands over one OpenSSH ControlMaster connection per host),
// on a fleet of real OpenSSH servers on loopback ports that this script starts and stops.
// Usage: npm run bench [-- --sizes 10x20,100x4,1x1 --rounds 3 --no-ansible --no-channels]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createSshLab, knownHostsLine, USER_NOPASS, type SshServer } from '../integration/sshd.js';

const CLI = resolve('dist/engine/tsplay.cjs'); // the `tsplay` command
const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const sizes = opt('sizes', '10x20,100x4,1x1')
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number]);
const rounds = Number(opt('rounds', '3'));
const skipAnsible = args.includes('--no-ansible');
const withChannels = !args.includes('--no-channels');

/** Five kinds of task both tools run unchanged, cycled to make `tasks` tasks. */
function playbook(tasks: number): string {
  const kinds = [
    (i: number) => `    - name: dir ${i}\n      file: { path: "{{ work }}/d${i}", state: directory, mode: "0755" }`,
    (i: number) => `    - name: line ${i}\n      lineinfile: { path: "{{ work }}/conf${i}", line: "key${i}=value${i}", create: true }`,
    (i: number) => `    - name: copy ${i}\n      copy: { content: "content ${i}\\n", dest: "{{ work }}/copy${i}" }`,
    (i: number) => `    - name: command ${i}\n      command: cat /etc/hostname\n      changed_when: false`,
    (i: number) => `    - name: template ${i}\n      template: { src: t.j2, dest: "{{ work }}/tpl${i}" }`,
  ];
  const body = Array.from({ length: tasks }, (_, i) => kinds[i % kinds.length]!(i)).join('\n');
  return `- hosts: all\n  gather_facts: false\n  vars:\n    work: "/tmp/tsplay-bench/{{ inventory_hostname }}"\n  tasks:\n${body}\n`;
}

/** The floor: the same checks as one shell command per task over a ControlMaster connection. */
function floorScript(tasks: number, host: string): string {
  const work = `/tmp/tsplay-bench/${host}`;
  const checks = [
    (i: number) => `test -d ${work}/d${i}`,
    (i: number) => `grep -qx key${i}=value${i} ${work}/conf${i}`,
    (i: number) => `sha1sum ${work}/copy${i} >/dev/null`,
    () => `cat /etc/hostname >/dev/null`,
    (i: number) => `sha1sum ${work}/tpl${i} >/dev/null`,
  ];
  return Array.from({ length: tasks }, (_, i) => checks[i % checks.length]!(i));
}

interface Measure {
  seconds: number;
  maxRssMb: number;
  cpuSeconds: number;
}

function timed(cmd: string, argv: string[], env: NodeJS.ProcessEnv, cwd: string): Measure {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', cmd, ...argv], { cwd, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  const last = r.stderr.trim().split('\n').pop()!;
  const [e, m, u, s] = last.split(' ').map(Number) as [number, number, number, number];
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  return { seconds: e, maxRssMb: m / 1024, cpuSeconds: u + s };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Run ssh and wait for it, without blocking the other hosts (execFileSync would set them up one by one). */
function sshAsync(argv: string[]): Promise<void> {
  return new Promise((res, rej) =>
    spawn('ssh', argv, { stdio: 'ignore' }).on('close', (code) =>
      code === 0 ? res() : rej(new Error(`ssh ${argv.join(' ')} exited ${code}`)),
    ),
  );
}

async function floor(servers: SshServer[], tasks: number, dir: string, knownHosts: string, key: string): Promise<number> {
  const base = ['-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-i', key, '-o', 'BatchMode=yes'];
  const start = Date.now();
  await Promise.all(
    servers.map(async (s, idx) => {
      const ctl = join(dir, `cm-${s.port}`);
      const opts = [...base, '-p', String(s.port), '-o', `ControlPath=${ctl}`];
      await sshAsync([...opts, '-o', 'ControlMaster=yes', '-o', 'ControlPersist=60', '-f', '-N', `${USER_NOPASS}@127.0.0.1`]);
      for (const c of floorScript(tasks, `h${idx}`)) {
        await new Promise<void>((res) =>
          spawn('ssh', [...opts, `${USER_NOPASS}@127.0.0.1`, c], { stdio: 'ignore' }).on('close', () => res()),
        );
      }
      await sshAsync([...opts, '-O', 'exit', `${USER_NOPASS}@127.0.0.1`]);
    }),
  );
  return (Date.now() - start) / 1000;
}

// A second, lower floor: the same checks typed one after another into one long-lived `sh` per host
// (over the same kind of ControlMaster connection), each waiting for its answer: no ssh process and
// no channel per check. Reported next to the issue's floor, not instead of it.
async function shellFloor(servers: SshServer[], tasks: number, dir: string, knownHosts: string, key: string): Promise<number> {
  const base = ['-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-i', key, '-o', 'BatchMode=yes'];
  const start = Date.now();
  await Promise.all(
    servers.map(async (s, idx) => {
      const ctl = join(dir, `cs-${s.port}`);
      const opts = [...base, '-p', String(s.port), '-o', `ControlPath=${ctl}`];
      await sshAsync([...opts, '-o', 'ControlMaster=yes', '-o', 'ControlPersist=60', '-f', '-N', `${USER_NOPASS}@127.0.0.1`]);
      const shell = spawn('ssh', [...opts, `${USER_NOPASS}@127.0.0.1`, '/bin/sh'], { stdio: ['pipe', 'pipe', 'ignore'] });
      let buf = '';
      let wake: (() => void) | undefined;
      shell.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        wake?.();
      });
      for (const [i, c] of floorScript(tasks, `h${idx}`).entries()) {
        const mark = `__done_${i} `;
        await new Promise<void>((res) => {
          wake = () => {
            if (buf.includes(mark)) {
              buf = '';
              res();
            }
          };
          shell.stdin.write(`${c}; echo ${mark}$?\n`);
        });
      }
      shell.stdin.end();
      await new Promise((r) => shell.on('close', r));
      await sshAsync([...opts, '-O', 'exit', `${USER_NOPASS}@127.0.0.1`]);
    }),
  );
  return (Date.now() - start) / 1000;
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function main(): Promise<void> {
  const lab = createSshLab();
  const out: string[] = [];
  const maxHosts = Math.max(...sizes.map(([h]) => h));
  const servers: SshServer[] = [];
  for (let i = 0; i < maxHosts; i++) servers.push(await lab.start({ maxSessions: 10 }));
  writeFileSync(lab.knownHosts, servers.map(knownHostsLine).join('\n') + '\n');
  const reset = () => execFileSync('sh', ['-c', 'rm -rf /tmp/tsplay-bench; mkdir -p /tmp/tsplay-bench; chmod 1777 /tmp/tsplay-bench']);
  try {
    for (const [hosts, tasks] of sizes) {
      const dir = mkdtempSync(join(tmpdir(), 'tsplay-bench-'));
      const local = hosts === 1 && tasks === 1;
      const inv = local
        ? 'h0 ansible_connection=local\n'
        : servers
            .slice(0, hosts)
            .map((s, i) => `h${i} ansible_host=127.0.0.1 ansible_port=${s.port}`)
            .join('\n') +
          `\n[all:vars]\nansible_user=${USER_NOPASS}\nansible_ssh_private_key_file=${lab.clientKey}\nansible_ssh_common_args='-o UserKnownHostsFile=${lab.knownHosts}'\n`;
      writeFileSync(join(dir, 'hosts'), inv);
      writeFileSync(join(dir, 'site.yml'), playbook(tasks));
      mkdirSync(join(dir, 'templates'));
      writeFileSync(join(dir, 'templates', 't.j2'), 'host={{ inventory_hostname }}\n');
      writeFileSync(
        join(dir, 'ansible.cfg'),
        `[defaults]\nforks=${Math.max(hosts, 5)}\nhost_key_checking=True\nstdout_callback=default\n[ssh_connection]\npipelining=True\nssh_args=-o ControlMaster=auto -o ControlPersist=60s\n`,
      );
      const env = {
        ...process.env,
        NO_COLOR: '1',
        ANSIBLE_CONFIG: join(dir, 'ansible.cfg'),
        ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
        TSPLAY_VERIFY_IDEMPOTENCE: '0',
      };
      const res: Record<string, { first: Measure[]; second: Measure[] }> = {
        tsplay: { first: [], second: [] },
        ansible: { first: [], second: [] },
        channels: { first: [], second: [] },
      };
      const floors: number[] = [];
      const shellFloors: number[] = [];
      const loadBefore = loadavg();
      // the tools alternate; `channels` is tsplay with one exec channel per command (TSPLAY_SSH_SESSION=0)
      const tools = [...(skipAnsible ? ['tsplay'] : ['tsplay', 'ansible']), ...(local || !withChannels ? [] : ['channels'])];
      for (let r = 0; r < rounds; r++) {
        for (const tool of r % 2 ? [...tools].reverse() : tools) {
          reset();
          const argv =
            tool === 'ansible' ? ['site.yml', '-i', 'hosts'] : [CLI, 'run', 'site.yml', '-i', 'hosts', '-f', String(Math.max(hosts, 5))];
          const cmd = tool === 'ansible' ? 'ansible-playbook' : process.execPath;
          const e = tool === 'channels' ? { ...env, TSPLAY_SSH_SESSION: '0' } : env;
          res[tool]!.first.push(timed(cmd, argv, e, dir));
          res[tool]!.second.push(timed(cmd, argv, e, dir));
        }
        if (!local) floors.push(await floor(servers.slice(0, hosts), tasks, dir, lab.knownHosts, lab.clientKey));
        if (!local) shellFloors.push(await shellFloor(servers.slice(0, hosts), tasks, dir, lab.knownHosts, lab.clientKey));
      }
      // remote commands and SSH channels per task (first run: everything changes; second: nothing)
      reset();
      const count = (v: string) => (v.match(/EXEC /g) ?? []).length;
      const channels = (v: string) => [...v.matchAll(/SSH: \d+ commands, (\d+) channels opened/g)].reduce((a, m) => a + Number(m[1]), 0);
      const verbose = () =>
        spawnSync(process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts', '-vvvv', '-f', String(Math.max(hosts, 5))], {
          cwd: dir,
          env,
          encoding: 'utf8',
          maxBuffer: 1 << 28,
        }).stdout;
      const first = verbose();
      const second = verbose();
      const start = out.length;
      const sec = (m: Measure[]) => median(m.map((x) => x.seconds));
      const range = (m: Measure[]) =>
        m.length > 1 ? ` (${Math.min(...m.map((x) => x.seconds)).toFixed(2)}-${Math.max(...m.map((x) => x.seconds)).toFixed(2)})` : '';
      const line = (name: string, m: Measure[]) =>
        `| ${hosts} x ${tasks} | ${name} | ${sec(m).toFixed(2)} s${range(m)} | ${median(m.map((x) => x.maxRssMb)).toFixed(0)} MB | ${median(m.map((x) => x.cpuSeconds)).toFixed(2)} s |`;
      out.push(line('tsplay, first run', res.tsplay!.first), line('tsplay, second run', res.tsplay!.second));
      if (res.channels!.first.length)
        out.push(
          line('tsplay, exec channel per command, first run', res.channels!.first),
          line('tsplay, exec channel per command, second run', res.channels!.second),
        );
      if (!skipAnsible)
        out.push(line('ansible-playbook, first run', res.ansible!.first), line('ansible-playbook, second run', res.ansible!.second));
      if (floors.length) out.push(`| ${hosts} x ${tasks} | floor: ssh per check over ControlMaster | ${median(floors).toFixed(2)} s | | |`);
      if (shellFloors.length)
        out.push(`| ${hosts} x ${tasks} | second floor: one sh per host, checks typed in turn | ${median(shellFloors).toFixed(2)} s | | |`);
      const ratio = (a: Measure[], b: Measure[]) => (sec(b) / sec(a)).toFixed(1);
      const perTask = (n: number) => (n / (hosts * tasks)).toFixed(2);
      out.push(
        `|   | ratios | ${skipAnsible ? '' : `ansible/tsplay first ${ratio(res.tsplay!.first, res.ansible!.first)}x, second ${ratio(res.tsplay!.second, res.ansible!.second)}x; `}` +
          `${floors.length ? `tsplay/floor first ${(sec(res.tsplay!.first) / median(floors)).toFixed(2)}, second ${(sec(res.tsplay!.second) / median(floors)).toFixed(2)}; tsplay/second floor ${(sec(res.tsplay!.first) / median(shellFloors)).toFixed(2)}, ${(sec(res.tsplay!.second) / median(shellFloors)).toFixed(2)}` : ''} ` +
          `| remote commands per task per host: ${perTask(count(first))} first, ${perTask(count(second))} second; SSH channels per task per host: ${local ? 'none (local)' : `${perTask(channels(first))} first, ${perTask(channels(second))} second`} | load average ${loadBefore} -> ${loadavg()} |`,
      );
      process.stdout.write(out.slice(start).join('\n') + '\n');
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await lab.stop();
    reset();
  }
  process.stdout.write('\n| size | run | wall (median, min-max) | peak RSS | CPU |\n|---|---|---|---|---|\n' + out.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exit(1);
});
