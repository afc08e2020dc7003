// `tsplay lab ...`: the lab's commands for engine/cli.ts. Each action is an exported function
// that returns an exit code; the caller decides what to do with it (setCode).
import { dirname, isAbsolute, join, relative } from 'node:path';
import type { Command } from 'commander';
import { packageJsonPath } from '../engine/paths.js';
import { CLUSTER, MAX_NODES } from './config.js';
import { LabError } from './proc.js';

// The lab's code is loaded only when a lab command runs: `tsplay run` starts faster without it.
const labModule = () => import('./lab.js');
const upstream = () => import('./upstream.js');

/** Where the lab commands write. */
export interface LabCliIO {
  out(s: string): void;
  err(s: string): void;
}

/** Exit codes of the lab commands: 0 ok, 1 the lab failed, 5 bad options. */
export const LAB_EXIT = { ok: 0, error: 1, options: 5 } as const;

function fail(e: unknown, io: LabCliIO): number {
  if (e instanceof LabError) {
    io.err(`ERROR! ${e.message}\n`);
    return LAB_EXIT.error;
  }
  const err = e as Error;
  io.err(
    `ERROR! internal error in tsplay lab: ${err?.message ?? String(e)}\n${err?.stack ?? ''}\nThis is a bug in tsplay; please report it with the command line and the stack above.\n`,
  );
  return 250;
}

/**
 * What to run after `lab up`, in the README's order. The nodes have no address until dhcp-setup
 * ran and they took a lease, so a ping of all hosts right away can only fail for the nodes.
 */
export function nextSteps(inventory: string, cwd: string): string[] {
  const root = dirname(packageJsonPath());
  const playbook = (name: string) => {
    const rel = relative(cwd, join(root, 'playbooks', name));
    return rel.startsWith('..') || isAbsolute(rel) ? join(root, 'playbooks', name) : rel;
  };
  const steps: [string, string][] = [
    [`tsplay adhoc gateway -i ${inventory} -m ping`, 'the gateway answers now'],
    [`tsplay run ${playbook('dhcp-setup.yaml')} -i ${inventory}`, 'DHCP and DNS for the nodes'],
    [`tsplay adhoc nodes -i ${inventory} -m ping`, 'the nodes answer once they took a lease (within a minute)'],
    [`tsplay run ${playbook('nat-setup.yaml')} -i ${inventory}`, 'the nodes reach upstream through NAT'],
  ];
  const width = Math.max(...steps.map(([c]) => c.length));
  return ['next:', ...steps.map(([c, why]) => `  ${c.padEnd(width)}  # ${why}`)];
}

export async function labUpCommand(o: { nodes?: string }, io: LabCliIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const nodes = o.nodes === undefined ? 3 : Number(o.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) {
    io.err(`ERROR! --nodes must be a whole number from 1 to ${MAX_NODES}, not ${o.nodes}\n`);
    return LAB_EXIT.options;
  }
  try {
    const { LAB_APT_SOURCE, LAB_HTTP_URL, APT_PROXY_URL } = await upstream();
    const lab = await (await labModule()).labUp({ nodes }, (s) => io.out(s), env);
    const gateway = lab.hosts[0];
    const lines = [
      `lab: up in ${lab.seconds.toFixed(1)} s: gateway and ${nodes} node${nodes === 1 ? '' : 's'} (Debian bookworm, systemd, NetworkManager)`,
      `  ${gateway.name.padEnd(8)} ${gateway.address} on the home network (wlan0); eth0 on the cluster switch, unconfigured`,
      ...lab.hosts
        .filter((h) => h.role === 'node')
        .map((h) => `  ${h.name.padEnd(8)} eth0 ${h.links[0].mac}, no address until a DHCP server answers (inventory: ${h.address})`),
      `  inventory    ${lab.inventory} (become password in group_vars/all.yml)`,
      `  route        ${lab.routeClients} (with nat-setup: a route from here to the cluster)`,
      `  ssh          ssh -F ${lab.sshConfig} gateway   (nodes: through the gateway, once they have an address)`,
      `  key          ${lab.key}`,
      `  known_hosts  ${lab.knownHosts}`,
      `  password     ${lab.passwordFile} (pi's sudo password)`,
      `  upstream     ${LAB_HTTP_URL}  apt: ${LAB_APT_SOURCE}${lab.aptProxy ? `  apt proxy: ${APT_PROXY_URL}` : ''}`,
      `  cluster      suggested ${CLUSTER.subnet}, gateway ${CLUSTER.gateway} (dhcp-setup configures it)`,
      ...nextSteps(dirname(lab.inventory), process.cwd()), // the inventory directory, as in the README
      'stop: tsplay lab down',
      '',
    ];
    io.out(lines.join('\n'));
    return LAB_EXIT.ok;
  } catch (e) {
    return fail(e, io);
  }
}

