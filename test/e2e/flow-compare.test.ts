// Control flow compared with ansible-playbook 2.14 itself (issue 17): handlers, loops, until,
// blocks, error handling, meta tasks, run_once, delegation, serial and exit codes. The same
// playbook runs under both on two local-connection hosts; the lines that say what ran are
// compared: banners, each host's result line (status, host, item label, a debug message or a
// failure's msg), FAILED - RETRYING, ...ignoring, NO MORE HOSTS LEFT, the recap and the exit code.
// Hosts run in parallel, so the lines of one task are sorted before comparing.
import { describe, expect, it } from 'vitest';
import { HOST, compareFlow as compare } from './compare-flow.js';

const PLAY = `- hosts: all\n  gather_facts: false\n`;

describe('handlers compared with ansible-playbook', () => {
  it('notify by name, by listen and as a list; twice runs once; definition order; flush; loops; include files', () => {
    const files = {
      'more-handlers.yml': '- name: imported handler\n  debug: msg=imported\n',
      'inc-tasks.yml': '- name: task in include notifies\n  command: "true"\n  notify: imported handler\n',
    };
    compare(
      `${PLAY}  handlers:
    - name: h-b
      debug: msg=b
    - name: h-a
      debug: msg=a
      listen: topic
    - name: h-c
      debug: msg=c
      listen: topic
    - import_tasks: more-handlers.yml
    - name: h-loop
      debug: msg=loop
  tasks:
    - name: notify a topic then b
      command: "true"
      notify: [topic, h-b]
    - name: notify b again
      command: "true"
      notify: h-b
    - name: not changed does not notify
      command: "true"
      changed_when: false
      notify: h-loop
    - name: flush
      meta: flush_handlers
    - name: notify from a loop
      command: "true"
      loop: [1, 2, 3]
      notify: h-loop
    - name: only h2 notifies
      command: "true"
      notify: h-b
      when: inventory_hostname == 'h2'
    - include_tasks: inc-tasks.yml
    - name: last
      debug: msg=last
`,
      [
        // flush_handlers prints its banner once per host, as 2.14's linear strategy does
        'TASK [flush]',
        'TASK [flush]',
        'RUNNING HANDLER [h-b]',
        'RUNNING HANDLER [h-a]',
        'RUNNING HANDLER [h-c]',
        'TASK [notify from a loop]',
        'RUNNING HANDLER [h-b]',
        'ok: [h2] "msg": "b"',
        'RUNNING HANDLER [imported handler]',
        'RUNNING HANDLER [h-loop]',
        'h1 : ok=12 changed=4 unreachable=0 failed=0 skipped=1 rescued=0 ignored=0',
        'rc=0',
      ],
      { files },
    );
  }, 120_000);

  it('a failing handler fails its host; the handlers of a failed host do not run', () => {
    compare(
      `${PLAY}  handlers:
    - name: h-ok
      debug: msg=ok
    - name: h-bad
      command: "false"
    - name: h-after
      debug: msg=after
  tasks:
    - command: "true"
      notify: [h-ok, h-bad, h-after]
    - command: "false"
      when: inventory_hostname == 'h1'
    - debug: msg=end
`,
      [
        'RUNNING HANDLER [h-ok]',
        'ok: [h2] "msg": "ok"',
        'RUNNING HANDLER [h-bad]',
        'fatal: [h2]: FAILED! msg="non-zero return code"',
        'rc=2',
      ],
    );
  }, 120_000);

  it('a handler notified by an earlier handler runs in the same pass, once; include_tasks handlers', () => {
    compare(
      `${PLAY}  handlers:
    - name: chain1
      command: "true"
      notify: chain2
    - name: chain2
      debug: msg=chain2
    - name: included handlers
      include_tasks: hinc.yml
    - name: with when
      debug: msg=when
      when: inventory_hostname == 'h1'
  tasks:
    - command: "true"
      notify: [chain1, included handlers, with when]
    - block:
        - command: "false"
          when: inventory_hostname == 'h1'
      rescue:
        - command: "true"
          notify: chain2
`,
      [
        'RUNNING HANDLER [chain1]',
        'RUNNING HANDLER [chain2]',
        'ok: [h1] "msg": "chain2"',
        'ok: [h2] "msg": "chain2"',
        // an include in the handlers, and its tasks, are handlers too
        'RUNNING HANDLER [included handlers]',
        'RUNNING HANDLER [inc handler]',
        'RUNNING HANDLER [with when]',
        'skipping: [h2]',
        'h1 : ok=7 changed=3 unreachable=0 failed=0 skipped=0 rescued=1 ignored=0',
        'rc=0',
      ],
      { files: { 'hinc.yml': '- name: inc handler\n  debug: msg=inc-h\n' } },
    );
  }, 120_000);

  const FORCED = `${PLAY}  handlers:
    - name: h-ok
      debug: msg=ok
  tasks:
    - command: "true"
      notify: h-ok
    - command: "false"
      when: inventory_hostname == 'h1'
`;

  it('--force-handlers runs the handlers of a failed host too', () => {
    compare(FORCED, ['RUNNING HANDLER [h-ok]', 'ok: [h1] "msg": "ok"', 'ok: [h2] "msg": "ok"', 'rc=2'], { extra: ['--force-handlers'] });
  }, 120_000);

  it('force_handlers: true in the play does the same; without it only h2 runs them', () => {
    compare(FORCED.replace('gather_facts: false\n', 'gather_facts: false\n  force_handlers: true\n'), [
      'ok: [h1] "msg": "ok"',
      'ok: [h2] "msg": "ok"',
      'rc=2',
    ]);
    const t = compare(FORCED, ['RUNNING HANDLER [h-ok]', 'ok: [h2] "msg": "ok"', 'rc=2']);
    expect(t.lines).not.toContain('ok: [h1] "msg": "ok"');
  }, 120_000);
});

