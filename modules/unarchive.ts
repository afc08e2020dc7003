// unarchive: unpack a tar (plain, gzip, bzip2, xz) or zip archive into an existing directory, as
// ansible.builtin.unarchive does. The archive is a controller file (sent to the host when it must
// be unpacked) or, with remote_src, a file on the host. Idempotence as Ansible's: the archive's
// member list (type, size and, for tar, mtime) is compared with what dest holds, or `creates:`
// says it was done. The archive is listed where it is (controller or host); the members are stat'ed
// on the host in one command; the apply is one command (send, unpack, set attributes).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import {
  atomicWriteCommand,
  attributeResult,
  changesFailed,
  defineModule,
  fileProbeCommand,
  formatMode,
  joinCommands,
  ModeError,
  noop,
  parseFileProbe,
  parseUmask,
  planFailure,
  probeAll,
  resolveMode,
  runChangesAsOne,
  setAttributesCommand,
  sh,
  sha1,
  type FileFact,
  type ModeSpec,
  type ModuleContext,
  type Plan,
  type ShellCommand,
} from '../engine/index.js';

/** unarchive's arguments, complete after validation. */
export interface UnarchiveArgs {
  src: string;
  dest: string;
  remote_src: boolean;
  copy: boolean;
  creates?: string;
  list_files: boolean;
  extra_opts: string[];
  exclude: string[];
  include: string[];
  keep_newer: boolean;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
  decrypt: boolean;
}

/** One archive member as the listing shows it. */
export interface Member {
  /** The path relative to dest (after --strip-components). */
  name: string;
  /** As listed in the archive (the `files` result). */
  listed: string;
  type: 'file' | 'directory' | 'link' | 'other';
  size: number;
  /** Seconds since the epoch (tar only; zip times are local and left out). */
  mtime?: number;
}

/** A member's path under dest as the host found it. */
export interface MemberStat {
  type: 'file' | 'directory' | 'link' | 'other';
  size: number;
  mtime: number;
  mode: string;
  uid: number;
  gid: number;
  owner: string;
  group: string;
}

/** What the gather found. */
export interface UnarchiveState {
  format?: 'tar' | 'zip';
  /** Ansible's name of the archive handler. */
  handler?: string;
  members: Member[];
  /** Why the archive could not be listed. */
  listError?: string;
  dest: FileFact;
  /** creates: exists on the host. */
  created: boolean;
  /** The archive's bytes, base64 (controller src only). */
  content?: string;
  /** By member name. */
  stats: Record<string, MemberStat>;
  /** unzip is on the host. */
  hasUnzip: boolean;
}

// tar -tv --full-time --numeric-owner: "-rw-r--r-- 0/0   2 2024-01-01 12:00:00 ./name"
const TAR_LINE = /^(\S)\S{9}\S*\s+\S+\s+(\d+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s(.*)$/;
// zipinfo -T: "-rw-r--r--  3.0 unx   2 tx stor 20240101.120000 name"
const ZIP_LINE = /^(\S)\S{9}\s+\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+\d{8}\.\d{6}\s(.*)$/;

const TYPES: Record<string, Member['type']> = { '-': 'file', d: 'directory', l: 'link', h: 'file' };

function stripCount(extraOpts: string[]): number {
  for (let i = 0; i < extraOpts.length; i++) {
    const m = /^--strip-components(?:=(\d+))?$/.exec(extraOpts[i]!);
    if (m) return Number(m[1] ?? extraOpts[i + 1] ?? 0);
  }
  return 0;
}

// Python's fnmatch for exclude patterns on zip members (tar applies --exclude itself).
function globMatches(pattern: string, name: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name);
}

/** Parse an archive listing (tar -tv --full-time in UTC, or zipinfo -T) into members. */
export function parseListing(format: 'tar' | 'zip', text: string, args: Pick<UnarchiveArgs, 'extra_opts' | 'exclude'>): Member[] {
  const strip = format === 'tar' ? stripCount(args.extra_opts) : 0;
  const out: Member[] = [];
  for (const line of text.split('\n')) {
    const m = (format === 'tar' ? TAR_LINE : ZIP_LINE).exec(line);
    if (!m) continue;
    const type = TYPES[m[1]!] ?? 'other';
    let listed = format === 'tar' ? m[4]! : m[3]!;
    if (m[1] === 'l') listed = listed.replace(/ -> .*$/, '');
    if (m[1] === 'h') listed = listed.replace(/ link to .*$/, '');
    if (format === 'zip' && args.exclude.some((p) => globMatches(p, listed) || globMatches(p, listed.replace(/\/$/, '')))) continue;
    const parts = listed.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.length <= strip) continue;
    const name = parts.slice(strip).join('/');
    out.push({
      name,
      listed,
      type,
      size: Number(m[2]),
      ...(format === 'tar' ? { mtime: Date.parse(m[3]!.replace(' ', 'T') + 'Z') / 1000 } : {}),
    });
  }
  return out;
}

