// blockinfile, authorized_key and cron (issue 16) end to end on the local host: each playbook runs
// under tsplay and, where it is installed, under ansible-playbook (CI installs ansible-core 2.14;
// authorized_key needs the ansible.posix collection, found through ANSIBLE_COLLECTIONS_PATH), and
// the files they leave must be the same, byte for byte, mode and owner included, with the same
// task statuses. A second run changes nothing, --check changes nothing, --diff shows the diff.
// Everything happens in temp directories, except cron, which edits the crontab of a throwaway
// user the test creates and removes.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, lstatSync, readlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project } from './helpers.js';

const CLI = resolve('dist/engine/cli.js');
const isRoot = process.getuid?.() === 0;
// (ansible-doc exits 0 for a module it does not find, and prints {} with -j)
const hasPosixCollection =
  hasAnsible &&
  spawnSync('ansible-doc', ['-j', 'ansible.posix.authorized_key'], { encoding: 'utf8' }).stdout.includes('"ansible.posix.authorized_key"');
const hasCrontab = spawnSync('sh', ['-c', 'command -v crontab'], { stdio: 'ignore' }).status === 0;
const hasUseradd = spawnSync('sh', ['-c', 'command -v useradd && command -v userdel'], { stdio: 'ignore' }).status === 0;

interface Run {
  code: number | null;
  out: string;
  /** The status line of every task, in order: 'changed', 'ok', 'fatal', '...ignoring'. */
  statuses: string[];
  recap: Record<string, number>;
}

function run(cmd: 'tsplay' | 'ansible', dir: string, extra: string[] = []): Run {
  const env = {
    ...process.env,
    NO_COLOR: '1',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_LOCALHOST_WARNING: 'false',
    ANSIBLE_CONFIG: '',
    TSPLAY_VERIFY_IDEMPOTENCE: '1',
  };
  const r =
    cmd === 'tsplay'
      ? spawnSync(process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env })
      : spawnSync('ansible-playbook', ['site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env });
  const lines = r.stdout.split('\n');
  const recapLine = lines.find((l) => /^h\s+: ok=/.test(l)) ?? '';
  return {
    code: r.status,
    out: r.stdout + r.stderr,
    statuses: lines
      .filter((l) => /^(ok|changed|fatal|failed): \[h\]/.test(l) || l === '...ignoring')
      .map((l) => l.replace(/:? \[h\].*$/, '')),
    recap: Object.fromEntries([...recapLine.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])])),
  };
}

/** Every file, directory and link below `dir`: type, mode, owner and content (base64). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = join(rel, name);
      const st = lstatSync(join(dir, path));
      const attrs = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isSymbolicLink()) out[path] = `link -> ${readlinkSync(join(dir, path))}`;
      else if (st.isDirectory()) {
        out[path] = `dir ${attrs}`;
        walk(path);
      } else out[path] = `file ${attrs} ${readFileSync(join(dir, path)).toString('base64')}`;
    }
  };
  walk('');
  return out;
}

/** A project with the playbook, and `setup` run to lay out its out/ directory. */
function prepare(playbook: string, setup: string): string {
  const dir = project({
    hosts: 'h ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n',
    'site.yml': playbook,
    'out/.keep': '',
  });
  const r = spawnSync('sh', ['-ec', setup], { cwd: join(dir, 'out'), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`setup failed: ${r.stderr}`);
  return dir;
}

const file = (dir: string, name: string) => readFileSync(join(dir, 'out', name), 'utf8');

// A throwaway user, created for the whole file (authorized_key and cron need a user that is not root).
const testUser = `tsplay-crontest-${randomBytes(4).toString('hex')}`;
const canAddUser = isRoot && hasUseradd;
beforeAll(() => {
  if (!canAddUser) return;
  const r = spawnSync('useradd', ['-m', '-s', '/bin/sh', testUser], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`useradd ${testUser}: ${r.stderr}`);
});
afterAll(() => {
  if (canAddUser) spawnSync('userdel', ['-r', testUser], { stdio: 'ignore' });
});
const uidOf = (user: string) => Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());

