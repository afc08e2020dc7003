// deb822_repository: an apt source in deb822 form, /etc/apt/sources.list.d/<name>.sources, as
// ansible-core 2.15+ writes it (2.14 has no such module; geerlingguy.docker 8.x uses it): one
// field per argument given, in the arguments' alphabetical order (`X-Repolib-Name` for name),
// lists joined by spaces, booleans as yes/no, a multi-line value (an armored key) indented. A
// signed_by URL is downloaded on the host into /etc/apt/keyrings/<name>.asc (.gpg when not
// armored), a path to an existing file is used as is, anything else goes into the file as it is.
import {
  applyFileEdits,
  defineModule,
  filesFact,
  followed,
  type ModeSpec,
  noop,
  planAttributes,
  planFailure,
  planFileEdit,
  parseUmask,
  setAttributesCommand,
  sh,
  ModeError,
  type Change,
  type FileFact,
  type Plan,
} from '../engine/index.js';

/** deb822_repository's arguments, complete after validation. */
export interface Deb822RepositoryArgs {
  name: string;
  types: ('deb' | 'deb-src')[];
  uris?: string[];
  suites?: string[];
  components?: string[];
  architectures?: string[];
  languages?: string[];
  targets?: string[];
  signed_by?: string;
  enabled?: boolean;
  trusted?: boolean;
  allow_downgrade_to_insecure?: boolean;
  allow_insecure?: boolean;
  allow_weak?: boolean;
  by_hash?: boolean;
  check_date?: boolean;
  check_valid_until?: boolean;
  pdiffs?: boolean;
  date_max_future?: number;
  inrelease_path?: string;
  install_python_debian: boolean;
  mode: ModeSpec;
  state: 'present' | 'absent';
}

/** The sources file, the two possible key files, the signed_by path, the keyrings directory; and a downloaded key. */
export interface Deb822State {
  sources: FileFact;
  asc: FileFact;
  gpg: FileFact;
  keyrings: FileFact;
  signedByPath?: FileFact;
  download?: { rc: number; content: string; error: string };
}

export const KEYRINGS_DIR = '/etc/apt/keyrings';
const DEB822_FIELDS = [
  'allow_downgrade_to_insecure',
  'allow_insecure',
  'allow_weak',
  'architectures',
  'by_hash',
  'check_date',
  'check_valid_until',
  'components',
  'date_max_future',
  'enabled',
  'inrelease_path',
  'languages',
  'name',
  'pdiffs',
  'signed_by',
  'suites',
  'targets',
  'trusted',
  'types',
  'uris',
] as const;

/** The name as a file name: lower case, runs of _ and spaces as -, nothing but a-z 0-9 -. */
export const slugOf = (name: string) =>
  name
    .toLowerCase()
    .replace(/[_\s]+/g, '-')
    .replace(/[^a-z0-9-]+/g, '');

const sourcesPath = (name: string) => `/etc/apt/sources.list.d/${slugOf(name)}.sources`;
const keyPath = (name: string, ext: 'asc' | 'gpg') => `${KEYRINGS_DIR}/${slugOf(name)}.${ext}`;
const isUrl = (v: string) => /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(v);
const isArmored = (b: Buffer) => b.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----');

const fieldName = (key: string) =>
  key === 'name'
    ? 'X-Repolib-Name'
    : key === 'uris'
      ? 'URIs'
      : key
          .replaceAll('_', '-')
          .toLowerCase()
          .replace(/(^|[^a-z])([a-z])/g, (_m, sep: string, c: string) => sep + c.toUpperCase());

/** The .sources text, as the module writes it, with `signedBy` as the Signed-By value. */
export function deb822Text(args: Deb822RepositoryArgs, signedBy: string | undefined): string {
  let text = '';
  for (const key of DEB822_FIELDS) {
    let value: unknown = key === 'signed_by' ? signedBy : args[key];
    if (value === undefined || value === null) continue;
    if (typeof value === 'boolean') value = value ? 'yes' : 'no';
    else if (Array.isArray(value)) value = value.join(' ');
    else value = String(value);
    let v = value as string;
    if (v.includes('\n'))
      v =
        '\n' +
        v
          .trim()
          .split(/\r\n|\r|\n/)
          .map((l) => `    ${l.trim() || '.'}`)
          .join('\n');
    text += v === '' || v.startsWith('\n') ? `${fieldName(key)}:${v}\n` : `${fieldName(key)}: ${v}\n`;
  }
  return text;
}

