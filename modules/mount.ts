// mount: a mount point in /etc/fstab and on the live system, as ansible.posix.mount does it
// (states mounted, present, unmounted, absent, absent_from_fstab, remounted, ephemeral). One
// remote command reads the fstab (with its attributes), the mount point and the mount table; one
// more writes the fstab atomically and mounts, remounts or unmounts.
import {
  parseProbeAll,
  probeAllCommand,
  applyFileEdits,
  planFileEdit,
  defineModule,
  followed,
  ModeError,
  noop,
  parseFileProbe,
  planFailure,
  fileProbeCommand,
  sh,
  type Change,
  type FileFact,
  type Plan,
  type ShellCommand,
} from '../engine/index.js';

/** mount's arguments, complete after validation. */
export interface MountArgs {
  path: string;
  src?: string;
  fstype?: string;
  opts?: string;
  dump: string | number;
  passno: string | number;
  state: 'mounted' | 'present' | 'unmounted' | 'absent' | 'absent_from_fstab' | 'remounted' | 'ephemeral';
  fstab: string;
  boot: boolean;
  backup: boolean;
  opts_no_log: boolean;
}

/** One line of /proc/self/mountinfo. */
export interface LiveMount {
  mountPoint: string;
  source: string;
  fstype: string;
  /** Per-mount options (rw,relatime...). */
  options: string;
}

/** The fstab, the mount point and the live mounts, as the gather found them. */
export interface MountState {
  fstab: FileFact;
  mountPoint: FileFact;
  mounts: LiveMount[];
}

// fstab's and mountinfo's escapes: a space is \040, a tab \011, a newline \012, a backslash \134.
export function escapeFstab(s: string): string {
  return s.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011').replace(/\n/g, '\\012');
}
export function unescapeFstab(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parse /proc/self/mountinfo. */
export function parseMountinfo(text: string): LiveMount[] {
  const out: LiveMount[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    if (pre.length < 6 || post.length < 2) continue;
    out.push({ mountPoint: unescapeFstab(pre[4]!), options: pre[5]!, fstype: post[0]!, source: unescapeFstab(post[1]!) });
  }
  return out;
}

/** The gather as one command: fstab and mount point probes, then the mount table (see probeAll). */
export function mountGatherCommand(args: MountArgs): ShellCommand {
  return probeAllCommand({
    files: { cmd: fileProbeCommand([{ path: args.fstab, content: true }, { path: mountPointOf(args.path) }]), stderr: 'pass' },
    mountinfo: { cmd: sh`cat /proc/self/mountinfo`, stderr: 'pass' },
  });
}

/** Parse the gather's output. */
export function parseMountGather(stdout: string, stderr: string, rc: number): MountState {
  const probed = parseProbeAll<'files' | 'mountinfo'>(stdout);
  const [fstab, mountPoint] = parseFileProbe({ stdout: probed.files?.out ?? '', stderr, rc }, 2) as [FileFact, FileFact];
  return { fstab, mountPoint, mounts: probed.mountinfo ? parseMountinfo(probed.mountinfo.out) : [] };
}

// Ansible strips trailing slashes from the mount point (except for /).
function mountPointOf(path: string): string {
  return path === '/' ? path : path.replace(/\/+$/, '') || '/';
}

interface Entry {
  src: string;
  name: string;
  fstype: string;
  opts: string;
  dump: string;
  passno: string;
}

const FIELDS = ['src', 'fstype', 'opts', 'dump', 'passno'] as const;
const entryLine = (e: Entry) => `${e.src} ${e.name} ${e.fstype} ${e.opts} ${e.dump} ${e.passno}\n`;

// Lines of a text, each with its newline.
function lines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function fields(line: string): string[] | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return undefined;
  const f = t.split(/\s+/);
  return f.length >= 4 && f.length <= 6 ? f : undefined;
}

/** The fstab with the entry for `want.name` set (every matching line updated, else appended). */
export function setFstabEntry(text: string, want: Entry): { text: string; changed: boolean } {
  let changed = false;
  let exists = false;
  const out: string[] = [];
  for (const line of lines(text)) {
    const f = fields(line);
    if (!f || f[1] !== want.name) {
      out.push(line);
      continue;
    }
    exists = true;
    const have: Entry = { src: f[0]!, name: f[1]!, fstype: f[2]!, opts: f[3]!, dump: f[4] ?? '0', passno: f[5] ?? '0' };
    if (FIELDS.some((k) => have[k] !== want[k])) changed = true;
    out.push(changed ? entryLine(want) : line);
  }
  if (!exists) {
    if (out.length && !out[out.length - 1]!.endsWith('\n')) out[out.length - 1] += '\n';
    out.push(entryLine(want));
    changed = true;
  }
  return { text: out.join(''), changed };
}

/** The fstab without any entry for the mount point `name`. */
export function removeFstabEntry(text: string, name: string): { text: string; changed: boolean } {
  const kept = lines(text).filter((l) => fields(l)?.[1] !== name);
  const out = kept.join('');
  return { text: out, changed: out !== text };
}

