// Table-driven plan tests of mount, in the format of the other fixture tests:
// test/modules/fixtures/mount/<case>.json = args + gathered state -> expected plan. In "current",
// "fstab" is a probed path in short form ({ "text" } or { "exists": false }), "mountPoint" the
// mount point ({ "exists", "type" }) and "mounts" the parsed mount table. Also: the gather parses
// what a real host prints (run here, on this machine's own fstab and mount table).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../engine/module.js';
import type { FileFact } from '../../engine/file-fact.js';
import mount, {
  escapeFstab,
  mountGatherCommand,
  parseMountGather,
  parseMountinfo,
  unescapeFstab,
  type MountState,
} from '../../modules/mount.js';
import { completeArgs, expectPlan } from './harness.js';

interface Case {
  description: string;
  args: Record<string, unknown>;
  current: {
    fstab: { text?: string; exists?: boolean; path?: string };
    mountPoint: { exists: boolean; type?: string };
    mounts: MountState['mounts'];
  };
  expect: { noop?: true; changes?: { summary: string }[]; after?: string; failed?: string };
  result?: Record<string, unknown>;
}

const IDENTITY = { uid: 0, gid: 0, user: 'root', group: 'root', umask: '0022' };

function fileFact(short: { text?: string; exists?: boolean; path?: string }): FileFact {
  const exists = short.exists ?? true;
  const base = { path: short.path ?? '/etc/fstab', exists, parentExists: true, identity: IDENTITY } as FileFact;
  if (!exists) return base;
  const content = Buffer.from(short.text ?? '').toString('base64');
  return {
    ...base,
    type: 'file',
    mode: '0644',
    owner: 'root',
    group: 'root',
    uid: 0,
    gid: 0,
    size: (short.text ?? '').length,
    content,
  } as FileFact;
}

const root = join(import.meta.dirname, 'fixtures', 'mount');

describe('mount plans', () => {
  for (const caseFile of readdirSync(root)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const c = JSON.parse(readFileSync(join(root, caseFile), 'utf8')) as Case;
    it(`${caseFile.replace(/\.json$/, '')}: ${c.description}`, () => {
      const args = completeArgs(mount, c.args);
      const current: MountState = {
        fstab: fileFact(c.current.fstab),
        mountPoint: { path: String(c.args.path), parentExists: true, identity: IDENTITY, ...c.current.mountPoint } as FileFact,
        mounts: c.current.mounts,
      };
      const plan: Plan = mount.plan(current, args);
      expectPlan(plan, c);
    });
  }
});

describe('mount gather and commands', () => {
  it('parses mountinfo, with its octal escapes', () => {
    const text = [
      '22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw,errors=remount-ro',
      '40 22 0:35 / /home/partimag ro,relatime shared:20 - nfs 10.213.1.1:/srv/partimag ro,vers=4.2',
      '41 22 7:1 / /mnt/my\\040disk rw master:1 - ext4 /dev/loop1 rw',
    ].join('\n');
    expect(parseMountinfo(text)).toEqual([
      { mountPoint: '/', source: '/dev/sda2', fstype: 'ext4', options: 'rw,relatime' },
      { mountPoint: '/home/partimag', source: '10.213.1.1:/srv/partimag', fstype: 'nfs', options: 'ro,relatime' },
      { mountPoint: '/mnt/my disk', source: '/dev/loop1', fstype: 'ext4', options: 'rw' },
    ]);
    expect(unescapeFstab(escapeFstab('a b\tc\\d'))).toBe('a b\tc\\d');
  });

  it('the gather runs on this machine: its fstab, a missing mount point, and / in the mount table', () => {
    const args = completeArgs(mount, { path: '/nonexistent/tsplay-mount', state: 'unmounted' });
    const out = execFileSync('sh', ['-c', mountGatherCommand(args).text], { encoding: 'utf8' });
    const s = parseMountGather(out, '', 0);
    expect(s.fstab.path).toBe('/etc/fstab');
    expect(s.mountPoint).toMatchObject({ path: '/nonexistent/tsplay-mount', exists: false, parentExists: false });
    expect(s.mounts.some((m) => m.mountPoint === '/')).toBe(true);
    expect(mount.plan(s, args)).toMatchObject({ changes: [], reason: '/nonexistent/tsplay-mount is not mounted' });
  });

  it('mounted mounts by the mount point, with -T for another fstab; the fstab write is atomic and backed up', () => {
    const args = completeArgs(mount, {
      path: '/mnt/x',
      src: 'srv:/x',
      fstype: 'nfs',
      state: 'mounted',
      fstab: '/etc/fstab.lab',
      backup: true,
    });
    const plan = mount.plan(
      {
        fstab: fileFact({ path: '/etc/fstab.lab', text: '' }),
        mountPoint: { path: '/mnt/x', exists: true, type: 'directory', parentExists: true, identity: IDENTITY } as FileFact,
        mounts: [],
      },
      args,
    );
    const [write, mnt] = plan.changes.map((c) => c.commands[0]!.cmd.text);
    expect(write).toContain('mv -fT -- "$t" /etc/fstab.lab');
    expect(write).toContain('backup');
    expect(mnt).toBe('mount -T /etc/fstab.lab -- /mnt/x');
  });

  it('rejects an unknown state and a misspelt argument', () => {
    expect(() => completeArgs(mount, { path: '/x', state: 'gone' })).toThrow(/state/);
    expect(() => completeArgs(mount, { path: '/x', state: 'mounted', fs_type: 'nfs' })).toThrow(
      /Unsupported parameters for \(mount\) module: fs_type/,
    );
  });
});