function modeChange(fact: FileFact, mode: ModeSpec, path: string): Change | undefined {
  const f = followed(fact);
  if (!f.stat) return undefined;
  const attrs = planAttributes(f.stat, { mode }, { isDirectory: false, umask: parseUmask(fact.identity.umask) });
  if (!attrs.changed) return undefined;
  return { summary: `set mode ${String(mode)} on ${path}`, commands: [{ cmd: setAttributesCommand(f.path, attrs.change) }] };
}

/** The plan of deb822_repository: pure, from the probed files (and the downloaded key) and the arguments. */
export function planDeb822(state: Deb822State, args: Deb822RepositoryArgs): Plan {
  const dest = sourcesPath(args.name);
  const changes: Change[] = [];
  if (args.state === 'absent') {
    for (const [fact, path] of [
      [state.sources, dest],
      [state.asc, keyPath(args.name, 'asc')],
      [state.gpg, keyPath(args.name, 'gpg')],
    ] as const)
      if (fact.exists) changes.push({ summary: `remove ${path}`, commands: [{ cmd: sh`rm -f ${path}` }] });
    const result = { repo: null, dest, key_filename: keyPath(args.name, 'gpg') };
    return changes.length ? { changes, result } : noop(`${dest} and its key are absent`, result);
  }
  try {
    let signedBy = args.signed_by;
    let keyFilename: string | null = null;
    if (signedBy !== undefined && state.signedByPath && followed(state.signedByPath).stat?.type === 'file') {
      keyFilename = signedBy;
    } else if (signedBy !== undefined && isUrl(signedBy)) {
      const dl = state.download;
      if (!dl || dl.rc !== 0) return planFailure(`Could not fetch signed_by key: ${dl?.error.trim() || 'download failed'}`);
      const data = Buffer.from(dl.content, 'base64');
      if (data.length > 0) {
        const ext = isArmored(data) ? 'asc' : 'gpg';
        const path = keyPath(args.name, ext);
        const fact = ext === 'asc' ? state.asc : state.gpg;
        const old = fact.exists && fact.content !== undefined ? Buffer.from(fact.content, 'base64') : undefined;
        if (!state.keyrings.exists)
          changes.push({
            summary: `create ${KEYRINGS_DIR}`,
            commands: [{ cmd: sh`mkdir -p ${KEYRINGS_DIR} && chown root:root ${KEYRINGS_DIR} && chmod 0755 ${KEYRINGS_DIR}` }],
          });
        if (!old || !old.equals(data))
          changes.push(planFileEdit(fact, data, { summary: `write the signed_by key to ${path}`, attributes: { mode: '0644' } }));
        else {
          const m = modeChange(fact, '0644', path);
          if (m) changes.push(m);
        }
        signedBy = keyFilename = path;
      }
    }
    const text = deb822Text(args, signedBy);
    const old = state.sources.exists && state.sources.content !== undefined ? Buffer.from(state.sources.content, 'base64') : undefined;
    if (!old || !old.equals(Buffer.from(text)))
      changes.push(planFileEdit(state.sources, text, { summary: `write ${dest}`, attributes: { mode: args.mode } }));
    else {
      const m = modeChange(state.sources, args.mode, dest);
      if (m) changes.push(m);
    }
    const result = { repo: text, dest, key_filename: keyFilename };
    return changes.length ? { changes, result } : noop(`${dest} is as asked`, result);
  } catch (e) {
    if (e instanceof ModeError) return planFailure(e.message);
    throw e;
  }
}

const list = (description: string) => ({ type: 'array', items: { type: 'string' }, description });