/** State outside out/ that a suite also compares (a user's crontab): how to lay it out and read it. */
interface OuterState {
  reset: () => void;
  read: () => string;
}

// The same checks for each module's playbook: first run, second run, check, diff, and Ansible.
function suite(opts: {
  playbook: string;
  setup: string;
  outer?: OuterState;
  statuses: string[];
  expectFiles: (dir: string) => void;
  ansible: boolean;
  ansibleReason: string;
}) {
  let first: Run;
  let dir: string;
  let firstState: { files: Record<string, string>; outer?: string };
  const fresh = () => {
    opts.outer?.reset();
    return prepare(opts.playbook, opts.setup);
  };
  const snapshot = (d: string) => ({ files: tree(join(d, 'out')), outer: opts.outer?.read() });
  beforeAll(() => {
    dir = fresh();
    first = run('tsplay', dir);
    firstState = snapshot(dir);
  });

  it('the first run changes the files as Ansible does', () => {
    expect(first.code, first.out).toBe(0);
    expect(first.statuses, first.out).toEqual(opts.statuses);
    opts.expectFiles(dir);
  });

  it('a second run changes nothing', () => {
    const second = run('tsplay', dir);
    expect(second.code, second.out).toBe(0);
    expect(second.recap.changed, second.out).toBe(0);
    expect(snapshot(dir)).toEqual(firstState);
  });

  it('--check reports the changes and changes nothing; --diff shows them', () => {
    const d = fresh();
    const before = snapshot(d);
    const check = run('tsplay', d, ['--check', '--diff']);
    expect(check.code, check.out).toBe(0);
    expect(check.recap.changed, check.out).toBe(first.recap.changed);
    expect(snapshot(d)).toEqual(before);
    expect(check.out).toMatch(/^--- before/m);
    expect(check.out).toMatch(/^\+\+\+ after/m);
  });

  it.skipIf(!opts.ansible)(
    `ansible-playbook leaves the same files with the same statuses${opts.ansible ? '' : ` (skipped: ${opts.ansibleReason})`}`,
    () => {
      const a = fresh();
      const r = run('ansible', a);
      expect(r.code, r.out).toBe(0);
      expect(first.statuses).toEqual(r.statuses);
      expect(snapshot(a)).toEqual(firstState);
      const again = run('ansible', a);
      expect(again.recap.changed, again.out).toBe(0);
    },
  );
}

const BLOCKINFILE = `- hosts: h
  gather_facts: false
  vars:
    d: "{{ playbook_dir }}/out"
  tasks:
    - blockinfile: {path: "{{ d }}/eof", block: "l1\\nl2"}
    - blockinfile: {path: "{{ d }}/no-eol", block: "l1\\nl2\\n"}
    - blockinfile:
        path: "{{ d }}/replace"
        block: |
          new
    - blockinfile: {dest: "{{ d }}/after", content: "new", insertafter: "^Listen"}
    - blockinfile: {path: "{{ d }}/before", block: "new", insertbefore: "^Listen"}
    - blockinfile: {path: "{{ d }}/bof", block: "new", insertbefore: BOF}
    - blockinfile: {path: "{{ d }}/absent", state: absent}
    - blockinfile: {path: "{{ d }}/empty-block", block: ""}
    - blockinfile: {path: "{{ d }}/multiline", block: "new", insertafter: '(?m)SID =\\n.*\\(SID_LIST ='}
    - ansible.builtin.blockinfile:
        path: "{{ d }}/custom.html"
        marker: "<!-- {mark} -->"
        marker_begin: start
        marker_end: stop
        insertafter: "<body>"
        block: "<h1>hi</h1>"
        mode: "0600"
    - blockinfile: {path: "{{ d }}/new/created", block: "new", create: true, mode: "0640"}
    - blockinfile: {path: "{{ d }}/loop", block: "{{ item.ip }} {{ item.name }}", marker: "# {mark} {{ item.name }}"}
      loop:
        - {name: node1, ip: 10.0.0.1}
        - {name: node2, ip: 10.0.0.2}
    - blockinfile: {path: "{{ d }}/validated", block: "new", validate: "grep -q new %s"}
    - blockinfile: {path: "{{ d }}/missing", block: "x"}
      ignore_errors: true
`;

