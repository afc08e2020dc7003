// add_host: add a host (and its groups and variables) to the inventory for the plays after this one.
import { defineModule, noop, planFailure } from '../engine/index.js';

type Args = Record<string, unknown> & { name: string; groups?: string[] | string };

export default defineModule<Args, null>({
  name: 'add_host',
  aliases: ['ansible.builtin.add_host'],
  description: 'Add a host to the in-memory inventory (with groups and host variables) for the plays that follow; runs once per task.',
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', aliases: ['host', 'hostname'], description: 'The host to add; host:port sets ansible_port.' },
      groups: {
        type: ['array', 'string'],
        items: { type: 'string' },
        aliases: ['group', 'groupname'],
        description: 'Groups to put it in (comma-separated or a list).',
      },
    },
    required: ['name'],
    // any other key is a variable of the new host, as in Ansible
    additionalProperties: true,
  },
  runsOnce: true,
  examples: `- add_host:
    name: "{{ new_node_ip }}"
    groups: nodes
    ansible_user: pi`,
  async gather() {
    return null;
  },
  plan(_state, args) {
    const { name: raw, groups: g, ...vars } = args;
    let name = raw.trim();
    if (name === '') return planFailure('name is required for add_host');
    // host:port (not an IPv6 address without brackets)
    const port = /^(\[?[^\]]+\]?|[^:]+):(\d+)$/.exec(name);
    if (port && !(raw.split(':').length > 2 && !raw.startsWith('['))) {
      name = port[1]!.replace(/^\[(.*)\]$/, '$1');
      vars.ansible_ssh_port = Number(port[2]);
    }
    const groups = (Array.isArray(g) ? g : typeof g === 'string' ? g.split(',') : []).map((x) => String(x).trim()).filter(Boolean);
    return noop(`${name} joins the inventory`, { changed: true, add_host: { host_name: name, groups, host_vars: vars } });
  },
});
