// apt_key: a key in apt's keyring (or the `keyring` file) kept present or absent, by its id, with
// ansible-core 2.14's rules: the id is given, or read with gpg from the key (a URL downloaded on
// the host, a file on the host, or inline data); the key is there when `apt-key adv
// --list-public-keys` lists it (an 8-character id compares with the last 8 of each listed id).
// apt-key is deprecated on Debian 12 but still shipped with apt, and it is what Ansible runs.
import { defineModule, noop, planFailure, probeAll, sh, type Plan, type ProbeResult, type ShellCommand } from '../engine/index.js';

/** apt_key's arguments, complete after validation. */
export interface AptKeyArgs {
  id?: string;
  url?: string;
  data?: string;
  file?: string;
  keyring?: string;
  keyserver?: string;
  validate_certs: boolean;
  state: 'present' | 'absent';
}

/** What the gather read: the listing of the keyring, and (without id) gpg's reading of the key. */
export interface AptKeyState {
  list?: ProbeResult;
  key?: ProbeResult;
}

/** The key ids in gpg/apt-key output, as Ansible reads them (pub and sub lines, not expired ones). */
export function parseKeyIds(output: string, short = false): string[] {
  const found: string[] = [];
  for (const line of output.split('\n')) {
    if (!(line.startsWith('pub') || line.startsWith('sub')) || line.includes('expired')) continue;
    const tokens = line.split(/\s+/).filter(Boolean);
    const slashed = tokens[1]?.split('/');
    if (slashed?.length === 2) found.push(slashed[1]!);
    else {
      const colons = line.split(':');
      if (colons.length > 4) found.push(colons[4]!);
    }
  }
  return short ? found.map((k) => k.slice(-8)) : found;
}

/** Ansible's split of a key id: the short id (last 8), the fingerprint it compares (last 16), the whole id. */
export function parseKeyId(id: string): { short: string; fingerprint: string; keyId: string } | undefined {
  if (!/^\s*(0[xX])?[0-9a-fA-F]+(_?[0-9a-fA-F])*\s*$/.test(id)) return undefined;
  let keyId = id.trim().toUpperCase().replaceAll('_', '');
  if (keyId.startsWith('0X')) keyId = keyId.slice(2);
  if (keyId.length !== 8 && keyId.length !== 16 && keyId.length <= 16) return undefined;
  return { short: keyId.slice(-8), fingerprint: keyId.length > 16 ? keyId.slice(-16) : keyId, keyId };
}

const aptKey = (args: AptKeyArgs): string[] => (args.keyring ? ['apt-key', '--keyring', args.keyring] : ['apt-key']);
const listCommand = (args: AptKeyArgs) => sh`LC_ALL=C ${aptKey(args)} adv --list-public-keys --keyid-format=long 2>/dev/null`;
const curl = (args: AptKeyArgs) => ['curl', '-fsSL', ...(args.validate_certs ? [] : ['-k'])];

// The key's own listing by gpg: downloaded to a temp file (removed) for a URL; exit 99 when the download fails.
function keyCommand(args: AptKeyArgs): ShellCommand | undefined {
  if (args.file !== undefined) return sh`LC_ALL=C gpg --with-colons ${args.file}`;
  if (args.data !== undefined) return sh`printf '%s' ${args.data} | LC_ALL=C gpg --with-colons -`;
  if (args.url !== undefined)
    return sh`t=$(mktemp) || exit 98; if ${curl(args)} -o "$t" ${args.url}; then LC_ALL=C gpg --with-colons "$t"; rc=$?; else rc=99; fi; rm -f "$t"; exit $rc`;
  return undefined;
}

// The command that adds the key.
function addCommand(args: AptKeyArgs, keyId: string): { cmd: ShellCommand; stdin?: string } {
  if (args.file !== undefined) return { cmd: sh`${aptKey(args)} add ${args.file}` };
  if (args.keyserver !== undefined) return { cmd: sh`${aptKey(args)} adv --no-tty --keyserver ${args.keyserver} --recv ${keyId}` };
  if (args.data !== undefined) return { cmd: sh`${aptKey(args)} add -`, stdin: args.data };
  return {
    cmd: sh`t=$(mktemp) || exit 98; if ${curl(args)} -o "$t" ${args.url!}; then ${aptKey(args)} add "$t"; rc=$?; else rc=99; fi; rm -f "$t"; [ "$rc" -eq 0 ]`,
  };
}