const BLOCKINFILE_SETUP = `printf 'a\\nb\\nc\\n' > eof
printf 'a\\nb\\nc' > no-eol
printf 'x\\n# BEGIN ANSIBLE MANAGED BLOCK\\nold\\n# END ANSIBLE MANAGED BLOCK\\ny\\n' > replace
printf 'Listen 1\\nfoo\\nListen 2\\nbar\\n' > after
cp after before
cp after bof
printf 'x\\n# BEGIN ANSIBLE MANAGED BLOCK\\nold\\n# END ANSIBLE MANAGED BLOCK\\ny\\n' > absent
cp absent empty-block
printf 'SID =\\n  (SID_LIST =\\n  x\\n' > multiline
printf '<html>\\n<body>\\n</body>\\n' > custom.html
printf '127.0.0.1 localhost\\n' > loop
printf 'v\\n' > validated
chmod 0604 validated
`;

describe('blockinfile', () => {
  suite({
    playbook: BLOCKINFILE,
    setup: BLOCKINFILE_SETUP,
    statuses: [...Array(13).fill('changed'), 'changed', 'fatal', '...ignoring'],
    expectFiles(dir) {
      expect(file(dir, 'eof')).toBe('a\nb\nc\n# BEGIN ANSIBLE MANAGED BLOCK\nl1\nl2\n# END ANSIBLE MANAGED BLOCK\n');
      expect(file(dir, 'no-eol')).toBe('a\nb\nc\n# BEGIN ANSIBLE MANAGED BLOCK\nl1\nl2\n# END ANSIBLE MANAGED BLOCK\n');
      expect(file(dir, 'replace')).toBe('x\n# BEGIN ANSIBLE MANAGED BLOCK\nnew\n# END ANSIBLE MANAGED BLOCK\ny\n');
      expect(file(dir, 'after')).toBe('Listen 1\nfoo\nListen 2\n# BEGIN ANSIBLE MANAGED BLOCK\nnew\n# END ANSIBLE MANAGED BLOCK\nbar\n');
      expect(file(dir, 'before')).toBe('Listen 1\nfoo\n# BEGIN ANSIBLE MANAGED BLOCK\nnew\n# END ANSIBLE MANAGED BLOCK\nListen 2\nbar\n');
      expect(file(dir, 'bof')).toBe('# BEGIN ANSIBLE MANAGED BLOCK\nnew\n# END ANSIBLE MANAGED BLOCK\nListen 1\nfoo\nListen 2\nbar\n');
      expect(file(dir, 'absent')).toBe('x\ny\n');
      expect(file(dir, 'empty-block')).toBe('x\ny\n');
      expect(file(dir, 'multiline')).toBe('SID =\n  (SID_LIST =\n# BEGIN ANSIBLE MANAGED BLOCK\nnew\n# END ANSIBLE MANAGED BLOCK\n  x\n');
      expect(file(dir, 'custom.html')).toBe('<html>\n<body>\n<!-- start -->\n<h1>hi</h1>\n<!-- stop -->\n</body>\n');
      expect(file(dir, 'loop')).toBe(
        '127.0.0.1 localhost\n# BEGIN node1\n10.0.0.1 node1\n# END node1\n# BEGIN node2\n10.0.0.2 node2\n# END node2\n',
      );
      expect(file(dir, 'new/created')).toBe('# BEGIN ANSIBLE MANAGED BLOCK\nnew\n# END ANSIBLE MANAGED BLOCK\n');
      const t = tree(join(dir, 'out'));
      expect(t['custom.html']).toMatch(/^file 600 /);
      expect(t['new/created']).toMatch(/^file 640 /);
      expect(t['validated']).toMatch(/^file 604 /);
    },
    ansible: hasAnsible,
    ansibleReason: 'ansible-playbook is not installed',
  });
});

