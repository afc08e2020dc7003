// fetch: copy a file from the host to the controller, as ansible.builtin.fetch does: into
// dest/<inventory_hostname>/<src path>, or to dest itself with flat. The gather reads the host's
// file (content and sha1, one command) and the controller's copy; the plan compares the two; the
// apply writes the controller file atomically (a temp file in the same directory, renamed).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { defineModule, fileFact, md5, noop, planFailure, sha1, type FileFact, type ModuleContext, type Plan } from '../engine/index.js';

/** fetch's arguments, complete after validation. */
export interface FetchArgs {
  src: string;
  dest: string;
  flat: boolean;
  fail_on_missing: boolean;
  validate_checksum: boolean;
}

/** What the gather found: the host's file and the controller's copy. */
export interface FetchState {
  /** inventory_hostname, which names the controller directory without flat. */
  host: string;
  /** The directory relative dests are resolved against (the playbook's). */
  baseDir: string;
  remote: FileFact;
  /** The controller file the plan writes: its sha1, or null when it does not exist; a directory is 'directory'. */
  local: Record<string, string | null>;
}

/** The controller path the file goes to. */
export function fetchDestination(args: FetchArgs, host: string, baseDir: string, remotePath: string): string {
  const dest = args.dest.startsWith('~/') ? join(process.env.HOME ?? '/', args.dest.slice(2)) : args.dest;
  const base = isAbsolute(dest) ? dest : resolve(baseDir, dest);
  if (args.flat) return args.dest.endsWith('/') ? join(base, posix.basename(remotePath)) : base;
  // without flat: dest/<host>/<the source's path, made relative>
  return join(base, host, posix.normalize(remotePath).replace(/^\/+/, ''));
}

function localState(path: string): string | null {
  if (!existsSync(path)) return null;
  if (statSync(path).isDirectory()) return 'directory';
  return createHash('sha1').update(readFileSync(path)).digest('hex');
}

async function gatherFetch(ctx: ModuleContext, args: FetchArgs): Promise<FetchState> {
  const remote = await ctx.fact(fileFact, { path: args.src, content: true, checksum: true });
  const path = fetchDestination(args, ctx.host, ctx.playbookDir, remote.path);
  return { host: ctx.host, baseDir: ctx.playbookDir, remote, local: { [path]: localState(path) } };
}

/** The plan of fetch: pure, from both files' states. */
export function planFetch(state: FetchState, args: FetchArgs): Plan {
  const r = state.remote;
  const kind = r.type === 'link' ? r.linked?.type : r.exists ? r.type : undefined;
  if (kind === undefined) {
    const msg = 'the remote file does not exist, not transferring, ignored';
    return args.fail_on_missing ? planFailure(msg) : noop(msg, { msg, file: args.src });
  }
  if (kind === 'directory') return planFailure('remote file is a directory, fetch cannot work on directories');
  if (r.content === undefined || r.unreadable) {
    const msg = 'file is not readable, not transferring, ignored';
    return args.fail_on_missing ? planFailure(msg) : noop(msg, { msg, file: args.src });
  }
  const bytes = Buffer.from(r.content, 'base64');
  const dest = fetchDestination(args, state.host, state.baseDir, r.path);
  const remoteChecksum = r.checksum ?? sha1(bytes);
  const result = {
    checksum: remoteChecksum,
    dest,
    remote_checksum: remoteChecksum,
    remote_md5sum: null,
    md5sum: md5(bytes),
    file: args.src,
  };
  if (args.validate_checksum && sha1(bytes) !== remoteChecksum) return planFailure('checksum mismatch', result);
  const local = state.local[dest];
  if (local === 'directory') return planFailure(`${dest} is a directory on the controller`);
  if (local === remoteChecksum) return noop(`${dest} already holds ${args.src}`, result);
  // The content rides along in the change: the apply writes it on the controller, no host command.
  return {
    changes: [{ summary: `${local === null || local === undefined ? 'fetch' : 'update'} ${dest} from ${args.src}`, commands: [] }],
    result,
  };
}

export default defineModule<FetchArgs, FetchState>({
  name: 'fetch',
  aliases: ['ansible.builtin.fetch'],
  description:
    'Copy a file from the host to the controller: into dest/<inventory_hostname>/<src path>, or to dest itself with flat (dest ending with / then receives the file under its own name). Written on the controller atomically, only when its sha1 differs. Directories are not supported.',
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string', description: 'The file on the host (not a directory).' },
      dest: { type: 'string', description: 'Controller directory (or file, with flat); relative to the playbook directory.' },
      flat: { type: 'boolean', default: false, description: 'Write to dest itself instead of dest/<host>/<src path>.' },
      fail_on_missing: { type: 'boolean', default: true, description: 'false: a missing src is reported and ignored.' },
      validate_checksum: { type: 'boolean', default: true, description: 'Check that the copy has the sha1 the host computed.' },
    },
    required: ['src', 'dest'],
    additionalProperties: false,
  },
  examples: `- name: Collect every host's dnsmasq leases
  fetch:
    src: /var/lib/misc/dnsmasq.leases
    dest: leases/

- name: One file, named by the playbook
  fetch:
    src: /etc/hostname
    dest: "names/{{ inventory_hostname }}.txt"
    flat: yes`,
  gather: gatherFetch,
  plan: planFetch,
  async apply(_ctx, _changes, args, current) {
    const bytes = Buffer.from(current.remote.content!, 'base64');
    const dest = fetchDestination(args, current.host, current.baseDir, current.remote.path);
    const dir = posix.dirname(dest);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${posix.basename(dest).slice(0, 100)}.tsplay-${process.pid}`);
    try {
      writeFileSync(tmp, bytes, { mode: 0o666 });
      if (args.validate_checksum && sha1(readFileSync(tmp)) !== current.remote.checksum) {
        return { failed: `checksum mismatch: the copy of ${args.src} differs from the host's file` };
      }
      renameSync(tmp, dest);
    } finally {
      rmSync(tmp, { force: true });
    }
    return {};
  },
});
