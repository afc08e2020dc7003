// The task executor (runTaskOnHost) driven directly, on FakeHosts: gather -> plan -> apply, check
// mode, idempotence verification, stale re-plans, what each command is sent with, and how
// connection and module failures become results.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineModule, noop, planFailure } from '../../engine/module.js';
import { sh } from '../../engine/sh.js';
import { FakeHosts } from './fake-connection.js';
import { kvStore, taskBench } from './harness.js';

const crashing = defineModule<Record<string, never>, null>({
  name: 'crashes',
  description: 'Throws in gather.',
  schema: { type: 'object', properties: {}, additionalProperties: false },
  async gather() {
    throw new Error('probe exploded');
  },
  plan: () => noop('never'),
});

const refusing = defineModule<Record<string, never>, null>({
  name: 'refuses',
  description: 'Gathers, then cannot do what was asked.',
  schema: { type: 'object', properties: {}, additionalProperties: false },
  async gather(ctx) {
    await ctx.run(sh`probe`);
    return null;
  },
  plan: () => planFailure('the probe says no'),
});

// Like systemd's daemon_reload: a command that runs but that Ansible does not call a change.
const quiet = defineModule<Record<string, never>, null>({
  name: 'quiet',
  description: 'Runs a command, reports ok.',
  schema: { type: 'object', properties: {}, additionalProperties: false },
  async gather() {
    return null;
  },
  plan: () => ({ changes: [{ summary: 'reload', commands: [{ cmd: sh`reload-config` }] }], unreported: true, alwaysChanges: true }),
});

afterEach(() => {
  vi.restoreAllMocks();
});

const kvPlay = `
- hosts: all
  gather_facts: false
  tasks:
    - name: set
      kv: { key: a, value: "1" }
      register: res
      notify: restart
    - name: typo
      kv_typo: { key: a, value: "1" }
    - name: cas
      kv_cas: { key: a, value: "1" }
    - name: run
      command: restart-svc
  handlers:
    - name: restart
      command: restart-svc
`;

function kvHosts(initial: Record<string, string> = {}) {
  const kv = kvStore(new Map([['h1', new Map(Object.entries(initial))]]));
  return { kv, fake: new FakeHosts().handle(kv.handler) };
}