/** The plan of mount: pure, from the fstab, the mount point, the mount table and the arguments. */
export function planMount(cur: MountState, args: MountArgs): Plan {
  const name = mountPointOf(args.path);
  const wantsEntry = args.state === 'mounted' || args.state === 'present' || args.state === 'ephemeral';
  if (wantsEntry) {
    const missing = (['src', 'fstype'] as const).filter((k) => args[k] === undefined || args[k] === '');
    if (missing.length) return planFailure(`state is ${args.state} but all of the following are missing: ${missing.join(', ')}`);
  }
  let opts = args.opts ?? 'defaults';
  if (!args.boot && args.state !== 'ephemeral' && !opts.split(',').includes('noauto')) {
    const parts = opts.split(',').filter((o) => o !== 'defaults' && o !== '');
    opts = [...parts, 'noauto'].join(',');
  }
  const entry: Entry = {
    src: escapeFstab(args.src ?? ''),
    name: escapeFstab(name),
    fstype: escapeFstab(args.fstype ?? ''),
    opts: escapeFstab(opts),
    dump: escapeFstab(String(args.dump)),
    passno: escapeFstab(String(args.passno)),
  };
  const result: Record<string, unknown> = {
    name,
    src: args.src ?? null,
    fstype: args.fstype ?? null,
    opts: args.opts_no_log ? 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' : opts,
    dump: String(args.dump),
    passno: String(args.passno),
    fstab: args.fstab,
    boot: args.boot,
  };

  const live = cur.mounts.filter((m) => m.mountPoint === name);
  const mounted = live.length > 0;
  const top = live[live.length - 1];
  const customFstab = args.fstab !== '/etc/fstab';
  const fstabFlag = customFstab ? sh` -T ${args.fstab}` : sh``;

  const fstab = followed(cur.fstab);
  if (fstab.stat?.type === 'directory') return planFailure(`${args.fstab} is a directory`);
  if (fstab.exists && (cur.fstab.content === undefined || cur.fstab.unreadable)) return planFailure(`cannot read ${args.fstab}`);
  const before = fstab.exists ? Buffer.from(cur.fstab.content!, 'base64').toString('utf8') : '';
  const changes: Change[] = [];

  const fstabChange = (after: string, summary: string): Change | Plan => {
    try {
      return planFileEdit(cur.fstab, after, { summary, backup: args.backup, diffPath: args.fstab, diffBefore: before });
    } catch (e) {
      if (e instanceof ModeError) return planFailure(e.message);
      throw e;
    }
  };
  const add = (c: Change | Plan): Plan | undefined => {
    if ('commands' in c) {
      changes.push(c);
      return undefined;
    }
    return c;
  };
  const mkdir = () => {
    if (cur.mountPoint.exists && cur.mountPoint.type === 'directory') return;
    if (cur.mountPoint.exists && cur.mountPoint.type !== 'link') return planFailure(`${name} exists and is not a directory`);
    changes.push({ summary: `create mount point ${name}`, commands: [{ cmd: sh`mkdir -p -- ${name}` }] });
    return undefined;
  };
  const umount = () => changes.push({ summary: `unmount ${name}`, commands: [{ cmd: sh`umount -- ${name}` }] });

  switch (args.state) {
    case 'present':
    case 'mounted': {
      const set = setFstabEntry(before, entry);
      if (set.changed) {
        const failed = add(
          fstabChange(
            set.text,
            `${before.split('\n').some((l) => fields(l)?.[1] === entry.name) ? 'update' : 'add'} ${name} in ${args.fstab}`,
          ),
        );
        if (failed) return failed;
      }
      if (args.state === 'present') break;
      const failed = mkdir();
      if (failed) return failed;
      if (!mounted) {
        changes.push({ summary: `mount ${args.src} on ${name}`, commands: [{ cmd: sh`mount${fstabFlag} -- ${name}` }] });
      } else if (set.changed) {
        // a new source needs a new mount; new options a remount (as Ansible: unmount and mount when remount fails)
        const sameSource = top!.source === args.src && top!.fstype === args.fstype;
        const cmd = sameSource
          ? sh`{ mount${fstabFlag} -o remount -- ${name} || { umount -- ${name} && mount${fstabFlag} -- ${name}; }; }`
          : sh`umount -- ${name} && mount${fstabFlag} -- ${name}`;
        changes.push({
          summary: sameSource ? `remount ${name} with the new options` : `mount ${args.src} on ${name} instead of ${top!.source}`,
          commands: [{ cmd }],
        });
      }
      break;
    }
    case 'absent_from_fstab':
    case 'absent': {
      const rm = removeFstabEntry(before, entry.name);
      if (rm.changed) {
        const failed = add(fstabChange(rm.text, `remove ${name} from ${args.fstab}`));
        if (failed) return failed;
      }
      if (args.state === 'absent_from_fstab') break;
      if (mounted) umount();
      // as Ansible, the mount point goes with the entry or the mount, never on its own
      if (changes.length && cur.mountPoint.exists && cur.mountPoint.type === 'directory') {
        changes.push({ summary: `remove mount point ${name}`, commands: [{ cmd: sh`rmdir -- ${name}` }] });
      }
      break;
    }
    case 'unmounted':
      if (mounted) umount();
      break;
    case 'remounted': {
      if (!mounted) return planFailure(`${name} is not mounted: nothing to remount`, result);
      const o = args.opts === undefined ? 'remount' : `remount,${args.opts}`;
      changes.push({ summary: `remount ${name}`, commands: [{ cmd: sh`mount${fstabFlag} -o ${o} -- ${name}` }] });
      return { changes, result, alwaysChanges: true };
    }
    case 'ephemeral': {
      if (mounted) {
        // the source decides, as in Ansible: an `nfs` share shows as `nfs4` once mounted
        if (top!.source !== args.src) {
          return planFailure(
            `Ephemeral mount point is already mounted with a different source than the specified one (${top!.source} on ${name}). ` +
              'Try replacing this task with a "state: unmounted" followed by a "state: ephemeral", or use a different path.',
            result,
          );
        }
        break;
      }
      const failed = mkdir();
      if (failed) return failed;
      changes.push({
        summary: `mount ${args.src} on ${name} (not in ${args.fstab})`,
        commands: [{ cmd: sh`mount -t ${args.fstype!} -o ${opts} -- ${args.src!} ${name}` }],
      });
      break;
    }
  }
  if (changes.length === 0) {
    const why: Record<MountArgs['state'], string> = {
      mounted: `${name} is in ${args.fstab} as wanted and mounted`,
      present: `${name} is in ${args.fstab} as wanted`,
      unmounted: `${name} is not mounted`,
      absent: `${name} is neither in ${args.fstab} nor mounted`,
      absent_from_fstab: `${name} is not in ${args.fstab}`,
      remounted: '',
      ephemeral: `${args.src} is already mounted on ${name}`,
    };
    return noop(why[args.state], result);
  }
  return { changes, result };
}

