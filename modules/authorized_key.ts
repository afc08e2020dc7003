// authorized_key: SSH public keys kept in (or removed from) a user's authorized_keys, as
// ansible.posix.authorized_key does it: the file is parsed into keys (options, type, key,
// comment), the wanted keys are matched by their key material, and the whole file is written
// back normalized, 0600 and owned by the user (~/.ssh made 0700 and the user's with manage_dir).
// Keys given as a URL are not fetched: that is refused with a message.
import { posix } from 'node:path';
import {
  applyFileEdits,
  defineModule,
  fileProbeCommand,
  followed,
  noop,
  parseFileProbe,
  parseProbeAll,
  planFailure,
  planFileEdit,
  probeAllCommand,
  sh,
  type Change,
  type FileFact,
  type Plan,
} from '../engine/index.js';

/** authorized_key's arguments, complete after validation. */
export interface AuthorizedKeyArgs {
  user: string;
  key: string;
  path?: string;
  manage_dir: boolean;
  state: 'present' | 'absent';
  key_options?: string;
  exclusive: boolean;
  validate_certs: boolean;
  comment?: string;
  follow: boolean;
}

/** The user's passwd entry, the keys file and the directory that holds it. */
export interface AuthorizedKeyState {
  /** Undefined when the user does not exist. */
  account?: { uid: number; gid: number; home: string };
  /** The keys file (undefined when the user does not exist and no path was given). */
  file?: FileFact;
  /** Its directory. */
  dir?: FileFact;
}

const KEY_TYPES = new Set([
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'webauthn-sk-ecdsa-sha2-nistp256@openssh.com',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ssh-ed25519@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com',
  'ssh-ed25519',
  'ssh-ed25519-cert-v01@openssh.com',
  'ssh-dss',
  'ssh-rsa',
  'ssh-xmss@openssh.com',
  'ssh-xmss-cert-v01@openssh.com',
  'rsa-sha2-256',
  'rsa-sha2-512',
  'ssh-rsa-cert-v01@openssh.com',
  'rsa-sha2-256-cert-v01@openssh.com',
  'rsa-sha2-512-cert-v01@openssh.com',
  'ssh-dss-cert-v01@openssh.com',
]);

/** Options in their order, a name may repeat; a name without `=` has the value null. */
type Options = [string, string | null][];

/** One line of the file: a key, or a line kept as it is ('skipped': comments, blank or invalid lines). */
interface KeyLine {
  /** The key material (for a skipped line: the line itself). */
  id: string;
  type: string;
  options: Options;
  comment: string;
  rank: number;
}

