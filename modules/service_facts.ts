// service_facts: every systemd service with its state and enablement, as
// ansible.builtin.service_facts returns them (ansible_facts.services), in one remote command.
import { defineFact, defineModule, noop, planFailure, sh } from '../engine/index.js';

/** One service as Ansible reports it. */
export interface ServiceFact {
  name: string;
  state: 'running' | 'stopped' | 'failed' | 'inactive' | 'unknown';
  status: string;
  source: 'systemd';
}

/** What the gather found: the services, or why there are none. */
export interface ServiceFactsState {
  services: Record<string, ServiceFact>;
  /** Set when the host has no systemctl (service_facts then has nothing to report). */
  missing?: string;
}

const MARK = '--tsplay-unit-files--';

// Two listings in one command: the loaded units (their run state), then the unit files (their
// enablement). A unit that is only a file (disabled, never started) is stopped.
const command = sh`command -v systemctl >/dev/null 2>&1 || { echo no-systemctl; exit 0; }
systemctl list-units --type=service --all --no-pager --no-legend --plain 2>/dev/null
echo ${MARK}
systemctl list-unit-files --type=service --no-pager --no-legend 2>/dev/null
true`;

/** Ansible's state from systemd's ACTIVE and SUB columns. */
function runState(active: string, sub: string): ServiceFact['state'] {
  if (sub === 'running') return 'running';
  if (active === 'failed') return 'failed';
  if (sub === 'dead' || sub === 'exited' || active === 'inactive') return 'stopped';
  return 'unknown';
}

/** Parse the two listings into ansible_facts.services. */
export const serviceFactsProbe = defineFact<ServiceFactsState, void>({
  name: 'service_facts',
  command: () => command,
  process(output) {
    if (output.stdout.trim() === 'no-systemctl') return { services: {}, missing: 'systemctl was not found on the host' };
    const services: Record<string, ServiceFact> = {};
    const [units = '', files = ''] = output.stdout.split(MARK + '\n');
    for (const line of units.split('\n')) {
      // UNIT LOAD ACTIVE SUB DESCRIPTION...; a failed unit may be prefixed with a bullet
      const cols = line
        .replace(/^[●*]\s*/, '')
        .trim()
        .split(/\s+/);
      if (cols.length < 4 || !cols[0]!.endsWith('.service')) continue;
      const [name, load, active, sub] = cols as [string, string, string, string];
      services[name] = {
        name,
        state: load === 'not-found' ? 'stopped' : runState(active, sub),
        status: load === 'not-found' ? 'not-found' : 'unknown',
        source: 'systemd',
      };
    }
    for (const line of files.split('\n')) {
      const [name, status] = line.trim().split(/\s+/);
      if (!name || !status || !name.endsWith('.service')) continue;
      // templates (foo@.service) are listed as files but are not services of their own
      if (name.endsWith('@.service')) {
        services[name] ??= { name, state: 'unknown', status, source: 'systemd' };
        continue;
      }
      const known = services[name];
      if (known) known.status = status;
      else services[name] = { name, state: 'stopped', status, source: 'systemd' };
    }
    return { services };
  },
});

export default defineModule<Record<string, never>, ServiceFactsState>({
  name: 'service_facts',
  aliases: ['ansible.builtin.service_facts'],
  description:
    'Gather every systemd service into ansible_facts.services: name, state (running, stopped, failed, unknown), status (enabled, disabled, static, masked, ...), source. One remote command; changes nothing.',
  schema: { type: 'object', properties: {}, additionalProperties: false },
  examples: `- service_facts:
- debug:
    msg: "dnsmasq is {{ ansible_facts.services['dnsmasq.service'].state }}"`,
  gather: (ctx) => ctx.fact(serviceFactsProbe, undefined),
  plan(state) {
    if (state.missing) return planFailure(`Failed to find any services: ${state.missing}; service_facts reads systemd only`);
    return noop(`${Object.keys(state.services).length} services`, { ansible_facts: { services: state.services } });
  },
});
