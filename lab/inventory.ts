// What the lab hands its user: its SSH key and sudo password (kept between runs), the hosts'
// keys in a known_hosts file, an OpenSSH config, and an Ansible INI inventory with a vars file.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLUSTER, HOME, hostPaths, LAB_PACKAGE, statePaths, type HostSpec } from './config.js';
import { run } from './proc.js';
import { APT_PROXY_URL, LAB_APT_SOURCE, LAB_HTTP_URL } from './upstream.js';

/** The lab's client key and pi's password, made on the first `up` and kept by `down`. */
export async function ensureCredentials(state: string): Promise<{ publicKey: string; password: string }> {
  const p = statePaths(state);
  if (!existsSync(p.key)) await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tsplay-lab', '-f', p.key]);
  if (!existsSync(p.password)) writeFileSync(p.password, `${randomBytes(12).toString('base64url')}\n`, { mode: 0o600 });
  return { publicKey: readFileSync(`${p.key}.pub`, 'utf8').trim(), password: readFileSync(p.password, 'utf8').trim() };
}

/** known_hosts lines: each host by name and by the address SSH uses for it. */
export function knownHostsText(state: string, hosts: HostSpec[]): string {
  return hosts
    .map((h) => {
      const [type, key] = readFileSync(join(hostPaths(state, h.name).root, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8')
        .trim()
        .split(/\s+/);
      return `${h.name},${h.address} ${type} ${key}\n`;
    })
    .join('');
}

const yamlString = (s: string) => JSON.stringify(s);

/** Write known_hosts, ssh_config, the inventory and its vars file. */
export function writeAccessFiles(state: string, hosts: HostSpec[], opts: { password: string; aptProxy: boolean }): void {
  const p = statePaths(state);
  writeFileSync(p.knownHosts, knownHostsText(state, hosts));
  const gateway = hosts.find((h) => h.role === 'gateway')!;

  writeFileSync(
    p.sshConfig,
    [
      `# OpenSSH settings for the tsplay lab, e.g. ssh -F ${p.sshConfig} node1`,
      ...hosts.flatMap((h) => [`Host ${h.name}`, `  HostName ${h.address}`, ...(h.role === 'node' ? [`  ProxyJump ${gateway.name}`] : [])]),
      'Host *',
      '  User pi',
      `  IdentityFile ${p.key}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${p.knownHosts}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '',
    ].join('\n'),
  );

  mkdirSync(join(p.inventoryDir, 'group_vars'), { recursive: true });
  writeFileSync(p.inventory, inventoryText(state, hosts));
  // beside the inventory, not in it: only nat-setup runs that ask for it get the controller's route
  writeFileSync(
    p.routeClients,
    [
      '# The controller as a route client of nat-setup: a route to the cluster network via the',
      "# gateway, not persisted (`tsplay lab down` removes it with the lab's link). Use it as a second",
      `# inventory: tsplay run playbooks/nat-setup.yaml -i ${p.inventory} -i ${p.routeClients}`,
      '[cluster_route_clients]',
      'localhost ansible_connection=local cluster_route_persist=false',
      '',
    ].join('\n'),
  );
  writeFileSync(
    p.groupVars,
    [
      "# Settings of the tsplay lab (see docs/lab.md); the become password is pi's sudo password.",
      `ansible_become_password: ${yamlString(opts.password)}`,
      `cluster_subnet: ${CLUSTER.subnet}`,
      `cluster_gateway_ip: ${CLUSTER.gateway}`,
      `cluster_domain: ${CLUSTER.domain}`,
      'upstream_if: wlan0',
      'cluster_if: eth0',
      `dhcp_range_start: ${CLUSTER.subnet.replace(/\.0\/\d+$/, '.100')}`,
      `dhcp_range_end: ${CLUSTER.subnet.replace(/\.0\/\d+$/, '.200')}`,
      '# dnsmasq forwards other names here: the home router (it runs no DNS server; nothing leaves the lab)',
      `dns_servers: [${HOME.router}]`,
      `lab_home_subnet: ${HOME.subnet}`,
      `lab_http_url: ${yamlString(LAB_HTTP_URL)}`,
      `lab_apt_source: ${yamlString(LAB_APT_SOURCE)}`,
      `lab_apt_package: ${LAB_PACKAGE.name}`,
      ...(opts.aptProxy
        ? [
            `lab_apt_proxy: ${yamlString(APT_PROXY_URL)}`,
            '# the playbooks point apt at the proxy; the lab repository is reached directly',
            `apt_proxy: ${yamlString(APT_PROXY_URL)}`,
            `apt_proxy_direct: [${HOME.router}]`,
          ]
        : ['# no apt proxy on this machine (apt-cacher-ng): the hosts cannot update apt', 'apt_update_cache: false']),
      "# nodes-reimage: the lab's boot partitions are ext4 (no vfat in this kernel), see docs/lab.md",
      'reimage_boot_fstype: ext4',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
}

/**
 * The lab's INI inventory. The playbooks' group of gateways is `gateways`, not `gateway`: a group
 * named as the host `gateway` makes Ansible (and tsplay) warn on every command.
 */
export function inventoryText(state: string, hosts: HostSpec[]): string {
  const p = statePaths(state);
  const gateway = hosts.find((h) => h.role === 'gateway')!;
  const nodes = hosts.filter((h) => h.role === 'node');
  const known = `-o UserKnownHostsFile=${p.knownHosts}`;
  return [
    `# The tsplay lab, written by \`tsplay lab up\` (removed by \`tsplay lab down\`).`,
    "# The gateway is on the lab's home network; nodes have no address until a DHCP server on the",
    "# gateway gives them the ip below (dhcp-setup's job), and are reached through the gateway.",
    '',
    '[gateways]',
    `${gateway.name} ansible_host=${gateway.address}`,
    '',
    '[nodes]',
    ...nodes.map((n) => `${n.name} ansible_host=${n.address} mac=${n.links[0].mac} ip=${n.address}`),
    '',
    '[gateways:vars]',
    `ansible_ssh_common_args='${known}'`,
    '',
    '[nodes:vars]',
    `ansible_ssh_common_args='-J pi@${gateway.address} ${known}'`,
    '',
    '[cluster:children]',
    'gateways',
    'nodes',
    '',
    '[all:vars]',
    'ansible_user=pi',
    `ansible_ssh_private_key_file=${p.key}`,
    '',
  ].join('\n');
}