// ssh key options: commas separate them, except inside quotes.
function parseOptions(text: string | undefined): Options {
  const options: Options = [];
  if (!text) return options;
  const parts = text.split(/((?:[^,"']|"[^"]*"|'[^']*')+)/).slice(1, -1);
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq >= 0) options.push([part.slice(0, eq), part.slice(eq + 1)]);
    else if (part !== ',') options.push([part, null]);
  }
  return options;
}

// Options compare as Ansible's dict of lists: the order of different names does not matter.
function sameOptions(a: Options, b: Options): boolean {
  const group = (o: Options) => {
    const m = new Map<string, (string | null)[]>();
    for (const [k, v] of o) m.set(k, [...(m.get(k) ?? []), v]);
    return m;
  };
  const ga = group(a);
  const gb = group(b);
  if (ga.size !== gb.size) return false;
  for (const [k, v] of ga) {
    const w = gb.get(k);
    if (!w || w.length !== v.length || v.some((x, i) => x !== w[i])) return false;
  }
  return true;
}

/** One line parsed: a key, a comment line ('skipped'), or undefined when it holds no key type. */
export function parseKeyLine(raw: string, rank: number): KeyLine | undefined | 'incomplete' {
  const line = raw.replaceAll('\\#', '#');
  const parts = line.split(/[ \t\r\n]+/).filter((p) => p !== '');
  if (parts[0] === '#') return { id: line, type: 'skipped', options: [], comment: '', rank };
  const typeIndex = parts.findIndex((p) => KEY_TYPES.has(p));
  if (typeIndex < 0) return undefined;
  if (typeIndex + 1 >= parts.length) return 'incomplete';
  return {
    id: parts[typeIndex + 1]!,
    type: parts[typeIndex]!,
    options: parseOptions(typeIndex > 0 ? parts.slice(0, typeIndex).join(' ') : undefined),
    comment: parts.slice(typeIndex + 2).join(' '),
    rank,
  };
}

/** Python's str.splitlines(True), on text read with universal newlines. */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  const normalized = text.replace(/\r\n?/g, '\n');
  let start = 0;
  for (const m of normalized.matchAll(/[\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]/g)) {
    lines.push(normalized.slice(start, m.index! + 1));
    start = m.index! + 1;
  }
  if (start < normalized.length) lines.push(normalized.slice(start));
  return lines;
}

function serialize(keys: Map<string, KeyLine>): string {
  return [...keys.values()]
    .sort((a, b) => a.rank - b.rank)
    .map((k) => {
      if (k.type === 'skipped') return k.id;
      const options = k.options.length
        ? k.options.map(([name, value]) => (value === null ? name : `${name}=${value}`)).join(',') + ' '
        : '';
      return `${options}${k.type} ${k.id} ${k.comment}\n`;
    })
    .join('');
}

/** The keys file's new content, or a failure message; `write` false: nothing to do. */
export function editKeys(
  existing: string,
  args: Pick<AuthorizedKeyArgs, 'key' | 'state' | 'key_options' | 'comment' | 'exclusive'>,
): { write: boolean; text: string } | { failed: string } {
  const keys = new Map<string, KeyLine>();
  splitLines(existing).forEach((line, rank) => {
    const parsed = parseKeyLine(line, rank);
    if (parsed === 'incomplete') throw new Error(`unparsable authorized_keys line: ${line}`);
    const k = parsed ?? { id: line, type: 'skipped', options: [], comment: '', rank };
    keys.set(k.id, k);
  });
  const wanted = args.key.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/).filter((s) => s !== '' && !s.startsWith('#'));
  const existingCount = keys.size;
  const keep = new Set<string>();
  let write = false;
  for (const [rank, text] of wanted.entries()) {
    const parsed = parseKeyLine(text, rank);
    if (parsed === undefined || parsed === 'incomplete') return { failed: `invalid key specified: ${text}` };
    const k = { ...parsed };
    if (args.key_options !== undefined) k.options = parseOptions(args.key_options);
    if (args.comment !== undefined) k.comment = args.comment;
    const old = keys.get(k.id);
    let matched = false;
    let mismatched = false;
    if (old) {
      const same = old.type === k.type && sameOptions(old.options, k.options) && old.comment === k.comment;
      if (!same && args.state === 'present') mismatched = true;
      else matched = true;
    }
    if (args.state === 'present') {
      keep.add(k.id);
      if (mismatched) {
        keys.delete(k.id);
        write = true;
      }
      if (!matched) {
        keys.set(k.id, { ...k, rank: existingCount + k.rank });
        write = true;
      }
    } else if (matched) {
      keys.delete(k.id);
      write = true;
    }
  }
  if (args.state === 'present' && args.exclusive) {
    for (const id of [...keys.keys()]) {
      if (keep.has(id)) continue;
      keys.delete(id);
      write = true;
    }
  }
  return { write, text: serialize(keys) };
}

/** Where the keys file is: the path given (or ~user/.ssh/authorized_keys) and its directory. */
function keysPath(args: AuthorizedKeyArgs, home: string): { file: string; dir: string } {
  if (args.path !== undefined) return { file: args.path, dir: posix.dirname(args.path) };
  const dir = posix.join(home, '.ssh');
  return { file: posix.join(dir, 'authorized_keys'), dir };
}

/** The plan of authorized_key: pure, from the user's entry, the probed file and the arguments. */
export function planAuthorizedKey(cur: AuthorizedKeyState, args: AuthorizedKeyArgs): Plan {
  if (args.key.startsWith('http')) {
    return planFailure(
      `authorized_key: keys from a URL (${args.key}) are not supported by tsplay; fetch them on the controller (lookup('url', ...)) and pass the text as key`,
    );
  }
  if (!cur.account || !cur.file) return planFailure(`Failed to lookup user ${args.user}: "getpwnam(): name not found: '${args.user}'"`);
  // without follow, a symlinked keys file is read through the link and replaced by a file
  const fact: FileFact =
    args.follow || cur.file.type !== 'link'
      ? cur.file
      : { ...cur.file, type: 'file', exists: cur.file.linked !== undefined, linked: undefined };
  const target = followed(fact);
  if (target.stat?.type === 'directory') return planFailure(`authorized_key: ${target.path} is a directory`);
  if (target.exists && (fact.content === undefined || fact.unreadable)) {
    return planFailure(`Permission denied on file or path for authorized keys file: ${target.path}`);
  }
  const before = target.exists && fact.content !== undefined ? Buffer.from(fact.content, 'base64').toString('utf8') : '';
  let edit: ReturnType<typeof editKeys>;
  try {
    edit = editKeys(before, args);
  } catch (e) {
    return planFailure(`authorized_key: ${(e as Error).message}`);
  }
  if ('failed' in edit) return planFailure(edit.failed);
  const { account } = cur;
  const dirPath = keysPath(args, account.home).dir;
  const result = {
    user: args.user,
    key: args.key,
    path: args.path ?? null,
    manage_dir: args.manage_dir,
    state: args.state,
    key_options: args.key_options ?? null,
    exclusive: args.exclusive,
    comment: args.comment ?? null,
    follow: args.follow,
    validate_certs: args.validate_certs,
    keyfile: target.path,
  };
  if (!edit.write) return noop(`${target.path}: the keys are already as wanted`, result);
  const changes: Change[] = [];
  const owner = String(account.uid);
  const group = String(account.gid);
  if (args.manage_dir) {
    const mkdir = cur.dir?.exists ? sh`` : sh`mkdir -m 0700 -- ${dirPath} && `;
    changes.push({
      summary: `make ${dirPath} 0700, owned by ${args.user}`,
      commands: [
        { cmd: sh`${mkdir}chown${args.follow ? sh`` : sh` -h`} -- ${`${owner}:${group}`} ${dirPath} && chmod 0700 -- ${dirPath}` },
      ],
    });
  }
  const verb = args.state === 'absent' ? 'remove key(s) from' : 'add key(s) to';
  changes.push(
    planFileEdit(fact, edit.text, {
      summary: `${verb} ${target.path}`,
      attributes: { mode: '0600', owner, group },
      diffPath: target.path,
    }),
  );
  return { changes, result };
}

