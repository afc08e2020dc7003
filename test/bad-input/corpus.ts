// The bad-input corpus: each case is a small project (files), a command line and what tsplay must
// answer: Ansible's exit code, one message with file:line:col and a hint, no stack trace, and for
// errors found at load time no connection attempt.

/** One malformed input. */
export interface BadInputCase {
  name: string;
  /** Files of the project; `hosts.ini` and `site.yml` default to a two-host inventory and nothing. */
  files: Record<string, string>;
  /** The command line after `tsplay` (default: run site.yml -i hosts.ini). */
  args?: string[];
  /** Expected exit code (ansible-playbook's). */
  code: number;
  /** A fragment of the message. */
  message: RegExp;
  /** "file:line:col" (file relative to the project) the message must name, when there is one. */
  where?: string;
  /** A run-time failure: the host is contacted, the task fails with the message. */
  runtime?: boolean;
}

import { encryptVaultText } from '../../engine/vault.js';

export const HOSTS_INI = '[web]\nweb1\nweb2\n';

const VAULTED = encryptVaultText('db_password: corpus-S3cret\n', { id: 'default', password: 'right-pw' });
const INLINE = encryptVaultText('corpus-S3cret', { id: 'default', password: 'right-pw' })
  .trimEnd()
  .split('\n')
  .map((l) => `          ${l}`)
  .join('\n');

const play = (tasks: string, head = '') => `- hosts: web\n  gather_facts: false\n${head}  tasks:\n${tasks}`;