export default defineModule<MountArgs, MountState>({
  name: 'mount',
  aliases: ['ansible.posix.mount'],
  description:
    'Control active and configured mount points: the entry in /etc/fstab (written atomically) and the live mount (an NFS share, a partition). mounted = in fstab and mounted (the mount point is made when missing; changed options remount it); present = in fstab only; unmounted = unmounted, fstab untouched; absent = out of fstab, unmounted, and the mount point removed; absent_from_fstab = out of fstab only; remounted = remount now (always changed); ephemeral = mounted without touching fstab.',
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', aliases: ['name'], description: 'Path to the mount point (/home/partimag).' },
      src: {
        type: 'string',
        description:
          'Device or share to mount on path (10.213.1.1:/srv/partimag, /dev/mmcblk0p1, LABEL=bootfs). Required for mounted, present and ephemeral.',
      },
      fstype: { type: 'string', description: 'File system type (nfs, ext4, vfat). Required for mounted, present and ephemeral.' },
      opts: { type: 'string', description: 'Mount options (see fstab(5)); default: defaults.' },
      dump: { type: ['string', 'integer'], default: '0', description: 'Dump (see fstab(5)).' },
      passno: { type: ['string', 'integer'], default: '0', description: 'Passno (see fstab(5)).' },
      state: {
        type: 'string',
        enum: ['absent', 'absent_from_fstab', 'mounted', 'present', 'unmounted', 'remounted', 'ephemeral'],
        description: 'What the mount point should be (see the description).',
      },
      fstab: { type: 'string', default: '/etc/fstab', description: 'File to use instead of /etc/fstab (mount -T).' },
      boot: {
        type: 'boolean',
        default: true,
        description: 'Mount at boot; false adds noauto to the options (ignored when opts has noauto, and for ephemeral).',
      },
      backup: { type: 'boolean', default: false, description: 'Keep a timestamped copy of the old fstab.' },
      opts_no_log: { type: 'boolean', default: false, description: 'Do not show opts in the result (credentials in options).' },
    },
    required: ['path', 'state'],
    additionalProperties: false,
  },
  examples: `- name: Mount the clean image store (NFS share on the gateway)
  mount:
    path: /home/partimag
    src: 10.213.1.1:/srv/partimag
    fstype: nfs
    opts: ro,nolock
    state: mounted

- name: Mount the restored boot partition to patch it, without touching fstab
  ansible.posix.mount:
    path: /mnt/boot
    src: /dev/mmcblk0p1
    fstype: vfat
    state: ephemeral

- name: Unmount it again
  mount:
    path: /mnt/boot
    state: unmounted

- name: Remove the share from fstab, unmount it and remove the mount point
  mount:
    path: /home/partimag
    state: absent`,
  async gather(ctx, args) {
    const r = await ctx.run(mountGatherCommand(args));
    return parseMountGather(r.stdout, r.stderr, r.rc);
  },
  plan: planMount,
  async apply(ctx, changes) {
    const done = await applyFileEdits(ctx, changes);
    if (done.failure) return done.failure;
    return done.backupFile ? { result: { backup_file: done.backupFile } } : {};
  },
});
