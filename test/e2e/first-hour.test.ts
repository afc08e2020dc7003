// What a new user meets in the first hour, through the built CLI: files tsplay may not read, a run
// without an inventory, `tsplay doc`. Unreadable files need a process that root's file
// permissions bind: setpriv drops the two capabilities that let root read anything.
import { chmodSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project } from './helpers.js';

const CLI = resolve('dist/engine/cli.js');
const asRoot = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv');
const DROP = ['--bounding-set=-dac_override,-dac_read_search', '--inh-caps=-dac_override,-dac_read_search'];

function cli(dir: string, args: string[], opts: { bound?: boolean } = {}) {
  const [cmd, argv] = opts.bound ? ['setpriv', [...DROP, process.execPath, CLI, ...args]] : [process.execPath, [CLI, ...args]];
  const r = spawnSync(cmd as string, argv as string[], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const SITE = '- hosts: all\n  gather_facts: false\n  tasks:\n    - copy: { content: "touched\\n", dest: "{{ playbook_dir }}/touched" }\n';

describe.skipIf(!asRoot)('files tsplay may not read', () => {
  it('an unreadable inventory file: permission denied and the path, exit 1, no stack, no host touched', () => {
    const dir = project({ 'hosts.ini': 'h ansible_connection=local\n', 'site.yml': SITE });
    chmodSync(join(dir, 'hosts.ini'), 0o000);
    const r = cli(dir, ['run', 'site.yml', '-i', 'hosts.ini'], { bound: true });
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.err).toContain(`ERROR! cannot read inventory file ${join(dir, 'hosts.ini')}: permission denied`);
    expect(r.err).not.toMatch(/internal error|please report|^\s+at /m);
    expect(existsSync(join(dir, 'touched'))).toBe(false);
  });

  it('an unreadable inventory directory: permission denied, not "not found"', () => {
    const dir = project({ 'inv/hosts.ini': 'h ansible_connection=local\n', 'site.yml': SITE });
    chmodSync(join(dir, 'inv'), 0o000);
    const r = cli(dir, ['run', 'site.yml', '-i', 'inv'], { bound: true });
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.err).toContain(`cannot read inventory directory ${join(dir, 'inv')}: permission denied`);
    expect(r.err).not.toMatch(/not found|'inv,'/);
    expect(existsSync(join(dir, 'touched'))).toBe(false);
  });

  it('an inventory file inside a directory tsplay may not enter: permission denied', () => {
    const dir = project({ 'locked/hosts.ini': 'h ansible_connection=local\n', 'site.yml': SITE });
    chmodSync(join(dir, 'locked'), 0o600);
    const r = cli(dir, ['run', 'site.yml', '-i', 'locked/hosts.ini'], { bound: true });
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.err).toContain('permission denied');
    expect(r.err).not.toMatch(/internal error|not found/);
  });

  it('an unreadable group_vars file: permission denied naming it', () => {
    const dir = project({ 'inv/hosts.ini': 'h ansible_connection=local\n', 'inv/group_vars/all.yml': 'a: 1\n', 'site.yml': SITE });
    chmodSync(join(dir, 'inv/group_vars/all.yml'), 0o000);
    const r = cli(dir, ['run', 'site.yml', '-i', 'inv'], { bound: true });
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.err).toContain(`${join(dir, 'inv/group_vars/all.yml')}: permission denied`);
    expect(r.err).not.toMatch(/internal error|^\s+at /m);
  });

  it('an unreadable playbook: permission denied naming it', () => {
    const dir = project({ 'hosts.ini': 'h ansible_connection=local\n', 'site.yml': SITE });
    chmodSync(join(dir, 'site.yml'), 0o000);
    const r = cli(dir, ['run', 'site.yml', '-i', 'hosts.ini'], { bound: true });
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.err).toContain(`cannot read playbook ${join(dir, 'site.yml')}: permission denied`);
    expect(r.err).not.toMatch(/internal error|^\s+at /m);
  });
});

const noDefaultInventory = !existsSync('/etc/ansible/hosts');

