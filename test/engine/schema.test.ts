import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { playbookSchema } from '../../engine/schema.js';
import { ModuleRegistry } from '../../engine/run/registry.js';
import { builtinModules } from '../../modules/index.js';

const registry = new ModuleRegistry();
for (const m of builtinModules) registry.register(m, { builtin: true });
const validate = new Ajv({ allErrors: true, strict: false }).compile(playbookSchema(registry));

function valid(yaml: string): boolean {
  return validate(parse(yaml)) as boolean;
}

describe('tsplay schema', () => {
  it('accepts the shipped playbooks and the usual task shapes', () => {
    expect(valid(readFileSync('playbooks/ping.yml', 'utf8'))).toBe(true);
    expect(
      valid(`
- name: gateway
  hosts: gateway
  become: true
  vars: { x: 1 }
  tasks:
    - name: config
      ansible.builtin.lineinfile:
        dest: /etc/sysctl.conf
        line: net.ipv4.ip_forward=1
      notify: reload
    - command: echo hi
      register: out
      changed_when: false
    - block:
        - debug: msg=x
      rescue:
        - fail:
    - include_tasks: other.yml
    - meta: flush_handlers
  handlers:
    - name: reload
      debug: { msg: reload }
`),
    ).toBe(true);
  });

  it('rejects unknown arguments, unknown keywords and bad choices', () => {
    expect(valid('- hosts: all\n  tasks:\n    - lineinfile: { pth: /x, line: y }\n')).toBe(false);
    expect(valid('- hosts: all\n  tasks:\n    - debug: msg=x\n      notfy: y\n')).toBe(false);
    expect(valid('- hosts: all\n  tasks:\n    - file: { path: /x, state: gone }\n')).toBe(false);
    expect(valid('- tasks: []\n')).toBe(false);
  });
});