/** Ansible's handler name for an archive. */
function handlerOf(format: 'tar' | 'zip', src: string): string {
  if (format === 'zip') return 'ZipArchive';
  if (/\.(t?gz|tgz)$/.test(src)) return 'TgzArchive';
  if (/\.(bz2|tbz2?)$/.test(src)) return 'TarBzipArchive';
  if (/\.(xz|txz)$/.test(src)) return 'TarXzArchive';
  return 'TarArchive';
}

/** The listing commands, tried zip first (as Ansible's handlers are), on either side. */
function listCommands(src: string, args: UnarchiveArgs): { zip: string[]; tar: string[] } {
  return {
    zip: ['zipinfo', '-T', src],
    tar: ['tar', '-tv', '--full-time', '--numeric-owner', ...args.exclude.map((e) => `--exclude=${e}`), '-f', src],
  };
}

function listOnController(path: string, args: UnarchiveArgs): Pick<UnarchiveState, 'format' | 'members' | 'listError'> {
  const cmds = listCommands(path, args);
  const env = { ...process.env, TZ: 'UTC', LC_ALL: 'C' };
  const zip = spawnSync(cmds.zip[0]!, cmds.zip.slice(1), { encoding: 'utf8', env });
  if (zip.status === 0) return { format: 'zip', members: parseListing('zip', zip.stdout, args) };
  const tar = spawnSync(cmds.tar[0]!, cmds.tar.slice(1), { encoding: 'utf8', env });
  if (tar.status === 0) return { format: 'tar', members: parseListing('tar', tar.stdout, args) };
  return {
    members: [],
    listError: `Failed to find handler for "${path}". Make sure the required command to extract the file is installed. ${(tar.stderr || tar.error?.message || '').trim()}`,
  };
}

const STAT_FORMAT = '%F|%s|%Y|%a|%u|%g|%U|%G|%n\\n';

function parseStats(text: string, dest: string): Record<string, MemberStat> {
  const out: Record<string, MemberStat> = {};
  for (const line of text.split('\n')) {
    const f = line.split('|');
    if (f.length < 9) continue;
    const type =
      f[0] === 'regular file' || f[0] === 'regular empty file'
        ? 'file'
        : f[0] === 'directory'
          ? 'directory'
          : f[0] === 'symbolic link'
            ? 'link'
            : 'other';
    const path = f.slice(8).join('|');
    out[posix.relative(dest, path)] = {
      type,
      size: Number(f[1]),
      mtime: Number(f[2]),
      mode: '0' + f[3]!.padStart(3, '0'),
      uid: Number(f[4]),
      gid: Number(f[5]),
      owner: f[6]!,
      group: f[7]!,
    };
  }
  return out;
}

async function gatherUnarchive(ctx: ModuleContext, args: UnarchiveArgs): Promise<UnarchiveState> {
  let listed: Pick<UnarchiveState, 'format' | 'members' | 'listError'> = { members: [] };
  let content: string | undefined;
  const local = !args.remote_src && args.copy;
  if (local) {
    const path = ctx.findFile('files', args.src);
    listed = listOnController(path, args);
    content = readFileSync(path).toString('base64');
  }
  const cmds = listCommands(args.src, args);
  const probes: Record<string, ShellCommand> = {
    dest: fileProbeCommand([{ path: args.dest }]),
    created: args.creates !== undefined ? sh`[ -e ${args.creates} ]` : sh`false`,
    unzip: sh`command -v unzip`,
  };
  if (!local) {
    probes.zip = sh`TZ=UTC LC_ALL=C ${cmds.zip}`;
    probes.tar = sh`TZ=UTC LC_ALL=C ${cmds.tar}`;
  }
  const got = await probeAll(ctx, probes);
  if (!local) {
    if (got.zip?.rc === 0) listed = { format: 'zip', members: parseListing('zip', got.zip.out, args) };
    else if (got.tar?.rc === 0) listed = { format: 'tar', members: parseListing('tar', got.tar.out, args) };
    else
      listed = {
        members: [],
        listError: `Failed to find handler for "${args.src}". Make sure the required command to extract the file is installed. ${(got.tar?.out ?? '').trim()}`,
      };
  }
  const dest = parseFileProbe({ rc: got.dest?.rc ?? 1, stdout: got.dest?.out ?? '', stderr: '' }, 1)[0]!;
  const state: UnarchiveState = {
    ...listed,
    ...(listed.format ? { handler: handlerOf(listed.format, args.src) } : {}),
    dest,
    created: got.created?.rc === 0,
    content,
    stats: {},
    hasUnzip: got.unzip?.rc === 0,
  };
  if (state.created || dest.type !== 'directory' || state.members.length === 0) return state;
  const paths = state.members.map((m) => posix.join(dest.path, m.name));
  const r = await ctx.run(sh`stat --printf ${STAT_FORMAT} -- ${paths} 2>/dev/null; true`);
  state.stats = parseStats(r.stdout, dest.path);
  return state;
}

