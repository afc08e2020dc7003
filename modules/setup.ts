// setup: gather the facts a play uses (ansible_hostname, ansible_distribution, ...), in one command.
import { defineFact, defineModule, noop, sh } from '../engine/index.js';

/** The facts as Ansible names them (without the ansible_ prefix, inside ansible_facts). */
export type Facts = Record<string, unknown>;

const script = sh`
echo "hostname=$(uname -n | cut -d. -f1)"
echo "nodename=$(uname -n)"
echo "fqdn=$(hostname -f 2>/dev/null || uname -n)"
echo "kernel=$(uname -r)"
echo "machine=$(uname -m)"
echo "system=$(uname -s)"
echo "user_id=$(id -un)"
echo "user_uid=$(id -u)"
echo "user_gid=$(id -g)"
echo "user_dir=$HOME"
echo "user_shell=$SHELL"
echo "service_mgr=$(cat /proc/1/comm 2>/dev/null)"
echo "interfaces=$(ls /sys/class/net 2>/dev/null | tr '\\n' ' ')"
echo "default_route=$(ip -4 route show default 2>/dev/null | head -n1)"
for m in apt-get dnf yum apk pacman zypper; do command -v $m >/dev/null 2>&1 && { echo "pkg=$m"; break; }; done
[ -r /etc/os-release ] && sed -n 's/^\\([A-Z_]*\\)=/os_\\1=/p' /etc/os-release
exit 0`;

function unquoteOs(v: string): string {
  return v.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
}

/** Parse the facts script's key=value lines into Ansible's fact names. */
export const systemFacts = defineFact<Facts>({
  name: 'system',
  command: () => script,
  process(output) {
    const kv: Record<string, string> = {};
    for (const line of output.stdout.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) kv[line.slice(0, i)] = unquoteOs(line.slice(i + 1));
    }
    const id = kv.os_ID ?? '';
    const like = `${id} ${kv.os_ID_LIKE ?? ''}`;
    const version = kv.os_VERSION_ID ?? '';
    const distro = id === 'raspbian' ? 'Debian' : id ? (id === 'ubuntu' ? 'Ubuntu' : id.charAt(0).toUpperCase() + id.slice(1)) : 'NA';
    const route = kv.default_route ?? '';
    const gw = / via (\S+)/.exec(route)?.[1];
    const dev = / dev (\S+)/.exec(route)?.[1];
    const pkg = kv.pkg === 'apt-get' ? 'apt' : kv.pkg;
    return {
      hostname: kv.hostname,
      nodename: kv.nodename,
      fqdn: kv.fqdn,
      domain: kv.fqdn?.includes('.') ? kv.fqdn.slice(kv.fqdn.indexOf('.') + 1) : '',
      kernel: kv.kernel,
      machine: kv.machine,
      architecture: kv.machine,
      system: kv.system,
      os_family: /debian|ubuntu|raspbian/.test(like) ? 'Debian' : /rhel|fedora|centos/.test(like) ? 'RedHat' : distro,
      distribution: distro,
      distribution_version: version,
      distribution_major_version: version.split('.')[0] ?? '',
      distribution_release: kv.os_VERSION_CODENAME ?? '',
      user_id: kv.user_id,
      user_uid: Number(kv.user_uid),
      user_gid: Number(kv.user_gid),
      user_dir: kv.user_dir,
      user_shell: kv.user_shell,
      service_mgr: kv.service_mgr === 'systemd' ? 'systemd' : kv.service_mgr || 'unknown',
      pkg_mgr: pkg ?? 'unknown',
      interfaces: (kv.interfaces ?? '').trim().split(/\s+/).filter(Boolean),
      default_ipv4: dev ? { interface: dev, gateway: gw } : {},
    };
  },
});

export default defineModule<Record<string, unknown>, Facts>({
  name: 'setup',
  aliases: ['ansible.builtin.setup', 'gather_facts', 'ansible.builtin.gather_facts'],
  description: 'Gather facts about the host (hostname, distribution, kernel, user, service and package manager, default route) in one command. Plays run it first unless gather_facts: false.',
  schema: {
    type: 'object',
    properties: {
      gather_subset: { type: ['array', 'string'], description: 'Accepted for compatibility; the same minimal set is always gathered.' },
      filter: { type: ['array', 'string'], description: 'Accepted for compatibility.' },
      gather_timeout: { type: 'integer', description: 'Accepted for compatibility.' },
    },
    additionalProperties: false,
  },
  examples: `- setup:`,
  gather: (ctx) => ctx.fact(systemFacts, undefined),
  plan: (facts) => noop('facts gathered', { ansible_facts: facts }),
});
