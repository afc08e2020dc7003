// getent: one getent database (or one key of it) into ansible_facts.getent_<database>, as
// ansible.builtin.getent returns it. One remote command; changes nothing.
import { defineModule, noop, planFailure, sh, type ExecResult } from '../engine/index.js';

/** getent's arguments, complete after validation. */
export interface GetentArgs {
  database: string;
  key?: string;
  service?: string;
  split?: string;
  fail_key: boolean;
}

/** The databases whose fields getent separates with ':' (Ansible splits them there by default). */
const COLON_DATABASES = ['passwd', 'shadow', 'group', 'gshadow'];

// Python's str.split(sep): on whitespace runs (ends ignored) without a separator, else exactly.
function pySplit(line: string, sep: string | undefined): string[] {
  if (sep === undefined) return line.split(/\s+/).filter((w) => w !== '');
  return line.split(sep);
}

/** The fact from what getent printed: first field -> the others (a list of them for repeats). */
export function getentFacts(stdout: string, sep: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const seen = new Map<string, number>();
  for (const line of stdout.split(/\r?\n|\r/)) {
    if (line === '') continue;
    const record = pySplit(line, sep);
    if (record.length === 0) continue;
    const [first, ...rest] = record as [string, ...string[]];
    const count = seen.get(first) ?? 0;
    if (count === 0) out[first] = rest;
    else if (count === 1) out[first] = [out[first], rest];
    else (out[first] as unknown[]).push(rest);
    seen.set(first, count + 1);
  }
  return out;
}

/** The plan of getent: pure, from what getent printed and how it exited. */
export function planGetent(r: ExecResult, args: GetentArgs) {
  const fact = `getent_${args.database}`;
  if (r.rc === 127) return planFailure('Failed to find required executable "getent" in paths');
  if (r.rc === 0) {
    const sep = args.split ?? (COLON_DATABASES.includes(args.database) ? ':' : undefined);
    return noop(`read ${args.database}`, { ansible_facts: { [fact]: getentFacts(r.stdout, sep) } });
  }
  if (r.rc === 2) {
    const msg = 'One or more supplied key could not be found in the database.';
    if (!args.fail_key) return noop(msg, { ansible_facts: { [fact]: { [args.key ?? 'null']: null } }, msg });
    return planFailure(msg);
  }
  if (r.rc === 1) return planFailure('Missing arguments, or database unknown.');
  if (r.rc === 3) return planFailure('Enumeration not supported on this database.');
  return planFailure('Unexpected failure!');
}

export default defineModule<GetentArgs, ExecResult>({
  name: 'getent',
  aliases: ['ansible.builtin.getent'],
  description:
    'Run getent on one database (passwd, group, hosts, services, ...), optionally for one key, and set ansible_facts.getent_<database>: the first field of each entry -> the list of the others. One remote command; changes nothing.',
  schema: {
    type: 'object',
    properties: {
      database: { type: 'string', description: 'The getent database: passwd, group, shadow, hosts, services, ...' },
      key: { type: 'string', description: 'Only this entry; without it, the whole database.' },
      service: { type: 'string', description: 'Read the database from this NSS service only (getent -s).' },
      split: {
        type: 'string',
        description: 'The field separator; default ":" for passwd, shadow, group and gshadow, else runs of whitespace.',
      },
      fail_key: { type: 'boolean', default: true, description: 'Fail when the key is not in the database (else set it to null).' },
    },
    required: ['database'],
    additionalProperties: false,
  },
  examples: `- getent:
    database: passwd
    key: pi
- debug:
    msg: "home of pi: {{ ansible_facts.getent_passwd.pi[4] }}"

- getent:
    database: services
    key: http
    fail_key: false`,
  gather: (ctx, args) =>
    ctx.run(sh`command -v getent >/dev/null 2>&1 || exit 127
getent ${args.database} ${args.key === undefined ? [] : [args.key]} ${args.service === undefined ? [] : ['-s', args.service]}`),
  plan: planGetent,
});