describe('loops and until compared with ansible-playbook', () => {
  it('loop_control label, index_var, loop_var, pause, extended; when per item; registered results', () => {
    compare(
      `${PLAY}  tasks:
    - name: label
      debug: msg="{{ item.n }}"
      loop: [{n: a, v: 1}, {n: b, v: 2}]
      loop_control:
        label: "{{ item.n }}"
    - name: index_var and loop_var
      debug: msg="{{ idx }} {{ thing }}"
      loop: [x, y]
      loop_control:
        index_var: idx
        loop_var: thing
    - name: pause
      debug: msg={{ item }}
      loop: [1, 2]
      loop_control:
        pause: 1
    - name: extended
      debug: msg="{{ ansible_loop.index }}/{{ ansible_loop.length }} prev={{ ansible_loop.previtem | default('-') }} next={{ ansible_loop.nextitem | default('-') }}"
      loop: [p, q]
      loop_control:
        extended: true
    - name: when per item
      command: echo {{ item }}
      loop: [1, 2, 3, 4]
      when: item is even
      register: r
    - name: registered loop
      debug: msg="{{ r.results | map(attribute='skipped', default=false) | list }} {{ r.changed }} {{ r.msg }}"
    - name: failing item
      command: "{{ 'false' if item == 2 else 'true' }}"
      loop: [1, 2, 3]
      ignore_errors: true
      register: fl
    - name: registered failed loop
      debug: msg="{{ fl.failed }} {{ fl.msg }} {{ fl.results | map(attribute='rc') | list }}"
    - name: empty loop
      debug: msg=x
      loop: []
    - name: every item skipped
      debug: msg=x
      loop: [1]
      when: false
`,
      [
        'ok: [h1] => (item=a) "msg": "a"',
        'ok: [h1] => (item=x) "msg": "0 x"',
        // no previtem on the first item, no nextitem on the last
        'ok: [h1] => (item=p) "msg": "1/2 prev=- next=q"',
        'ok: [h1] => (item=q) "msg": "2/2 prev=p next=-"',
        'ok: [h1] "msg": "[True, False, True, False] True All items completed"',
        'ok: [h1] "msg": "True One or more items failed [0, 1, 0]"',
        'TASK [every item skipped]',
        // every item skipped: the task's own skipping line follows the items'
        'skipping: [h1]',
        'skipping: [h1] => (item=1)',
        'rc=0',
      ],
    );
  }, 120_000);

  it('an ignored failed loop prints ...ignoring once, after its items; no_log prints the loop line too', () => {
    const t = compare(
      `${PLAY}  tasks:
    - name: two items fail
      command: "{{ item }}"
      loop: ["false", "true", "false"]
      ignore_errors: true
    - name: no_log failing loop
      command: "{{ item }}"
      loop: ["true", "false"]
      no_log: true
      ignore_errors: true
    - name: no_log loop
      debug: msg=secret
      loop: [s1]
      no_log: true
`,
      ['TASK [no_log loop]', 'ok: [h1]', 'ok: [h1] => (item=None)', 'rc=0'],
    );
    const first = t.lines.slice(t.lines.indexOf('TASK [two items fail]'), t.lines.indexOf('TASK [no_log failing loop]'));
    expect(first.filter((l) => l === '...ignoring')).toHaveLength(2);
    const second = t.lines.slice(t.lines.indexOf('TASK [no_log failing loop]'), t.lines.indexOf('TASK [no_log loop]'));
    expect(second.filter((l) => l.startsWith('fatal: [h1]: FAILED!'))).toHaveLength(1);
  }, 120_000);

  it('until prints FAILED - RETRYING; attempts is 2.14s count; retries: 0 is one attempt', () => {
    compare(
      `${PLAY}  tasks:
    - name: succeeds on the third attempt
      shell: n=$(cat {{ playbook_dir }}/n-{{ inventory_hostname }} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {{ playbook_dir }}/n-{{ inventory_hostname }}; echo $n
      register: u
      until: u.stdout | int >= 3
      retries: 5
      delay: 0
    - debug: msg="{{ u.attempts }} {{ u.stdout }}"
    - name: never
      command: "false"
      register: v
      until: v.rc == 0
      retries: 2
      delay: 0
      ignore_errors: true
    - debug: msg="{{ v.attempts }} {{ v.failed }}"
    - name: default retries
      command: "false"
      register: z
      until: z.rc == 0
      delay: 0
      ignore_errors: true
    - debug: msg="{{ z.attempts }}"
    - name: retries 0
      command: "true"
      register: w
      until: w.rc == 1
      retries: 0
    - debug: msg="{{ w.attempts }} {{ w.failed }}"
`,
      [
        'FAILED - RETRYING: [h1]: succeeds on the third attempt (4 retries left).',
        'FAILED - RETRYING: [h1]: succeeds on the third attempt (5 retries left).',
        'ok: [h1] "msg": "3 3"',
        'FAILED - RETRYING: [h1]: never (1 retries left).',
        'ok: [h1] "msg": "2 True"',
        'FAILED - RETRYING: [h1]: default retries (3 retries left).',
        'ok: [h1] "msg": "3"',
        'changed: [h1]',
        'ok: [h1] "msg": "1 False"',
        'rc=0',
      ],
    );
  }, 120_000);
});

