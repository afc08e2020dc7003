// What the lab tests share: running a shell script on a lab host, waiting for a state, and
// reading several pieces of a host's state at once (to prove that a run changed nothing).
import { labExec } from '../../lab/lab.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `ok` every 300 ms until it holds; fail naming `what` after `ms`. */
export async function waitUntil(what: string, ok: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await sleep(300);
  }
}

/** A shell script's standard output on a lab host (inside its namespace, as root). */
export async function sh(host: string, script: string, timeoutMs = 180_000): Promise<string> {
  return (await labExec(host, ['sh', '-c', script], { timeoutMs })).stdout;
}

/** Each probe's output (stderr included) on `host`, keyed by the probe: compare two of these. */
export async function probe(host: string, probes: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of probes) out[p] = await sh(host, `{ ${p}; } 2>&1`);
  return out;
}
