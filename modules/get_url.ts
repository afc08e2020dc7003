// get_url: download a URL on the host (with curl, wget or python3, whichever it has) to dest, as
// ansible.builtin.get_url does. The gather streams the URL once into a temp file that it removes
// (read-only: only its checksums come back), so the plan knows whether dest would change and
// check mode is exact; the apply downloads again, checks that it got the same bytes, and renames
// them into place with the toolkit's atomic write. The host's proxy environment (the task's
// `environment:`) applies, as it does to any program.
import { posix } from 'node:path';
import {
  attributeResult,
  changesFailed,
  defineModule,
  describeAttributes,
  fileProbeCommand,
  joinCommands,
  ModeError,
  noop,
  parseFileProbe,
  parseUmask,
  parseWriteOutput,
  planAttributes,
  planFailure,
  probeAll,
  raw,
  runChangesAsOne,
  Secret,
  setAttributesCommand,
  atomicWriteCommand,
  guardCommand,
  sh,
  stateDiff,
  writeAttributes,
  type FileFact,
  type ModeSpec,
  type ModuleContext,
  type Plan,
  type ShellCommand,
} from '../engine/index.js';

/** get_url's arguments, complete after validation. */
export interface GetUrlArgs {
  url: string;
  dest: string;
  checksum: string;
  force: boolean;
  backup: boolean;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
  timeout: number;
  headers?: Record<string, unknown>;
  url_username?: string;
  url_password?: string;
  force_basic_auth: boolean;
  validate_certs: boolean;
  use_proxy: boolean;
  tmp_dest?: string;
  http_agent: string;
}

/** What one download (or the attempt) gave. */
export interface Download {
  /** HTTP status (0 when no response came). */
  status: number;
  sha1?: string;
  md5?: string;
  /** The checksum in the algorithm of `checksum:`, when one was asked. */
  sum?: string;
  size?: number;
  /** What the downloader said when it failed. */
  error?: string;
}

/** What the gather found. */
export interface GetUrlState {
  /** The program that downloads: undefined when the host has none. */
  tool?: 'curl' | 'wget' | 'python3';
  dest: FileFact;
  /** dest/<file name of the URL>, for a directory dest. */
  inDir: FileFact;
  /** The `checksum:` algorithm's sum of dest and of dest/<name>, when they are files. */
  destSum?: string;
  inDirSum?: string;
  /** The expected checksum read from a checksum URL (or why it could not be). */
  expected?: { value: string } | { error: string };
  /** The URL downloaded and summed; absent when the plan can decide without it. */
  download?: Download;
}

export const HASHES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;

/** The file name a URL gives a directory dest: its path's last part, or index.html. */
export function urlFilename(url: string): string {
  let path = url;
  try {
    path = decodeURIComponent(new URL(url).pathname);
  } catch {
    /* kept as written */
  }
  return posix.basename(path) || 'index.html';
}

/** `algorithm:value` of the checksum argument, or a problem. */
export function parseChecksum(checksum: string): { alg: string; value: string; url: boolean } | { error: string } | undefined {
  if (checksum === '') return undefined;
  const colon = checksum.indexOf(':');
  if (colon < 0) return { error: 'The checksum parameter has to be in format <algorithm>:<checksum>' };
  const alg = checksum.slice(0, colon).toLowerCase();
  const value = checksum.slice(colon + 1).trim();
  if (!(HASHES as readonly string[]).includes(alg)) return { error: `Unsupported hash algorithm: ${alg}` };
  if (/^(https?|ftp|file):\/\//.test(value)) return { alg, value, url: true };
  if (!/^[0-9a-fA-F]+$/.test(value)) return { error: 'The checksum format is invalid' };
  return { alg, value: value.toLowerCase(), url: false };
}

/** The checksum for `filename` in a sums file (`<hash>  <name>` lines; a lone hash stands for any). */
export function checksumFromSums(text: string, filename: string): string | undefined {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length === 1 && lines[0]!.split(/\s+/).length === 1) return lines[0]!.toLowerCase();
  for (const line of lines) {
    const m = /^([0-9a-fA-F]+)\s+\*?(?:\.\/)?(.+)$/.exec(line);
    if (m && (m[2] === filename || posix.basename(m[2]!) === filename)) return m[1]!.toLowerCase();
  }
  return undefined;
}

