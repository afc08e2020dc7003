// The shipped cluster playbooks (playbooks/dhcp-setup.yaml, nat-setup.yaml, cluster-shutdown.yaml)
// on a booted lab: gateway + 3 nodes, fresh. What is checked is the hosts' real state (nsenter
// into them: addresses, dnsmasq's file and leases, iptables, nmcli, sysctl, name lookups, HTTP and
// apt from the nodes), not tsplay's report: check mode changes nothing, a second run changes
// nothing, nodes get their reserved addresses and reach the upstream network only after
// nat-setup, also after the gateway rebooted, and cluster-shutdown powers the gateway off last.
// Needs root on Linux; runs only with TSPLAY_LAB_TESTS=1, under `flock /tmp/tsplay-lab.lock`.
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExec, labLeftovers, labPowerOn, labStatus, labUp, type LabInfo } from '../../lab/lab.js';
import { project, recap, tsplay } from '../e2e/helpers.js';
import { probe, sh as labSh, sleep, waitUntil } from './helpers.js';
import { nextSteps } from '../../lab/cli.js';

const enabled = process.env.TSPLAY_LAB_TESTS === '1';
const PLAYBOOKS = resolve('playbooks');
const UPSTREAM = 'http://10.213.0.254/';
const GREETING = 'tsplay lab upstream: you reached the outside';
const CLUSTER_ROUTE = '10.213.1.0/24';

// The controller's side of the cluster route: the root namespace, as `ip route add` on a
// workstation of the home network would do it (not persisted: the lab's link goes with `down`).
const ROUTE_CLIENTS = `[cluster_route_clients]
controller ansible_connection=local cluster_route_persist=false
`;

/** Output of a shell script run as root inside a lab host (nsenter, no SSH). */
const sh = (host: string, script: string): Promise<string> => labSh(host, script, 120_000);
async function rc(host: string, script: string): Promise<number> {
  return (await labExec(host, ['sh', '-c', script], { timeoutMs: 120_000 })).code;
}

/** `getent hosts NAME` on a host, one "address name" per line. */
async function lookup(host: string, name: string): Promise<string[]> {
  return (await sh(host, `getent hosts ${name}`))
    .split('\n')
    .filter(Boolean)
    .map((l) => l.trim().split(/\s+/).join(' '));
}

/** The first line a TCP server sends from the controller (the root namespace), or the error. */
function banner(host: string, port: number): Promise<string> {
  return new Promise((done) => {
    const s = connect({ host, port, timeout: 3000 });
    const end = (t: string) => {
      s.destroy();
      done(t);
    };
    s.on('data', (d) => end(d.toString().split('\n')[0]!.trim()));
    s.on('timeout', () => end('timeout'));
    s.on('error', (e) => end(`error ${(e as NodeJS.ErrnoException).code}`));
  });
}

async function controllerRoute(): Promise<string> {
  return (await promisify(execFile)('ip', ['route', 'show', CLUSTER_ROUTE])).stdout.trim();
}

// Everything the playbooks could touch, one labelled block per probe, so that a difference in
// toEqual shows where it is. Counters and lifetimes (which tick by themselves) are left out.
const GATEWAY_PROBES = [
  'ls -l --time-style=+%s /etc/dnsmasq.d',
  'cat /etc/dnsmasq.d/*',
  'cat /etc/hosts',
  'ls /etc/apt/apt.conf.d; cat /etc/apt/apt.conf.d/90cluster-proxy',
  'stat -c %Y /var/lib/apt/lists; ls /var/lib/apt/lists',
  'nmcli -t -f NAME,TYPE,DEVICE connection show',
  'ls /etc/NetworkManager/system-connections',
  'ip -br -4 addr',
  'ip route',
  'iptables -S; iptables -t nat -S',
  'grep -v "^#" /etc/iptables/rules.v4',
  'ls /etc/systemd/system /etc/systemd/system/multi-user.target.wants /etc/sysctl.d',
  'sysctl -n net.ipv4.ip_forward',
  'systemctl show -p MainPID --value dnsmasq',
  'cat /var/lib/misc/dnsmasq.leases',
];
const NODE_PROBES = ['ip -br -4 addr show eth0', 'cat /etc/resolv.conf', 'ip route'];