describe('blocks and errors compared with ansible-playbook', () => {
  it('nested block/rescue/always, ansible_failed_task and _result, rescued in the recap', () => {
    compare(
      `${PLAY}  tasks:
    - name: outer
      block:
        - name: inner block
          block:
            - name: fail on h1
              command: "false"
              when: inventory_hostname == 'h1'
            - name: after fail
              debug: msg=after
          rescue:
            - name: inner rescue
              debug: msg="{{ ansible_failed_task.name }} rc={{ ansible_failed_result.rc }}"
            - name: fail in rescue
              fail: msg=rescue-fail
          always:
            - name: inner always
              debug: msg=always
      rescue:
        - name: outer rescue
          debug: msg="outer {{ ansible_failed_task.name }} {{ ansible_failed_result.msg }}"
      always:
        - name: outer always
          debug: msg=outer-always
    - name: a block that fails without rescue still runs always
      block:
        - command: "false"
          when: inventory_hostname == 'h2'
      always:
        - debug: msg=always2
    - name: never for h2
      debug: msg=end
`,
      ['ok: [h1] "msg": "fail on h1 rc=1"', 'ok: [h1] "msg": "outer fail in rescue rescue-fail"', 'rc=2'],
    );
  }, 120_000);

  it('ignore_errors, failed_when and changed_when lists, run_once, delegate_to, assert', () => {
    compare(
      `${PLAY}  tasks:
    - name: ignore
      command: "false"
      ignore_errors: true
    - name: failed_when list
      command: echo hello
      register: r
      failed_when:
        - r.rc == 0
        - "'hello' in r.stdout"
      ignore_errors: yes
    - name: changed_when list
      command: echo hi
      register: r2
      changed_when:
        - r2.rc == 0
        - "'nope' in r2.stdout"
    - name: failed_when false
      command: "false"
      failed_when: false
    - name: failed_when on a loop
      command: echo {{ item }}
      loop: [1, 2]
      failed_when: item == 2
      ignore_errors: true
    - name: run_once
      debug: msg="once {{ inventory_hostname }}"
      run_once: true
    - name: run_once registers on every host
      command: echo {{ inventory_hostname }}
      run_once: true
      register: ro
    - debug: msg="{{ ro.stdout }}"
    - name: delegate
      command: "true"
      delegate_to: localhost
    - name: run_once and delegate
      command: "true"
      run_once: true
      delegate_to: localhost
    - name: assert
      assert:
        that: [1 == 2]
        fail_msg: nope
      ignore_errors: true
    - name: fail h2
      fail: msg="boom {{ inventory_hostname }}"
      when: inventory_hostname == 'h2'
    - name: after
      debug: msg=after
`,
      [
        'changed: [h1 -> localhost]',
        // a failed assert's result is printed indented, as debug's: its msg is kept
        'fatal: [h1]: FAILED! "msg": "nope"',
        'fatal: [h2]: FAILED! msg="boom h2"',
        'h1 : ok=12 changed=7 unreachable=0 failed=0 skipped=1 rescued=0 ignored=4',
        'rc=2',
      ],
    );
  }, 120_000);

  it('any_errors_fatal ends the playbook with NO MORE HOSTS LEFT; a rescue still clears it', () => {
    compare(
      `${PLAY}  any_errors_fatal: true
  tasks:
    - command: "true"
    - command: "false"
      when: inventory_hostname == 'h1'
    - debug: msg=never
- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=play2
`,
      ['fatal: [h1]: FAILED! msg="non-zero return code"', 'NO MORE HOSTS LEFT', 'PLAY RECAP', 'rc=2'],
    );
    compare(
      `${PLAY}  tasks:
    - block:
        - command: "false"
          when: inventory_hostname == 'h1'
      rescue:
        - debug: msg=rescued
      any_errors_fatal: true
    - debug: msg=after-rescue
`,
      ['ok: [h1] "msg": "rescued"', 'ok: [h2] "msg": "after-rescue"', 'rc=0'],
    );
  }, 120_000);

  it('max_fail_percentage: over it, the banner twice as 2.14 prints it; at it, the play goes on', () => {
    const play = (pct: number) => `${PLAY}  max_fail_percentage: ${pct}
  tasks:
    - command: "false"
      when: inventory_hostname == 'h1'
    - debug: msg=h2-goes-on
`;
    compare(play(40), ['skipping: [h2]', 'NO MORE HOSTS LEFT', 'NO MORE HOSTS LEFT', 'PLAY RECAP', 'rc=2']);
    compare(play(50), ['ok: [h2] "msg": "h2-goes-on"', 'rc=2']);
  }, 120_000);
});