export async function labDownCommand(io: LabCliIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const removed = await (await labModule()).labDown(env);
    io.out(removed ? 'lab: down\n' : 'lab: nothing to remove\n');
    return LAB_EXIT.ok;
  } catch (e) {
    return fail(e, io);
  }
}

export async function labStatusCommand(o: { json?: boolean }, io: LabCliIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const s = await (await labModule()).labStatus(env);
    if (o.json) {
      io.out(JSON.stringify(s) + '\n');
      return LAB_EXIT.ok;
    }
    if (!s.up) {
      io.out('lab: down (tsplay lab up starts it)\n');
      return LAB_EXIT.ok;
    }
    io.out(`lab: up with ${s.nodes} node${s.nodes === 1 ? '' : 's'}; inventory ${s.inventory}\n`);
    io.out(
      `${'HOST'.padEnd(9)}${'POWER'.padEnd(7)}${'SYSTEMD'.padEnd(11)}${'BOOTS'.padEnd(7)}${'ADDRESS'.padEnd(16)}${'INVENTORY'.padEnd(16)}${'MAC'.padEnd(19)}BOOTED FROM\n`,
    );
    for (const h of s.hosts) {
      io.out(
        `${h.name.padEnd(9)}${h.power.padEnd(7)}${(h.system ?? '-').padEnd(11)}${String(h.boots).padEnd(7)}${(h.address ?? '-').padEnd(16)}${h.inventoryAddress.padEnd(16)}${h.mac.padEnd(19)}${h.bootedFrom ?? '-'}\n`,
      );
    }
    io.out(`upstream: http ${s.upstream.http ? 'running' : 'stopped'}, apt proxy ${s.upstream.aptProxy ? 'running' : 'not running'}\n`);
    return LAB_EXIT.ok;
  } catch (e) {
    return fail(e, io);
  }
}

export async function labPowerOnCommand(host: string, io: LabCliIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const r = await (await labModule()).labPowerOn(host, env);
    io.out(r.already ? `lab: ${host} is already on (${r.system})\n` : `lab: ${host} powered on (${r.system})\n`);
    return LAB_EXIT.ok;
  } catch (e) {
    return fail(e, io);
  }
}

/** Add `lab up|down|status|power-on` to the program; each action hands its exit code to setCode. */
export function registerLabCommands(program: Command, io: LabCliIO, setCode: (code: number) => void): void {
  const lab = program.command('lab').description('a virtual cluster of booted Debian hosts to try playbooks on (needs root on Linux)');
  lab
    .command('up')
    .description('boot a gateway and N nodes from a clean state and write their inventory')
    .option('--nodes <n>', `number of nodes (1-${MAX_NODES})`, '3')
    .action(async (o: { nodes?: string }) => setCode(await labUpCommand(o, io)));
  lab
    .command('down')
    .description('remove every namespace, link, mount and process the lab made')
    .action(async () => setCode(await labDownCommand(io)));
  lab
    .command('status')
    .description('list the hosts and whether they are running')
    .option('--json', 'print one JSON object')
    .action(async (o: { json?: boolean }) => setCode(await labStatusCommand(o, io)));
  lab
    .command('power-on')
    .description('switch a powered-off host on again (the smart plug)')
    .argument('<host>', 'gateway, node1, ...')
    .action(async (host: string) => setCode(await labPowerOnCommand(host, io)));
}
