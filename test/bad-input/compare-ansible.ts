// Developer tool: run every bad-input case through tsplay and ansible-playbook (local connection)
// and print both exit codes and tsplay's message. `npx tsx test/bad-input/compare-ansible.ts [filter]`
import { spawnSync } from 'node:child_process';
import { corpus } from './corpus.js';
import { materialize, runCase } from './harness.js';

const filter = process.argv[2];
for (const c of corpus.filter((c) => !filter || c.name.includes(filter))) {
  const r = await runCase(c);
  const dir = materialize(c);
  const args = (c.args ?? ['run', 'site.yml', '-i', 'hosts.ini']).slice(1);
  const a = spawnSync('ansible-playbook', [...args, '-c', 'local'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_PYTHON_INTERPRETER: 'auto_silent', ANSIBLE_NOCOLOR: '1' },
  });
  const mark = r.code === c.code ? ' ' : '!';
  console.log(`${mark} ${c.name}: tsplay=${r.code} expected=${c.code} ansible=${a.status} contacted=${r.contacted.length}`);
  console.log(
    '   tsplay: ' +
      (
        r.err +
        (r.code === 2
          ? r.out
              .split('\n')
              .filter((l) => /fatal|FAILED/.test(l))
              .join('\n')
          : '')
      )
        .trim()
        .split('\n')
        .slice(0, 4)
        .join('\n           '),
  );
  console.log(
    '   ansible: ' +
      (
        a.stderr +
        a.stdout
          .split('\n')
          .filter((l) => /fatal|ERROR/.test(l))
          .join('\n')
      )
        .trim()
        .split('\n')
        .filter((l) => !/^\s*$/.test(l))
        .slice(0, 3)
        .join('\n            '),
  );
}