describe('meta tasks compared with ansible-playbook', () => {
  it('banners and skipping lines; clear_host_errors, end_host, end_play', () => {
    compare(
      `${PLAY}  tasks:
    - command: "false"
      when: inventory_hostname == 'h1'
    - meta: clear_host_errors
    - debug: msg=after-clear
    - meta: end_host
      when: inventory_hostname == 'h2'
    - debug: msg=after-end-host
- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=play2
    - meta: end_play
    - debug: msg=never
- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=play3
    - meta: end_play
      when: inventory_hostname == 'h2'
    - debug: msg=play3-after
`,
      [
        'TASK [meta]',
        // a failed host does not come back in the play where clear_host_errors runs...
        'ok: [h2] "msg": "after-clear"',
        'TASK [meta]',
        // ...but it runs the next play
        'ok: [h1] "msg": "play2"',
        'TASK [meta]',
        'TASK [meta]',
        // end_play is decided by the first host's condition
        'skipping: [h1]',
        'ok: [h2] "msg": "play3-after"',
        'h1 : ok=3 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0',
        // the cleared errors leave the exit code
        'rc=0',
      ],
    );
  }, 120_000);
});

describe('include_tasks compared with ansible-playbook', () => {
  it('a loop prints every included line, with its item, before the included tasks run', () => {
    compare(
      `${PLAY}  tasks:
    - include_tasks: t.yml
      loop: [1, 2]
    - include_tasks: t.yml
      when: inventory_hostname == 'h2'
    - name: failing in an include
      include_tasks: bad.yml
    - debug: msg=end
`,
      [
        'included: <dir>/t.yml for h1, h2 => (item=1)',
        'included: <dir>/t.yml for h1, h2 => (item=2)',
        'ok: [h1] "msg": "inc 1"',
        'ok: [h1] "msg": "inc 2"',
        'included: <dir>/t.yml for h2',
        'fatal: [h1]: FAILED! msg="non-zero return code"',
        'ok: [h2] "msg": "end"',
        'rc=2',
      ],
      {
        files: {
          't.yml': '- debug: msg="inc {{ item | default(0) }}"\n',
          'bad.yml': '- command: "false"\n  when: inventory_hostname == "h1"\n- debug: msg=after-bad\n',
        },
      },
    );
  }, 120_000);
});

