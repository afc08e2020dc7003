// The rfkill custom module of the wifi-off playbook: plan fixtures on what /sys/class/rfkill
// shows (a Pi's Wi-Fi and Bluetooth switches, none at all), the gather's parsing, and a run of the
// built CLI on this machine, which has no radio: ok, nothing changed, and the message says why.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import rfkill, { parseRfkill, planRfkill, type RfkillState } from '../../playbooks/library/rfkill.js';
import { project } from '../e2e/helpers.js';

const pi = (wlanSoft: boolean, wlanHard = false): RfkillState => ({
  supported: true,
  switches: [
    { id: 'rfkill0', type: 'wlan', name: 'phy0', soft: wlanSoft, hard: wlanHard },
    { id: 'rfkill1', type: 'bluetooth', name: 'hci0', soft: false, hard: false },
  ],
});

describe('rfkill plan', () => {
  it('blocks an unblocked Wi-Fi switch by writing its soft file, and leaves Bluetooth alone', () => {
    const plan = planRfkill(pi(false), { type: 'wlan', state: 'blocked' });
    expect(plan.changes.map((c) => c.summary)).toEqual(['block wlan phy0 (rfkill0)']);
    expect(plan.changes[0]!.commands.map((c) => c.cmd.text)).toEqual(['echo 1 > /sys/class/rfkill/rfkill0/soft']);
    expect(plan.result).toEqual({
      switches: [{ id: 'rfkill0', type: 'wlan', name: 'phy0', soft: true, hard: false }],
      msg: 'block wlan phy0 (rfkill0)',
    });
  });
  it('wifi is the same as wlan; already blocked is a no-op', () => {
    const plan = planRfkill(pi(true), { type: 'wifi', state: 'blocked' });
    expect(plan.changes).toEqual([]);
    expect(plan.reason).toBe('every rfkill switch of type wlan is already blocked (phy0)');
  });
  it('a host without a Wi-Fi switch: no-op that says so', () => {
    const none = planRfkill({ supported: true, switches: [pi(false).switches[1]!] }, { type: 'wlan', state: 'blocked' });
    expect(none.changes).toEqual([]);
    expect(none.reason).toBe('no rfkill switch of type wlan on this host (no such device, or its driver is not loaded): nothing to block');
    const noSys = planRfkill({ supported: false, switches: [] }, { type: 'wlan', state: 'blocked' });
    expect(noSys.reason).toMatch(/no \/sys\/class\/rfkill: the kernel has no rfkill support/);
  });
  it('unblocks, but refuses a hardware block', () => {
    expect(planRfkill(pi(true), { type: 'wlan', state: 'unblocked' }).changes[0]!.commands[0]!.cmd.text).toBe(
      'echo 0 > /sys/class/rfkill/rfkill0/soft',
    );
    expect(planRfkill(pi(true, true), { type: 'wlan', state: 'unblocked' }).failed).toMatch(/rfkill0 \(phy0\) is blocked by hardware/);
  });
  it('all: every switch', () => {
    expect(planRfkill(pi(false), { type: 'all', state: 'blocked' }).changes.map((c) => c.summary)).toEqual([
      'block wlan phy0 (rfkill0)',
      'block bluetooth hci0 (rfkill1)',
    ]);
  });
  it('says when the block will not survive a reboot (systemd-rfkill masked, restore_state=0)', () => {
    const masked = parseRfkill('persist masked\nrfkill0\twlan\t0\t0\tphy0\n');
    expect(masked.notPersistent).toBe('systemd-rfkill.service is masked');
    const plan = planRfkill(masked, { type: 'wlan', state: 'blocked' });
    expect(plan.changes).toHaveLength(1);
    expect(plan.result!.msg).toBe('block wlan phy0 (rfkill0); it lasts until the next boot only: systemd-rfkill.service is masked');
    const noRestore = parseRfkill('persist restore_state=0\nrfkill0\twlan\t1\t0\tphy0\n');
    expect(planRfkill(noRestore, { type: 'wlan', state: 'blocked' }).result!.msg).toBe(
      'every rfkill switch of type wlan is already blocked (phy0); it lasts until the next boot only: the kernel command line has systemd.restore_state=0',
    );
    expect(parseRfkill('rfkill0\twlan\t0\t0\tphy0\n').notPersistent).toBeUndefined();
  });
  it('parses the gather', () => {
    expect(parseRfkill('none\n')).toEqual({ supported: false, switches: [] });
    expect(parseRfkill('rfkill0\twlan\t0\t0\tphy0\nrfkill1\tbluetooth\t1\t0\thci0\n')).toEqual({
      supported: true,
      switches: [
        { id: 'rfkill0', type: 'wlan', name: 'phy0', soft: false, hard: false },
        { id: 'rfkill1', type: 'bluetooth', name: 'hci0', soft: true, hard: false },
      ],
    });
    expect(parseRfkill('')).toEqual({ supported: true, switches: [] });
  });
});

describe('rfkill through the CLI (dist/engine/tsplay.cjs)', () => {
  // this machine (a VM, no radio) shows what the gather really reads: it must agree with /sys
  it('on a host without a Wi-Fi switch: ok, changed=0, in check mode too, with the reason', () => {
    const hasWlan = existsSync('/sys/class/rfkill') && spawnSync('sh', ['-c', 'grep -qx wlan /sys/class/rfkill/*/type']).status === 0;
    if (hasWlan) return; // a machine with Wi-Fi: the lab and the plan tests cover the rest
    const dir = project({
      hosts: 'h ansible_connection=local\n',
      'site.yml': `- hosts: h
  gather_facts: false
  tasks:
    - rfkill: { type: wlan, state: blocked }
      register: r
    - debug: var=r.msg
`,
    });
    const env = { ...process.env, NO_COLOR: '1', TSPLAY_LIBRARY: resolve('playbooks/library') };
    for (const extra of [[], ['--check']]) {
      const run = spawnSync(process.execPath, [resolve('dist/engine/tsplay.cjs'), 'run', 'site.yml', '-i', 'hosts', ...extra], {
        cwd: dir,
        env,
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/h\s+: ok=2\s+changed=0/);
      expect(run.stdout).toMatch(/no rfkill switch of type wlan on this host/);
    }
    expect(rfkill.name).toBe('rfkill');
  });
});