describe('a run without -i', () => {
  const env = () => {
    const e = { ...process.env, NO_COLOR: '1', ANSIBLE_NOCOLOR: '1' };
    delete e.ANSIBLE_INVENTORY;
    return e;
  };
  const NO_INVENTORY = '[WARNING]: No inventory was parsed, only implicit localhost is available';
  const EMPTY =
    "[WARNING]: provided hosts list is empty, only localhost is available. Note that the implicit localhost does not match 'all'";

  it.skipIf(!noDefaultInventory)('warns as Ansible does, matches no host for all, runs localhost plays on the implicit localhost', () => {
    const dir = project({ 'all.yml': SITE, 'lh.yml': SITE.replace('hosts: all', 'hosts: localhost') });
    const run = (pb: string) => {
      const r = spawnSync(process.execPath, [CLI, 'run', pb], { cwd: dir, encoding: 'utf8', env: env() });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const all = run('all.yml');
    expect(all.code).toBe(0);
    expect(all.err).toContain(NO_INVENTORY);
    expect(all.err).toContain(EMPTY);
    expect(all.out).toContain('skipping: no hosts matched');
    expect(existsSync(join(dir, 'touched'))).toBe(false);
    const lh = run('lh.yml');
    expect(lh.code).toBe(0);
    expect(lh.out).toMatch(/localhost\s+: ok=1\s+changed=1/);
    expect(existsSync(join(dir, 'touched'))).toBe(true);
  });

  it.skipIf(!hasAnsible || !noDefaultInventory)('ansible-playbook prints the same two warnings and exit code', () => {
    const dir = project({ 'all.yml': SITE });
    const a = spawnSync('ansible-playbook', ['all.yml'], { cwd: dir, encoding: 'utf8', env: env() });
    const t = spawnSync(process.execPath, [CLI, 'run', 'all.yml'], { cwd: dir, encoding: 'utf8', env: env() });
    expect(t.status).toBe(a.status);
    const ansibleWarnings = a.stderr
      .replace(/\n(?!\[)/g, ' ')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('[WARNING]'));
    expect(ansibleWarnings).toEqual([NO_INVENTORY, EMPTY]);
    expect(
      t.stderr
        .split('\n')
        .filter((l) => l.startsWith('[WARNING]'))
        .map((l) => l.replace(/ \(give one with -i.*\)$/, '')),
    ).toEqual([NO_INVENTORY, EMPTY]);
  });

  it('an empty inventory gets only the second warning', () => {
    const dir = project({ 'empty.ini': '# nothing yet\n', 'all.yml': SITE });
    const r = spawnSync(process.execPath, [CLI, 'run', 'all.yml', '-i', 'empty.ini'], { cwd: dir, encoding: 'utf8', env: env() });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain(NO_INVENTORY);
    expect(r.stderr).toContain(EMPTY);
  });
});

describe('tsplay doc', () => {
  const doc = (...args: string[]) => cli(process.cwd(), ['doc', ...args]);

  it('--list: one line per module, its whole first sentence, and the short aliases', () => {
    const r = doc('--list');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    const row = (name: string) => lines.find((l) => l.split(/\s+/)[0] === name);
    expect(row('assert')).toMatch(
      /^assert\s+Check that expressions hold \(e\.g\. that a variable is set to a sane value\) and fail with fail_msg otherwise\.$/,
    );
    expect(row('debug')).toMatch(/\(var\), e\.g\. a registered result\.$/);
    expect(row('iptables')).toMatch(/^iptables\s+alias of iptables-ensure$/);
    expect(row('systemd_service')).toMatch(/^systemd_service\s+alias of systemd$/);
    expect(lines.filter((l) => l.startsWith('ansible.builtin.'))).toEqual([]);
    for (const l of lines) expect(l, l).toMatch(/[.)]$|alias of \S+$/); // no sentence cut short
    expect([...lines].map((l) => l.split(/\s+/)[0]).sort()).toEqual(lines.map((l) => l.split(/\s+/)[0]));
  });

  it('a misspelt module name gets a "did you mean"; an alias shows its module', () => {
    const r = doc('lineinfle');
    expect(r.code).toBe(5);
    expect(r.err).toContain('ERROR! module lineinfle not found');
    expect(r.err).toContain('did you mean lineinfile?');
    const a = doc('iptables');
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/^> IPTABLES-ENSURE/);
  });
});
