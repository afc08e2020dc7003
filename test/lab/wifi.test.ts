// The Wi-Fi playbooks on a booted lab (gateway + 1 node): playbooks/wifi-ap-bridge.yaml turns the
// gateway's cluster side into a bridge br0 (eth0 a port, dhcp-setup's ethernet profile replaced)
// with an access point profile as a second port, and dnsmasq serving br0; the node gets its lease
// through the bridge, also after the gateway rebooted. playbooks/wifi-off.yaml on the node: no
// rfkill switch in the lab (the message says so), NetworkManager's Wi-Fi radio off and still off
// after a reboot, dtoverlay=disable-wifi in a config.txt. Each playbook: --check changes nothing,
// a second run changes nothing. What is checked is the hosts' real state (nsenter into them).
//
// Not tested here, and cannot be: a radio. The lab's hosts have no Wi-Fi device and no
// /sys/class/rfkill; the access point's profile is created and read back with nmcli, never
// started (its interface here, wlan1, does not exist; the lab's wlan0 is the gateway's upstream
// veth and must stay so). The rfkill block itself is covered by test/library/rfkill.test.ts.
// Needs root on Linux; runs only with TSPLAY_LAB_TESTS=1, under `flock /tmp/tsplay-lab.lock`.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labStatus, labUp, type LabInfo } from '../../lab/lab.js';
import { project, recap, tsplay } from '../e2e/helpers.js';
import { probe, sh as labSh, waitUntil } from './helpers.js';

const enabled = process.env.TSPLAY_LAB_TESTS === '1';
const PLAYBOOKS = resolve('playbooks');
const PSK = 'lab-psk-never-printed';
const AP_VARS = JSON.stringify({ cluster_if: 'br0', wifi_ap_if: 'wlan1', wifi_ap_ssid: 'tsplay-lab', wifi_ap_psk: PSK });
const CONFIG_TXT = '/etc/tsplay-lab-config.txt';
const OFF_VARS = JSON.stringify({ wifi_off_config_txt: true, config_txt_path: CONFIG_TXT });

// stderr too: what a failing command said is part of what the assertions read
const sh = (host: string, script: string): Promise<string> => labSh(host, `{ ${script}; } 2>&1`, 120_000);

// Everything the bridge playbook could touch on the gateway.
const GATEWAY_PROBES = [
  'nmcli -t -f NAME,TYPE,DEVICE connection show | sort',
  'ls /etc/NetworkManager/system-connections',
  'ip -br -4 addr',
  'ip -o link show master br0 | cut -d: -f2',
  'cat /etc/dnsmasq.d/cluster.conf',
  'systemctl show -p MainPID --value dnsmasq',
];
const NODE_PROBES = ['nmcli -t -f WIFI general', 'cat /var/lib/NetworkManager/NetworkManager.state', `cat ${CONFIG_TXT}`];

