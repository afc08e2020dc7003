import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { project } from './helpers.js';

const CLI = resolve('dist/engine/tsplay.cjs');

describe('Ctrl-C', () => {
  it('stops the run, kills the running command, prints the recap and exits 99', async () => {
    const dir = project({
      hosts: 'h ansible_connection=local\n',
      'site.yml': `
- hosts: h
  gather_facts: false
  tasks:
    - name: slow
      shell: sleep 20; touch {{ playbook_dir }}/slow-finished
    - name: after
      file: path={{ playbook_dir }}/after state=touch
`,
    });
    const child = spawn(process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('TASK [slow]')) setTimeout(() => child.kill('SIGINT'), 300);
    });
    const started = Date.now();
    const code = await new Promise<number | null>((res) => child.on('close', res));
    expect(code).toBe(99);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(out).toContain('PLAY RECAP');
    expect(out).not.toContain('TASK [after]');
    expect(existsSync(join(dir, 'after'))).toBe(false);
    expect(existsSync(join(dir, 'slow-finished'))).toBe(false);
  });
});
