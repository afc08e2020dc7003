// nodes-reimage on the lab, and what it stands on: the lab's imaging stand-ins (each node's main
// disk, the imaging system with ocs-sr and mount.nfs, the image store on the gateway, the
// firmware that boots a restored disk and runs its firstrun.sh once), the mount module (an NFS
// share mounted, unmounted, absent; fstab read on the host), and the playbook: check mode changes
// nothing, the real run restores, patches and reboots, and the node answers under its name.
// The real state is read from inside the hosts (nsenter), not from tsplay.
// Addresses: the test plays dhcp-setup by hand (the gateway's cluster address and dnsmasq's DHCP
// with a reservation per MAC), so a node gets its address again from a fresh image.
// Needs root on Linux; runs only with TSPLAY_LAB_TESTS=1, under `flock /tmp/tsplay-lab.lock`.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExec, labLeftovers, labStatus, labUp, type LabInfo } from '../../lab/lab.js';
import { project, recap, tsplay } from '../e2e/helpers.js';

const enabled = process.env.TSPLAY_LAB_TESTS === '1';
const PLAYBOOK = join(import.meta.dirname, '../../playbooks/nodes-reimage.yaml');

const mountPlay = (state: string) => `- hosts: node1
  become: true
  gather_facts: false
  tasks:
    - name: the image store
      mount:
        path: /mnt/store
        src: "{{ cluster_gateway_ip }}:/srv/partimag"
        fstype: nfs
        opts: ro,nolock
        state: ${state}
`;

const FILES: Record<string, string> = {
  'mounted.yml': mountPlay('mounted'),
  'unmounted.yml': mountPlay('unmounted'),
  'absent.yml': mountPlay('absent'),
};

const DHCP = `interface=eth0
dhcp-range=10.213.1.100,10.213.1.200,255.255.255.0,12h
dhcp-host=02:74:73:00:01:11,node1,10.213.1.11
dhcp-host=02:74:73:00:01:12,node2,10.213.1.12
dhcp-host=02:74:73:00:01:13,node3,10.213.1.13
`;