describe('aborts, serial and exit codes compared with ansible-playbook', () => {
  it('every host failing ends the playbook without NO MORE HOSTS LEFT; a failed run_once task is fatal', () => {
    const t = compare(
      `${PLAY}  tasks:
    - command: "false"
    - debug: msg=after
- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=play2
`,
      ['fatal: [h2]: FAILED! msg="non-zero return code"', 'PLAY RECAP', 'rc=2'],
    );
    expect(t.lines).not.toContain('NO MORE HOSTS LEFT');
    const once = compare(
      `${PLAY}  tasks:
    - command: "false"
      run_once: true
    - debug: msg=after
`,
      ['fatal: [h1]: FAILED! msg="non-zero return code"', 'NO MORE HOSTS LEFT', 'PLAY RECAP', 'rc=2'],
    );
    // h2 never had a result: no recap line, as in Ansible
    expect(once.lines.filter((l) => l.startsWith('h2 :'))).toEqual([]);
  }, 120_000);

  it('serial: a PLAY banner per batch; a batch that fails entirely ends the playbook', () => {
    const files = { hosts: `h1 ${HOST}\nh2 ${HOST}\nh3 ${HOST}\n` };
    compare(
      `${PLAY}  serial: 1
  tasks:
    - command: "false"
      when: inventory_hostname == 'h2'
    - debug: msg=after
- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=never
`,
      ['PLAY [all]', 'ok: [h1] "msg": "after"', 'PLAY [all]', 'fatal: [h2]: FAILED! msg="non-zero return code"', 'PLAY RECAP', 'rc=2'],
      { files },
    );
    compare(
      `${PLAY}  serial: [1, 2]
  tasks:
    - command: "false"
      when: inventory_hostname == 'h2'
    - debug: msg=after
`,
      ['PLAY [all]', 'ok: [h1] "msg": "after"', 'PLAY [all]', 'ok: [h3] "msg": "after"', 'rc=2'],
      { files },
    );
  }, 120_000);

  it('an unreachable host: ignore_unreachable prints ...ignoring; exit code 4', () => {
    const files = { hosts: `h1 ${HOST}\nbad ansible_host=127.0.0.1 ansible_port=1 ansible_user=nobody ansible_connection=ssh\n` };
    compare(
      `${PLAY}  tasks:
    - command: "true"
      ignore_unreachable: true
    - command: "true"
    - debug: msg=after
- hosts: all
  gather_facts: false
  tasks:
    - debug: msg=p2
`,
      [
        '...ignoring',
        'fatal: [bad]: UNREACHABLE!',
        'fatal: [bad]: UNREACHABLE!',
        'ok: [h1] "msg": "p2"',
        'bad : ok=1 changed=0 unreachable=1 failed=0 skipped=0 rescued=0 ignored=1',
        'rc=4',
      ],
      { files },
    );
  }, 120_000);
});
