// async / poll and async_status (issue 16), compared with ansible-playbook 2.14 where installed.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project } from './helpers.js';

const CLI = resolve('dist/engine/cli.js');

const PLAY = `- hosts: h
  gather_facts: false
  tasks:
    - command: sleep 1
      async: 10
      poll: 1
      register: a
    - debug: msg="{{ a.finished }} {{ a.started }} {{ a.rc }} {{ a.ansible_job_id is string }} {{ a.cmd }}"
    - shell: sleep 2; echo done
      async: 30
      poll: 0
      register: bg
    - debug: msg="{{ bg.finished }} {{ bg.started }} {{ bg.changed }} {{ bg.stdout | default('no stdout yet') }}"
    - name: wait for the job
      async_status: jid={{ bg.ansible_job_id }}
      register: st
      until: st.finished
      retries: 10
      delay: 1
    - debug: msg="{{ st.finished }} {{ st.stdout }} {{ st.rc }} {{ st.cmd }} {{ st.attempts > 1 }}"
    - command: sleep 5
      async: 2
      poll: 1
      ignore_errors: true
      register: to
    - debug: msg="{{ to.msg }} {{ to.async_result.finished }}"
`;

function run(cmd: 'tsplay' | 'ansible', extra: string[] = []) {
  const dir = project({ hosts: 'h ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n', 'site.yml': PLAY });
  const env = { ...process.env, NO_COLOR: '1', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_CONFIG: '' };
  const r =
    cmd === 'tsplay'
      ? spawnSync(process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env })
      : spawnSync('ansible-playbook', ['site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env });
  const lines = r.stdout.split('\n');
  return {
    code: r.status,
    out: r.stdout,
    msgs: lines.filter((l) => /^\s+"msg": /.test(l)).map((l) => l.trim()),
    statuses: lines
      .filter((l) => /^(ok|changed|skipping|fatal|FAILED - RETRYING): \[h\]/.test(l) || l === '...ignoring')
      .map((l) => l.replace(/ => .*$/, '').replace(/ \(\d+ retries left\)\.$/, '')),
    // ASYNC POLL / OK / FAILED lines, job ids left out
    asyncLines: lines.filter((l) => l.startsWith('ASYNC ')).map((l) => l.replace(/jid=j\d+\.\d+/, 'jid=<jid>')),
    recap:
      lines
        .find((l) => /^h\s+: ok=/.test(l))
        ?.replace(/\s+/g, ' ')
        .trim() ?? '',
  };
}

// the ASYNC lines from the first task's end: whether `sleep 1` is still running at its first poll
// depends on timing
const fromOk = (l: string[]) => l.slice(l.indexOf('ASYNC OK on h: jid=<jid>'));

describe('async and async_status', () => {
  const t = run('tsplay');

  it('poll > 0 waits with a time limit; poll: 0 runs in the background until async_status sees it finished', () => {
    expect(t.code, t.out).toBe(0);
    expect(t.msgs).toEqual([
      '"msg": "1 1 0 True [\'sleep\', \'1\']"',
      '"msg": "0 1 True no stdout yet"',
      '"msg": "1 done 0 sleep 2; echo done True"',
      '"msg": "async task did not complete within the requested time - 2s 0"',
    ]);
    expect(t.out).toContain('FAILED - RETRYING: [h]: wait for the job (10 retries left).');
    // a poll that finds the job running prints a line; one at each interval of a time limit
    // that runs out
    expect(fromOk(t.asyncLines)).toEqual([
      'ASYNC OK on h: jid=<jid>',
      'ASYNC POLL on h: jid=<jid> started=1 finished=0',
      'ASYNC POLL on h: jid=<jid> started=1 finished=0',
      'ASYNC FAILED on h: jid=<jid>',
    ]);
    expect(t.recap).toBe('h : ok=8 changed=3 unreachable=0 failed=0 skipped=0 rescued=0 ignored=1');
  });

  it.skipIf(!hasAnsible)('ansible-playbook gives the same messages, statuses and recap', () => {
    const a = run('ansible');
    expect(a.code, a.out).toBe(0);
    expect(t.msgs).toEqual(a.msgs);
    // the number of retries depends on timing: compare the statuses without the retry lines
    const noRetry = (s: string[]) => s.filter((l) => !l.startsWith('FAILED - RETRYING'));
    expect(noRetry(t.statuses)).toEqual(noRetry(a.statuses));
    expect(t.recap).toBe(a.recap);
    expect(fromOk(t.asyncLines)).toEqual(fromOk(a.asyncLines));
  });
});