describe('gather, plan, apply', () => {
  it('a change: gathers, applies the planned command, gathers again to verify; registers and notifies', async () => {
    const { kv, fake } = kvHosts();
    const b = taskBench(kvPlay, { fake });
    const r = await b.run('set');
    expect(fake.commands()).toEqual(['kv-get a', 'kv-set a 1', 'kv-get a']);
    expect(r).toMatchObject({ host: 'h1', status: 'changed', result: { changed: true, failed: false, key: 'a' } });
    expect(kv.stores.get('h1')?.get('a')).toBe('1');
    expect(b.host('h1').vars.res).toMatchObject({ changed: true, key: 'a' });
    expect([...b.host('h1').notified]).toEqual(['restart']);
    expect(b.reporter.lines()).toEqual(['h1: changed']);
  });

  it('converged: one gather, no apply, ok, nothing notified', async () => {
    const { fake } = kvHosts({ a: '1' });
    const b = taskBench(kvPlay, { fake });
    const r = await b.run('set');
    expect(fake.commands()).toEqual(['kv-get a']);
    expect(r).toMatchObject({ status: 'ok', result: { changed: false, failed: false } });
    expect(b.host('h1').notified.size).toBe(0);
  });

  it('check mode stops after plan: changed, with the diff in diff mode, and no apply command', async () => {
    const { kv, fake } = kvHosts({ a: '0' });
    const b = taskBench(kvPlay, { fake, settings: { check: true, diff: true } });
    const r = await b.run('set');
    expect(fake.commands()).toEqual(['kv-get a']);
    expect(r.status).toBe('changed');
    expect(r.result.diff).toEqual({ before: '0', after: '1' });
    expect(r.diffs).toEqual([{ before: '0', after: '1' }]);
    expect(kv.stores.get('h1')?.get('a')).toBe('0');
    expect([...b.host('h1').notified]).toEqual(['restart']);
  });

  it('an unreported plan applies its commands and reports ok, notifying nothing; in check mode too', async () => {
    const play = `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: q\n      quiet: {}\n      notify: restart\n  handlers:\n    - name: restart\n      command: x\n`;
    for (const check of [false, true]) {
      const fake = new FakeHosts().on('reload-config', { rc: 0 });
      const b = taskBench(play, { fake, modules: [quiet], settings: { check } });
      const r = await b.run('q');
      expect(fake.commands()).toEqual(check ? [] : ['reload-config']);
      expect(r).toMatchObject({ status: 'ok', result: { changed: false } });
      expect(b.host('h1').notified.size).toBe(0);
    }
  });

  it('a failed apply command fails the task with its rc and output', async () => {
    const fake = new FakeHosts().on('kv-get a', { rc: 1 }).on('kv-set a 1', { rc: 1, stderr: 'read-only store\n' });
    const r = await taskBench(kvPlay, { fake }).run('set');
    expect(fake.commands()).toEqual(['kv-get a', 'kv-set a 1']);
    expect(r.status).toBe('failed');
    expect(r.result).toMatchObject({ failed: true, changed: false, rc: 1, msg: 'set a: command failed (rc=1): read-only store' });
  });

  it('a plan that fails fails the task without applying', async () => {
    const fake = new FakeHosts().on('probe', {});
    const b = taskBench(
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: refuse
      refuses: {}
`,
      { fake, modules: [refusing] },
    );
    const r = await b.run('refuse');
    expect(fake.commands()).toEqual(['probe']);
    expect(r).toMatchObject({ status: 'failed', result: { failed: true, msg: 'the probe says no' } });
  });

  it("an exception in a custom module fails the task on that host with the module's stack", async () => {
    const b = taskBench(
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: crash
      crashes: {}
`,
      { modules: [crashing] },
    );
    const r = await b.run('crash');
    expect(r.status).toBe('failed');
    expect(r.result.msg).toBe('module crashes raised probe exploded');
    expect(String(r.result.exception)).toMatch(/probe exploded[\s\S]*task\.test\.ts/);
  });
});

describe('idempotence verification and stale re-plans', () => {
  it('reports a module whose apply does not converge', async () => {
    const { fake } = kvHosts();
    const r = await taskBench(kvPlay, { fake }).run('typo');
    expect(fake.commands()).toEqual(['kv-get a', 'kv-set a 1x', 'kv-get a']);
    expect(r.status).toBe('failed');
    expect(r.result.msg).toBe('module kv_typo is not idempotent: after apply it still plans: set a (this is a bug in the module)');
  });

  it('does not verify when TSPLAY_VERIFY_IDEMPOTENCE is off, nor for modules that always change', async () => {
    const { fake } = kvHosts();
    const b = taskBench(kvPlay, { fake, settings: { verifyIdempotence: false } });
    expect((await b.run('typo')).status).toBe('changed');
    expect(fake.commands()).toEqual(['kv-get a', 'kv-set a 1x']);
    const cmd = new FakeHosts().on('restart-svc', {});
    expect((await taskBench(kvPlay, { fake: cmd }).run('run')).status).toBe('changed');
    expect(cmd.commands()).toEqual(['restart-svc']);
  });

  it('a stale apply gathers and plans again from what is there now', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const kv = kvStore();
    let raced = false;
    const racing = new FakeHosts()
      .on(/^kv-cas /, (c) => {
        // another run writes the key between this run's gather and its first apply
        if (!raced) {
          raced = true;
          kv.stores.set(c.host, new Map([['a', 'theirs']]));
        }
        return undefined;
      })
      .handle(kv.handler);
    const r = await taskBench(kvPlay, { fake: racing }).run('cas');
    expect(racing.commands()).toEqual(['kv-get a', "kv-cas a '' 1", 'kv-get a', 'kv-cas a theirs 1', 'kv-get a']);
    expect(r.status).toBe('changed');
    expect(kv.stores.get('h1')?.get('a')).toBe('1');
  });

  it('gives up after ten stale applies in a row, having written nothing', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const fake = new FakeHosts().on('kv-get a', { stdout: 'x' }).on(/^kv-cas /, { rc: 3 });
    const r = await taskBench(kvPlay, { fake }).run('cas');
    expect(fake.commands().filter((c) => c.startsWith('kv-cas'))).toHaveLength(10);
    expect(fake.commands().filter((c) => c === 'kv-get a')).toHaveLength(10);
    expect(r.status).toBe('failed');
    expect(r.result.msg).toBe('a changed since it was read, 10 times in a row (another run keeps editing it?): nothing was written');
  });
});

