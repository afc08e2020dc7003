// Registered results compared with ansible-playbook itself: the keys a playbook may read.
import { describe, expect, it } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { runAnsible, runTsplay } from './compare.js';

describe.skipIf(!hasAnsible)('registered results compared with ansible-playbook', () => {
  it("copy's src: the file moved into place when written, the given path with remote_src, none when unchanged", async () => {
    const play = (dir: string) => `- hosts: h
  gather_facts: false
  tasks:
    - copy: { content: x, dest: ${dir}/a }
      register: c
    - copy: { src: ${dir}/a, dest: ${dir}/b, remote_src: true }
      register: d
    - template: { src: t.j2, dest: ${dir}/c }
      register: e
    - copy: { content: x, dest: ${dir}/a }
      register: f
    - debug:
        msg: "{{ [c, e] | map(attribute='src') | map('dirname') | map('regex_replace', '^/root/.ansible/tmp/.*', 'TMP') | list }} {{ d.src }} {{ f.src | default('none') }}"
`;
    const files = { 't.j2': 'y\n' };
    const { mkdtempSync, rmSync } = await import('node:fs');
    const td = mkdtempSync('/tmp/tsplay-src-');
    const ad = mkdtempSync('/tmp/tsplay-src-');
    const t = await runTsplay(files, play(td));
    const a = runAnsible(files, play(ad));
    rmSync(td, { recursive: true });
    rmSync(ad, { recursive: true });
    expect(a.code, a.out).toBe(0);
    expect(t.code, t.out).toBe(0);
    // Ansible's temp file is its upload under ~/.ansible/tmp; tsplay's sits beside the destination
    expect(a.msgs).toEqual([`"msg": "['TMP', 'TMP'] ${ad}/a none"`]);
    expect(t.msgs).toEqual([`"msg": "['${td}', '${td}'] ${td}/a none"`]);
  }, 120_000);

  it('a command skipped by check mode is a module result: failed is false', async () => {
    const play = `- hosts: h
  gather_facts: false
  tasks:
    - command: cat
      args: { stdin: x }
      register: r
    - debug:
        msg: "{{ r.failed }} {{ r.skipped }} {{ r.stdout | length }} {{ r.msg }}"
`;
    const t = await runTsplay({}, play, ['--check']);
    const a = runAnsible({}, play, ['--check']);
    expect(a.code, a.out).toBe(0);
    expect(t.code, t.out).toBe(0);
    expect(t.msgs).toEqual(a.msgs);
    expect(t.msgs).toEqual(['"msg": "False True 0 Command would have run if not in check mode"']);
  }, 120_000);
});