// The header values sent with every request (the Authorization one is secret).
function requestHeaders(args: GetUrlArgs): [string, string | Secret][] {
  const out: [string, string | Secret][] = Object.entries(args.headers ?? {}).map(([k, v]) => [k, String(v)]);
  if (args.url_username !== undefined) {
    const token = Buffer.from(`${args.url_username}:${args.url_password ?? ''}`).toString('base64');
    out.push(['Authorization', new Secret(`Basic ${token}`)]);
  }
  return out;
}

// python3's downloader: url, output, timeout, verify (1|0), proxy (1|0), agent, headers as JSON.
const PYTHON = String.raw`import sys, json, ssl, urllib.request as r, urllib.error as e
u, o, t, v, p, a, h = sys.argv[1:8]
hs = json.loads(h)
hs.setdefault('User-Agent', a)
handlers = [] if p == '1' else [r.ProxyHandler({})]
if v == '0':
    c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
    handlers.append(r.HTTPSHandler(context=c))
try:
    x = r.build_opener(*handlers).open(r.Request(u, headers=hs), timeout=float(t)); code = x.status
except e.HTTPError as err:
    x = err; code = err.code
except Exception as err:
    sys.stderr.write('%s\n' % err); print('000'); sys.exit(1)
with open(o, 'wb') as f:
    while True:
        b = x.read(65536)
        if not b: break
        f.write(b)
print(code)`;

/**
 * Shell that defines `dl URL FILE` with the first of curl, wget and python3 the host has (and
 * `tool`): it writes the response body to FILE and prints the HTTP status (000 for none).
 */
export function downloaderSetup(args: GetUrlArgs): ShellCommand {
  const headers = requestHeaders(args);
  const t = String(args.timeout);
  const curlOpts: (string | Secret)[] = ['-sS', '-L', '--connect-timeout', t, '-y', t, '-Y', '1', '-A', args.http_agent];
  if (!args.validate_certs) curlOpts.push('-k');
  if (!args.use_proxy) curlOpts.push('--noproxy', '*');
  for (const [k, v] of headers) curlOpts.push('-H', v instanceof Secret ? new Secret(`${k}: ${v.reveal()}`) : `${k}: ${v}`);
  const wgetOpts: (string | Secret)[] = ['-q', '-S', '--tries=1', `--timeout=${t}`, `--user-agent=${args.http_agent}`];
  if (!args.validate_certs) wgetOpts.push('--no-check-certificate');
  if (!args.use_proxy) wgetOpts.push('--no-proxy');
  for (const [k, v] of headers) wgetOpts.push(v instanceof Secret ? new Secret(`--header=${k}: ${v.reveal()}`) : `--header=${k}: ${v}`);
  const json = JSON.stringify(Object.fromEntries(headers.map(([k, v]) => [k, v instanceof Secret ? v.reveal() : v])));
  const pyHeaders = headers.some(([, v]) => v instanceof Secret) ? new Secret(json) : json;
  return sh`if command -v curl >/dev/null 2>&1; then tool=curl; dl() { curl ${curlOpts} -o "$2" -w '%{http_code}' "$1"; }
elif command -v wget >/dev/null 2>&1; then tool=wget; dl() { h=$(wget ${wgetOpts} -O "$2" "$1" 2>&1); r=$?; c=$(printf '%s\\n' "$h" | sed -n 's/^ *HTTP\\/[0-9.]* \\([0-9][0-9][0-9]\\).*/\\1/p' | tail -n 1); [ -n "$c" ] || { printf '%s\\n' "$h" >&2; c=000; }; printf %s "$c"; [ "$c" != 000 ] || return "$r"; }
elif command -v python3 >/dev/null 2>&1; then tool=python3; dl() { python3 -c ${PYTHON} "$1" "$2" ${t} ${args.validate_certs ? '1' : '0'} ${args.use_proxy ? '1' : '0'} ${args.http_agent} ${pyHeaders}; }
else tool=; fi`;
}

/** The read-only download: the URL into a temp file, its status, sums and size, then the file removed. */
export function downloadProbe(url: string, alg: string | undefined): ShellCommand {
  const sum = alg ? sh`echo "SUM $(${raw(`${alg}sum`)} < "$f")"; ` : sh``;
  return sh`[ -n "$tool" ] || exit 3; f=$(mktemp) || exit 1; c=$(dl ${url} "$f"); r=$?; echo "STATUS $c $r"; if [ "$r" = 0 ]; then echo "SHA1 $(sha1sum < "$f")"; echo "MD5 $(md5sum < "$f")"; ${sum}echo "SIZE $(wc -c < "$f")"; fi; rm -f -- "$f"`;
}