export default defineModule<Deb822RepositoryArgs, Deb822State>({
  name: 'deb822_repository',
  aliases: ['ansible.builtin.deb822_repository'],
  description:
    "Add or remove an apt source in deb822 form (/etc/apt/sources.list.d/<name>.sources), as ansible-core 2.15+ does (2.14 has no such module). A signed_by URL is downloaded on the host (curl) into /etc/apt/keyrings/<name>.asc (.gpg when not armored). Does not update apt's cache: follow it with apt update_cache when it changed. Needs no python3-debian on the host.",
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'The name (X-Repolib-Name); the file name comes from it.' },
      types: {
        type: 'array',
        items: { type: 'string', enum: ['deb', 'deb-src'] },
        default: ['deb'],
        description: 'deb and/or deb-src.',
      },
      uris: list('The repository URIs.'),
      suites: list('Suites (bookworm, stable, ./ for a flat repository).'),
      components: list('Components (main, stable, ...).'),
      architectures: list('Architectures (amd64, arm64, ...).'),
      languages: list('Languages of the translations to fetch.'),
      targets: list('Targets to fetch.'),
      signed_by: {
        type: 'string',
        description: 'A key URL (downloaded into /etc/apt/keyrings), a keyring path, fingerprints or an armored key.',
      },
      enabled: { type: 'boolean', description: 'Enabled: yes/no.' },
      trusted: { type: 'boolean', description: 'Trust the repository even unsigned.' },
      allow_downgrade_to_insecure: { type: 'boolean', description: 'Allow-Downgrade-To-Insecure.' },
      allow_insecure: { type: 'boolean', description: 'Allow-Insecure.' },
      allow_weak: { type: 'boolean', description: 'Allow-Weak.' },
      by_hash: { type: 'boolean', description: 'By-Hash.' },
      check_date: { type: 'boolean', description: 'Check-Date.' },
      check_valid_until: { type: 'boolean', description: 'Check-Valid-Until.' },
      pdiffs: { type: 'boolean', description: 'PDiffs.' },
      date_max_future: { type: 'integer', description: 'Date-Max-Future, in seconds.' },
      inrelease_path: { type: 'string', description: 'InRelease-Path.' },
      install_python_debian: { type: 'boolean', default: true, description: 'Accepted and ignored: tsplay needs no python3-debian.' },
      mode: { type: ['string', 'integer'], default: '0644', description: 'Mode of the .sources file.' },
      state: { type: 'string', enum: ['absent', 'present'], default: 'present', description: 'absent removes the file and its key.' },
    },
    required: ['name'],
    additionalProperties: false,
  },
  examples: `- name: Docker's repository, with its key
  deb822_repository:
    name: docker
    types: [deb]
    uris: http://10.213.1.1/docker/debian
    suites: [bookworm]
    components: [stable]
    architectures: [arm64]
    signed_by: http://10.213.1.1/docker/gpg`,
  async gather(ctx, args) {
    const signedBy = args.signed_by;
    const byPath = signedBy !== undefined && !isUrl(signedBy) && !signedBy.includes('\n') && signedBy.startsWith('/');
    const facts = await ctx.fact(filesFact, [
      { path: sourcesPath(args.name), content: true },
      { path: keyPath(args.name, 'asc'), content: true },
      { path: keyPath(args.name, 'gpg'), content: true },
      { path: KEYRINGS_DIR },
      ...(byPath ? [{ path: signedBy }] : []),
    ]);
    const state: Deb822State = { sources: facts[0]!, asc: facts[1]!, gpg: facts[2]!, keyrings: facts[3]!, signedByPath: facts[4] };
    if (args.state === 'present' && signedBy !== undefined && isUrl(signedBy)) {
      const r = await ctx.run(sh`t=$(mktemp) || exit 98; curl -fsSL -o "$t" ${signedBy} && base64 -w0 "$t"; rc=$?; rm -f "$t"; exit $rc`);
      state.download = { rc: r.rc, content: r.rc === 0 ? r.stdout.trim() : '', error: r.stderr };
    }
    return state;
  },
  plan: planDeb822,
  // one round trip per change: the key and the sources file are each written from standard input
  async apply(ctx, changes) {
    for (const change of changes) {
      const done = await applyFileEdits(ctx, [change]);
      if (done.failure) return done.failure;
    }
    return {};
  },
});
