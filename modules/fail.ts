// fail: stop the host with a message (usually under a when:).
import { defineModule, planFailure } from '../engine/index.js';

export default defineModule<{ msg: unknown }, null>({
  name: 'fail',
  aliases: ['ansible.builtin.fail'],
  description: 'Fail the task with a custom message, usually with a when: condition.',
  schema: {
    type: 'object',
    properties: { msg: { default: 'Failed as requested from task', description: 'The failure message.' } },
    additionalProperties: false,
  },
  examples: `- fail:
    msg: "this playbook needs NetworkManager"
  when: ansible_service_mgr != 'systemd'`,
  async gather() {
    return null;
  },
  plan: (_s, args) => planFailure(typeof args.msg === 'string' ? args.msg : JSON.stringify(args.msg)),
});