export default defineModule<AuthorizedKeyArgs, AuthorizedKeyState>({
  name: 'authorized_key',
  aliases: ['ansible.posix.authorized_key', 'ansible.builtin.authorized_key'],
  description:
    "Add or remove SSH public keys in a user's authorized_keys (default ~user/.ssh/authorized_keys). The file is rewritten normalized (options, type, key, comment) as ansible.posix does, mode 0600 and owned by the user. Keys from a URL are not supported.",
  schema: {
    type: 'object',
    properties: {
      user: { type: 'string', description: 'The user whose keys file is edited (its owner).' },
      key: { type: 'string', description: 'The public key(s), one per line; lines starting with # are ignored.' },
      path: { type: 'string', description: 'The keys file, instead of ~user/.ssh/authorized_keys.' },
      manage_dir: {
        type: 'boolean',
        default: true,
        description: "Create the keys file's directory if needed, and make it 0700 and the user's.",
      },
      state: { type: 'string', enum: ['absent', 'present'], default: 'present', description: 'Whether the keys should be there or not.' },
      key_options: { type: 'string', description: 'ssh options to put before the key(s): no-pty,from="10.0.0.0/8".' },
      exclusive: { type: 'boolean', default: false, description: 'Remove every other key (and every other line) from the file.' },
      validate_certs: { type: 'boolean', default: true, description: 'Accepted for compatibility (keys from a URL are not supported).' },
      comment: { type: 'string', description: "The keys' comment, replacing theirs." },
      follow: { type: 'boolean', default: false, description: 'Follow a symlinked keys file (and write what it points to).' },
    },
    required: ['user', 'key'],
    additionalProperties: false,
  },
  examples: `- name: Let the admin in
  authorized_key:
    user: pi
    key: "{{ lookup('file', 'files/admin.pub') }}"

- name: Only these keys, and only from the cluster network
  authorized_key:
    user: pi
    key: "{{ lookup('file', 'files/cluster-keys.pub') }}"
    key_options: 'from="10.213.0.0/16"'
    exclusive: true`,
  async gather(ctx, args) {
    // with a path, one round trip; without, the home directory is needed first
    const account = sh`getent passwd -- ${args.user}`;
    let r = await ctx.run(probeAllCommand(args.path !== undefined ? { account, file: keysProbe(args, '') } : { account }));
    let probes = parseProbeAll<'account' | 'file'>(r.stdout);
    const fields = probes.account?.rc === 0 ? probes.account.out.split('\n')[0]!.split(':') : undefined;
    if (!fields || fields.length < 7) return {};
    const entry = { uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5]! };
    if (args.path === undefined) {
      r = await ctx.run(probeAllCommand({ file: keysProbe(args, entry.home) }));
      probes = parseProbeAll<'account' | 'file'>(r.stdout);
    }
    const [file, dir] = parseFileProbe({ rc: probes.file?.rc ?? 1, stdout: probes.file?.out ?? '', stderr: '' }, 2);
    return { account: entry, file, dir };
  },
  plan: planAuthorizedKey,
  async apply(ctx, changes) {
    const done = await applyFileEdits(ctx, changes);
    return done.failure ?? {};
  },
});

// The keys file (with content) and its directory, in one probe.
function keysProbe(args: AuthorizedKeyArgs, home: string) {
  const { file, dir } = keysPath(args, home);
  return fileProbeCommand([{ path: file, content: true }, { path: dir }]);
}
