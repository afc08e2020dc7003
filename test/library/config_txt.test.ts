// The example custom module of docs/writing-modules.md: plan fixtures on plain strings, and a run of
// the built CLI (Node's own loader: a .ts module, no build step, `import from 'tsplay'`).
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileFact } from '../../engine/index.js';
import configTxt, { desired } from '../../playbooks/library/config_txt.js';
import { project } from '../e2e/helpers.js';

const defaults = { path: '/boot/firmware/config.txt', section: 'all', settings: {}, overlays: [], absent: [], backup: false };

// What the file fact reports of a config.txt holding `text` (or of a missing one).
function fact(text: string | undefined): FileFact {
  const identity = { uid: 0, gid: 0, user: 'root', group: 'root', umask: '0022' };
  if (text === undefined) return { path: defaults.path, exists: false, parentExists: true, identity };
  const content = Buffer.from(text).toString('base64');
  return {
    path: defaults.path,
    exists: true,
    type: 'file',
    mode: '0644',
    owner: 'root',
    group: 'root',
    uid: 0,
    gid: 0,
    size: text.length,
    content,
    parentExists: true,
    identity,
  };
}

describe('config_txt plan', () => {
  const cases: { name: string; before: string; args: Partial<typeof defaults> & Record<string, unknown>; after: string }[] = [
    {
      name: 'adds an overlay to [all]',
      before: 'arm_64bit=1\n',
      args: { overlays: ['disable-wifi'] },
      after: 'arm_64bit=1\ndtoverlay=disable-wifi\n',
    },
    {
      name: 'keeps a present overlay',
      before: 'dtoverlay=disable-wifi\n',
      args: { overlays: ['disable-wifi'] },
      after: 'dtoverlay=disable-wifi\n',
    },
    {
      name: 'replaces a key in place',
      before: 'a=1\narm_64bit=0\nb=2\n',
      args: { settings: { arm_64bit: 1 } },
      after: 'a=1\narm_64bit=1\nb=2\n',
    },
    {
      name: 'writes into the named section only',
      before: '[pi4]\nx=1\n[all]\ny=2\n',
      args: { section: 'pi4', settings: { x: 3 } },
      after: '[pi4]\nx=3\n[all]\ny=2\n',
    },
    {
      name: 'creates a missing section at the end',
      before: 'a=1\n',
      args: { section: 'cm4', settings: { otg_mode: true } },
      after: 'a=1\n[cm4]\notg_mode=1\n',
    },
    {
      name: 'removes keys and lines',
      before: 'a=1\ndtoverlay=vc4-kms-v3d\nb=2\n',
      args: { absent: ['a', 'dtoverlay=vc4-kms-v3d'] },
      after: 'b=2\n',
    },
    { name: 'adds a final newline', before: 'a=1', args: { settings: { b: 2 } }, after: 'a=1\nb=2\n' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const args = { ...defaults, ...c.args } as typeof defaults;
      expect(desired(c.before, args)).toBe(c.after);
      const plan = configTxt.plan(fact(c.before), args);
      if (c.before === c.after) expect(plan.changes).toEqual([]);
      else expect(plan.changes[0]!.diff!.after).toBe(c.after);
    });
  }
  it('writes atomically only over what gather read, with backup and validate when asked', () => {
    const plan = configTxt.plan(fact('a=1\n'), { ...defaults, settings: { b: 2 }, backup: true, validate: 'grep -q b= %s' });
    const cmd = plan.changes[0]!.commands[0]!.cmd.text;
    expect(cmd).toContain('mv -fT -- "$t" /boot/firmware/config.txt');
    expect(cmd).toContain('__tsplay__ stale');
    expect(cmd).toContain('cp -p -- /boot/firmware/config.txt "$b"');
    expect(cmd).toContain('grep -q b= "$t"');
    expect(plan.result).toEqual({ backup_file: '' });
    expect(configTxt.plan(fact('a=1\n'), { ...defaults, settings: { b: 2 }, validate: 'true' }).failed).toMatch(/validate must contain %s/);
  });
  it('fails when the file is missing', () => {
    expect(configTxt.plan(fact(undefined), defaults).failed).toMatch(/does not exist/);
  });
});

// dist/engine/tsplay.cjs is the `tsplay` command (the one-file build, whose API objects a custom
// module must share); dist/engine/cli.js is the same program as ES modules
describe.each(['tsplay.cjs', 'cli.js'])('config_txt through the CLI (dist/engine/%s)', (entry) => {
  it('loads from library/ without a build step, changes once, then nothing; check mode writes nothing', () => {
    const cli = resolve('dist/engine', entry);
    const dir = project({
      hosts: 'pi ansible_connection=local\n',
      'boot/config.txt': '# Raspberry Pi config\narm_64bit=0\n',
      'site.yml': `
- hosts: pi
  gather_facts: false
  tasks:
    - config_txt:
        path: "{{ playbook_dir }}/boot/config.txt"
        overlays: [disable-wifi]
        settings: { arm_64bit: 1 }
`,
    });
    const library = resolve('playbooks/library/config_txt.ts');
    const env = { ...process.env, NO_COLOR: '1', TSPLAY_LIBRARY: resolve('playbooks/library') };
    const file = join(dir, 'boot/config.txt');
    chmodSync(file, 0o600);
    const run = (...extra: string[]) =>
      spawnSync(process.execPath, [cli, 'run', 'site.yml', '-i', 'hosts', ...extra], { cwd: dir, env, encoding: 'utf8' });
    const check = run('--check', '--diff');
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(check.stdout).toContain('+dtoverlay=disable-wifi');
    expect(readFileSync(file, 'utf8')).toBe('# Raspberry Pi config\narm_64bit=0\n');
    const first = run();
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/pi\s+: ok=1\s+changed=1/);
    expect(readFileSync(file, 'utf8')).toBe('# Raspberry Pi config\narm_64bit=1\ndtoverlay=disable-wifi\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = run();
    expect(second.stdout).toMatch(/pi\s+: ok=1\s+changed=0/);
    const doc = spawnSync(process.execPath, [cli, 'doc', 'config_txt'], { cwd: dir, env, encoding: 'utf8' });
    expect(doc.stdout).toContain(`> CONFIG_TXT    (${library})`);
    expect(doc.stdout).toContain('dtoverlay=');
  });
});
