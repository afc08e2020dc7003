// set_fact: set host variables for the rest of the run (they outrank play and inventory vars).
import { defineModule, noop } from '../engine/index.js';

export default defineModule<Record<string, unknown>, null>({
  name: 'set_fact',
  aliases: ['ansible.builtin.set_fact'],
  description: 'Set variables on the host for the rest of the run, from any key: value pairs (values are templated first).',
  schema: {
    type: 'object',
    properties: {
      cacheable: { type: 'boolean', default: false, description: 'Accepted for compatibility (there is no fact cache).' },
    },
    additionalProperties: true,
  },
  examples: `- set_fact:
    cluster_gateway: "{{ hostvars[groups.gateway[0]].ansible_host }}"`,
  async gather() {
    return null;
  },
  plan(_state, args) {
    const { cacheable, ...facts } = args;
    for (const k of Object.keys(facts)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
        return { changes: [], failed: `The variable name '${k}' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores.` };
      }
    }
    return noop('set_fact changes nothing on the host', { ansible_facts: facts, _ansible_facts_cacheable: cacheable });
  },
});
