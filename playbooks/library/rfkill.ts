// rfkill: the kernel's radio kill switches (/sys/class/rfkill) of one type soft-blocked or
// unblocked, as `rfkill block wifi` does. systemd-rfkill saves each switch's state when it changes
// and restores it at boot, so a block stays across reboots. The result's msg says what was done. A host without such a switch (no Wi-Fi
// device, or its driver not loaded) is not an error: nothing to block, and the result says so.
import { defineModule, noop, planFailure, sh, type Change, type Plan } from 'tsplay';

/** The module's arguments, as the schema below fills them in. */
export interface RfkillArgs {
  type: 'wlan' | 'wifi' | 'bluetooth' | 'wwan' | 'all';
  state: 'blocked' | 'unblocked';
}

/** One switch as /sys/class/rfkill/rfkillN describes it. */
export interface RfkillSwitch {
  /** rfkillN */
  id: string;
  /** wlan, bluetooth, ... */
  type: string;
  /** The driver's name for it (phy0, hci0). */
  name: string;
  /** Blocked by software (rfkill block, NetworkManager). */
  soft: boolean;
  /** Blocked by a switch or the firmware: software cannot lift it. */
  hard: boolean;
}

/** What the gather found. */
export interface RfkillState {
  /** The host has /sys/class/rfkill (the kernel's rfkill support). */
  supported: boolean;
  switches: RfkillSwitch[];
  /**
   * Why a block would not survive a reboot, when it would not: systemd-rfkill masked, or
   * systemd.restore_state=0 on the kernel command line.
   */
  notPersistent?: string;
}

// One line per switch: id, type, soft, hard, name (tab separated); "none" without rfkill support.
const GATHER = `case " $(cat /proc/cmdline 2>/dev/null) " in *" systemd.restore_state=0 "*) echo "persist restore_state=0";; esac
[ "$(systemctl is-enabled systemd-rfkill.service 2>/dev/null)" = masked ] && echo "persist masked"
[ -d /sys/class/rfkill ] || { echo none; exit 0; }
for d in /sys/class/rfkill/rfkill*; do
  [ -r "$d/type" ] || continue
  printf '%s\\t%s\\t%s\\t%s\\t%s\\n' "\${d##*/}" "$(cat "$d/type")" "$(cat "$d/soft")" "$(cat "$d/hard")" "$(cat "$d/name")"
done`;

/** Parse the gather's output. */
export function parseRfkill(stdout: string): RfkillState {
  const lines = stdout.split('\n');
  const persist = lines.filter((l) => l.startsWith('persist ')).map((l) => l.slice('persist '.length).trim());
  const notPersistent = persist.includes('masked')
    ? 'systemd-rfkill.service is masked'
    : persist.includes('restore_state=0')
      ? 'the kernel command line has systemd.restore_state=0'
      : undefined;
  const extra = notPersistent === undefined ? {} : { notPersistent };
  if (lines.some((l) => l.trim() === 'none')) return { supported: false, switches: [], ...extra };
  const switches = lines
    .filter((l) => l.includes('\t'))
    .map((l) => {
      const [id = '', type = '', soft = '', hard = '', name = ''] = l.split('\t');
      return { id, type, name, soft: soft.trim() === '1', hard: hard.trim() === '1' };
    });
  return { supported: true, switches, ...extra };
}

/** The kernel's type name (rfkill's command accepts wifi for wlan). */
const kernelType = (t: RfkillArgs['type']) => (t === 'wifi' ? 'wlan' : t);

/** The plan: pure, from the switches and the arguments. */
export function planRfkill(cur: RfkillState, args: RfkillArgs): Plan {
  const type = kernelType(args.type);
  const mine = cur.switches.filter((s) => type === 'all' || s.type === type);
  const result = { switches: mine };
  const what = type === 'all' ? 'rfkill switch' : `rfkill switch of type ${type}`;
  if (mine.length === 0) {
    const why = cur.supported ? 'no such device, or its driver is not loaded' : 'no /sys/class/rfkill: the kernel has no rfkill support';
    const msg = `no ${what} on this host (${why}): nothing to ${args.state === 'blocked' ? 'block' : 'unblock'}`;
    return noop(msg, { ...result, msg });
  }
  const block = args.state === 'blocked';
  if (!block) {
    const hard = mine.filter((s) => s.hard);
    if (hard.length)
      return planFailure(
        `${hard.map((s) => `${s.id} (${s.name})`).join(', ')} is blocked by hardware (a switch or the firmware): software cannot unblock it`,
        result,
      );
  }
  const changes: Change[] = mine
    .filter((s) => s.soft !== block)
    .map((s) => ({
      summary: `${block ? 'block' : 'unblock'} ${s.type} ${s.name} (${s.id})`,
      commands: [{ cmd: sh`echo ${block ? '1' : '0'} > ${`/sys/class/rfkill/${s.id}/soft`}` }],
    }));
  if (changes.length === 0) {
    const lasts = cur.notPersistent && block ? `; it lasts until the next boot only: ${cur.notPersistent}` : '';
    const msg = `every ${what} is already ${args.state} (${mine.map((s) => s.name).join(', ')})${lasts}`;
    return noop(msg, { ...result, msg });
  }
  // the block is made all the same (the radio is off now), but the user must know it will not last
  const lasts = cur.notPersistent && block ? `; it lasts until the next boot only: ${cur.notPersistent}` : '';
  const msg = changes.map((c) => c.summary).join(', ') + lasts;
  return { changes, result: { switches: mine.map((s) => ({ ...s, soft: block })), msg } };
}

export default defineModule<RfkillArgs, RfkillState>({
  name: 'rfkill',
  description:
    "Soft-block (or unblock) the host's radios of one type through the kernel's rfkill switches, as `rfkill block wifi`; systemd-rfkill keeps the state across reboots. No switch of that type (no such device): ok, nothing to do, and the message says so.",
  schema: {
    type: 'object',
    properties: {
      type: {
        type: 'string',
        enum: ['wlan', 'wifi', 'bluetooth', 'wwan', 'all'],
        default: 'wlan',
        description: 'Which radios: wlan (or wifi), bluetooth, wwan, or all.',
      },
      state: { type: 'string', enum: ['blocked', 'unblocked'], default: 'blocked', description: 'blocked: radios off; unblocked: on.' },
    },
    additionalProperties: false,
  },
  examples: `- name: Wi-Fi off, also after a reboot
  become: true
  rfkill:
    type: wlan
    state: blocked`,

  async gather(ctx) {
    const r = await ctx.run(sh`sh -c ${GATHER}`);
    return parseRfkill(r.stdout);
  },
  plan: planRfkill,
});