const AUTHORIZED_KEY = `- hosts: h
  gather_facts: false
  vars:
    d: "{{ playbook_dir }}/out"
    u: ${testUser}
  tasks:
    - authorized_key: {user: "{{ u }}", path: "{{ d }}/append", key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK2 two@host", manage_dir: false}
    - authorized_key: {user: "{{ u }}", path: "{{ d }}/present", key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK1 one@host", manage_dir: false}
    - authorized_key: {user: "{{ u }}", path: "{{ d }}/comment", key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK1", comment: "new comment", manage_dir: false}
    - authorized_key: {user: "{{ u }}", path: "{{ d }}/absent", key: "ssh-rsa AAAAB3rsa1", state: absent, manage_dir: false}
    - ansible.posix.authorized_key:
        user: "{{ u }}"
        path: "{{ d }}/exclusive"
        key: |
          ssh-rsa AAAAB3new x
          ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK1 one@host
        exclusive: true
        manage_dir: false
    - authorized_key: {user: "{{ u }}", path: "{{ d }}/options", key: "ssh-rsa AAAAB3rsa2", key_options: 'from="10.0.0.0/8",no-agent-forwarding', manage_dir: false}
    - authorized_key: {user: "{{ u }}", path: "{{ d }}/options-same", key: "ssh-rsa AAAAB3rsa1 spaced comment", key_options: 'command="echo a, b",no-pty', manage_dir: false}
    - authorized_key: {user: "{{ u }}", path: "{{ d }}/ssh/authorized_keys", key: "ssh-rsa AAAAB3rsa9 c"}
    - authorized_key: {user: "{{ u }}", path: "{{ d }}/k", key: "not a key", manage_dir: false}
      ignore_errors: true
    - authorized_key: {user: nosuchuser-tsplay, path: "{{ d }}/k", key: "ssh-rsa AAAAB3rsa9 c", manage_dir: false}
      ignore_errors: true
`;

const AUTHORIZED_KEY_SETUP = `printf '# keys\\nssh-rsa AAAAB3rsa1 old@host\\n\\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK1 one@host\\n' > append
for f in present comment absent exclusive; do cp append $f; done
printf 'no-pty,command="echo a, b" ssh-rsa AAAAB3rsa1   spaced   comment\\nssh-rsa AAAAB3rsa2' > options
cp options options-same
`;

