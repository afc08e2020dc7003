// Run one playbook under tsplay (in-process) and under ansible-playbook on this machine
// (ansible_connection=local), each in a fresh project directory, and read what they printed.
import { spawnSync } from 'node:child_process';
import { project, tsplay } from './helpers.js';

export const LOCAL_HOSTS = 'h ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n';

/** One run: exit code, output, the task status lines of host h, the recap's changed count. */
export interface PlaybookRun {
  code: number | null;
  out: string;
  statuses: string[];
  msgs: string[];
  changed: number;
  dir: string;
}

function parse(code: number | null, out: string, dir: string): PlaybookRun {
  const lines = out.split('\n');
  const recap = lines.find((l) => /^h\s+: ok=/.test(l)) ?? '';
  return {
    code,
    out,
    dir,
    statuses: lines.filter((l) => /^(ok|changed|skipping|fatal|failed): \[h\]/.test(l)).map((l) => l.replace(/ => .*$/, '')),
    msgs: lines.filter((l) => /^\s+"msg": /.test(l)).map((l) => l.trim()),
    changed: Number(/changed=(\d+)/.exec(recap)?.[1] ?? -1),
  };
}

/** `tsplay run site.yml -i hosts EXTRA` in a new project holding `files` and the playbook. */
export async function runTsplay(files: Record<string, string>, playbook: string, extra: string[] = []): Promise<PlaybookRun> {
  const dir = project({ hosts: LOCAL_HOSTS, ...files, 'site.yml': playbook });
  const r = await tsplay(dir, ['run', 'site.yml', '-i', 'hosts', ...extra]);
  return parse(r.code, r.out + r.err, dir);
}

/** The same under ansible-playbook. */
export function runAnsible(files: Record<string, string>, playbook: string, extra: string[] = []): PlaybookRun {
  const dir = project({ hosts: LOCAL_HOSTS, ...files, 'site.yml': playbook });
  const env = { ...process.env, NO_COLOR: '1', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_CONFIG: '' };
  const r = spawnSync('ansible-playbook', ['site.yml', '-i', 'hosts', ...extra], { cwd: dir, encoding: 'utf8', env });
  return parse(r.status, r.stdout + r.stderr, dir);
}

/** Does the installed Ansible have this module (a collection's, say community.general.timezone)? */
export function ansibleHasModule(name: string): boolean {
  return spawnSync('ansible-doc', ['-t', 'module', '--json', name], { encoding: 'utf8' }).stdout?.includes(`"${name}"`) ?? false;
}
