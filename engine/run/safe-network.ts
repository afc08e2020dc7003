// Safe network changes: a task that changes how its host is reached (nmcli, iptables-ensure,
// route-ensure, ufw, sysctl net.*, or any task with `safe_network: true`) is applied under a rollback
// armed on the host itself, in the spirit of `netplan try` and Junos `commit confirmed`:
//   1. snapshot the network state (firewall, main routing table, net.* sysctls, NetworkManager
//      profiles and active connections, the files that persist them: netplan's among them) and
//      arm a timer that restores it, in one remote command;
//   2. apply the change;
//   3. prove that a NEW SSH connection (through the same jump hosts) still reaches the host;
//   4. disarm the timer. If step 3 fails, the host restores itself when the timer fires, and the
//      task fails with "rolled back: ...".
import { randomBytes } from 'node:crypto';
import { raw, sh, type ShellCommand } from '../sh.js';
import type { ApplyOutcome, ExecResult } from '../module.js';

/** What a guarded apply needs from the task executor. */
export interface GuardIo {
  /** Run a command on the host as the task does (with its become). */
  run(cmd: ShellCommand, opts?: { stdin?: string; timeoutMs?: number }): Promise<ExecResult>;
  /** Open a new connection to the host, run a trivial command, close it; rejects when it cannot. */
  probeNewConnection(timeoutMs: number): Promise<void>;
  /** Forget the task's connection (it may be dead after a rollback). */
  reset(): Promise<void>;
  log(message: string): void;
  /** The clock and the wait (tests swap them). */
  sleep?(ms: number): Promise<void>;
  now?(): number;
}

/** Where the snapshot and the restore script live on the host (tmpfs: gone after a reboot). */
const BASE = '/run/tsplay-rollback';

// Files that persist network state, by what tsplay's modules and our users' guides write.
const PERSISTED = [
  '/etc/iptables',
  '/etc/sysctl.conf',
  '/etc/sysctl.d',
  '/etc/NetworkManager/system-connections',
  '/etc/NetworkManager/conf.d',
  '/etc/netplan',
  '/etc/systemd/system',
  '/etc/dhcpcd.conf',
  '/etc/network/interfaces',
  '/etc/network/interfaces.d',
  '/etc/ufw',
  '/etc/default/ufw',
];

// The sysctls that decide forwarding and per-interface IP behaviour.
const SYSCTL_PATTERN = '^net\\.(ipv4\\.(ip_forward|conf\\.)|ipv6\\.conf\\.)';

/**
 * The restore script, run once by the timer as root. Each part restores only what differs from
 * the snapshot, so a rollback after a firewall change leaves the connections alone.
 */
