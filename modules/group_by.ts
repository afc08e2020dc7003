// group_by: put the host in a group named from its variables, for the plays after this one.
import { defineModule, noop, planFailure } from '../engine/index.js';

interface Args {
  key: string;
  parents: string[] | string;
}

export default defineModule<Args, null>({
  name: 'group_by',
  aliases: ['ansible.builtin.group_by'],
  description:
    'Add the host to a group named by key (e.g. "os_{{ ansible_distribution }}"), created under parents, for later plays and patterns.',
  schema: {
    type: 'object',
    properties: {
      key: { type: 'string', description: 'The group to put the host in.' },
      parents: { type: ['array', 'string'], items: { type: 'string' }, default: ['all'], description: 'The parent groups of a new group.' },
    },
    required: ['key'],
    additionalProperties: false,
  },
  examples: `- group_by:
    key: "arch_{{ ansible_architecture }}"`,
  async gather() {
    return null;
  },
  plan(_state, args) {
    // Ansible replaces spaces in the group name
    const key = args.key.replace(/ /g, '-');
    if (key === '') return planFailure("the 'key' param is required when using group_by");
    const parents = (Array.isArray(args.parents) ? args.parents : [args.parents]).map((p) => p.replace(/ /g, '-'));
    // the engine applies add_group to the inventory; a change of the controller's inventory counts as changed
    return noop(`the host joins group ${key}`, { changed: true, add_group: key, parent_groups: parents });
  },
});
