// Build step (npm run build, after tsc): the CLI as one CommonJS file, dist/engine/cli.bundle.cjs,
// which engine/tsplay.cts runs with V8's code cache. Start-up is most of a small run, and most of
// start-up was Node's ES module loader resolving, reading and compiling about 150 files one by
// one; one file whose compiled code comes from the cache skips nearly all of it (figures in
// docs/performance.md). dist/engine/cli.js stays the same program, as ES modules.
//
// The bundle sits in dist/engine/, beside dist/engine/paths.js, so every path that engine/paths.ts
// computes is the same in both. Left outside: what loads on first use only, or cannot be bundled
// (ssh2's optional native crypto, ajv for custom modules' schemas, ora on a terminal, ejs, tsx
// for TypeScript custom modules).
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ownPath } from '../paths.js';

export const BUNDLE = ownPath('cli.bundle.cjs');
export const EXTERNAL = ['ssh2', 'ajv', 'ajv/*', 'ora', 'ejs', 'tsx', 'tsx/*', 'cpu-features'];

export async function bundle(): Promise<void> {
  rmSync(`${BUNDLE}.cache`, { force: true }); // the cache belongs to the previous bundle
  await build({
    entryPoints: [ownPath('cli.js')],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: EXTERNAL,
    // every module's import.meta.url is the bundle's own file (see engine/paths.ts)
    define: { 'import.meta.url': '__tsplay_bundle_url' },
    // the build's id keys the code cache (engine/tsplay.cts)
    banner: { js: `// tsplay build ${randomUUID()}\nconst __tsplay_bundle_url = require('node:url').pathToFileURL(__filename).href;` },
    legalComments: 'none',
    logLevel: 'warning',
  });
}

// V8 caches the code of the functions a run has compiled by the time the cache is written, so the
// first cache comes from a run that goes through what most runs do: load an inventory and a
// playbook, template, validate, plan the everyday modules and report. It runs in check mode
// against a directory of its own on this machine, and so changes nothing.
const WARMUP = `- hosts: all
  gather_facts: false
  vars:
    dir: "{{ playbook_dir }}/files"
  tasks:
    - name: a directory
      file: { path: "{{ dir }}", state: directory, mode: "0755" }
    - name: a line
      lineinfile: { path: "{{ dir }}/conf", line: "key=value", create: true }
    - name: content
      copy: { content: "content\\n", dest: "{{ dir }}/copy" }
    - name: a template
      template: { src: t.j2, dest: "{{ dir }}/tpl" }
    - name: a command
      command: cat /etc/hostname
      changed_when: false
      check_mode: false
    - set_fact:
        items: "{{ items | default([]) + [item | upper] }}"
      loop: [a, b]
      when: item is defined
    - debug: { msg: "{{ items | join(',') }}" }
`;

export function warmUp(): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-warmup-'));
  try {
    mkdirSync(join(dir, 'templates'));
    writeFileSync(join(dir, 'templates', 't.j2'), 'host={{ inventory_hostname }}\n');
    writeFileSync(join(dir, 'site.yml'), WARMUP);
    writeFileSync(join(dir, 'hosts'), 'localhost ansible_connection=local\n');
    const r = spawnSync(process.execPath, [ownPath('tsplay.cjs'), 'run', 'site.yml', '-i', 'hosts', '--check', '--diff'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    if (r.status !== 0) throw new Error(`the warm-up run failed (${r.status}):\n${r.stdout}${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && process.argv[1].endsWith('bundle.js')) {
  // tsc writes files 0644: the `tsplay` command must run as ./dist/engine/tsplay.cjs too, not only
  // through npm link (which sets the mode) or `node dist/engine/tsplay.cjs`
  chmodSync(ownPath('tsplay.cjs'), 0o755);
  await bundle();
  warmUp();
  const kib = (f: string) => (statSync(f).size / 1024).toFixed(0);
  process.stdout.write(`bundled ${BUNDLE} (${kib(BUNDLE)} KiB; code cache ${kib(`${BUNDLE}.cache`)} KiB)\n`);
}