export const RESTORE_SCRIPT = `#!/bin/sh
# Written by tsplay: restores the network state saved before a task, when the task's change
# cut the host off (the timer that runs this was not disarmed).
D=$(dirname "$0")
exec >"$D/restore.log" 2>&1
echo "rollback started $(date)"
nm_sum() { cat /etc/NetworkManager/system-connections/* /run/NetworkManager/system-connections/* 2>/dev/null | cksum; }
nm_before=$(cat "$D/nm-sum" 2>/dev/null)
nm_changed=no; [ "$(nm_sum)" != "$nm_before" ] && nm_changed=yes
netplan_sum() { cat /etc/netplan/* 2>/dev/null | cksum; }
netplan_changed=no; [ "$(netplan_sum)" != "$(cat "$D/netplan-sum" 2>/dev/null)" ] && netplan_changed=yes
nmconf_sum() { cat /etc/NetworkManager/conf.d/* 2>/dev/null | cksum; }
nmconf_changed=no; [ "$(nmconf_sum)" != "$(cat "$D/nmconf-sum" 2>/dev/null)" ] && nmconf_changed=yes
# 1. files: remove what appeared since the snapshot, put back what was there
for p in ${PERSISTED.join(' ')}; do [ -e "$p" ] && echo "$p"; done > "$D/paths.now"
find $(cat "$D/paths" "$D/paths.now" | sort -u) -print 2>/dev/null | sort > "$D/files.now"
comm -13 "$D/files" "$D/files.now" | sort -r | while IFS= read -r f; do rm -rf -- "$f"; done
[ -s "$D/files.tar" ] && tar -xpf "$D/files.tar" -C /
command -v systemctl >/dev/null 2>&1 && systemctl daemon-reload
# netplan: render and apply the restored /etc/netplan, so that networkd lets go of the interfaces
# it no longer configures and NetworkManager manages its own again (before step 4 brings its
# connections up: an interface networkd still holds is unmanaged for NetworkManager, and networkd
# removes the routes it did not make on its interfaces)
if [ $netplan_changed = yes ] && command -v netplan >/dev/null 2>&1; then netplan apply && echo "applied the restored netplan configuration"; fi
if [ $nmconf_changed = yes ] && command -v nmcli >/dev/null 2>&1; then nmcli general reload conf && echo "reloaded NetworkManager's configuration"; fi
# 2. firewall: every table as it was (tables the snapshot did not have are emptied)
restore_fw() { save=$1; restore=$2; cmd=$3; file=$4
  command -v "$save" >/dev/null 2>&1 || return 0
  [ -f "$file" ] || return 0
  if [ "$("$save" | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//')" = "$(grep -v '^#' "$file" | sed 's/\\[[0-9]*:[0-9]*\\]//')" ]; then return 0; fi
  for t in filter nat mangle raw; do "$cmd" -t $t -F 2>/dev/null; "$cmd" -t $t -X 2>/dev/null; done
  for c in INPUT FORWARD OUTPUT; do "$cmd" -t filter -P $c ACCEPT 2>/dev/null; done
  "$restore" < "$file" && echo "restored $cmd rules"
}
restore_fw iptables-save iptables-restore iptables "$D/v4"
restore_fw ip6tables-save ip6tables-restore ip6tables "$D/v6"
# 3. sysctls
[ -s "$D/sysctl" ] && sysctl -q -e -p "$D/sysctl"
# 4. NetworkManager: profiles reloaded and the connections that were active brought up again
if command -v nmcli >/dev/null 2>&1; then
  active_now=$(nmcli -t -f UUID,DEVICE con show --active 2>/dev/null | sort)
  if [ $nm_changed = yes ] || [ "$active_now" != "$(sort "$D/nm-active")" ]; then
    # restored files keep their old mtime: touch them so NetworkManager reads them again
    touch /etc/NetworkManager/system-connections/* 2>/dev/null
    nmcli con reload
    for u in $(echo "$active_now" | cut -d: -f1); do grep -q "^$u:" "$D/nm-active" || nmcli con down uuid "$u"; done
    while IFS=: read -r uuid dev; do [ -n "$uuid" ] && nmcli -w 30 con up uuid "$uuid" \${dev:+ifname "$dev"}; done < "$D/nm-active"
    echo "restored NetworkManager connections"
  fi
fi
# 5. the main routing table, route by route (no flush: the way in must never vanish); the routes
# through a gateway after those of the links (ip route show lists the default route first, and it
# can only be added once its gateway's network is there again)
ip route show table main | sed 's/ linkdown//' | while IFS= read -r r; do grep -qxF -- "$r" "$D/routes" || ip route del $r; done
{ grep -v ' via ' "$D/routes"; grep ' via ' "$D/routes"; } | while IFS= read -r r; do ip route replace $r 2>/dev/null; done
echo "rollback done $(date)"
touch "$D/rolled-back"
`;

/** One remote command: snapshot the state into DIR, write the restore script (stdin), arm the timer. */
export function snapshotAndArm(id: string, timeoutS: number): ShellCommand {
  const dir = `${BASE}/${id}`;
  const unit = `tsplay-rollback-${id}`;
  const persisted = PERSISTED.join(' ');
  return sh`set -e; umask 077; D=${dir}; mkdir -p "$D"; cat > "$D/restore.sh"
for p in ${raw(persisted)}; do [ -e "$p" ] && echo "$p"; done > "$D/paths" || true
if [ -s "$D/paths" ]; then find $(cat "$D/paths") -print 2>/dev/null | sort > "$D/files" || true; else : > "$D/files"; fi
if [ -s "$D/paths" ]; then tar -cpf "$D/files.tar" $(cat "$D/paths") 2>/dev/null || true; fi
if command -v iptables-save >/dev/null 2>&1; then iptables-save > "$D/v4"; fi
if command -v ip6tables-save >/dev/null 2>&1; then ip6tables-save > "$D/v6" 2>/dev/null || rm -f "$D/v6"; fi
ip route show table main | sed 's/ linkdown//' > "$D/routes"
sysctl -e -r ${SYSCTL_PATTERN} -a 2>/dev/null | grep -v mc_forwarding > "$D/sysctl" || true
cat /etc/NetworkManager/system-connections/* /run/NetworkManager/system-connections/* 2>/dev/null | cksum > "$D/nm-sum" || true
cat /etc/netplan/* 2>/dev/null | cksum > "$D/netplan-sum" || true
cat /etc/NetworkManager/conf.d/* 2>/dev/null | cksum > "$D/nmconf-sum" || true
if command -v nmcli >/dev/null 2>&1; then nmcli -t -f UUID,DEVICE con show --active > "$D/nm-active" 2>/dev/null || true; else : > "$D/nm-active"; fi
if command -v systemd-run >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemd-run --quiet --unit=${unit} --on-active=${`${timeoutS}s`} --timer-property=AccuracySec=100ms /bin/sh "$D/restore.sh"
  echo systemd > "$D/armed"
else
  setsid sh -c ${`sleep ${timeoutS}; exec /bin/sh ${dir}/restore.sh`} </dev/null >/dev/null 2>&1 & echo $! > "$D/pid"
  echo sleep > "$D/armed"
fi
echo armed`;
}

