// The fake the runner tests stand on: if it answered or recorded wrongly, they could pass for nothing.
import { describe, expect, it } from 'vitest';
import { ConnectionPool } from '../../engine/connection/pool.js';
import { UnreachableError } from '../../engine/errors.js';
import { Secret, sh } from '../../engine/sh.js';
import { FakeHosts } from './fake-connection.js';

const noVars = () => ({});

describe('FakeHosts', () => {
  it('answers with the first matching rule: exact text, pattern, predicate, per host, limited times', async () => {
    const fake = new FakeHosts()
      .on('uptime', { stdout: 'h2 up' }, { host: 'h2' })
      .on('uptime', { stdout: 'up' })
      .on(/^probe/, { rc: 1 }, { times: 1 })
      .on((c) => c.command.startsWith('probe'), { stdout: 'second' });
    const pool = new ConnectionPool(fake);
    const h1 = await pool.get('h1', noVars);
    const h2 = await pool.get('h2', noVars);
    expect(await h1.exec(sh`uptime`)).toEqual({ rc: 0, stdout: 'up', stderr: '' });
    expect(await h2.exec(sh`uptime`)).toEqual({ rc: 0, stdout: 'h2 up', stderr: '' });
    expect((await h1.exec(sh`probe x`)).rc).toBe(1);
    expect(await h1.exec(sh`probe x`)).toEqual({ rc: 0, stdout: 'second', stderr: '' });
    expect(fake.unexpected).toEqual([]);
  });

  it('a handler returning undefined passes the command on; an unanswered command gets rc 127 and is kept', async () => {
    const fake = new FakeHosts().handle(() => undefined).on('ls', { stdout: 'a' });
    const conn = await new ConnectionPool(fake).get('h1', noVars);
    expect((await conn.exec(sh`ls`)).stdout).toBe('a');
    const r = await conn.exec(sh`rm -rf ${'/tmp/x y'}`);
    expect(r.rc).toBe(127);
    expect(fake.unexpected.map((c) => c.command)).toEqual(["rm -rf '/tmp/x y'"]);
  });

  it('records each command with its options, the become password revealed', async () => {
    const fake = new FakeHosts().on(/./, {});
    const conn = await new ConnectionPool(fake).get('h1', noVars);
    await conn.exec(sh`cat`.inOwnShell(), {
      stdin: 'data',
      env: { A: '1' },
      become: { method: 'sudo', user: 'root', password: new Secret('pw') },
      timeoutMs: 5000,
    });
    expect(fake.calls).toEqual([
      {
        seq: 1,
        host: 'h1',
        command: 'cat',
        stdin: 'data',
        env: { A: '1' },
        become: { user: 'root', password: 'pw' },
        ownShell: true,
        timeoutMs: 5000,
      },
    ]);
  });

  it('an unreachable host fails to open, once per pool; a dropped host fails from its Nth command on', async () => {
    const fake = new FakeHosts().on(/./, {}).unreachable('h1').dropAfter('h2', 1);
    const pool = new ConnectionPool(fake);
    await expect(pool.get('h1', noVars)).rejects.toBeInstanceOf(UnreachableError);
    await expect(pool.get('h1', noVars)).rejects.toBeInstanceOf(UnreachableError);
    expect(fake.opened()).toEqual(['h1']);
    const h2 = await pool.get('h2', noVars);
    expect((await h2.exec(sh`one`)).rc).toBe(0);
    await expect(h2.exec(sh`two`)).rejects.toThrow('connection to h2 was lost while a command was running');
    await expect(h2.exec(sh`three`)).rejects.toBeInstanceOf(UnreachableError);
    expect(fake.commands('h2')).toEqual(['one', 'two', 'three']);
  });

  it('answers slowly, counts commands in flight, and times out with rc 124 as a connection does', async () => {
    const fake = new FakeHosts().on('slow', { delayMs: 40 });
    const pool = new ConnectionPool(fake);
    const [a, b] = await Promise.all([pool.get('h1', noVars), pool.get('h2', noVars)]);
    const started = Date.now();
    await Promise.all([a.exec(sh`slow`), b.exec(sh`slow`)]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    expect(fake.maxInFlight).toBe(2);
    expect((await a.exec(sh`slow`, { timeoutMs: 5 })).rc).toBe(124);
    expect(fake.timeline.slice(0, 2)).toEqual(['start h1 slow', 'start h2 slow']);
  });

  it('records resets and closes', async () => {
    const fake = new FakeHosts();
    const pool = new ConnectionPool(fake);
    await pool.get('h1', noVars);
    await pool.reset('h1');
    await pool.get('h1', noVars);
    await pool.closeAll();
    expect(fake.events).toEqual([
      { host: 'h1', event: 'open' },
      { host: 'h1', event: 'reset' },
      { host: 'h1', event: 'open' },
      { host: 'h1', event: 'close' },
    ]);
  });
});