/** Parse downloadProbe's output. */
export function parseDownload(out: string): Download {
  const field = (k: string) => new RegExp(`^${k} (\\S+)`, 'm').exec(out)?.[1];
  const status = /^STATUS (\d*) (\d+)$/m.exec(out);
  const d: Download = { status: Number(status?.[1] || 0) };
  if (!status || status[2] !== '0') {
    d.error =
      out
        .split('\n')
        .filter((l) => l && !/^(STATUS|SHA1|MD5|SUM|SIZE) /.test(l))
        .join(' ')
        .trim() || `the download failed (rc=${status?.[2] ?? '?'})`;
    return d;
  }
  d.sha1 = field('SHA1');
  d.md5 = field('MD5');
  d.sum = field('SUM');
  d.size = Number(field('SIZE') ?? 0);
  return d;
}

const isDirectory = (f: FileFact) => f.type === 'directory' || (f.type === 'link' && f.linked?.type === 'directory');

async function gatherGetUrl(ctx: ModuleContext, args: GetUrlArgs): Promise<GetUrlState> {
  const parsed = parseChecksum(args.checksum);
  const check = parsed && !('error' in parsed) ? parsed : undefined;
  const setup = downloaderSetup(args);
  const inDirPath = posix.join(args.dest, urlFilename(args.url));
  const sumOf = (p: string) => sh`${raw(`${check?.alg}sum`)} < ${p} | cut -d ' ' -f 1`;
  const probes: Record<string, ShellCommand> = {
    tool: sh`echo "$tool"`,
    files: fileProbeCommand([
      { path: args.dest, checksum: true },
      { path: inDirPath, checksum: true },
    ]),
  };
  if (check) {
    probes.destSum = sumOf(args.dest);
    probes.inDirSum = sumOf(inDirPath);
    if (check.url)
      probes.sums = sh`[ -n "$tool" ] || exit 3; f=$(mktemp) || exit 1; c=$(dl ${check.value} "$f"); r=$?; if [ "$r" = 0 ] && [ "$c" = 200 ]; then cat -- "$f"; rm -f -- "$f"; else echo "HTTP status $c"; rm -f -- "$f"; exit 1; fi`;
  }
  const got = await probeAll(ctx, probes, { setup });
  const tool = (got.tool?.out.trim() || undefined) as GetUrlState['tool'];
  const files = parseFileProbe({ rc: got.files?.rc ?? 1, stdout: got.files?.out ?? '', stderr: '' }, 2);
  const state: GetUrlState = { tool, dest: files[0]!, inDir: files[1]! };
  if (got.destSum?.rc === 0) state.destSum = got.destSum.out.trim();
  if (got.inDirSum?.rc === 0) state.inDirSum = got.inDirSum.out.trim();
  if (check?.url) {
    const found = got.sums?.rc === 0 ? checksumFromSums(got.sums.out, urlFilename(args.url)) : undefined;
    state.expected = found
      ? { value: found }
      : {
          error:
            got.sums?.rc === 0
              ? `Unable to find a checksum for file '${urlFilename(args.url)}' in '${check.value}'`
              : `could not download ${check.value}: ${got.sums?.out.trim() ?? ''}`,
        };
  }
  if (!tool || !needsDownload(state, args)) return state;
  const d = await probeAll(ctx, { get: downloadProbe(args.url, check?.alg) }, { setup });
  state.download = parseDownload(d.get?.out ?? '');
  return state;
}

// Ansible's shortcut: dest is a file, force is off and its checksum is the wanted one.
function alreadyThere(state: GetUrlState, args: GetUrlArgs): boolean {
  const parsed = parseChecksum(args.checksum);
  if (!parsed || 'error' in parsed || args.force || isDirectory(state.dest) || !state.dest.exists) return false;
  const wanted = parsed.url ? (state.expected && 'value' in state.expected ? state.expected.value : undefined) : parsed.value;
  return wanted !== undefined && state.destSum === wanted;
}

/** Does the plan need the URL's content to decide? (Not when dest already has the wanted checksum.) */
export function needsDownload(state: GetUrlState, args: GetUrlArgs): boolean {
  const parsed = parseChecksum(args.checksum);
  if (parsed && 'error' in parsed) return false;
  if (state.expected && 'error' in state.expected) return false;
  return !alreadyThere(state, args);
}