/** The plan of apt_key: pure, from the keyring's listing and the key's. */
export function planAptKey(state: AptKeyState, args: AptKeyArgs): Plan {
  let id = args.id;
  if (!id) {
    if (args.keyserver !== undefined) return planFailure('Missing key_id, required with keyserver.');
    const key = state.key;
    if (key && args.url !== undefined && key.rc === 99) return planFailure(`Failed to download key at ${args.url}`);
    if (key && key.rc !== 0)
      return planFailure(`Unable to extract key from '${args.file !== undefined ? args.file : 'inline data'}'`, { stdout: key.out });
    id = key ? parseKeyIds(key.out)[0] : undefined;
  }
  const result: Record<string, unknown> = { id: id ?? null };
  const parsed = id === undefined ? undefined : parseKeyId(id);
  if (!parsed) return planFailure('Invalid key_id', result);
  Object.assign(result, { short_id: parsed.short, fp: parsed.fingerprint, key_id: parsed.keyId });
  const shortFormat = parsed.keyId.length === 8;
  if (!state.list || state.list.rc !== 0) return planFailure('Unable to list public keys', { ...result, stdout: state.list?.out ?? '' });
  const keys = parseKeyIds(state.list.out, shortFormat);
  result.before = keys;
  const present = keys.includes(shortFormat ? parsed.short : parsed.fingerprint);
  const where = args.keyring ?? "apt's keyring";
  if (args.state === 'present') {
    if (present) return noop(`key ${parsed.keyId} is already in ${where}`, result);
    if (args.file === undefined && args.keyserver === undefined && args.data === undefined && args.url === undefined)
      return planFailure('No key to add ... how did i get here?!?!', result);
    const add = addCommand(args, parsed.keyId);
    return { changes: [{ summary: `add key ${parsed.keyId} to ${where}`, commands: [add] }], result };
  }
  if (!keys.includes(parsed.fingerprint)) return noop(`key ${parsed.keyId} is not in ${where}`, result);
  return {
    changes: [{ summary: `remove key ${parsed.keyId} from ${where}`, commands: [{ cmd: sh`${aptKey(args)} del ${parsed.short}` }] }],
    result,
  };
}

export default defineModule<AptKeyArgs, AptKeyState>({
  name: 'apt_key',
  aliases: ['ansible.builtin.apt_key'],
  description:
    "Add or remove a key in apt's keyring (or the keyring file given) with apt-key, by its id: given, or read with gpg from the key at url (downloaded on the host with curl), file (on the host) or data. apt-key is deprecated: for new sources prefer a key file in /etc/apt/keyrings and signed-by (deb822_repository does both).",
  schema: {
    type: 'object',
    properties: {
      id: { type: 'string', description: 'The key id (8, 16 or more hex digits, 0x allowed); read from the key when left out.' },
      url: { type: 'string', description: 'Where the host downloads the key from.' },
      data: { type: 'string', description: 'The key itself (armored).' },
      file: { type: 'string', description: 'A key file on the host.' },
      keyring: { type: 'string', description: 'The keyring file (apt-key --keyring) instead of the default.' },
      keyserver: { type: 'string', description: 'A keyserver to receive the key (id) from.' },
      validate_certs: { type: 'boolean', default: true, description: 'Check the TLS certificate of url.' },
      state: { type: 'string', enum: ['absent', 'present'], default: 'present', description: 'Whether the key should be there or not.' },
    },
    mutuallyExclusive: [['data', 'file', 'keyserver', 'url']],
    additionalProperties: false,
  },
  examples: `- name: The local mirror's key, in its own keyring
  apt_key:
    url: http://10.213.1.1/mirror.asc
    keyring: /etc/apt/trusted.gpg.d/mirror.gpg

- name: Remove a key
  apt_key:
    id: 9DC858229FC7DD38854AE2D88D81803C0EBFCD88
    state: absent`,
  async gather(ctx, args) {
    const key = args.id ? undefined : keyCommand(args);
    const probes: Record<string, ShellCommand> = { list: listCommand(args) };
    if (key) probes.key = key;
    return probeAll(ctx, probes);
  },
  plan: planAptKey,
  async apply(ctx, changes, args, state) {
    const plan = planAptKey(state, args);
    for (const change of changes)
      for (const c of change.commands) {
        const r = await ctx.run(c.cmd, c.stdin === undefined ? {} : { stdin: c.stdin });
        if (r.rc !== 0)
          return {
            failed: args.state === 'present' ? 'Unable to add the key' : `Unable to remove a key with id ${String(plan.result?.short_id)}`,
            result: { rc: r.rc, stdout: r.stdout, stderr: r.stderr },
          };
      }
    const listed = await ctx.run(listCommand(args));
    const shortFormat = String(plan.result?.key_id).length === 8;
    const after = parseKeyIds(listed.stdout, shortFormat);
    // (for an 8-digit id, the fingerprint is the short id, and the listing is shortened too)
    const there = after.includes(String(plan.result?.fp));
    if (args.state === 'present' && !there)
      return {
        failed: 'apt-key did not return an error, but failed to add the key (check that the id is correct and *not* a subkey)',
        result: { after },
      };
    if (args.state === 'absent' && there)
      return {
        failed: 'apt-key did not return an error, but the key was not removed (check that the id is correct and *not* a subkey)',
        result: { after },
      };
    return { result: { after } };
  },
});