describe('what a command is sent with', () => {
  const optsPlay = `
- hosts: all
  gather_facts: false
  become: true
  tasks:
    - name: as postgres
      command: psql -c ''
      become_user: postgres
    - name: not become
      command: id
      become: false
    - name: with env and stdin
      command: cat
      args:
        stdin: hello
      environment:
        LANG: C
        TOKEN: "{{ token }}"
    - name: slow
      command: sleep-long
      timeout: 0.05
    - name: builtin
      ping:
    - name: custom
      kv: { key: a, value: "1" }
`;

  it('become and become_user, inherited from the play, with the password from the inventory', async () => {
    const fake = new FakeHosts().on(/^(psql|id)/, {});
    const b = taskBench(optsPlay, { fake, inventory: 'h1 ansible_become_password=s3cret token=t\n' });
    await b.run('as postgres');
    await b.run('not become');
    expect(fake.calls.map((c) => [c.command, c.become])).toEqual([
      ["psql -c ''", { user: 'postgres', password: 's3cret' }],
      ['id', undefined],
    ]);
  });

  it('environment is templated and passed as env; stdin gets its newline', async () => {
    const fake = new FakeHosts().on('cat', { stdout: 'hello' });
    await taskBench(optsPlay, { fake, inventory: 'h1 token=abc\n' }).run('with env and stdin');
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]).toMatchObject({ command: 'cat', stdin: 'hello\n', env: { LANG: 'C', TOKEN: 'abc' }, become: { user: 'root' } });
  });

  it('timeout: is passed in milliseconds; a command that outlives it fails with rc 124', async () => {
    const fake = new FakeHosts().on('sleep-long', { delayMs: 2000 });
    const started = Date.now();
    const r = await taskBench(optsPlay, { fake }).run('slow');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(fake.calls[0]?.timeoutMs).toBe(50);
    expect(r).toMatchObject({ status: 'failed', result: { rc: 124 } });
  });

  it("modules' commands may run in the session shell; a user's command text gets a shell of its own", async () => {
    const { kv } = kvHosts();
    const fake = new FakeHosts().on('echo pong', { stdout: 'pong\n' }).handle(kv.handler);
    const b = taskBench(optsPlay, { fake });
    expect((await b.run('builtin')).result.ping).toBe('pong');
    await b.run('custom');
    await b.run('not become');
    expect(fake.calls.map((c) => [c.command, c.ownShell])).toEqual([
      ['echo pong', false],
      ['kv-get a', false],
      ['kv-set a 1', false],
      ['kv-get a', false],
      ['id', true],
    ]);
  });
});