describe.skipIf(!enabled)('the Wi-Fi playbooks on the lab', () => {
  let lab: LabInfo;
  let dir: string;
  let node: { name: string; ip: string; mac: string };
  const play = (playbook: string, extra: string[]) => tsplay(dir, ['run', `${PLAYBOOKS}/${playbook}`, '-i', lab.inventory, ...extra]);
  const bridge = (...extra: string[]) => play('wifi-ap-bridge.yaml', ['-e', AP_VARS, ...extra]);
  const wifiOff = (...extra: string[]) => play('wifi-off.yaml', ['-e', OFF_VARS, ...extra]);
  const hasLease = async () => (await sh(node.name, 'ip -br -4 addr show eth0').catch(() => '')).includes(` ${node.ip}/24`);
  const reboot = async (host: string) => {
    const boots = (await labStatus()).hosts.find((h) => h.name === host)!.boots;
    await sh(host, 'systemctl reboot');
    await waitUntil(
      `${host} running again`,
      async () => {
        const h = (await labStatus()).hosts.find((x) => x.name === host);
        return h?.power === 'on' && h.system === 'running' && h.boots > boots;
      },
      // systemd's stop jobs may take up to their 90 s timeout on a loaded machine
      180_000,
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify((await labStatus()).hosts.find((h) => h.name === host))}`);
    });
    await waitUntil(`NetworkManager runs on ${host}`, async () => (await sh(host, 'nmcli -t -f RUNNING general')).trim() === 'running');
  };

  beforeAll(async () => {
    await labDown();
    lab = await labUp({ nodes: 1 }, () => {});
    const n = lab.hosts.find((h) => h.role === 'node')!;
    node = { name: n.name, ip: n.address, mac: n.links[0]!.mac };
    dir = project({});
  }, 10 * 60_000);
  afterAll(async () => labDown(), 120_000);

  it('wifi-ap-bridge refuses the cluster interface as its own port, before touching anything', async () => {
    const before = await probe('gateway', GATEWAY_PROBES);
    // the lab's group_vars say cluster_if=eth0: the bridge cannot be its own port
    const r = await play('wifi-ap-bridge.yaml', ['-e', JSON.stringify({ wifi_ap_ssid: 'x', wifi_ap_psk: PSK })]);
    expect(r.code, r.out + r.err).toBe(2);
    expect(r.out).toContain('cluster_if (eth0) is the bridge and must not be one of its ports');
    // a password too short for WPA2: said, and not printed
    const short = await play('wifi-ap-bridge.yaml', [
      '-e',
      JSON.stringify({ cluster_if: 'br0', wifi_ap_ssid: 'x', wifi_ap_psk: 'short12' }),
    ]);
    expect(short.code, short.out + short.err).toBe(2);
    expect(short.out).toContain('wifi_ap_psk (the WPA2 password, 8 to 63 characters; keep it in a vault file) are required');
    expect(short.out + short.err).not.toContain('short12');
    expect(await probe('gateway', GATEWAY_PROBES)).toEqual(before);
  }, 60_000);

  it('the gateway as it was (dhcp-setup on eth0), then the bridge: --check changes nothing, the run makes br0 with eth0 and the access point', async () => {
    const dhcp = await play('dhcp-setup.yaml', []);
    expect(dhcp.code, dhcp.out + dhcp.err).toBe(0);
    expect(await sh('gateway', 'nmcli -g connection.type,connection.interface-name connection show cluster')).toBe(
      '802-3-ethernet\neth0\n',
    );

    const before = await probe('gateway', GATEWAY_PROBES);
    const check = await bridge('--check');
    expect(check.code, check.out + check.err).toBe(0);
    expect(check.out).toMatch(/TASK \[The cluster profile gives way to the bridge\][^\n]*\nchanged: \[gateway\]/);
    expect(await probe('gateway', GATEWAY_PROBES)).toEqual(before);

    const r = await bridge();
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out + r.err).not.toContain(PSK);
    expect(r.out).toContain('wlan1 is not a Wi-Fi device here');
    expect(r.out).toContain('NetworkManager starts it when the device appears');

    // br0 holds the cluster address, eth0 is its port without an address of its own
    expect(await sh('gateway', 'ip -br -4 addr show br0')).toMatch(/^br0\s+UP\s+10\.213\.1\.1\/24/);
    expect(await sh('gateway', 'ip -br -4 addr show eth0')).toBe('');
    expect(await sh('gateway', 'ip -o link show master br0')).toMatch(/^\d+: eth0@\S+: .* master br0 state UP/);
    expect(
      await sh('gateway', 'nmcli -g connection.type,connection.interface-name,bridge.stp,ipv4.addresses connection show cluster'),
    ).toBe('bridge\nbr0\nno\n10.213.1.1/24\n');
    expect(await sh('gateway', 'nmcli -g connection.slave-type,GENERAL.STATE connection show cluster-port-eth0')).toBe(
      'bridge\nactivated\n',
    );
    const bridgeUuid = (await sh('gateway', 'nmcli -g connection.uuid connection show cluster')).trim();
    // the access point's profile, as NetworkManager stores it (its secret read with -s)
    expect(
      await sh(
        'gateway',
        'nmcli -s -g connection.type,connection.interface-name,connection.master,connection.slave-type,802-11-wireless.mode,802-11-wireless.ssid,802-11-wireless.band,802-11-wireless-security.key-mgmt,802-11-wireless-security.psk connection show cluster-ap',
      ),
    ).toBe(`802-11-wireless\nwlan1\n${bridgeUuid}\nbridge\nap\ntsplay-lab\nbg\nwpa-psk\n${PSK}\n`);
    // dnsmasq serves the bridge
    expect(await sh('gateway', 'grep -x interface=br0 /etc/dnsmasq.d/cluster.conf; systemctl is-active dnsmasq')).toBe(
      'interface=br0\nactive\n',
    );
    // the upstream link is untouched
    expect(await sh('gateway', 'ip -br -4 addr show wlan0')).toContain('10.213.0.10/24');
  }, 240_000);

  it('the node gets its reserved address through br0', async () => {
    await reboot(node.name);
    await waitUntil(`${node.name} has ${node.ip}`, hasLease, 60_000);
    expect(await sh('gateway', 'cat /var/lib/misc/dnsmasq.leases')).toContain(`${node.mac} ${node.ip}`);
    // dnsmasq answered on the bridge (its journal names the interface of each exchange)
    await waitUntil("a DHCPACK on br0 in dnsmasq's journal", async () =>
      (await sh('gateway', 'journalctl -u dnsmasq --no-pager -o cat')).includes(`DHCPACK(br0) ${node.ip} ${node.mac}`),
    );
    expect(await sh(node.name, 'ping -c1 -W2 10.213.1.1 >/dev/null && echo reached')).toBe('reached\n');
    // the node is reached through the gateway (the inventory's jump host), over the bridge
    const ping = await tsplay(dir, ['adhoc', node.name, '-i', lab.inventory, '-m', 'ping']);
    expect(ping.code, ping.out + ping.err).toBe(0);
  }, 300_000);

  it('wifi-ap-bridge: a second run and --check change nothing', async () => {
    const before = await probe('gateway', GATEWAY_PROBES);
    const second = await bridge();
    expect(second.code, second.out + second.err).toBe(0);
    expect(recap(second.out, 'gateway').changed).toBe(0);
    const check = await bridge('--check');
    expect(check.code, check.out + check.err).toBe(0);
    expect(recap(check.out, 'gateway').changed).toBe(0);
    expect(await probe('gateway', GATEWAY_PROBES)).toEqual(before);
  }, 180_000);

  it('after the gateway rebooted, br0 has eth0 and its address again and the node renews its lease through it', async () => {
    await reboot('gateway');
    await waitUntil('br0 with the cluster address', async () => /10\.213\.1\.1\/24/.test(await sh('gateway', 'ip -br -4 addr show br0')));
    await waitUntil('eth0 a port of br0', async () => /eth0/.test(await sh('gateway', 'ip -o link show master br0')));
    await reboot(node.name);
    await waitUntil(`${node.name} has ${node.ip} again`, hasLease, 60_000);
    const again = await bridge();
    expect(recap(again.out, 'gateway').changed, again.out).toBe(0);
  }, 480_000);

  it('wifi-off on the node: no rfkill switch here (said so), NetworkManager radio off and still off after a reboot, config.txt overlay', async () => {
    await sh(node.name, `printf '# config.txt of the lab test\\narm_64bit=1\\n' > ${CONFIG_TXT}`);
    expect((await sh(node.name, 'nmcli radio wifi')).trim()).toBe('enabled');
    const before = await probe(node.name, NODE_PROBES);
    const check = await wifiOff('--check');
    expect(check.code, check.out + check.err).toBe(0);
    expect(await probe(node.name, NODE_PROBES)).toEqual(before);

    const r = await wifiOff();
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('no rfkill switch of type wlan on this host (no /sys/class/rfkill: the kernel has no rfkill support)');
    expect(recap(r.out, node.name)).toMatchObject({ changed: 2, failed: 0 });
    expect((await sh(node.name, 'nmcli radio wifi')).trim()).toBe('disabled');
    expect(await sh(node.name, 'grep WirelessEnabled /var/lib/NetworkManager/NetworkManager.state')).toBe('WirelessEnabled=false\n');
    expect(await sh(node.name, `cat ${CONFIG_TXT}`)).toBe('# config.txt of the lab test\narm_64bit=1\ndtoverlay=disable-wifi\n');

    const after = await probe(node.name, NODE_PROBES);
    const second = await wifiOff();
    expect(recap(second.out, node.name).changed, second.out).toBe(0);
    const check2 = await wifiOff('--check');
    expect(recap(check2.out, node.name).changed, check2.out).toBe(0);
    expect(await probe(node.name, NODE_PROBES)).toEqual(after);

    await reboot(node.name);
    expect((await sh(node.name, 'nmcli radio wifi')).trim()).toBe('disabled');
    await waitUntil(`${node.name} has ${node.ip} after its reboot`, hasLease, 60_000);
    const third = await wifiOff();
    expect(recap(third.out, node.name).changed, third.out).toBe(0);
  }, 480_000);
});