describe.skipIf(!enabled)('nodes-reimage on the lab', () => {
  let lab: LabInfo;
  let dir: string;
  const timings: Record<string, number> = {};

  const sh = async (host: string, script: string) => labExec(host, ['sh', '-c', script]);
  const out = async (host: string, script: string) => (await sh(host, script)).stdout;
  const run = async (label: string, playbook: string, extra: string[] = []) => {
    const t = Date.now();
    const r = await tsplay(dir, ['run', playbook, '-i', lab.inventory, ...extra]);
    timings[label] = Date.now() - t;
    return r;
  };
  const node = async (name: string) => (await labStatus()).hosts.find((h) => h.name === name)!;
  const waitFor = async (what: string, fn: () => Promise<boolean>, ms = 60_000) => {
    const until = Date.now() + ms;
    while (!(await fn().catch(() => false))) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const hasAddress = (host: string, address: string) => async () =>
    (await out(host, 'ip -4 -o addr show dev eth0')).includes(` ${address}/`);
  const fstab = (host: string) => out(host, 'cat /etc/fstab');
  const mounts = (host: string, path: string) => out(host, `awk '$2 == "${path}"' /proc/mounts`);

  beforeAll(async () => {
    await labDown();
    lab = await labUp({ nodes: 3 }, () => {});
    dir = project(FILES);
  }, 10 * 60_000);

  afterAll(async () => {
    process.stderr.write(`nodes-reimage timings (ms): ${JSON.stringify(timings)}\n`);
    await labDown();
  }, 120_000);

  it('each node boots its imaging system from a blank disk: /dev/mmcblk0 with two partitions, ocs-sr, mount.nfs; the image store is on the gateway', async () => {
    for (const n of ['node1', 'node2', 'node3']) {
      expect((await node(n)).bootedFrom).toBe('imaging');
      expect(
        (
          await sh(
            n,
            'test -b /dev/mmcblk0 && test -b /dev/mmcblk0p1 && test -b /dev/mmcblk0p2 && command -v ocs-sr && command -v mount.nfs',
          )
        ).code,
      ).toBe(0);
      expect((await out(n, 'blockdev --getsize64 /dev/mmcblk0 /dev/mmcblk0p1 /dev/mmcblk0p2')).split('\n').filter(Boolean)).toEqual([
        '67108864',
        '16777216',
        '49283072',
      ]);
      // blank: nothing to mount
      expect((await sh(n, 'cmp -n 1048576 /dev/mmcblk0p1 /dev/zero')).code).toBe(0);
    }
    expect((await out('gateway', 'ls /srv/partimag/raspios-clean')).split('\n').filter(Boolean).sort()).toEqual([
      'clonezilla-img',
      'disk',
      'mmcblk0-mbr',
      'mmcblk0-pt.sf',
      'mmcblk0p1.ext4-img.gz',
      'mmcblk0p2.ext4-img.gz',
      'parts',
    ]);
  });

  it('mount -t nfs reaches the share only over the network, from the gateway, read-only; umount detaches it', async () => {
    await labExec('node1', ['mkdir', '-p', '/mnt/probe']);
    const noNet = await sh('node1', 'mount -t nfs 10.213.1.1:/srv/partimag /mnt/probe');
    expect(noNet.code).toBe(32);
    expect(noNet.stderr).toContain('mount.nfs: Connection timed out');

    // what dhcp-setup does, by hand: the gateway's cluster address and DHCP with reservations
    await labExec('gateway', ['ip', 'addr', 'add', '10.213.1.1/24', 'dev', 'eth0']);
    await labExec('gateway', ['sh', '-c', 'cat > /etc/dnsmasq.d/tsplay-test.conf && systemctl restart dnsmasq'], { input: DHCP });
    for (const n of ['node1', 'node2', 'node3']) await labExec(n, ['systemctl', 'reboot']);
    for (const i of [1, 2, 3]) await waitFor(`node${i} 10.213.1.1${i}`, hasAddress(`node${i}`, `10.213.1.1${i}`));

    const wrongServer = await sh('node1', 'mkdir -p /mnt/probe && mount -t nfs 10.213.1.99:/srv/partimag /mnt/probe');
    expect(wrongServer.code).toBe(32);
    const wrongExport = await sh('node1', 'mount -t nfs 10.213.1.1:/srv/nothing /mnt/probe');
    expect(wrongExport.stderr).toContain('No such file or directory');
    const ok = await sh('node1', 'mount -t nfs -o ro 10.213.1.1:/srv/partimag /mnt/probe && cat /mnt/probe/raspios-clean/disk');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('mmcblk0\n');
    expect(await mounts('node1', '/mnt/probe')).toMatch(/ \/mnt\/probe \S+ ro[, ]/);
    expect((await sh('node1', 'touch /mnt/probe/x')).code).not.toBe(0);
    expect((await sh('node1', 'umount /mnt/probe && rmdir /mnt/probe')).code).toBe(0);
    expect(await mounts('node1', '/mnt/probe')).toBe('');
  }, 180_000);

  it('mount: an NFS share mounted, unmounted and absent, with fstab; check mode changes nothing, a second run changes nothing', async () => {
    const line = '10.213.1.1:/srv/partimag /mnt/store nfs ro,nolock 0 0\n';
    const fstabBefore = await fstab('node1');
    const check = await run('mount check', 'mounted.yml', ['--check']);
    expect(check.code, check.out + check.err).toBe(0);
    expect(recap(check.out, 'node1').changed).toBe(1);
    expect(await fstab('node1')).toBe(fstabBefore);
    expect(await mounts('node1', '/mnt/store')).toBe('');
    expect((await sh('node1', 'test -e /mnt/store')).code).not.toBe(0);

    const first = await run('mount mounted', 'mounted.yml', ['--diff']);
    expect(first.code, first.out + first.err).toBe(0);
    expect(recap(first.out, 'node1').changed).toBe(1);
    expect(first.out).toContain('+10.213.1.1:/srv/partimag /mnt/store nfs ro,nolock 0 0');
    expect(await fstab('node1')).toBe(fstabBefore + line);
    expect(await mounts('node1', '/mnt/store')).toMatch(/ \/mnt\/store \S+ ro[, ]/);
    expect(await out('node1', 'cat /mnt/store/raspios-clean/parts')).toBe('mmcblk0p1 mmcblk0p2\n');
    const second = await run('mount mounted again', 'mounted.yml');
    expect(recap(second.out, 'node1').changed, second.out).toBe(0);

    const checkUnmount = await run('unmount check', 'unmounted.yml', ['--check']);
    expect(recap(checkUnmount.out, 'node1').changed).toBe(1);
    expect(await mounts('node1', '/mnt/store')).not.toBe('');
    const unmount = await run('unmount', 'unmounted.yml');
    expect(unmount.code, unmount.out + unmount.err).toBe(0);
    expect(recap(unmount.out, 'node1').changed).toBe(1);
    expect(await mounts('node1', '/mnt/store')).toBe('');
    expect(await fstab('node1')).toBe(fstabBefore + line);
    expect(recap((await run('unmount again', 'unmounted.yml')).out, 'node1').changed).toBe(0);

    // mounted again from the fstab entry, then absent: out of fstab, unmounted, mount point gone
    expect(recap((await run('mount again', 'mounted.yml')).out, 'node1').changed).toBe(1);
    expect(await mounts('node1', '/mnt/store')).not.toBe('');
    const checkAbsent = await run('absent check', 'absent.yml', ['--check']);
    expect(recap(checkAbsent.out, 'node1').changed).toBe(1);
    expect(await fstab('node1')).toBe(fstabBefore + line);
    const absent = await run('absent', 'absent.yml');
    expect(absent.code, absent.out + absent.err).toBe(0);
    expect(recap(absent.out, 'node1').changed).toBe(1);
    expect(await fstab('node1')).toBe(fstabBefore);
    expect(await mounts('node1', '/mnt/store')).toBe('');
    expect((await sh('node1', 'test -e /mnt/store')).code).not.toBe(0);
    expect(recap((await run('absent again', 'absent.yml')).out, 'node1').changed).toBe(0);
  }, 300_000);

  it('a restored image that nobody patched boots once through firstrun.sh and comes back as changeme, from a fresh root', async () => {
    await labExec('node3', ['sh', '-c', 'echo imaging > /root/left-by-the-imaging-system']);
    const restore = await sh(
      'node3',
      'mkdir -p /home/partimag && mount -t nfs 10.213.1.1:/srv/partimag /home/partimag && ocs-sr -g auto -e1 auto -e2 -r -j2 -p true restoredisk raspios-clean mmcblk0 && umount /home/partimag',
    );
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toContain('Image raspios-clean restored to mmcblk0.');
    const bootsBefore = (await node('node3')).boots;
    await labExec('node3', ['systemctl', 'reboot']);
    // the first boot runs firstrun.sh and reboots; the second is the system's own
    await waitFor(
      'node3 back from its disk',
      async () => {
        const s = await node('node3');
        return s.bootedFrom === 'disk' && s.boots >= bootsBefore + 2 && s.system === 'running';
      },
      120_000,
    );
    expect((await out('node3', 'hostname; cat /etc/hostname; cat /etc/tsplay-lab-image')).split('\n')).toEqual([
      'changeme',
      'changeme',
      'raspios-clean',
      '',
    ]);
    expect((await sh('node3', 'test -e /root/left-by-the-imaging-system')).code).not.toBe(0);
    expect((await sh('node3', 'test -e /boot/firmware/firstrun.sh')).code).not.toBe(0);
    expect(await out('node3', 'cat /boot/firmware/cmdline.txt')).not.toContain('systemd.run');
    // no imaging tools in the restored system
    expect((await sh('node3', 'command -v ocs-sr')).code).not.toBe(0);
    await waitFor('node3 10.213.1.13 again', hasAddress('node3', '10.213.1.13'));
  }, 180_000);

  it('nodes-reimage, one node at a time: check mode changes nothing; the run restores, patches and reboots each node, which answers under its name', async () => {
    const nodes = ['node1', 'node2'];
    for (const n of nodes) await labExec(n, ['sh', '-c', 'echo imaging > /root/left-by-the-imaging-system']);
    const fstabBefore = await fstab('node1');
    const check = await run('reimage check', PLAYBOOK, ['-l', nodes.join(','), '--check']);
    expect(check.code, check.out + check.err).toBe(0);
    for (const n of nodes) {
      // check mode says what the restore would do, not only "skipping"
      expect(check.out).toContain(
        `"msg": "would run on ${n}: ocs-sr -g auto -e1 auto -e2 -r -j2 -p true restoredisk raspios-clean mmcblk0 (image raspios-clean from 10.213.1.1:/srv/partimag onto /dev/mmcblk0, 67.1 MB: everything on it is replaced)"`,
      );
      expect(recap(check.out, n)).toMatchObject({ failed: 0, unreachable: 0 });
      expect(recap(check.out, n).changed).toBeGreaterThan(0);
      expect((await node(n)).bootedFrom).toBe('imaging');
      expect((await sh(n, 'cmp -n 1048576 /dev/mmcblk0p1 /dev/zero')).code).toBe(0);
      expect(await out(n, 'hostname')).toBe(`${n}\n`);
      expect(await mounts(n, '/home/partimag')).toBe('');
    }
    expect(await fstab('node1')).toBe(fstabBefore);

    const bootsBefore = await Promise.all(nodes.map(async (n) => (await node(n)).boots));
    const r = await run('reimage', PLAYBOOK, ['-l', nodes.join(','), '--diff']);
    expect(r.code, r.out + r.err).toBe(0);
    // serial 1: node1 is back under its name before node2 is touched
    const lines = r.out.split('\n');
    const lastNode1 = lines
      .map((l, k) => (l.includes('[node1]') ? k : -1))
      .filter((k) => k >= 0)
      .pop()!;
    const firstNode2 = lines.findIndex((l) => l.includes('[node2]'));
    expect(firstNode2).toBeGreaterThan(lastNode1);
    expect(r.out).toContain('-NEW_HOSTNAME=changeme');
    expect(r.out).toContain('+NEW_HOSTNAME=node1');
    expect(r.out).toContain('+NEW_HOSTNAME=node2');
    for (const [k, n] of nodes.entries()) {
      expect(recap(r.out, n)).toMatchObject({ failed: 0, unreachable: 0 });
      const s = await node(n);
      expect(s.bootedFrom).toBe('disk');
      expect(s.boots).toBe(bootsBefore[k]! + 2);
      expect((await out(n, 'hostname; cat /etc/hostname; cat /etc/tsplay-lab-image')).split('\n')).toEqual([n, n, 'raspios-clean', '']);
      expect((await sh(n, 'test -e /root/left-by-the-imaging-system')).code).not.toBe(0);
      expect(await out(n, 'grep -c "^dtoverlay=disable-wifi$" /boot/firmware/config.txt')).toBe('1\n');
      expect((await sh(n, 'test -e /boot/firmware/firstrun.sh')).code).not.toBe(0);
      expect(await out(n, 'cat /boot/firmware/cmdline.txt')).not.toContain('systemd.run');
      expect(await out(n, 'ip -4 -o addr show dev eth0')).toContain(` 10.213.1.1${k + 1}/`);
    }

    // a node that is not in its imaging system is never restored (node3 runs its disk's system)
    const refused = await run('reimage refused', PLAYBOOK, ['-l', 'node3']);
    expect(refused.code).not.toBe(0);
    expect(recap(refused.out, 'node3')).toMatchObject({ failed: 1, changed: 0 });
    expect(refused.out).toContain('node3 is not running its imaging system');
    expect(await out('node3', 'hostname')).toBe('changeme\n');
  }, 600_000);

  it('down leaves no mount, loop device or process behind with nodes running their disks', async () => {
    expect((await labStatus()).hosts.filter((h) => h.bootedFrom === 'disk').map((h) => h.name)).toEqual(['node1', 'node2', 'node3']);
    await labDown();
    expect(await labLeftovers()).toEqual([]);
  }, 120_000);
});