describe('failures that come from the connection or the playbook', () => {
  it('a host that cannot be reached gives an unreachable result and registers nothing', async () => {
    const fake = new FakeHosts().unreachable('h1', 'ssh: connect to host h1 port 22: No route to host');
    const b = taskBench(kvPlay, { fake });
    const r = await b.run('set');
    expect(r).toMatchObject({
      status: 'unreachable',
      result: { unreachable: true, changed: false, msg: 'ssh: connect to host h1 port 22: No route to host' },
    });
    expect(b.host('h1').vars.res).toBeUndefined();
    expect(fake.calls).toEqual([]);
  });

  it('a connection lost between gather and apply makes the task unreachable, not failed', async () => {
    const { fake } = kvHosts();
    fake.dropAfter('h1', 1);
    const r = await taskBench(kvPlay, { fake }).run('set');
    expect(fake.commands()).toEqual(['kv-get a', 'kv-set a 1']);
    expect(r.status).toBe('unreachable');
    expect(r.result.msg).toBe('connection to h1 was lost while a command was running');
  });

  it('an undefined variable fails the task with its name and location; ignore_errors ignores it', async () => {
    const play = `
- hosts: all
  gather_facts: false
  tasks:
    - name: undefined
      command: "echo {{ nope }}"
    - name: undefined but ignored
      command: "echo {{ nope }}"
      ignore_errors: true
`;
    const fake = new FakeHosts();
    const b = taskBench(play, { fake });
    const r = await b.run('undefined');
    expect(r.status).toBe('failed');
    expect(r.ignored).toBe(false);
    expect(String(r.result.msg)).toMatch(/'nope' is undefined[\s\S]*site\.yml:6:/);
    expect((await b.run('undefined but ignored')).ignored).toBe(true);
    expect(fake.calls).toEqual([]);
  });

  it('delegate_to runs the command on the delegate and says so', async () => {
    const fake = new FakeHosts().on('backup h1', {});
    const b = taskBench(
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: backup
      shell: "backup {{ inventory_hostname }}"
      delegate_to: h2
`,
      { fake },
    );
    const r = await b.run('backup', 'h1');
    expect(fake.calls.map((c) => [c.host, c.command])).toEqual([['h2', 'backup h1']]);
    expect(fake.opened()).toEqual(['h2']);
    expect(r).toMatchObject({ host: 'h1', delegatedTo: 'h2', status: 'changed' });
  });
});

describe('loops and conditions in the executor', () => {
  const loopPlay = `
- hosts: all
  gather_facts: false
  vars:
    people: [{ name: ann, active: true }, { name: bob, active: false }, { name: cy, active: true }]
  tasks:
    - name: users
      shell: "useradd {{ u.name }}"
      loop: "{{ people }}"
      loop_control: { loop_var: u, label: "{{ u.name }}", index_var: i }
      when: u.active
      register: added
    - name: flat
      shell: "pkg {{ item }}"
      with_items: [[a, b], c]
    - name: empty
      shell: "pkg {{ item }}"
      loop: []
`;

  it('loop_control: loop_var, label and index_var; when per item; the overall result aggregates', async () => {
    const fake = new FakeHosts().on(/^useradd /, {});
    const b = taskBench(loopPlay, { fake });
    const r = await b.run('users');
    expect(fake.commands()).toEqual(['useradd ann', 'useradd cy']);
    expect(b.reporter.lines()).toEqual(['h1: changed (ann)', 'h1: skipped (bob)', 'h1: changed (cy)']);
    expect(r.status).toBe('changed');
    const results = (b.host('h1').vars.added as { results: Record<string, unknown>[] }).results;
    expect(results.map((x) => [x.i, (x.u as { name: string }).name, x.changed])).toEqual([
      [0, 'ann', true],
      [1, 'bob', false],
      [2, 'cy', true],
    ]);
  });

  it('with_items flattens one level; an empty loop is skipped', async () => {
    const fake = new FakeHosts().on(/^pkg /, {});
    const b = taskBench(loopPlay, { fake });
    await b.run('flat');
    expect(fake.commands()).toEqual(['pkg a', 'pkg b', 'pkg c']);
    const r = await b.run('empty');
    expect(r.status).toBe('skipped');
    expect(fake.calls).toHaveLength(3);
  });

  it('a loop stops at the first unreachable item', async () => {
    const fake = new FakeHosts().on(/^pkg /, {}).dropAfter('h1', 1);
    const b = taskBench(loopPlay, { fake });
    const r = await b.run('flat');
    expect(fake.commands()).toEqual(['pkg a', 'pkg b']);
    expect(r.status).toBe('unreachable');
    expect(b.reporter.lines()).toEqual(['h1: changed (a)', 'h1: unreachable (b)']);
  });
});