export const corpus: BadInputCase[] = [
  // YAML syntax
  {
    name: 'yaml: unclosed quote',
    files: { 'site.yml': play('    - debug:\n        msg: "hello\n') },
    code: 4,
    message: /YAML syntax error/,
    where: 'site.yml:5:14',
  },
  {
    name: 'yaml: bad indentation',
    files: { 'site.yml': play('    - debug:\n        msg: hi\n       var: x\n') },
    code: 4,
    message: /YAML syntax error/,
    where: 'site.yml:6:',
  },
  {
    name: 'yaml: tab indentation',
    files: { 'site.yml': play('    - debug:\n\t\tmsg: hi\n') },
    code: 4,
    message: /YAML syntax error/,
    where: 'site.yml:5:',
  },
  {
    name: 'yaml: duplicate key in a task',
    files: { 'site.yml': play('    - name: one\n      name: two\n      debug: msg=hi\n') },
    code: 4,
    message: /YAML syntax error: .*(unique|duplicate)/i,
    where: 'site.yml:5:',
  },
  {
    name: 'yaml: duplicate key in a vars file',
    files: { 'site.yml': play('    - debug: var=a\n', '  vars_files: [vars.yml]\n'), 'vars.yml': 'a: 1\nb: 2\na: 3\n' },
    code: 4,
    message: /YAML syntax error/,
    where: 'vars.yml:3:1',
  },
  {
    name: 'yaml: syntax error in group_vars',
    files: { 'site.yml': play('    - debug: var=a\n'), 'group_vars/web.yml': 'a: [1, 2\nb: 3\n' },
    code: 4,
    message: /YAML syntax error/,
    where: 'group_vars/web.yml:',
  },
  {
    name: 'yaml: syntax error in an imported task file',
    files: { 'site.yml': play('    - import_tasks: more.yml\n'), 'more.yml': '- debug:\n    msg: "x\n' },
    code: 4,
    message: /YAML syntax error/,
    where: 'more.yml:2:',
  },
  // playbook structure
  {
    name: 'playbook: a mapping instead of a list of plays',
    files: { 'site.yml': 'hosts: web\ntasks: []\n' },
    code: 4,
    message: /list of plays/,
    where: 'site.yml:1:1',
  },
  {
    name: 'playbook: play without hosts',
    files: { 'site.yml': '- name: no hosts\n  tasks:\n    - debug: msg=hi\n' },
    code: 4,
    message: /hosts/,
    where: 'site.yml:1:3',
  },
  {
    name: 'playbook: unknown play keyword',
    files: { 'site.yml': play('    - debug: msg=hi\n', '  become_usr: root\n') },
    code: 4,
    message: /become_usr/,
    where: 'site.yml:3:3',
  },
  {
    name: 'playbook: unknown task keyword',
    files: { 'site.yml': play('    - debug: msg=hi\n      registr: out\n') },
    code: 4,
    message: /registr/,
    where: 'site.yml:5:7',
  },
  {
    name: 'playbook: tasks is not a list',
    files: { 'site.yml': '- hosts: web\n  tasks:\n    debug: msg=hi\n' },
    code: 4,
    message: /tasks/,
    where: 'site.yml:3:5',
  },
  {
    name: 'playbook: a task that is a string',
    files: { 'site.yml': play('    - debug msg=hi\n') },
    code: 4,
    message: /task/i,
    where: 'site.yml:4:7',
  },
  {
    name: 'playbook: task with no module',
    files: { 'site.yml': play('    - name: nothing to do\n      when: true\n') },
    code: 4,
    message: /no module|no action/i,
    where: 'site.yml:4:7',
  },
  {
    name: 'playbook: two modules in one task',
    files: { 'site.yml': play('    - debug: msg=hi\n      ping:\n') },
    code: 4,
    message: /conflicting action statements|two modules|more than one/i,
    where: 'site.yml:4:7',
  },
  {
    name: 'playbook: play vars is a list',
    files: { 'site.yml': play('    - debug: msg=hi\n', '  vars:\n    - a\n') },
    code: 4,
    message: /vars/,
    where: 'site.yml:4:5',
  },
  {
    name: 'playbook: become is not a boolean',
    files: { 'site.yml': play('    - debug: msg=hi\n      become: maybe\n') },
    code: 4,
    message: /become/,
    where: 'site.yml:5:',
  },
  {
    name: 'playbook: unknown loop_control key',
    files: { 'site.yml': play('    - debug: var=item\n      loop: [1]\n      loop_control:\n        loopvar: x\n') },
    code: 4,
    message: /loopvar/,
    where: 'site.yml:7:9',
  },
  {
    name: 'playbook: notify names no handler',
    files: { 'site.yml': play('    - debug: msg=hi\n      notify: restart nothing\n') },
    code: 4,
    message: /restart nothing/,
    where: 'site.yml:5:',
  },
  {
    name: 'playbook: import_tasks of a missing file',
    files: { 'site.yml': play('    - import_tasks: nope.yml\n') },
    code: 1,
    message: /nope\.yml/,
    where: 'site.yml:4:7',
  },
  {
    name: 'playbook: import_playbook of a missing file',
    files: { 'site.yml': '- import_playbook: other.yml\n' },
    code: 1,
    message: /other\.yml/,
    where: 'site.yml:1:3',
  },
  {
    name: 'playbook: the playbook file does not exist',
    files: {},
    args: ['run', 'missing.yml', '-i', 'hosts.ini'],
    code: 1,
    message: /missing\.yml could not be found/,
  },
  // modules and their arguments
  {
    name: 'module: unknown module',
    files: { 'site.yml': play('    - lineinfle:\n        path: /tmp/x\n') },
    code: 4,
    message: /lineinfle/,
    where: 'site.yml:4:7',
  },
  {
    name: 'module: unknown collection module',
    files: { 'site.yml': play('    - community.general.nope: {}\n') },
    code: 4,
    message: /community\.general\.nope/,
    where: 'site.yml:4:7',
  },
  {
    name: 'module: unknown argument',
    files: { 'site.yml': play('    - lineinfile:\n        pth: /tmp/x\n        line: a\n') },
    code: 4,
    message: /Unsupported parameters for \(lineinfile\) module: pth/,
    where: 'site.yml:5:9',
  },
  {
    name: 'module: unknown k=v argument',
    files: { 'site.yml': play('    - file: path=/tmp/x stat=touch\n') },
    code: 4,
    message: /Unsupported parameters for \(file\) module: stat/,
    where: 'site.yml:4:',
  },
  {
    name: 'module: missing required argument',
    files: { 'site.yml': play('    - lineinfile:\n        line: a\n') },
    code: 4,
    message: /missing required arguments: path/,
    where: 'site.yml:4:',
  },
  {
    name: 'module: ill-typed argument',
    files: { 'site.yml': play('    - lineinfile:\n        path: /tmp/x\n        line: a\n        create: [1, 2]\n') },
    code: 4,
    message: /create/,
    where: 'site.yml:7:',
  },
  {
    name: 'module: bad choice',
    files: { 'site.yml': play('    - file:\n        path: /tmp/x\n        state: gone\n') },
    code: 4,
    message: /value of state must be one of: .*absent.*got: gone/,
    where: 'site.yml:6:',
  },
  {
    name: 'module: bad choice in a handler',
    files: { 'site.yml': play('    - debug: msg=hi\n', '  handlers:\n    - name: h\n      service: name=x state=bounce\n') },
    code: 4,
    message: /value of state must be one of/,
    where: 'site.yml:5:',
  },
  {
    name: 'module: free-form text to a module that takes none',
    files: { 'site.yml': play('    - lineinfile: /etc/hosts\n') },
    code: 4,
    message: /lineinfile/,
    where: 'site.yml:4:',
  },
  // expressions
  {
    name: 'jinja: unclosed expression in a module argument',
    files: { 'site.yml': play('    - debug:\n        msg: "{{ foo "\n') },
    code: 4,
    message: /template|Jinja|expected/i,
    where: 'site.yml:5:',
  },
  {
    name: 'jinja: bad syntax in when',
    files: { 'site.yml': play('    - debug: msg=hi\n      when: x ==\n') },
    code: 4,
    message: /when|expected|syntax/i,
    where: 'site.yml:5:',
  },
  {
    name: 'jinja: unknown filter',
    files: { 'site.yml': play('    - debug:\n        msg: "{{ 1 | no_such_filter }}"\n') },
    code: 4,
    message: /no_such_filter/,
    where: 'site.yml:5:',
  },
  {
    name: 'jinja: undefined variable in a task',
    files: { 'site.yml': play('    - debug:\n        msg: "{{ not_defined_anywhere }}"\n') },
    code: 2,
    runtime: true,
    message: /'not_defined_anywhere' is undefined/,
    where: 'site.yml:4:',
  },
  {
    name: 'jinja: undefined variable in when',
    files: { 'site.yml': play('    - debug: msg=hi\n      when: not_defined_anywhere > 1\n') },
    code: 2,
    runtime: true,
    message: /not_defined_anywhere/,
    where: 'site.yml:4:',
  },
  {
    name: 'jinja: undefined variable in hosts',
    files: { 'site.yml': '- hosts: "{{ target_group }}"\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n' },
    code: 4,
    message: /target_group/,
    where: 'site.yml:1:',
  },
  {
    name: 'template: a .j2 that fails to render',
    files: {
      'site.yml': play('    - template:\n        src: t.j2\n        dest: /tmp/tsplay-bad-input-never-written\n'),
      't.j2': 'line one\nvalue={{ missing_var }}\n',
    },
    code: 2,
    runtime: true,
    message: /missing_var/,
    where: 't.j2:2',
  },
  {
    name: 'template: a .j2 with a syntax error',
    files: {
      'site.yml': play('    - template:\n        src: t.j2\n        dest: /tmp/tsplay-bad-input-never-written\n'),
      't.j2': 'line one\n{% if x %}\nno endif\n',
    },
    code: 2,
    runtime: true,
    message: /endif|unexpected end|template/i,
    where: 't.j2:3',
  },
  {
    name: 'template: src that does not exist',
    files: { 'site.yml': play('    - template:\n        src: nope.j2\n        dest: /tmp/tsplay-bad-input-never-written\n') },
    code: 2,
    runtime: true,
    message: /nope\.j2/,
    where: 'site.yml:4:',
  },
  {
    name: 'loop: over a number',
    files: { 'site.yml': play('    - debug: var=item\n      loop: "{{ 42 }}"\n') },
    code: 2,
    runtime: true,
    message: /Invalid data passed to 'loop', it requires a list, got this instead: 42/,
    where: 'site.yml:4:',
  },
  {
    name: 'loop: over a string',
    files: { 'site.yml': play('    - debug: var=item\n      loop: just-a-string\n') },
    runtime: true,
    code: 2,
    message: /Invalid data passed to 'loop', it requires a list, got this instead: just-a-string\./,
    where: 'site.yml:4:',
  },
  {
    name: 'loop: over an undefined variable',
    files: { 'site.yml': play('    - debug: var=item\n      loop: "{{ no_such_list }}"\n') },
    code: 2,
    runtime: true,
    message: /'no_such_list' is undefined/,
    where: 'site.yml:4:',
  },
  // host patterns and inventories
  {
    name: 'pattern: unclosed range in hosts',
    files: { 'site.yml': '- hosts: "web[0:"\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n' },
    code: 1,
    message: /pattern|web\[0:/,
    where: 'site.yml:1:',
  },
  {
    name: 'pattern: bad regex in --limit',
    files: { 'site.yml': play('    - debug: msg=hi\n') },
    args: ['run', 'site.yml', '-i', 'hosts.ini', '-l', '~web[1'],
    code: 1,
    message: /regular expression|regex|pattern/i,
  },
  {
    name: 'pattern: --limit matches no host',
    files: { 'site.yml': play('    - debug: msg=hi\n') },
    args: ['run', 'site.yml', '-i', 'hosts.ini', '-l', 'nomatch'],
    code: 1,
    message: /no hosts to target/,
  },
  {
    name: 'inventory: the file does not exist',
    files: { 'site.yml': play('    - debug: msg=hi\n') },
    args: ['run', 'site.yml', '-i', 'nope.ini'],
    code: 1,
    message: /nope\.ini/,
  },
  {
    name: 'inventory: unclosed section header',
    files: { 'site.yml': play('    - debug: msg=hi\n'), 'hosts.ini': '[web\nweb1\n' },
    code: 1,
    message: /section|\[web/,
    where: 'hosts.ini:1:',
  },
  {
    name: 'inventory: variable without a value',
    files: { 'site.yml': play('    - debug: msg=hi\n'), 'hosts.ini': '[web]\nweb1 ansible_port\n' },
    code: 1,
    message: /ansible_port/,
    where: 'hosts.ini:2:',
  },
  {
    name: 'inventory: bad line in a :vars section',
    files: { 'site.yml': play('    - debug: msg=hi\n'), 'hosts.ini': '[web]\nweb1\n[web:vars]\nthis is not a var\n' },
    code: 1,
    message: /web:vars|key=value|variable/i,
    where: 'hosts.ini:4:',
  },
  {
    name: 'inventory: :children names an unknown kind',
    files: { 'site.yml': play('    - debug: msg=hi\n'), 'hosts.ini': '[web]\nweb1\n[web:kids]\nweb2\n' },
    code: 1,
    message: /kids/,
    where: 'hosts.ini:3:',
  },
  {
    name: 'inventory: bad host range',
    files: { 'site.yml': play('    - debug: msg=hi\n'), 'hosts.ini': '[web]\nweb[3:x]\n' },
    code: 1,
    message: /range|web\[3:x\]/,
    where: 'hosts.ini:2:',
  },
  {
    name: 'inventory: YAML inventory with a list where a mapping belongs',
    files: { 'site.yml': play('    - debug: msg=hi\n'), 'hosts.yml': 'all:\n  hosts:\n    - web1\n' },
    args: ['run', 'site.yml', '-i', 'hosts.yml'],
    code: 1,
    message: /hosts/,
    where: 'hosts.yml:3:',
  },
  // vars files and -e
  {
    name: 'vars_files: missing file',
    files: { 'site.yml': play('    - debug: msg=hi\n', '  vars_files:\n    - nope.yml\n') },
    code: 1,
    message: /nope\.yml/,
    where: 'site.yml:',
  },
  {
    name: 'vars_files: a file that holds a list',
    files: { 'site.yml': play('    - debug: msg=hi\n', '  vars_files: [vars.yml]\n'), 'vars.yml': '- a\n- b\n' },
    code: 1,
    message: /mapping/,
    where: 'vars.yml:1:1',
  },
  {
    name: '-e: text that is not key=value',
    files: { 'site.yml': play('    - debug: msg=hi\n') },
    args: ['run', 'site.yml', '-i', 'hosts.ini', '-e', 'justaword'],
    code: 5,
    message: /justaword/,
  },
  {
    name: '-e: broken inline JSON',
    files: { 'site.yml': play('    - debug: msg=hi\n') },
    args: ['run', 'site.yml', '-i', 'hosts.ini', '-e', '{"a": 1'],
    code: 4,
    message: /extra vars|YAML syntax/i,
  },
  {
    name: '-e: @file that does not exist',
    files: { 'site.yml': play('    - debug: msg=hi\n') },
    args: ['run', 'site.yml', '-i', 'hosts.ini', '-e', '@nope.yml'],
    code: 1,
    message: /nope\.yml/,
  },
  {
    name: '-e: @file with a YAML error',
    files: { 'site.yml': play('    - debug: msg=hi\n'), 'extra.yml': 'a: 1\n  b: 2\n' },
    args: ['run', 'site.yml', '-i', 'hosts.ini', '-e', '@extra.yml'],
    code: 4,
    message: /YAML syntax error/,
    where: 'extra.yml:2:4', // the mis-indented line, where ansible-playbook 2.14 places it too
  },
  {
    name: 'playbook: empty hosts list',
    files: { 'site.yml': '- hosts: []\n  tasks:\n    - debug: msg=hi\n' },
    code: 4,
    message: /Hosts list cannot be empty/,
    where: 'site.yml:1:3',
  },
  {
    name: 'playbook: vars_files entry that is a mapping',
    files: { 'site.yml': play('    - debug: msg=hi\n', '  vars_files:\n    - {a: 1}\n') },
    code: 4,
    message: /vars_files entry must be a file name/,
    where: 'site.yml:4:7',
  },
  {
    name: 'playbook: retries is not a number',
    files: { 'site.yml': play('    - command: echo hi\n      register: r\n      until: r.rc == 0\n      retries: abc\n') },
    code: 4,
    message: /'retries' has an invalid value \(abc\)/,
    where: 'site.yml:7:7',
  },
  {
    name: 'playbook: serial is not a number',
    files: { 'site.yml': play('    - debug: msg=hi\n', '  serial: abc\n') },
    code: 4,
    message: /invalid serial value 'abc'/,
    where: 'site.yml:3:3',
  },
  {
    name: 'options: --start-at-task names no task',
    files: { 'site.yml': play('    - name: first\n      debug: msg=hi\n') },
    args: ['run', 'site.yml', '-i', 'hosts.ini', '--start-at-task', 'frist'],
    code: 5,
    message: /No matching task "frist" found/,
  },
  {
    name: 'pattern: --limit @file that does not exist',
    files: { 'site.yml': play('    - debug: msg=hi\n') },
    args: ['run', 'site.yml', '-i', 'hosts.ini', '-l', '@nope.txt'],
    code: 1,
    message: /Unable to find limit file .*nope\.txt/,
  },
  // vault
  {
    name: 'vault: encrypted vars file without a vault password',
    files: { 'site.yml': play('    - debug: msg=hi\n', '  vars_files: [secrets.yml]\n'), 'secrets.yml': VAULTED },
    code: 1,
    message: /Attempting to decrypt but no vault secrets found/,
    where: 'secrets.yml:1:1',
  },
  {
    name: 'vault: inline !vault value with the wrong password',
    files: { 'site.yml': play('    - debug: msg=hi\n'), 'group_vars/web.yml': `db_password: !vault |\n${INLINE}\n`, wrong: 'wrong-pw\n' },
    args: ['run', 'site.yml', '-i', 'hosts.ini', '--vault-password-file', 'wrong'],
    code: 1,
    message: /Decryption failed/,
    where: 'group_vars/web.yml:1:',
  },
  {
    name: 'vault: --vault-id without a source',
    files: { 'site.yml': play('    - debug: msg=hi\n') },
    args: ['run', 'site.yml', '-i', 'hosts.ini', '--vault-id', 'prod@'],
    code: 5,
    message: /--vault-id 'prod@' names no password source/,
  },
  {
    name: 'vault: a module argument error shows no decrypted value',
    files: {
      'site.yml': play('    - file:\n        path: /tmp/x\n        state: "{{ db_password }}"\n'),
      'group_vars/web.yml': `db_password: !vault |\n${INLINE}\n`,
      pw: 'right-pw\n',
    },
    args: ['run', 'site.yml', '-i', 'hosts.ini', '--vault-password-file', 'pw'],
    code: 2,
    runtime: true,
    message: /value of state must be one of: .*got: \*{8}/,
    where: 'site.yml:4:',
  },
  // command line
  {
    name: 'options: --forks is not a number',
    files: { 'site.yml': play('    - debug: msg=hi\n') },
    args: ['run', 'site.yml', '-i', 'hosts.ini', '-f', 'many'],
    code: 5,
    message: /forks/,
  },
  {
    name: 'yaml: a mis-indented line in group_vars is named (not the key before it)',
    files: { 'site.yml': play('    - debug: var=a\n'), 'group_vars/web.yml': 'a: 1\n b: 2\n' },
    code: 4,
    message: /YAML syntax error/,
    where: 'group_vars/web.yml:2:3',
  },
  {
    name: 'yaml: mapping items that do not line up in an inventory: the first line that is off',
    files: { 'site.yml': play('    - debug: msg=hi\n'), 'hosts.yml': 'all:\n  hosts:\n    web1:\n   ansible_connection: local\n' },
    args: ['run', 'site.yml', '-i', 'hosts.yml'],
    code: 1,
    message: /YAML syntax error/,
    where: 'hosts.yml:4:4',
  },
  {
    name: 'yaml: an unquoted template as a value in group_vars (a mapping as a key)',
    files: { 'site.yml': play('    - debug: var=x\n'), 'group_vars/web.yml': 'x: {{ a }}\n' },
    code: 4,
    message: /YAML syntax error: a mapping cannot be a key/,
    where: 'group_vars/web.yml:1:5',
  },
  {
    name: 'yaml: an unquoted template as a task argument',
    files: { 'site.yml': play('    - debug:\n        msg: {{ a }}\n') },
    code: 4,
    message: /quote a template/,
    where: 'site.yml:5:15',
  },
  {
    name: 'options: -e with JSON that is not closed names -e',
    files: { 'site.yml': play('    - debug: msg=hi\n') },
    args: ['run', 'site.yml', '-i', 'hosts.ini', '-e', '{"a": "x'],
    code: 4,
    message: /^ERROR! -e:1:7: YAML syntax error: .* \(in -e '\{"a": "x'\)/m,
  },
  {
    name: 'options: unknown option',
    files: { 'site.yml': play('    - debug: msg=hi\n') },
    args: ['run', 'site.yml', '-i', 'hosts.ini', '--chek'],
    code: 5,
    message: /--chek/,
  },
  {
    name: 'options: --become-password-file that does not exist',
    files: { 'site.yml': play('    - debug: msg=hi\n') },
    args: ['run', 'site.yml', '-i', 'hosts.ini', '--become-password-file', 'nope.txt'],
    code: 1,
    message: /nope\.txt/,
  },
];
