// service: ansible.builtin.service on a systemd host is systemd_service with fewer arguments;
// this module maps name/state/enabled onto the systemd module's plan.
import { defineModule, planFailure } from '../engine/index.js';
import { applySystemd, gatherSystemd, planSystemd, systemdProperties, type SystemdArgs, type SystemdState } from './systemd.js';

/** service's arguments, complete after validation. */
export interface ServiceArgs {
  name: string;
  state?: SystemdArgs['state'];
  enabled?: boolean;
  arguments?: string;
  pattern?: string;
  runlevel?: string;
  sleep?: number;
  use: string;
}

const asSystemd = (args: ServiceArgs): SystemdArgs => ({
  name: args.name,
  state: args.state,
  enabled: args.enabled,
  daemon_reload: false,
  daemon_reexec: false,
  scope: 'system',
  no_block: false,
});

export default defineModule<ServiceArgs, SystemdState>({
  name: 'service',
  aliases: ['ansible.builtin.service'],
  description:
    'Control a service (started, stopped, restarted, reloaded; enabled at boot) through systemd, as ansible.builtin.service does on a systemd host.',
  schema: {
    type: 'object',
    properties: {
      ...systemdProperties,
      arguments: { type: 'string', aliases: ['args'], description: 'Not supported with systemd (as in Ansible); must be empty.' },
      pattern: { type: 'string', description: 'Not supported: systemd knows whether a unit runs.' },
      runlevel: { type: 'string', description: 'Accepted for compatibility (OpenRC only).' },
      sleep: { type: 'integer', description: 'Accepted for compatibility.' },
      use: { type: 'string', default: 'auto', description: 'auto or systemd: the service manager (only systemd is supported).' },
    },
    required: ['name'],
    additionalProperties: false,
  },
  examples: `- name: Restart dnsmasq
  service:
    name: dnsmasq
    state: restarted
    enabled: yes`,
  gather: (ctx, args) => gatherSystemd(ctx, asSystemd(args)),
  plan(current, args) {
    if (args.use !== 'auto' && args.use !== 'systemd') return planFailure(`service manager '${args.use}' is not supported (only systemd)`);
    if (args.pattern !== undefined) return planFailure('pattern is not supported: use a systemd unit');
    if (args.state === undefined && args.enabled === undefined) return planFailure('one of the following is required: state, enabled');
    return planSystemd(current, asSystemd(args));
  },
  apply: (ctx, changes) => applySystemd(ctx, changes),
});
