// The rollback guard's logic with a scripted host and a fake clock; the real thing (a booted host
// that restores its firewall and its NetworkManager profile) is tested in test/lab/safe-network.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExecResult } from '../../engine/module.js';
import { disarm, guardedApply, RESTORE_SCRIPT, snapshotAndArm, type GuardIo } from '../../engine/run/safe-network.js';
import type { ShellCommand } from '../../engine/sh.js';

/** A scripted host: what each kind of command answers, and whether a new connection works. */
function fakeHost(opts: { arm?: ExecResult; reachableAfterApply: boolean; reachableAfterRollback?: boolean; disarm?: string }) {
  let clock = 1_000_000;
  let applied = false;
  let rolledBack = false;
  const commands: string[] = [];
  const io: GuardIo = {
    async run(cmd: ShellCommand) {
      commands.push(
        cmd.text.includes('restore.sh"') && cmd.text.includes('umask 077') ? 'arm' : cmd.text.includes('disarmed') ? 'disarm' : cmd.text,
      );
      if (commands.at(-1) === 'arm') return opts.arm ?? { rc: 0, stdout: 'armed\n', stderr: '' };
      return { rc: 0, stdout: opts.disarm ?? 'disarmed\n', stderr: '' };
    },
    async probeNewConnection() {
      clock += 500;
      const ok = rolledBack ? (opts.reachableAfterRollback ?? true) : !applied || opts.reachableAfterApply;
      if (!ok) throw new Error('Connection timed out');
    },
    async reset() {},
    log() {},
    async sleep(ms) {
      clock += ms;
      // the host's timer fires 30 s after arming
      if (applied && clock >= armedAt + 30_000) rolledBack = true;
    },
    now: () => clock,
  };
  const armedAt = clock;
  return {
    io,
    commands,
    apply: async () => {
      applied = true;
      return { result: { done: true } };
    },
    wasApplied: () => applied,
  };
}

describe('the network rollback guard', () => {
  it('keeps a change after which a new connection works, and disarms the timer', async () => {
    const h = fakeHost({ reachableAfterApply: true });
    const out = await guardedApply(h.io, { rollbackTimeout: 30 }, h.apply);
    expect(out).toEqual({ result: { done: true } });
    expect(h.commands).toEqual(['arm', 'disarm']);
  });

  it('applies nothing when the rollback cannot be armed', async () => {
    const h = fakeHost({
      reachableAfterApply: true,
      arm: { rc: 1, stdout: '', stderr: 'mkdir: cannot create directory: Permission denied' },
    });
    const out = await guardedApply(h.io, { rollbackTimeout: 30 }, h.apply);
    expect(h.wasApplied()).toBe(false);
    expect(out.failed).toMatch(/could not arm the network rollback, so nothing was changed: mkdir: .*Permission denied.*become: true/);
  });

  it('fails the task with "rolled back" when the change cut the host off, after the host restored itself', async () => {
    const h = fakeHost({ reachableAfterApply: false });
    const out = await guardedApply(h.io, { rollbackTimeout: 30 }, h.apply);
    expect(out.failed).toMatch(
      /^rolled back: a new SSH connection failed after the change \(Connection timed out\); the host restored its previous network state after 30s/,
    );
    expect(out.unreachable).toBeUndefined();
    expect(h.commands).toEqual(['arm']);
  });

  it('reports the host unreachable when even the rollback did not bring it back', async () => {
    const h = fakeHost({ reachableAfterApply: false, reachableAfterRollback: false });
    const out = await guardedApply(h.io, { rollbackTimeout: 30 }, h.apply);
    expect(out.unreachable).toBe(true);
    expect(out.failed).toMatch(/still unreachable after its rollback/);
  });

  it('the snapshot, arm, disarm and restore scripts are valid sh', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-guard-'));
    for (const [name, text] of [
      ['arm', snapshotAndArm('x1', 30).text],
      ['disarm', disarm('x1').text],
      ['restore', RESTORE_SCRIPT],
    ] as const) {
      writeFileSync(join(dir, name), text);
      expect(() => execFileSync('sh', ['-n', join(dir, name)]), name).not.toThrow();
    }
    expect(snapshotAndArm('x1', 30).text).toContain('--on-active=30s');
  });
});