/** Does dest hold the member as the archive has it? */
function memberDiffers(m: Member, s: MemberStat | undefined, keepNewer: boolean): boolean {
  if (!s) return true;
  if (m.type === 'directory') return s.type !== 'directory';
  if (m.type === 'link') return s.type !== 'link';
  if (s.type !== 'file') return true;
  if (keepNewer && m.mtime !== undefined && s.mtime >= m.mtime) return false;
  if (s.size !== m.size) return true;
  return m.mtime !== undefined && s.mtime !== m.mtime;
}

/** The plan of unarchive: pure, from the listing, dest's stats and the arguments. */
export function planUnarchive(state: UnarchiveState, args: UnarchiveArgs): Plan {
  const base = { dest: args.dest, src: args.src, ...(state.handler ? { handler: state.handler } : {}) };
  if (args.creates !== undefined && state.created)
    return noop(`skipped, since ${args.creates} exists`, { ...base, msg: `skipped, since ${args.creates} exists` });
  if (state.dest.type !== 'directory' && !(state.dest.type === 'link' && state.dest.linked?.type === 'directory')) {
    return planFailure(`Destination '${args.dest}' is not a directory`, base);
  }
  if (state.listError || !state.format) return planFailure(state.listError ?? `Failed to find handler for "${args.src}"`, base);
  if (state.format === 'zip' && !state.hasUnzip)
    return planFailure(`Unable to find required 'unzip' binary in the path to unpack ${args.src}`, base);
  const umask = parseUmask(state.dest.identity.umask);
  const result = {
    ...base,
    ...attributeResult(state.dest.linked ?? (state.dest as Required<FileFact>)),
    ...(args.list_files ? { files: state.members.map((m) => m.listed) } : {}),
  };
  try {
    const stale = state.members.filter((m) => memberDiffers(m, state.stats[m.name], args.keep_newer));
    // attributes of members that will not be rewritten
    const attrs = state.members.filter(
      (m) => !stale.includes(m) && m.type !== 'link' && attributesDiffer(state.stats[m.name]!, args, m.type === 'directory', umask),
    );
    if (stale.length === 0 && attrs.length === 0) return noop(`${args.dest} already holds every member of ${args.src}`, result);
    const commands: ShellCommand[] = [];
    const dest = state.dest.path;
    let archive = args.src;
    let cleanup: ShellCommand | undefined;
    if (stale.length) {
      if (state.content !== undefined) {
        const bytes = Buffer.from(state.content, 'base64');
        archive = `/tmp/.tsplay-unarchive-${sha1(bytes).slice(0, 16)}-${posix.basename(args.src).slice(0, 60)}`;
        commands.push(atomicWriteCommand(archive, { content: bytes, mode: '0600', reportStat: false }));
        cleanup = sh`rm -f -- ${archive}`;
      }
      commands.push(extractCommand(state.format, archive, dest, args));
    }
    if (args.owner !== undefined || args.group !== undefined || args.mode !== undefined) {
      const all = state.members.map((m) => posix.join(dest, m.name));
      if (args.owner !== undefined || args.group !== undefined)
        commands.push(setAttributesCommand(all, { owner: args.owner, group: args.group, noDereference: true }));
      if (args.mode !== undefined) {
        const spec = typeof args.mode === 'number' ? formatMode(args.mode) : args.mode;
        resolveMode(spec, { current: 0o644, isDirectory: false, umask }); // refuses an invalid mode now
        const notLinks = state.members.filter((m) => m.type !== 'link').map((m) => posix.join(dest, m.name));
        if (notLinks.length) commands.push(setAttributesCommand(notLinks, { mode: spec }));
      }
    }
    const body = joinCommands(
      commands.map(
        (c) => sh`(${c}
)`,
      ),
      ' && ',
    );
    const cmd = cleanup ? sh`${body}; s=$?; ${cleanup}; exit "$s"` : body;
    const summary = stale.length
      ? `unpack ${args.src} into ${args.dest} (${stale.length} of ${state.members.length} members differ)`
      : `set attributes of ${attrs.length} members in ${args.dest}`;
    return {
      changes: [
        {
          summary,
          commands: [{ cmd, ...(state.content !== undefined && stale.length ? { stdin: Buffer.from(state.content, 'base64') } : {}) }],
        },
      ],
      result,
    };
  } catch (e) {
    if (e instanceof ModeError) return planFailure(e.message);
    throw e;
  }
}