describe.skipIf(!canAddUser)('authorized_key', () => {
  suite({
    playbook: AUTHORIZED_KEY,
    setup: AUTHORIZED_KEY_SETUP,
    statuses: [
      'changed',
      'ok',
      'changed',
      'changed',
      'changed',
      'changed',
      'ok',
      'changed',
      'fatal',
      '...ignoring',
      'fatal',
      '...ignoring',
    ],
    expectFiles(dir) {
      const head = '# keys\nssh-rsa AAAAB3rsa1 old@host\n\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK1 one@host\n';
      expect(file(dir, 'append')).toBe(head + 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK2 two@host\n');
      expect(file(dir, 'present')).toBe(head);
      expect(file(dir, 'comment')).toBe('# keys\nssh-rsa AAAAB3rsa1 old@host\n\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK1 new comment\n');
      expect(file(dir, 'absent')).toBe('# keys\n\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK1 one@host\n');
      expect(file(dir, 'exclusive')).toBe('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK1 one@host\nssh-rsa AAAAB3new x\n');
      expect(file(dir, 'options')).toBe(
        'no-pty,command="echo a, b" ssh-rsa AAAAB3rsa1 spaced comment\nfrom="10.0.0.0/8",no-agent-forwarding ssh-rsa AAAAB3rsa2 \n',
      );
      expect(file(dir, 'ssh/authorized_keys')).toBe('ssh-rsa AAAAB3rsa9 c\n');
      const t = tree(join(dir, 'out'));
      const uid = uidOf(testUser);
      expect(t['append']).toMatch(new RegExp(`^file 600 ${uid}:`));
      expect(t['present']).toMatch(/^file 644 0:0 /);
      expect(t['ssh']).toMatch(new RegExp(`^dir 700 ${uid}:`));
      expect(t['ssh/authorized_keys']).toMatch(new RegExp(`^file 600 ${uid}:`));
    },
    ansible: hasPosixCollection,
    ansibleReason: 'ansible-playbook or the ansible.posix collection is not installed',
  });
});

// Ansible's cron_file must name a file in /etc/cron.d or be an absolute path: here, in out/.
const CRON = `- hosts: h
  gather_facts: false
  vars:
    d: "{{ playbook_dir }}/out"
    u: ${testUser}
  tasks:
    - cron: {name: backup, user: "{{ u }}", minute: "30", hour: "2", job: /usr/local/bin/backup.sh}
    - cron: {name: old, user: "{{ u }}", minute: "2", job: /usr/bin/old}
    - cron: {name: adopted, user: "{{ u }}", special_time: daily, job: /usr/bin/unnamed}
    - cron: {name: APP, user: "{{ u }}", env: true, job: /srv, insertafter: PATH}
    - cron: {name: MAILTO, user: "{{ u }}", env: true, job: root}
    - cron: {name: LANG, user: "{{ u }}", env: true, job: C}
    - cron: {name: weekdays, user: "{{ u }}", job: /bin/true, disabled: true, weekday: "1-5"}
    - ansible.builtin.cron: {name: at boot, user: "{{ u }}", special_time: reboot, job: /bin/boot}
    - cron: {name: gone, user: "{{ u }}", state: absent}
    - cron: {name: nonexistent, user: "{{ u }}", state: absent}
    - cron: {name: bad, user: "{{ u }}", special_time: reboot, minute: "1", job: x}
      ignore_errors: true
    - cron: {name: job in file, user: root, cron_file: "{{ d }}/cf", job: /bin/f, hour: "3"}
    - cron: {name: gone, cron_file: "{{ d }}/cf", state: absent}
    - cron: {name: only, cron_file: "{{ d }}/cf2", user: nobody, job: /bin/only}
    - cron: {name: last, cron_file: "{{ d }}/cf3", state: absent}
`;

const CRONTAB =
  'PATH=/usr/bin:/bin\nMAILTO=""\n# a comment\n5 4 * * * /usr/bin/existing\n#Ansible: old\n1 1 * * * /usr/bin/old\n@daily /usr/bin/unnamed\n#Ansible: gone\n0 0 * * * /bin/gone\n';

describe.skipIf(!hasCrontab || !canAddUser)(
  `cron${hasCrontab ? '' : ' (skipped: there is no crontab program here: apt-get install cron)'}`,
  () => {
    const crontab = (...args: string[]) =>
      spawnSync('crontab', ['-u', testUser, ...args], { encoding: 'utf8', input: args.includes('-') ? CRONTAB : undefined });
    suite({
      playbook: CRON,
      setup: `printf 'SHELL=/bin/sh\\n#Ansible: gone\\n0 0 * * * root rm -rf /tmp/x\\n' > cf
printf '#Ansible: last\\n* * * * * root x\\n' > cf3
chmod 0600 cf3
`,
      outer: {
        reset() {
          crontab('-r');
          const r = crontab('-');
          if (r.status !== 0) throw new Error(`crontab -u ${testUser} -: ${r.stderr}`);
        },
        read: () => crontab('-l').stdout,
      },
      statuses: [...Array(8).fill('changed'), 'changed', 'ok', 'fatal', '...ignoring', 'changed', 'changed', 'changed', 'changed'],
      expectFiles(dir) {
        expect(crontab('-l').stdout).toBe(
          'LANG="C"\nPATH=/usr/bin:/bin\nAPP="/srv"\nMAILTO="root"\n# a comment\n5 4 * * * /usr/bin/existing\n#Ansible: old\n2 * * * * /usr/bin/old\n#Ansible: adopted\n@daily /usr/bin/unnamed\n' +
            '#Ansible: backup\n30 2 * * * /usr/local/bin/backup.sh\n#Ansible: weekdays\n#* * * * 1-5 /bin/true\n#Ansible: at boot\n@reboot /bin/boot\n',
        );
        expect(file(dir, 'cf')).toBe('SHELL=/bin/sh\n#Ansible: job in file\n* 3 * * * root /bin/f\n');
        expect(file(dir, 'cf2')).toBe('#Ansible: only\n* * * * * nobody /bin/only\n');
        const t = tree(join(dir, 'out'));
        expect(t['cf2']).toMatch(/^file 644 0:0 /);
        expect(t['cf3']).toBeUndefined();
      },
      ansible: hasAnsible,
      ansibleReason: 'ansible-playbook is not installed',
    });
  },
);

// ini_file (community.general's, which 2.14's `ini_file` redirects to): every task converges, so
// the second run changes nothing; the fixtures cover the tasks that undo each other.
const INI_FILE = `- hosts: h
  gather_facts: false
  vars:
    d: "{{ playbook_dir }}/out"
  tasks:
    - ini_file: {path: "{{ d }}/a.ini", section: main, option: x, value: "1"}
    - community.general.ini_file: {path: "{{ d }}/a.ini", section: main, option: y, value: "two words"}
    - ini_file: {path: "{{ d }}/a.ini", option: top, value: t}
    - ini_file: {path: "{{ d }}/a.ini", section: other, option: x, value: "3", no_extra_spaces: true}
    - ini_file: {path: "{{ d }}/b.ini", section: s, option: k, values: [a, b, c]}
    - ini_file: {path: "{{ d }}/b.ini", section: s, option: flag, allow_no_value: true}
    - ini_file: {path: "{{ d }}/b.ini", section: s, option: m, values: [c, d], exclusive: false}
    - ini_file: {path: "{{ d }}/d.ini", section: gone, state: absent}
    - ini_file: {path: "{{ d }}/d.ini", section: two, option: k, value: new}
    - ini_file: {path: "{{ d }}/d.ini", section: one, state: absent}
    - ini_file: {path: "{{ d }}/d.ini", section: two, option: c, value: uncommented}
    - ini_file: {path: "{{ d }}/d.ini", section: three, option: k, state: absent}
    - ini_file: {dest: "{{ d }}/e.ini", section: s, option: k, value: v, mode: "0600"}
    - ini_file: {path: "{{ d }}/new/f.ini", section: s, option: k, value: v}
    - ini_file: {path: "{{ d }}/missing.ini", section: s, option: k, value: v, create: false}
      ignore_errors: true
`;

describe('ini_file', () => {
  suite({
    playbook: INI_FILE,
    setup: `printf '[one]\\na=1\\n\\n[two]\\n# c = comment\\nk=old\\n\\n[three]\\nk = v2\\n;k = v3\\n' > d.ini
printf 'k = v\\r\\nz=1' > e.ini
`,
    statuses: [...Array(7).fill('changed'), 'ok', ...Array(6).fill('changed'), 'fatal', '...ignoring'],
    expectFiles(dir) {
      expect(file(dir, 'a.ini')).toBe('top = t\n\n[main]\nx = 1\ny = two words\n[other]\nx=3\n');
      expect(file(dir, 'b.ini')).toBe('\n[s]\nk = a\nk = b\nk = c\nflag\nm = c\nm = d\n');
      expect(file(dir, 'd.ini')).toBe('[two]\nc = uncommented\nk = new\n\n[three]\n;k = v3\n');
      expect(file(dir, 'e.ini')).toBe('k = v\nz=1\n[s]\nk = v\n');
      expect(file(dir, 'new/f.ini')).toBe('\n[s]\nk = v\n');
    },
    ansible: hasAnsible,
    ansibleReason: 'ansible-playbook is not installed',
  });
});
