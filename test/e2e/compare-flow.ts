// Run one playbook under tsplay and under ansible-playbook 2.14 on two local-connection hosts and
// compare the lines that say what ran: banners, each host's result line (status, host, item label,
// a debug message or a failure's msg), FAILED - RETRYING, ...ignoring, NO MORE HOSTS LEFT, the
// recap and the exit code. Hosts run in parallel, so the lines of one task are sorted first.
// Used by test/e2e/flow-compare.test.ts and test/e2e/keywords-compare.test.ts.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect } from 'vitest';
import { hasAnsible } from '../ansible.js';
import { project } from './helpers.js';

const CLI = resolve('dist/engine/cli.js');
export const HOST = 'ansible_connection=local ansible_python_interpreter=/usr/bin/python3';
const HOSTS = `h1 ${HOST}\nh2 ${HOST}\n`;

export interface Flow {
  code: number | null;
  out: string;
  /** The normalised lines, ending with `rc=N`. */
  lines: string[];
}

const RESULT = /^(ok|changed|skipping|fatal|failed|FAILED - RETRYING|\.\.\.ignoring|included|\S+ +: ok=)/;
const MARK = /^(TASK \[|RUNNING HANDLER \[|PLAY |PLAY RECAP|NO MORE HOSTS LEFT|ERROR!)/;

/** What ran, line by line: results without their JSON (a debug msg and a failure's msg kept). */
export function normalise(out: string, dir: string, code: number | null): string[] {
  const lines: string[] = [];
  let group: string[] = [];
  const flush = (): void => {
    lines.push(...group.sort());
    group = [];
  };
  for (const raw of out.split('\n')) {
    const l = raw.replaceAll(dir, '<dir>');
    if (RESULT.test(l)) {
      const msg = /"msg": ("(?:[^"\\]|\\.)*")/.exec(l)?.[1];
      let s = l
        .replace(/ => \{.*$/, '')
        .replace(/(: FAILED!|: UNREACHABLE!) => .*$/, '$1')
        .replace(/\s+/g, ' ')
        .trim();
      // (an unreachable host's message is the SSH client's own: not compared)
      if (msg && /^(fatal|failed)/.test(s) && !s.endsWith('UNREACHABLE!')) s += ` msg=${msg}`;
      // the hosts of an include, in the order they finished
      s = s.replace(/^(included: .* for )(.*)$/, (_m, head: string, hosts: string) => head + hosts.split(', ').sort().join(', '));
      group.push(s);
    } else if (/^\s+"msg": /.test(l) && group.length) {
      group[group.length - 1] += ` ${l.trim()}`;
    } else if (MARK.test(l)) {
      flush();
      lines.push(l.replace(/ \*+$/, ''));
    }
  }
  flush();
  lines.push(`rc=${code}`);
  return lines;
}

export function runFlow(engine: 'tsplay' | 'ansible', playbook: string, files: Record<string, string>, extra: string[]): Flow {
  const dir = project({ hosts: HOSTS, ...files, 'site.yml': playbook });
  const env = { ...process.env, NO_COLOR: '1', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_CONFIG: '' };
  const r =
    engine === 'tsplay'
      ? spawnSync(process.execPath, [CLI, 'run', 'site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env })
      : spawnSync('ansible-playbook', ['site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env });
  const out = r.stdout + r.stderr;
  return { code: r.status, out, lines: normalise(out, dir, r.status) };
}

/**
 * Run under both; expect the same lines, and (so that a change on both sides is seen, and where
 * Ansible is missing) the lines tsplay printed to hold `expected` in this order.
 */
export function compareFlow(playbook: string, expected: string[], opts: { files?: Record<string, string>; extra?: string[] } = {}): Flow {
  const t = runFlow('tsplay', playbook, opts.files ?? {}, opts.extra ?? []);
  if (hasAnsible) {
    const a = runFlow('ansible', playbook, opts.files ?? {}, opts.extra ?? []);
    expect(t.lines, `tsplay:\n${t.out}\nansible:\n${a.out}`).toEqual(a.lines);
  }
  let at = 0;
  for (const e of expected) {
    const found = t.lines.indexOf(e, at);
    expect(found, `${e} (after line ${at}) in:\n${t.lines.join('\n')}`).toBeGreaterThanOrEqual(0);
    at = found + 1;
  }
  return t;
}