// An owner or group as given (name or numeric id) is the current one.
function sameIdentityOrName(wanted: string, name: string, id: number): boolean {
  return /^\d+$/.test(wanted) ? Number(wanted) === id : wanted === name;
}

function attributesDiffer(s: MemberStat, args: UnarchiveArgs, isDirectory: boolean, umask: number): boolean {
  if (args.owner !== undefined && !sameIdentityOrName(args.owner, s.owner, s.uid)) return true;
  if (args.group !== undefined && !sameIdentityOrName(args.group, s.group, s.gid)) return true;
  if (args.mode !== undefined) {
    const bits = parseInt(s.mode, 8);
    return resolveMode(args.mode, { current: bits, isDirectory, umask }) !== bits;
  }
  return false;
}

/** The command that unpacks the archive (on the host) into dest. */
export function extractCommand(format: 'tar' | 'zip', archive: string, dest: string, args: UnarchiveArgs): ShellCommand {
  if (format === 'zip') {
    const excludes = args.exclude.length ? sh` -x ${args.exclude}` : sh``;
    return sh`unzip ${args.keep_newer ? '-uo' : '-o'} -q ${args.extra_opts} ${archive}${args.include.length ? sh` ${args.include}` : sh``} -d ${dest}${excludes}`;
  }
  const opts = [
    ...(args.keep_newer ? ['--keep-newer-files'] : []),
    ...(args.owner !== undefined ? [`--owner=${args.owner}`] : []),
    ...(args.group !== undefined ? [`--group=${args.group}`] : []),
    ...args.exclude.map((e) => `--exclude=${e}`),
    ...args.extra_opts,
  ];
  return sh`tar --extract -C ${dest} ${opts} -f ${archive}${args.include.length ? sh` -- ${args.include}` : sh``}`;
}

export default defineModule<UnarchiveArgs, UnarchiveState>({
  name: 'unarchive',
  aliases: ['ansible.builtin.unarchive'],
  description:
    'Unpack a tar (plain, gzip, bzip2, xz) or zip archive into an existing directory: a controller file (looked up in files/, sent to the host) or, with remote_src, a file on the host. Nothing is done when dest already holds every member (type, size and, for tar, modification time) or when creates exists. mode, owner and group apply to every member.',
  schema: {
    type: 'object',
    properties: {
      src: {
        type: 'string',
        description: 'The archive: a controller file, or a host path with remote_src (URLs are not supported: get_url it first).',
      },
      dest: { type: 'string', description: 'The existing directory to unpack into.' },
      remote_src: { type: 'boolean', default: false, description: 'src is on the host.' },
      copy: { type: 'boolean', default: true, description: 'Deprecated: false means remote_src.' },
      creates: { type: 'string', description: 'Do nothing when this path exists on the host.' },
      list_files: { type: 'boolean', default: false, description: 'Return the archive member names in files.' },
      extra_opts: {
        type: 'array',
        items: { type: 'string' },
        default: [],
        description: 'More options for tar or unzip (--strip-components=1, say).',
      },
      exclude: { type: 'array', items: { type: 'string' }, default: [], description: 'Members (glob patterns) not to unpack.' },
      include: { type: 'array', items: { type: 'string' }, default: [], description: 'Only these members.' },
      keep_newer: { type: 'boolean', default: false, description: 'Do not replace files that are newer than the archive member.' },
      mode: { type: ['string', 'integer'], description: 'Permissions of every unpacked member.' },
      owner: { type: 'string', description: 'Owner of every unpacked member.' },
      group: { type: 'string', description: 'Group of every unpacked member.' },
      decrypt: { type: 'boolean', default: true, description: 'Accepted for compatibility.' },
      unsafe_writes: { type: 'boolean', default: false, description: 'Accepted for compatibility.' },
      validate_certs: { type: 'boolean', default: true, description: 'Accepted for compatibility.' },
    },
    required: ['src', 'dest'],
    additionalProperties: false,
  },
  examples: `- name: Unpack a controller archive
  unarchive:
    src: site.tar.gz
    dest: /srv/www

- name: Unpack an archive already on the host, once
  unarchive:
    src: /tmp/tool.zip
    dest: /opt/tool
    remote_src: yes
    creates: /opt/tool/bin/tool`,
  gather: gatherUnarchive,
  plan: planUnarchive,
  async apply(ctx, changes, _args, current) {
    const r = await runChangesAsOne(ctx, changes);
    if (r.rc !== 0) return changesFailed(changes, r);
    return {
      result: { extract_results: { rc: r.rc, out: r.stdout, err: r.stderr }, ...(current.handler ? { handler: current.handler } : {}) },
    };
  },
});