/** Lines of ours (comment cluster-nat) in the live rules and in the saved rule set, sorted. */
async function natRules(): Promise<{ live: string[]; saved: string[] }> {
  const mine = (t: string) =>
    t
      .split('\n')
      .filter((l) => l.includes('cluster-nat'))
      .sort();
  return {
    live: mine(await sh('gateway', 'iptables -t nat -S POSTROUTING; iptables -S FORWARD')),
    saved: mine(await sh('gateway', 'cat /etc/iptables/rules.v4 2>/dev/null')),
  };
}
const rulesFor = (up: string) =>
  [
    `-A POSTROUTING -s 10.213.1.0/24 -o ${up} -m comment --comment cluster-nat -j MASQUERADE`,
    `-A FORWARD -i eth0 -o ${up} -m comment --comment cluster-nat -j ACCEPT`,
    `-A FORWARD -i ${up} -o eth0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment cluster-nat -j ACCEPT`,
  ].sort();

describe.skipIf(!enabled)('the cluster playbooks on the lab', () => {
  let lab: LabInfo;
  let dir: string;
  let nodes: { name: string; ip: string; mac: string }[];
  const timings: Record<string, number> = {};

  const play = async (label: string, playbook: string, extra: string[] = []) => {
    const t = Date.now();
    const r = await tsplay(dir, ['run', `${PLAYBOOKS}/${playbook}`, '-i', lab.inventory, '-i', 'routes.ini', ...extra]);
    timings[label] = Date.now() - t;
    return r;
  };
  const everything = async () => {
    const state: Record<string, unknown> = { gateway: await probe('gateway', GATEWAY_PROBES), route: await controllerRoute() };
    for (const n of nodes) state[n.name] = await probe(n.name, NODE_PROBES);
    return state;
  };
  const reachesUpstream = async (node: string) => (await sh(node, `curl -sS -m 3 ${UPSTREAM} 2>&1`)).trim() === GREETING;
  const waitRunning = async (names: string[], minBoots: Record<string, number> = {}) =>
    waitUntil(
      `${names.join(', ')} running`,
      async () => {
        const hosts = (await labStatus()).hosts;
        return names.every((n) => {
          const h = hosts.find((x) => x.name === n);
          return h?.power === 'on' && h.system === 'running' && h.boots > (minBoots[n] ?? 0);
        });
      },
      90_000,
    );
  // (false while the node is between two boots)
  const hasLease = async (n: { name: string; ip: string }) =>
    (await sh(n.name, 'ip -br -4 addr show eth0').catch(() => '')).includes(` ${n.ip}/24`);

  // Power-cycle the nodes and wait for their leases. On a loaded machine a node's DHCP client has
  // been seen to miss its first minute; then the state of both sides is logged and the node is
  // power-cycled once more, as a user would (the lease must still come from the gateway).
  const powerCycleUntilLeased = async (which: typeof nodes) => {
    const boots = Object.fromEntries((await labStatus()).hosts.map((h) => [h.name, h.boots]));
    for (const n of which) await sh(n.name, 'systemctl reboot');
    await waitRunning(
      which.map((n) => n.name),
      boots,
    );
    for (const n of which) {
      const ok = await waitUntil(`${n.name} has ${n.ip}`, () => hasLease(n), 45_000).then(
        () => true,
        () => false,
      );
      if (ok) continue;
      process.stderr.write(
        `cluster-playbooks: ${n.name} has no lease 45 s after its power cycle; trying once more.\n` +
          `gateway: ${await sh('gateway', 'ip -br -4 addr; systemctl is-active dnsmasq; cat /var/lib/misc/dnsmasq.leases; journalctl -u dnsmasq --no-pager | tail -n 15')}\n` +
          `${n.name}: ${await sh(n.name, 'ip -br addr; journalctl -u NetworkManager --no-pager | tail -n 15').catch((e) => String(e))}\n`,
      );
      const again = (await labStatus()).hosts.find((h) => h.name === n.name)!.boots;
      await sh(n.name, 'systemctl reboot');
      await waitRunning([n.name], { [n.name]: again });
      await waitUntil(`${n.name} has ${n.ip} after a second power cycle`, () => hasLease(n), 60_000);
    }
  };

  // Run a shutdown playbook while watching the power switches: when did each host go off?
  const shutdown = async (label: string, extra: string[]) => {
    const offAt: Record<string, number> = {};
    let running = true;
    const watch = (async () => {
      while (running) {
        for (const h of (await labStatus()).hosts) if (h.power === 'off' && offAt[h.name] === undefined) offAt[h.name] = Date.now();
        await sleep(100);
      }
    })();
    const r = await play(label, 'cluster-shutdown.yaml', extra);
    // a host stops answering long before its container has gone: systemd's stop jobs may take up
    // to their 90 s timeout (seen twice in a loaded or unlucky run); wait past that
    await waitUntil('every host off', async () => (await labStatus()).hosts.every((h) => h.power === 'off'), 150_000).catch(() => {});
    await sleep(300);
    running = false;
    await watch;
    return { r, offAt, hosts: (await labStatus()).hosts };
  };

  beforeAll(async () => {
    await labDown();
    lab = await labUp({ nodes: 3 }, () => {});
    nodes = lab.hosts.filter((h) => h.role === 'node').map((h) => ({ name: h.name, ip: h.address, mac: h.links[0]!.mac }));
    dir = project({ 'routes.ini': ROUTE_CLIENTS });
    // The image's apt lists were made when it was built, maybe minutes ago: age them, as on a
    // gateway that has run for a while, so that dhcp-setup's cache update really runs (through
    // the lab's apt proxy).
    await sh('gateway', "touch -d '2 days ago' /var/lib/apt/lists");
  }, 10 * 60_000);

  afterAll(async () => {
    process.stderr.write(`cluster-playbooks timings (ms): ${JSON.stringify(timings)}\n`);
    await labDown();
  }, 120_000);

  it('the next steps lab up prints: the gateway answers; the nodes, without a lease yet, are UNREACHABLE within -T, and nothing warns', async () => {
    const steps = nextSteps(lab.inventory, dir)
      .filter((l) => l.startsWith('  tsplay '))
      .map((l) => l.replace(/#.*$/, '').trim().split(/\s+/).slice(1));
    expect(steps.map((a) => a.slice(0, 2).join(' '))).toEqual([
      'adhoc gateway',
      `run ${PLAYBOOKS}/dhcp-setup.yaml`,
      'adhoc nodes',
      `run ${PLAYBOOKS}/nat-setup.yaml`,
    ]);
    const gw = await tsplay(dir, steps[0]!);
    expect(gw.code, gw.out + gw.err).toBe(0);
    expect(gw.out).toMatch(/^gateway \| SUCCESS/m);
    expect(gw.err).toBe('');
    const started = Date.now();
    const early = await tsplay(dir, [...steps[2]!, '-T', '3']);
    const took = Date.now() - started;
    expect(early.code, early.out + early.err).toBe(4);
    for (const n of nodes) expect(early.out).toMatch(new RegExp(`^${n.name} \\| UNREACHABLE! => \\{[^}]*Connection timed out`, 'm'));
    expect(took).toBeLessThan(15_000); // it took 134 s: the jump host's channel had no timeout
    expect(early.err).not.toContain('Found both group and host');
  }, 120_000);

  it('dhcp-setup says clearly when the gateway has no NetworkManager, and touches nothing', async () => {
    await sh('gateway', 'systemctl stop NetworkManager');
    const before = await probe('gateway', GATEWAY_PROBES);
    const r = await play('no-nm', 'dhcp-setup.yaml');
    expect(r.code, r.out + r.err).toBe(2);
    expect(r.out).toContain('NetworkManager is not running on gateway');
    // (the lab has no dhcpcd: NetworkManager is the stack to start, not dhcpcd to set)
    expect(r.out).toContain('start NetworkManager (systemctl enable --now NetworkManager)');
    expect(r.out).not.toContain('set network_config=dhcpcd');
    expect(recap(r.out, 'gateway')).toMatchObject({ changed: 0, failed: 1 });
    expect(await probe('gateway', GATEWAY_PROBES)).toEqual(before);
    await sh('gateway', 'systemctl start NetworkManager');
    await waitUntil(
      'NetworkManager runs again',
      async () => (await sh('gateway', 'nmcli -t -f RUNNING general 2>&1')).trim() === 'running',
    );
    expect(await sh('gateway', 'ip -br -4 addr show wlan0')).toContain('10.213.0.10/24');
  }, 120_000);

  it('--check on the fresh lab reports the changes and changes nothing', async () => {
    const before = await everything();
    const dhcp = await play('dhcp-check', 'dhcp-setup.yaml', ['--check']);
    expect(dhcp.code, dhcp.out + dhcp.err).toBe(0);
    expect(recap(dhcp.out, 'gateway').changed).toBeGreaterThanOrEqual(5);
    expect(dhcp.out).toMatch(/TASK \[dnsmasq's configuration for the cluster\][^\n]*\nchanged: \[gateway\]/);
    const nat = await play('nat-check', 'nat-setup.yaml', ['--check']);
    expect(nat.code, nat.out + nat.err).toBe(0);
    expect(recap(nat.out, 'gateway')).toMatchObject({ changed: 4, failed: 0 });
    expect(recap(nat.out, 'controller')).toMatchObject({ changed: 1, failed: 0 });
    expect(await everything()).toEqual(before);
    expect(before.route).toBe('');
  }, 180_000);

  it('dhcp-setup: static eth0, dnsmasq with one reservation per node; every node gets its address and resolves the others, but cannot reach upstream yet', async () => {
    const pid = (await sh('gateway', 'systemctl show -p MainPID --value dnsmasq')).trim();
    const r = await play('dhcp-first', 'dhcp-setup.yaml');
    expect(r.code, r.out + r.err).toBe(0);
    // proxy file, apt cache update, nmcli profile, dnsmasq conf, /etc/hosts, the handler
    expect(recap(r.out, 'gateway')).toMatchObject({ changed: lab.aptProxy ? 6 : 4, failed: 0 });

    expect(await sh('gateway', 'ip -br -4 addr show eth0')).toContain('10.213.1.1/24');
    expect(
      await sh('gateway', 'nmcli -g connection.interface-name,ipv4.method,ipv4.addresses,ipv4.never-default connection show cluster'),
    ).toBe('eth0\nmanual\n10.213.1.1/24\nyes\n');
    expect(await sh('gateway', 'nmcli -g GENERAL.STATE connection show cluster')).toBe('activated\n');
    const conf = (await sh('gateway', 'cat /etc/dnsmasq.d/cluster.conf')).split('\n');
    for (const line of [
      'interface=eth0',
      'listen-address=127.0.0.1,10.213.1.1',
      'dhcp-range=10.213.1.100,10.213.1.200,12h',
      'dhcp-option=option:router,10.213.1.1',
      'dhcp-option=option:dns-server,10.213.1.1',
      'domain=cluster.lan',
      'local=/cluster.lan/',
      'expand-hosts',
      'server=10.213.0.254',
      'domain-needed',
      'bogus-priv',
      ...nodes.map((n) => `dhcp-host=${n.mac},${n.name},${n.ip}`),
    ])
      expect(conf).toContain(line);
    expect(conf.filter((l) => l.startsWith('server='))).toEqual(['server=10.213.0.254']);
    expect(await sh('gateway', 'dnsmasq --test 2>&1')).toContain('syntax check OK');
    expect((await sh('gateway', 'systemctl is-active dnsmasq')).trim()).toBe('active');
    expect((await sh('gateway', 'systemctl show -p MainPID --value dnsmasq')).trim()).not.toBe(pid);
    expect(await sh('gateway', 'grep "^10.213.1.1\\s" /etc/hosts')).toBe('10.213.1.1\tgateway.cluster.lan gateway\n');
    if (lab.aptProxy) {
      expect(await sh('gateway', 'cat /etc/apt/apt.conf.d/90cluster-proxy')).toBe(
        'Acquire::http::Proxy "http://10.213.0.1:3142";\nAcquire::http::Proxy::10.213.0.254 "DIRECT";\n',
      );
      // the cache update ran (through the proxy): the lists are fresh again
      const age = Date.now() / 1000 - Number(await sh('gateway', 'stat -c %Y /var/lib/apt/lists'));
      expect(age).toBeLessThan(600);
    }

    // the nodes ask again at once when power-cycled (docs/lab.md)
    await powerCycleUntilLeased(nodes);
    const leases = await sh('gateway', 'cat /var/lib/misc/dnsmasq.leases');
    for (const n of nodes) expect(leases).toMatch(new RegExp(`^\\d+ ${n.mac} ${n.ip.replace(/\./g, '\\.')} ${n.name} `, 'm'));

    for (const n of nodes) {
      expect(await sh(n.name, 'cat /etc/resolv.conf')).toMatch(/nameserver 10\.213\.1\.1\n/);
      for (const other of nodes.filter((o) => o !== n)) {
        expect(await lookup(n.name, other.name)).toEqual([`${other.ip} ${other.name}.cluster.lan`]);
        expect(await lookup(n.name, `${other.name}.cluster.lan`)).toEqual([`${other.ip} ${other.name}.cluster.lan`]);
      }
      expect(await lookup(n.name, 'gateway')).toEqual(['10.213.1.1 gateway.cluster.lan']);
    }

    // before nat-setup: no way out of the cluster, and no way in from the controller
    expect(await reachesUpstream('node1')).toBe(false);
    await sh('node1', "echo 'deb [trusted=yes] http://10.213.0.254/debian ./' > /etc/apt/sources.list.d/lab.list");
    const aptLab =
      '-o Dir::Etc::sourcelist=/etc/apt/sources.list.d/lab.list -o Dir::Etc::sourceparts=- -o Acquire::http::Timeout=3 -o Acquire::Retries=0';
    await sh('node1', `apt-get -q ${aptLab} update`);
    expect(await rc('node1', `apt-get -q -y ${aptLab} install tsplay-lab-hello`)).not.toBe(0);
    expect(await rc('node1', 'command -v tsplay-lab-hello')).not.toBe(0);
    expect(await banner('10.213.1.11', 22)).not.toMatch(/^SSH-/);
  }, 240_000);

  it('a second dhcp-setup changes nothing', async () => {
    const before = await everything();
    const r = await play('dhcp-second', 'dhcp-setup.yaml');
    expect(r.code, r.out + r.err).toBe(0);
    expect(recap(r.out, 'gateway')).toMatchObject({ changed: 0, failed: 0 });
    expect(await everything()).toEqual(before);
  }, 120_000);

  it('nat-setup: forwarding and NAT, saved; every node reaches the upstream HTTP service and installs the lab package; the controller reaches a node', async () => {
    const r = await play('nat-first', 'nat-setup.yaml');
    expect(r.code, r.out + r.err).toBe(0);
    expect(recap(r.out, 'gateway')).toMatchObject({ changed: 4, failed: 0 });
    expect(recap(r.out, 'controller')).toMatchObject({ changed: 1, failed: 0 });

    expect((await sh('gateway', 'sysctl -n net.ipv4.ip_forward')).trim()).toBe('1');
    expect(await sh('gateway', 'cat /etc/sysctl.d/90-cluster-nat.conf')).toBe('net.ipv4.ip_forward=1\n');
    expect(await natRules()).toEqual({ live: rulesFor('wlan0'), saved: rulesFor('wlan0') });
    expect((await sh('gateway', 'systemctl is-enabled tsplay-iptables-restore.service')).trim()).toBe('enabled');
    expect(await controllerRoute()).toMatch(/^10\.213\.1\.0\/24 via 10\.213\.0\.10 dev tslab0/);
    expect(await banner('10.213.1.11', 22)).toMatch(/^SSH-2\.0-OpenSSH/);

    const aptLab = '-o Dir::Etc::sourcelist=/etc/apt/sources.list.d/lab.list -o Dir::Etc::sourceparts=-';
    for (const n of nodes) {
      expect(await reachesUpstream(n.name)).toBe(true);
      await sh(n.name, "echo 'deb [trusted=yes] http://10.213.0.254/debian ./' > /etc/apt/sources.list.d/lab.list");
      const install = await labExec(
        n.name,
        ['sh', '-c', `apt-get -q ${aptLab} update && apt-get -q -y ${aptLab} install tsplay-lab-hello`],
        { timeoutMs: 120_000 },
      );
      expect(install.code, install.stdout + install.stderr).toBe(0);
      expect(await sh(n.name, 'tsplay-lab-hello')).toBe('hello from the tsplay lab repository\n');
    }
    // the nodes' requests reached the upstream service from the gateway's upstream address (NAT)
    const log = readFileSync(join(lab.state, 'upstream', 'http.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes(' GET '));
    expect(log.length).toBeGreaterThanOrEqual(nodes.length);
    expect(log.filter((l) => !/ (::ffff:)?10\.213\.0\.10 GET /.test(l))).toEqual([]);
  }, 240_000);

  it('a second nat-setup changes nothing, and --check on the converged cluster reports nothing', async () => {
    const before = await everything();
    const r = await play('nat-second', 'nat-setup.yaml');
    expect(r.code, r.out + r.err).toBe(0);
    expect(recap(r.out, 'gateway')).toMatchObject({ changed: 0, failed: 0 });
    expect(recap(r.out, 'controller')).toMatchObject({ changed: 0, failed: 0 });
    for (const p of ['dhcp-setup.yaml', 'nat-setup.yaml']) {
      const c = await play(`${p}-check-converged`, p, ['--check']);
      expect(c.code, c.out + c.err).toBe(0);
      expect(recap(c.out, 'gateway')).toMatchObject({ changed: 0, failed: 0 });
    }
    expect(await everything()).toEqual(before);
  }, 180_000);

  // Check mode is the headline promise: after each piece of state is changed by hand, --check must
  // name exactly the tasks that the real run then changes (it predicted 4 where the run made 2,
  // when a rule of another table was missing live).
  it.each([
    [
      'the live MASQUERADE rule removed and ip_forward=0 (rules.v4 untouched)',
      'iptables -t nat -D POSTROUTING -s 10.213.1.0/24 -o wlan0 -m comment --comment cluster-nat -j MASQUERADE && sysctl -qw net.ipv4.ip_forward=0',
    ],
    ['a live FORWARD rule removed', 'iptables -D FORWARD -i eth0 -o wlan0 -m comment --comment cluster-nat -j ACCEPT'],
    ['the MASQUERADE line removed from rules.v4 only', "sed -i '/MASQUERADE/d' /etc/iptables/rules.v4"],
    ['the sysctl file set back to 0', "sed -i 's/= *1/= 0/' /etc/sysctl.d/90-cluster-nat.conf"],
    ['the boot-time restore unit disabled', 'systemctl disable --quiet tsplay-iptables-restore.service'],
  ])(
    'nat-setup --check after drift (%s) names exactly the tasks the real run changes',
    async (_what, drift) => {
      const changed = (out: string) => {
        const found: string[] = [];
        let task = '';
        for (const line of out.split('\n')) {
          if (!line.startsWith('{')) continue;
          const e = JSON.parse(line) as { event: string; name?: string; host?: string; status?: string };
          if (e.event === 'task_start') task = e.name ?? '';
          if (e.event === 'host_result' && e.status === 'changed') found.push(`${e.host}: ${task}`);
        }
        return found.sort();
      };
      await sh('gateway', drift);
      const before = await everything();
      const check = await play('drift-check', 'nat-setup.yaml', ['--check', '--output', 'json']);
      expect(check.code, check.out + check.err).toBe(0);
      expect(await everything()).toEqual(before); // check mode changed nothing
      const real = await play('drift-real', 'nat-setup.yaml', ['--output', 'json']);
      expect(real.code, real.out + real.err).toBe(0);
      expect(changed(check.out)).toEqual(changed(real.out));
      expect(changed(real.out).length).toBeGreaterThan(0);
      // and the cluster is converged again
      const again = await play('drift-again', 'nat-setup.yaml', ['--check', '--output', 'json']);
      expect(changed(again.out)).toEqual([]);
      expect(await natRules()).toEqual({ live: rulesFor('wlan0'), saved: rulesFor('wlan0') });
      expect((await sh('gateway', 'sysctl -n net.ipv4.ip_forward')).trim()).toBe('1');
    },
    180_000,
  );

  it('changing upstream_if moves NAT to the new interface and back, leaving no rule behind', async () => {
    const check = await play('switch-check', 'nat-setup.yaml', ['-e', 'upstream_if=eth1', '--check']);
    expect(recap(check.out, 'gateway')).toMatchObject({ changed: 6, failed: 0 });
    expect(await natRules()).toEqual({ live: rulesFor('wlan0'), saved: rulesFor('wlan0') });

    const toEth1 = await play('switch-eth1', 'nat-setup.yaml', ['-e', 'upstream_if=eth1']);
    expect(toEth1.code, toEth1.out + toEth1.err).toBe(0);
    expect(recap(toEth1.out, 'gateway')).toMatchObject({ changed: 6, failed: 0 });
    expect(await natRules()).toEqual({ live: rulesFor('eth1'), saved: rulesFor('eth1') });
    expect(await sh('gateway', 'iptables-save | grep -c wlan0 || true')).toBe('0\n');
    expect(await reachesUpstream('node1')).toBe(false);

    const again = await play('switch-eth1-again', 'nat-setup.yaml', ['-e', 'upstream_if=eth1']);
    expect(recap(again.out, 'gateway')).toMatchObject({ changed: 0, failed: 0 });

    const back = await play('switch-back', 'nat-setup.yaml');
    expect(back.code, back.out + back.err).toBe(0);
    expect(recap(back.out, 'gateway')).toMatchObject({ changed: 6, failed: 0 });
    expect(await natRules()).toEqual({ live: rulesFor('wlan0'), saved: rulesFor('wlan0') });
    expect(await sh('gateway', 'iptables-save | grep -c eth1 || true')).toBe('0\n');
    expect(await reachesUpstream('node1')).toBe(true);
  }, 180_000);

  it('after the gateway reboots, the nodes still reach the upstream network, and both playbooks change nothing', async () => {
    const boots = (await labStatus()).hosts.find((h) => h.name === 'gateway')!.boots;
    await sh('gateway', 'systemctl reboot');
    await waitRunning(['gateway'], { gateway: boots });
    await waitUntil('node1 reaches upstream through the rebooted gateway', () => reachesUpstream('node1'), 60_000);
    for (const n of nodes) expect(await reachesUpstream(n.name)).toBe(true);
    expect(await lookup('node1', 'node2')).toEqual(['10.213.1.12 node2.cluster.lan']);
    expect((await sh('gateway', 'sysctl -n net.ipv4.ip_forward')).trim()).toBe('1');
    expect((await natRules()).live).toEqual(rulesFor('wlan0'));
    expect(await sh('gateway', 'ip -br -4 addr show eth0')).toContain('10.213.1.1/24');
    for (const p of ['dhcp-setup.yaml', 'nat-setup.yaml']) {
      const r = await play(`${p}-after-reboot`, p);
      expect(r.code, r.out + r.err).toBe(0);
      expect(recap(r.out, 'gateway')).toMatchObject({ changed: 0, failed: 0 });
    }
  }, 240_000);

  it('cluster-shutdown from the leases: every node off, then the gateway; a lease of an unknown host is named', async () => {
    await sh('gateway', "echo '9999999999 02:74:73:00:01:99 10.213.1.150 stranger *' >> /var/lib/misc/dnsmasq.leases");
    const { r, offAt, hosts } = await shutdown('shutdown-leases', ['-e', 'shutdown_nodes_from=leases']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('10.213.1.150 (stranger, 02:74:73:00:01:99) has a lease but is not in the inventory');
    expect(r.out).toContain('powering off node1, node2, node3 (leases), then gateway');
    // the gateway saw every node go silent (a node off answers no ping), it did not give up waiting
    expect(r.out).not.toContain('still answer ping');
    for (const n of nodes) expect(recap(r.out, n.name)).toMatchObject({ changed: 1, failed: 0, unreachable: 0 });
    expect(recap(r.out, 'gateway')).toMatchObject({ changed: 1, failed: 0, unreachable: 0 });
    expect(hosts.map((h) => `${h.name} ${h.power}`)).toEqual(['gateway off', ...nodes.map((n) => `${n.name} off`)]);
    for (const n of nodes) expect(offAt[n.name]).toBeLessThan(offAt.gateway!);
  }, 300_000);

  it('powered on again, the cluster comes back as configured; cluster-shutdown from the inventory powers it off, the gateway last', async () => {
    await labPowerOn('gateway');
    await waitRunning(['gateway']);
    for (const n of nodes) await labPowerOn(n.name);
    await waitRunning(nodes.map((n) => n.name));
    for (const n of nodes) await waitUntil(`${n.name} has ${n.ip} again`, () => hasLease(n), 90_000);
    await waitUntil('node1 reaches upstream', () => reachesUpstream('node1'), 60_000);

    const { r, offAt, hosts } = await shutdown('shutdown-inventory', []);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('powering off node1, node2, node3 (inventory), then gateway');
    expect(r.out).not.toContain('still answer ping');
    expect(hosts.every((h) => h.power === 'off')).toBe(true);
    for (const n of nodes) expect(offAt[n.name]).toBeLessThan(offAt.gateway!);
  }, 420_000);

  it('lab down leaves nothing behind, the cluster route included', async () => {
    await labDown();
    expect(await labLeftovers()).toEqual([]);
    expect(await controllerRoute()).toBe('');
  }, 120_000);
});