/** One remote command: stop the timer and remove the snapshot (the change is kept). */
export function disarm(id: string): ShellCommand {
  const dir = `${BASE}/${id}`;
  return sh`D=${dir}; if [ -e "$D/rolled-back" ]; then echo too-late; exit 0; fi
if [ "$(cat "$D/armed" 2>/dev/null)" = systemd ]; then systemctl stop ${`tsplay-rollback-${id}.timer`} 2>/dev/null; else kill -- -"$(cat "$D/pid")" 2>/dev/null || kill "$(cat "$D/pid")" 2>/dev/null; fi
if [ -e "$D/rolled-back" ]; then echo too-late; exit 0; fi
rm -rf "$D"; echo disarmed`;
}

/** The guard's settings for one task. */
export interface GuardSettings {
  /** Seconds after arming when the host restores itself unless disarmed. */
  rollbackTimeout: number;
}

const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Apply under the rollback guard. Returns the apply's outcome, or a failure that says what
 * happened: not armed (nothing applied), rolled back, or unreachable after the rollback.
 */
export async function guardedApply(
  io: GuardIo,
  settings: GuardSettings,
  apply: () => Promise<ApplyOutcome | void>,
): Promise<ApplyOutcome & { unreachable?: boolean }> {
  const sleep = io.sleep ?? sleepMs;
  const now = io.now ?? Date.now;
  const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const timeoutS = Math.max(5, Math.round(settings.rollbackTimeout));
  const armed = await io.run(snapshotAndArm(id, timeoutS), { stdin: RESTORE_SCRIPT });
  if (armed.rc !== 0 || !armed.stdout.includes('armed')) {
    return {
      failed: `could not arm the network rollback, so nothing was changed: ${(armed.stderr || armed.stdout).trim() || `rc=${armed.rc}`} (the snapshot needs root: become: true; or set safe_network: false to apply without a rollback)`,
    };
  }
  const armedAt = now();
  io.log(`rollback armed (${timeoutS}s, ${BASE}/${id})`);
  let outcome: ApplyOutcome | void = undefined;
  let applyError: unknown;
  try {
    outcome = await apply();
  } catch (e) {
    applyError = e;
  }
  // Prove a new connection works, retrying until shortly before the timer fires.
  const deadline = armedAt + timeoutS * 1000 - 3000;
  let lastError = '';
  let reachable = false;
  while (now() < deadline) {
    const left = deadline - now();
    try {
      await io.probeNewConnection(Math.max(1000, Math.min(left, 10_000)));
      reachable = true;
      break;
    } catch (e) {
      lastError = (e as Error).message;
      await sleep(Math.min(1000, Math.max(0, deadline - now())));
    }
  }
  if (reachable) {
    // Disarm over the task's connection; only if that one died with the change (a new one
    // works), connect again for it.
    const failed = (e: Error) => ({ rc: -1, stdout: '', stderr: e.message }) as ExecResult;
    let d = await io.run(disarm(id), { timeoutMs: 5000 }).catch(failed);
    if (!/disarmed|too-late/.test(d.stdout)) {
      await io.reset();
      d = await io.run(disarm(id)).catch(failed);
    }
    if (d.stdout.includes('disarmed')) {
      io.log('a new connection works: rollback disarmed');
      if (applyError) throw applyError;
      return outcome ?? {};
    }
    if (!d.stdout.includes('too-late')) {
      return {
        failed: `the change was applied and a new connection works, but disarming the rollback failed (${(d.stderr || d.stdout).trim()}); the host may restore its previous network state at ${BASE}/${id}`,
      };
    }
    lastError = 'the new connection came too late: the rollback had already run';
  }
  // Cut off: the host restores itself when the timer fires. Wait for that, then prove it.
  const firesAt = armedAt + timeoutS * 1000;
  await sleep(Math.max(0, firesAt - now()) + 2000);
  await io.reset();
  const why = applyError ? `the change failed (${(applyError as Error).message}) and ` : '';
  const until = now() + 60_000;
  for (;;) {
    try {
      await io.probeNewConnection(10_000);
      return {
        failed: `rolled back: ${why}a new SSH connection failed after the change (${lastError}); the host restored its previous network state after ${timeoutS}s`,
      };
    } catch (e) {
      if (now() > until) {
        return {
          failed: `rolled back, but the host is still unreachable after its rollback (${(e as Error).message}); a new SSH connection had failed after the change (${lastError})`,
          unreachable: true,
        };
      }
      await sleep(2000);
    }
  }
}
