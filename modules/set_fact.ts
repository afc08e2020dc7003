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
        return {
          changes: [],
          failed: `The variable name '${k}' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores.`,
        };
      }
    }
    // as ansible-core 2.14's set_fact (without Jinja2 native types): a value that templates to
    // 'yes', 'no', 'true' or 'false' (any case) becomes the boolean
    const typed = Object.fromEntries(
      Object.entries(facts).map(([k, v]) => [k, typeof v === 'string' && /^(true|false|yes|no)$/i.test(v) ? /^(true|yes)$/i.test(v) : v]),
    );
    return noop('set_fact changes nothing on the host', { ansible_facts: typed, _ansible_facts_cacheable: cacheable });
  },
});