/** The temp file the apply downloads into: next to the target, or in tmp_dest. */
export function downloadTemp(target: string, args: GetUrlArgs): string {
  return posix.join(args.tmp_dest ?? posix.dirname(target), `.${posix.basename(target).slice(0, 100)}.tsplay-get_url`);
}

/** The plan of get_url: pure, from the probed state and the arguments. */
export function planGetUrl(state: GetUrlState, args: GetUrlArgs): Plan {
  if (!/^(https?|ftp|file):\/\//.test(args.url)) return planFailure(`unsupported URL scheme: ${args.url} (http, https, ftp and file are)`);
  const parsed = parseChecksum(args.checksum);
  if (parsed && 'error' in parsed) return planFailure(parsed.error);
  if (!state.tool) return planFailure('the host has none of curl, wget and python3 to download with');
  if (state.expected && 'error' in state.expected) return planFailure(state.expected.error);
  const wanted = parsed ? (parsed.url ? (state.expected as { value: string }).value : parsed.value) : undefined;
  const inDir = isDirectory(state.dest);
  const target = inDir ? state.inDir : state.dest;
  const path = target.path;
  const base = { dest: path, url: args.url };
  const umask = parseUmask(target.identity.umask);
  const wantedAttrs = { mode: args.mode, owner: args.owner, group: args.group };
  try {
    // The attributes of a file that keeps its content.
    const attributesOnly = (reason: string, result: Record<string, unknown>): Plan => {
      const stat = target.type === 'link' ? target.linked! : (target as Required<FileFact>);
      const attrs = planAttributes(stat, wantedAttrs, { isDirectory: false, umask });
      const full = { ...base, ...attributeResult(stat), ...result, ...(attrs.changed ? { mode: attrs.mode } : {}) };
      if (!attrs.changed) return noop(reason, { ...full, msg: result.msg ?? reason });
      return {
        changes: [
          {
            summary: `set ${describeAttributes(attrs)} on ${path}`,
            commands: [{ cmd: setAttributesCommand(path, attrs.change) }],
            diff: stateDiff({ path, ...attrs.before }, { path, ...attrs.after }, `${path} (file attributes)`),
          },
        ],
        result: { ...full, msg: `${result.msg ?? reason} but file attributes changed` },
      };
    };
    if (alreadyThere(state, args))
      return attributesOnly('file already exists', { msg: 'file already exists', checksum_dest: state.dest.checksum });
    const d = state.download!;
    if (d.error !== undefined) return planFailure(`Request failed: ${d.error}`, { ...base, status_code: d.status || -1 });
    if (d.status !== 200) return planFailure('Request failed', { ...base, status_code: d.status, response: `HTTP Error ${d.status}` });
    if (wanted !== undefined && d.sum !== wanted) {
      return planFailure(`The checksum for ${path} did not match ${wanted}; it was ${d.sum}.`, { ...base, checksum_src: d.sha1 });
    }
    const fromUrl = {
      ...base,
      checksum_src: d.sha1,
      md5sum: d.md5,
      size: d.size,
      status_code: d.status,
      msg: `OK (${d.size} bytes)`,
      elapsed: 0,
    };
    const existing = target.type === 'link' ? target.linked : target.exists ? (target as Required<FileFact>) : undefined;
    if (existing?.type === 'directory') return planFailure(`Destination ${path} is a directory`);
    const sameContent = existing?.type === 'file' && target.checksum === d.sha1;
    if (sameContent)
      return attributesOnly(`${path} already has the content of ${args.url}`, { ...fromUrl, checksum_dest: target.checksum });
    if (!target.parentExists) return planFailure(`Destination ${posix.dirname(path)} does not exist`, base);
    const attributes = writeAttributes(existing?.type === 'file' ? existing : undefined, wantedAttrs, {
      uid: target.identity.uid,
      gid: target.identity.gid,
      umask,
    });
    const tmp = downloadTemp(path, args);
    const write = atomicWriteCommand(path, { ...attributes, backup: args.backup, source: tmp });
    const cmd = joinCommands(
      [
        downloaderSetup(args),
        sh`rm -f -- ${tmp}; c=$(dl ${args.url} ${tmp}); r=$?; echo "STATUS $c $r"`,
        guardCommand(
          sh`{ [ "$r" = 0 ] && [ "$c" = 200 ]; } || { rm -f -- ${tmp}; false; }`,
          `Request failed: the download of ${args.url} failed`,
        ),
        guardCommand(
          sh`[ "$(sha1sum < ${tmp})" = ${`${d.sha1}  -`} ] || { rm -f -- ${tmp}; false; }`,
          `the content of ${args.url} changed since it was checked; nothing was written`,
        ),
        sh`(${write}
); s=$?; rm -f -- ${tmp}; exit "$s"`,
      ],
      '\n',
    );
    return {
      changes: [{ summary: `download ${args.url} to ${path}`, commands: [{ cmd }] }],
      result: {
        ...fromUrl,
        ...(target.checksum !== undefined ? { checksum_dest: target.checksum } : {}),
        src: tmp,
        state: 'file',
        mode: attributes.mode,
      },
    };
  } catch (e) {
    if (e instanceof ModeError) return planFailure(e.message);
    throw e;
  }
}

export default defineModule<GetUrlArgs, GetUrlState>({
  name: 'get_url',
  aliases: ['ansible.builtin.get_url'],
  description:
    "Download a file over HTTP, HTTPS or FTP on the host (with curl, wget or python3, whichever it has; the task's environment: http_proxy/https_proxy apply) to dest, a file or a directory. Written atomically, only when the content differs; with checksum (algorithm:hash, or algorithm:URL of a sums file) the download is verified, and an existing dest with that checksum is kept without downloading unless force.",
  schema: {
    type: 'object',
    properties: {
      url: { type: 'string', description: 'http://, https://, ftp:// or file:// URL to download.' },
      dest: { type: 'string', description: 'The file to write, or a directory that receives a file named after the URL.' },
      checksum: {
        type: 'string',
        default: '',
        description:
          "'sha256:<hash>' (md5, sha1, sha224, sha256, sha384, sha512), or 'sha256:<URL of a sums file>': the download must have it.",
      },
      force: { type: 'boolean', default: false, description: 'Download even when dest has the wanted checksum.' },
      backup: { type: 'boolean', default: false, description: 'Keep a timestamped copy of the old file.' },
      mode: { type: ['string', 'integer'], description: 'Permissions of dest (octal, symbolic or a YAML integer).' },
      owner: { type: 'string', description: 'Owner of dest.' },
      group: { type: 'string', description: 'Group of dest.' },
      timeout: { type: 'integer', default: 10, description: 'Seconds to wait for a connection, and for data while downloading.' },
      headers: { type: 'object', description: 'Request headers, as a dict.' },
      url_username: { type: 'string', aliases: ['username'], description: 'User for HTTP basic authentication.' },
      url_password: { type: 'string', aliases: ['password'], description: 'Password for HTTP basic authentication (never printed).' },
      force_basic_auth: { type: 'boolean', default: false, description: 'Accepted: credentials are always sent with the first request.' },
      validate_certs: { type: 'boolean', default: true, description: 'false: do not verify the server certificate.' },
      use_proxy: { type: 'boolean', default: true, description: "false: ignore the host's http_proxy/https_proxy." },
      tmp_dest: { type: 'string', description: "Directory of the download's temp file (default: dest's directory)." },
      http_agent: { type: 'string', default: 'ansible-httpget', description: 'User-Agent header.' },
      unsafe_writes: { type: 'boolean', default: false, description: 'Accepted for compatibility; writes are always atomic.' },
      use_netrc: { type: 'boolean', default: true, description: 'Accepted for compatibility.' },
      decompress: { type: 'boolean', default: true, description: 'Accepted for compatibility.' },
    },
    required: ['url', 'dest'],
    additionalProperties: false,
  },
  examples: `- name: Download a release, checked against its sums file
  get_url:
    url: https://example.org/tool-1.0.tar.gz
    dest: /opt/
    checksum: sha256:https://example.org/SHA256SUMS
    mode: '0644'

- name: Download through a proxy
  get_url:
    url: http://example.org/file.conf
    dest: /etc/file.conf
  environment:
    http_proxy: http://10.0.0.1:3128`,
  gather: gatherGetUrl,
  plan: planGetUrl,
  async apply(ctx, changes) {
    const r = await runChangesAsOne(ctx, changes);
    const out = parseWriteOutput(r.stdout);
    const status = /^STATUS (\d*) /m.exec(r.stdout)?.[1];
    if (out.failure !== undefined)
      return { failed: out.failure, result: { ...(status ? { status_code: Number(status) } : {}), stderr: r.stderr } };
    if (r.rc !== 0) return changesFailed(changes, r, out.stdout);
    return { result: { ...(out.stat ? attributeResult(out.stat) : {}), ...(out.backupFile ? { backup_file: out.backupFile } : {}) } };
  },
});
