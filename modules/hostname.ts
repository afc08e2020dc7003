// hostname: the host's name, now (the kernel's) and at boot (/etc/hostname), as
// ansible.builtin.hostname does it: hostnamectl on systemd hosts, else /etc/hostname + hostname.
import { defineModule, noop, planFailure, sh, type Plan } from '../engine/index.js';

/** hostname's arguments, complete after validation. */
export interface HostnameArgs {
  name: string;
  use?:
    | 'systemd'
    | 'debian'
    | 'generic'
    | 'alpine'
    | 'redhat'
    | 'openrc'
    | 'openbsd'
    | 'freebsd'
    | 'solaris'
    | 'sles'
    | 'darwin'
    | 'macos'
    | 'macosx';
}

/** The host's names as the gather found them. */
export interface HostnameState {
  /** The running kernel's name (uname -n). */
  current: string;
  /** The name in /etc/hostname (used at boot). */
  permanent: string;
  /** hostnamectl is there. */
  hostnamectl: boolean;
}

const M = '__tsplay_hostname__';

/** The read-only probe, one command. */
export const hostnameGatherCommand = sh`echo ${M} current "$(uname -n)"; echo ${M} permanent "$(head -n1 /etc/hostname 2>/dev/null)"; command -v hostnamectl >/dev/null 2>&1 && echo ${M} hostnamectl; true`;

/** Parse the probe's output. */
export function parseHostnameGather(stdout: string): HostnameState {
  const state: HostnameState = { current: '', permanent: '', hostnamectl: false };
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(M + ' ')) continue;
    const rest = line.slice(M.length + 1);
    const sp = rest.indexOf(' ');
    const key = sp < 0 ? rest : rest.slice(0, sp);
    const value = sp < 0 ? '' : rest.slice(sp + 1).trim();
    if (key === 'current') state.current = value;
    else if (key === 'permanent') state.permanent = value;
    else if (key === 'hostnamectl') state.hostnamectl = true;
  }
  return state;
}

function hostFacts(name: string): Record<string, unknown> {
  const dot = name.indexOf('.');
  return {
    ansible_hostname: dot < 0 ? name : name.slice(0, dot),
    ansible_nodename: name,
    ansible_fqdn: name,
    ansible_domain: dot < 0 ? '' : name.slice(dot + 1),
  };
}

/** The plan of hostname: pure. */
export function planHostname(cur: HostnameState, args: HostnameArgs): Plan {
  const name = args.name.trim();
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name) || name.length > 64) {
    return planFailure(`invalid hostname '${args.name}': use letters, digits, '-' and '.', at most 64 characters`);
  }
  const useSystemd = args.use === 'systemd' || (args.use === undefined && cur.hostnamectl);
  if (args.use === 'systemd' && !cur.hostnamectl) return planFailure('use=systemd needs hostnamectl on the host');
  if (args.use !== undefined && !['systemd', 'debian', 'generic'].includes(args.use))
    return planFailure(`use=${args.use} is not supported (systemd, debian, generic)`);
  const result = { name, ansible_facts: hostFacts(name) };
  if (cur.current === name && cur.permanent === name) return noop(`the hostname is already ${name}`, result);
  const what = [
    cur.current !== name ? `current ${cur.current || '(none)'}` : '',
    cur.permanent !== name ? `permanent ${cur.permanent || '(none)'}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const cmd = useSystemd
    ? sh`hostnamectl set-hostname -- ${name}`
    : sh`printf '%s\\n' ${name} > /etc/hostname.tsplay-tmp && mv -f /etc/hostname.tsplay-tmp /etc/hostname && hostname -- ${name}`;
  return {
    changes: [
      {
        summary: `set the hostname to ${name} (was: ${what})`,
        commands: [{ cmd }],
        diff: { before: `hostname = ${cur.permanent}\n`, after: `hostname = ${name}\n` },
      },
    ],
    result,
  };
}

export default defineModule<HostnameArgs, HostnameState>({
  name: 'hostname',
  aliases: ['ansible.builtin.hostname'],
  description:
    "Set the host's name, now and at boot: hostnamectl set-hostname on systemd hosts (use=systemd), else /etc/hostname and hostname (use=debian/generic). /etc/hosts is left alone, as in Ansible.",
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'The hostname (letters, digits, - and .).' },
      use: {
        type: 'string',
        enum: [
          'alpine',
          'debian',
          'freebsd',
          'generic',
          'macos',
          'macosx',
          'darwin',
          'openbsd',
          'openrc',
          'redhat',
          'sles',
          'solaris',
          'systemd',
        ],
        description: 'How to set it; default: systemd when hostnamectl exists, else debian.',
      },
    },
    required: ['name'],
    additionalProperties: false,
  },
  examples: `- name: Name the node after its inventory name
  hostname:
    name: "{{ inventory_hostname }}"
    use: systemd`,
  gather: async (ctx) => parseHostnameGather((await ctx.run(hostnameGatherCommand)).stdout),
  plan: planHostname,
});
