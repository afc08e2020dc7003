// nodes-reimage on the lab, and what it stands on: the lab's imaging stand-ins (each node's USB
// disk sda and SD card mmcblk0, the imaging system booted from the card with ocs-sr and
// mount.nfs, the image store on the gateway, the firmware that boots a restored disk and runs its
// firstrun.sh once), the mount module (an NFS share mounted, unmounted, absent; fstab read on the
// host), nfs-export (the store exported read-write), image-save (savedisk from a reference node)
// and nodes-reimage: check mode changes nothing, the real run installs Clonezilla with apt
// through the lab's proxy, restores, patches and reboots, and the node answers under its name; a
// second run changes nothing (image-save keeps the saved image, nodes-reimage refuses a node that
// runs its disk's system), and neither writes the disk the imaging system booted from.
// The real state is read from inside the hosts (nsenter), not from tsplay.
// Addresses: the test plays dhcp-setup by hand (the gateway's cluster address and dnsmasq's DHCP
// with a reservation per MAC), so a node gets its address again from a fresh image.
// Needs root on Linux; runs only with TSPLAY_LAB_TESTS=1, under `flock /tmp/tsplay-lab.lock`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labExec, labLeftovers, labStatus, labUp, type LabInfo } from '../../lab/lab.js';
import { project, recap, tsplay } from '../e2e/helpers.js';

const enabled = process.env.TSPLAY_LAB_TESTS === '1';
const PLAYBOOK = join(import.meta.dirname, '../../playbooks/nodes-reimage.yaml');
const IMAGE_SAVE = join(import.meta.dirname, '../../playbooks/image-save.yaml');
const NFS_EXPORT = join(import.meta.dirname, '../../playbooks/nfs-export.yaml');
const RESTORE = 'ocs-sr -batch -nogui -g auto -e1 auto -e2 -r -j2 -k0 -p true restoredisk';
const SAVE = 'ocs-sr -batch -nogui -q2 -j2 -z1p -i 4096 -sfsck -senc -p true savedisk';

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

  // a login's PATH (nsenter's has no /usr/local/sbin, where the lab's ocs-sr is)
  const sh = async (host: string, script: string) =>
    labExec(host, ['sh', '-c', `PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; ${script}`]);
  const out = async (host: string, script: string) => (await sh(host, script)).stdout;
  /** dpkg's status of a package on the host ('installed'; '' when dpkg never had it). */
  const dpkgStatus = async (host: string, pkg: string) =>
    (await labExec(host, ['dpkg-query', '-W', '-f', '${db:Status-Status}', pkg])).stdout;
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

  it('each node boots its imaging system from its SD card (/dev/mmcblk0p1 on /run/live/medium), with a blank USB disk /dev/sda, ocs-sr and mount.nfs; the image store is on the gateway', async () => {
    expect(lab.aptProxy, 'the apt proxy (apt-cacher-ng) runs: nodes-reimage installs Clonezilla through it').toBe(true);
    for (const n of ['node1', 'node2', 'node3']) {
      expect((await node(n)).bootedFrom).toBe('imaging');
      expect(
        (
          await sh(
            n,
            'test -b /dev/sda && test -b /dev/sda1 && test -b /dev/sda2 && test -b /dev/mmcblk0 && command -v ocs-sr && command -v mount.nfs',
          )
        ).code,
      ).toBe(0);
      expect(
        (await out(n, 'blockdev --getsize64 /dev/sda /dev/sda1 /dev/sda2 /dev/mmcblk0 /dev/mmcblk0p1')).split('\n').filter(Boolean),
      ).toEqual(['67108864', '16777216', '49283072', '4194304', '3145728']);
      // the live medium, as a live system mounts it: what the playbooks read to know the boot disk
      await waitFor(`${n}'s live medium`, async () => (await mounts(n, '/run/live/medium')) !== '');
      expect(await mounts(n, '/run/live/medium')).toMatch(/^\/dev\/mmcblk0p1 \/run\/live\/medium ext4 ro[, ]/);
      // the lab's ocs-sr stands in for Clonezilla's; Clonezilla itself is not installed yet
      expect(await out(n, 'command -v ocs-sr')).toBe('/usr/local/sbin/ocs-sr\n');
      expect(await dpkgStatus(n, 'clonezilla')).toBe('');
      expect((await sh(n, 'test -e /usr/sbin/ocs-sr')).code).not.toBe(0);
      // blank: nothing to mount
      expect((await sh(n, 'cmp -n 1048576 /dev/sda1 /dev/zero')).code).toBe(0);
    }
    expect((await out('gateway', 'ls /srv/partimag/raspios-clean')).split('\n').filter(Boolean).sort()).toEqual([
      'clonezilla-img',
      'disk',
      'parts',
      'sda-mbr',
      'sda-pt.sf',
      'sda1.ext4-img.gz',
      'sda2.ext4-img.gz',
    ]);
  });

  it('mount -t nfs reaches the share only over the network, from the gateway, read-only as exported; umount detaches it', async () => {
    await labExec('node1', ['mkdir', '-p', '/mnt/probe']);
    const noNet = await sh('node1', 'mount -t nfs 10.213.1.1:/srv/partimag /mnt/probe');
    expect(noNet.code).toBe(32);
    expect(noNet.stderr).toContain('mount.nfs: Connection timed out');

    // what dhcp-setup and nat-setup do, by hand: the gateway's cluster address, DHCP with
    // reservations, NAT to the upstream network (the nodes reach the apt proxy through it)
    await labExec('gateway', ['ip', 'addr', 'add', '10.213.1.1/24', 'dev', 'eth0']);
    await labExec('gateway', ['sh', '-c', 'cat > /etc/dnsmasq.d/tsplay-test.conf && systemctl restart dnsmasq'], { input: DHCP });
    await sh('gateway', 'sysctl -qw net.ipv4.ip_forward=1 && iptables -t nat -A POSTROUTING -s 10.213.1.0/24 -o wlan0 -j MASQUERADE');
    for (const n of ['node1', 'node2', 'node3']) await labExec(n, ['systemctl', 'reboot']);
    for (const i of [1, 2, 3]) await waitFor(`node${i} 10.213.1.1${i}`, hasAddress(`node${i}`, `10.213.1.1${i}`));

    const wrongServer = await sh('node1', 'mkdir -p /mnt/probe && mount -t nfs 10.213.1.99:/srv/partimag /mnt/probe');
    expect(wrongServer.code).toBe(32);
    const wrongExport = await sh('node1', 'mount -t nfs 10.213.1.1:/srv/nothing /mnt/probe');
    expect(wrongExport.stderr).toContain('No such file or directory');
    const notExported = await sh('node1', 'mount -t nfs 10.213.1.1:/srv /mnt/probe');
    expect(notExported.code).toBe(32);
    expect(notExported.stderr).toContain('access denied by server');
    const ok = await sh('node1', 'mount -t nfs -o rw 10.213.1.1:/srv/partimag /mnt/probe && cat /mnt/probe/raspios-clean/disk');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('sda\n');
    // the lab's export is read-only (nfs-export.yaml makes it read-write): rw asked, ro given
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
    expect(await out('node1', 'cat /mnt/store/raspios-clean/parts')).toBe('sda1 sda2\n');
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

  it('nfs-export: nfs-kernel-server installed (apt, the lab proxy), the store exported read-write to the cluster network, exportfs -ra; a second run and --check change nothing', async () => {
    const state = () =>
      out(
        'gateway',
        "dpkg-query -W -f '${Package} ${db:Status-Status}\\n' nfs-kernel-server 2>&1; cat /etc/exports; ls -ld --time-style=+%s /srv/partimag",
      );
    const before = await state();
    expect(before).not.toContain('nfs-kernel-server installed');
    const check = await run('nfs-export check', NFS_EXPORT, ['--check', '--diff']);
    expect(check.code, check.out + check.err).toBe(0);
    expect(recap(check.out, 'gateway').changed).toBeGreaterThan(0);
    expect(check.out).toContain('+/srv/partimag 10.213.1.0/24(rw,sync,no_subtree_check,no_root_squash)');
    expect(await state()).toBe(before);

    const first = await run('nfs-export', NFS_EXPORT);
    expect(first.code, first.out + first.err).toBe(0);
    expect(first.out).toContain('RUNNING HANDLER [export the file systems again]');
    expect(await dpkgStatus('gateway', 'nfs-kernel-server')).toBe('installed');
    // the lab's line (ro) is replaced, not doubled
    expect((await out('gateway', 'grep -v "^#" /etc/exports')).split('\n').filter(Boolean)).toEqual([
      '/srv/partimag 10.213.1.0/24(rw,sync,no_subtree_check,no_root_squash)',
    ]);
    // what exportfs -ra made of it (its table; the lab's kernel has no NFS server to load it into)
    expect(await out('gateway', 'cat /var/lib/nfs/etab')).toMatch(/^\/srv\/partimag\t10\.213\.1\.0\/24\(rw,sync,.*no_root_squash/);
    const after = await state();

    const second = await run('nfs-export again', NFS_EXPORT);
    expect(second.code, second.out + second.err).toBe(0);
    expect(recap(second.out, 'gateway').changed, second.out).toBe(0);
    expect(second.out).not.toContain('RUNNING HANDLER');
    const check2 = await run('nfs-export check again', NFS_EXPORT, ['--check']);
    expect(recap(check2.out, 'gateway').changed, check2.out).toBe(0);
    expect(await state()).toBe(after);

    // a node now mounts the store read-write
    const rw = await sh(
      'node1',
      'mkdir -p /mnt/probe && mount -t nfs -o rw 10.213.1.1:/srv/partimag /mnt/probe && touch /mnt/probe/.w && rm /mnt/probe/.w && umount /mnt/probe && rmdir /mnt/probe',
    );
    expect(rw.code, rw.stderr).toBe(0);
  }, 300_000);

  it('image-save: savedisk from a reference node into the store; check mode shows the command and changes nothing; a second run keeps the image; never the boot disk', async () => {
    // node3 is the reference node: its USB disk holds the clean system (restored by hand here)
    const restore = await sh(
      'node3',
      `mkdir -p /home/partimag && mount -t nfs 10.213.1.1:/srv/partimag /home/partimag && ${RESTORE} raspios-clean sda && umount /home/partimag`,
    );
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toContain('Image raspios-clean restored to sda.');
    const args = ['-e', 'image_save_node=node3', '-e', 'image_save_image=raspios-ref'];
    const fstabBefore = await fstab('node3');

    const check = await run('image-save check', IMAGE_SAVE, [...args, '--check']);
    expect(check.code, check.out + check.err).toBe(0);
    expect(check.out).toContain(
      `"msg": "would run on node3: ${SAVE} raspios-ref sda (/dev/sda, 67.1 MB, into 10.213.1.1:/srv/partimag/raspios-ref; the imaging system booted from /dev/mmcblk0)"`,
    );
    expect((await sh('gateway', 'test -e /srv/partimag/raspios-ref')).code).not.toBe(0);
    expect(await dpkgStatus('node3', 'clonezilla')).toBe('');
    expect((await sh('node3', 'test -e /etc/apt/apt.conf.d/90cluster-proxy')).code).not.toBe(0);
    expect(await mounts('node3', '/home/partimag')).toBe('');

    const save = await run('image-save', IMAGE_SAVE, args);
    expect(save.code, save.out + save.err).toBe(0);
    expect(recap(save.out, 'node3')).toMatchObject({ failed: 0 });
    expect(save.out).toContain(`"msg": "runs on node3: ${SAVE} raspios-ref sda (`);
    // Clonezilla really installed by apt through the lab's proxy (the save ran the lab's ocs-sr)
    for (const pkg of ['clonezilla', 'drbl', 'partclone']) expect(await dpkgStatus('node3', pkg)).toBe('installed');
    expect(await out('node3', 'test -x /usr/sbin/ocs-sr && echo real')).toBe('real\n');
    expect(await out('gateway', 'cd /srv/partimag/raspios-ref && cat disk parts && ls | sort | tr "\\n" " "')).toBe(
      'sda\nsda1 sda2\nclonezilla-img disk parts sda-mbr sda-pt.sf sda1.ext4-img.gz sda2.ext4-img.gz ',
    );
    // the saved partitions are the disk's, which holds the clean image's
    for (const part of ['sda1', 'sda2']) {
      const sums = await out(
        'gateway',
        `for i in raspios-clean raspios-ref; do gunzip -c /srv/partimag/$i/${part}.ext4-img.gz | md5sum; done`,
      );
      const [clean, ref] = sums.split('\n');
      expect(ref).toBe(clean);
    }
    expect(await mounts('node3', '/home/partimag')).toBe('');
    expect(await fstab('node3')).toBe(fstabBefore);
    const saved = await out('gateway', 'stat -c %Y.%i /srv/partimag/raspios-ref/clonezilla-img');

    const again = await run('image-save again', IMAGE_SAVE, args);
    expect(again.code, again.out + again.err).toBe(0);
    expect(recap(again.out, 'node3').changed, again.out).toBe(0);
    expect(again.out).toContain('"msg": "skips (the image is there; image_save_overwrite=true replaces it) on node3:');
    const check2 = await run('image-save check again', IMAGE_SAVE, [...args, '--check']);
    expect(check2.code, check2.out + check2.err).toBe(0);
    expect(recap(check2.out, 'node3').changed, check2.out).toBe(0);
    expect(await out('gateway', 'stat -c %Y.%i /srv/partimag/raspios-ref/clonezilla-img')).toBe(saved);
    expect(await mounts('node3', '/home/partimag')).toBe('');

    // never the disk the imaging system booted from (its SD card)
    const card = await out('node3', 'md5sum < /dev/mmcblk0');
    const refused = await run('image-save boot disk', IMAGE_SAVE, [
      ...args,
      '-e',
      'image_save_disk=mmcblk0',
      '-e',
      'image_save_overwrite=true',
    ]);
    expect(refused.code).not.toBe(0);
    expect(recap(refused.out, 'node3')).toMatchObject({ failed: 1, changed: 0 });
    expect(refused.out).toContain(
      'node3 booted from /dev/mmcblk0 (/dev/mmcblk0p1): writing /dev/mmcblk0 would overwrite the running system',
    );
    expect(await out('node3', 'md5sum < /dev/mmcblk0')).toBe(card);
  }, 300_000);

  it('the saved image, restored and not patched, boots once through firstrun.sh and comes back as changeme, from a fresh root', async () => {
    await labExec('node3', ['sh', '-c', 'echo imaging > /root/left-by-the-imaging-system']);
    const restore = await sh(
      'node3',
      `dd if=/dev/zero of=/dev/sda bs=1M count=4 conv=fsync status=none && mkdir -p /home/partimag && mount -t nfs 10.213.1.1:/srv/partimag /home/partimag && ${RESTORE} raspios-ref sda && umount /home/partimag`,
    );
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toContain('Image raspios-ref restored to sda.');
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
    expect((await sh('node3', 'test -b /dev/sda')).code).not.toBe(0);
    await waitFor('node3 10.213.1.13 again', hasAddress('node3', '10.213.1.13'));
  }, 180_000);

  it('nodes-reimage, one node at a time: never the boot disk; check mode shows the command and changes nothing; the run installs Clonezilla, restores, patches and reboots each node, which answers under its name; a second run changes nothing', async () => {
    const nodes = ['node1', 'node2'];
    for (const n of nodes) await labExec(n, ['sh', '-c', 'echo imaging > /root/left-by-the-imaging-system']);
    const fstabBefore = await fstab('node1');

    // the disk the imaging system booted from (its SD card) is refused before anything changes
    const card = await out('node1', 'md5sum < /dev/mmcblk0');
    const onCard = await run('reimage boot disk', PLAYBOOK, ['-l', 'node1', '-e', 'reimage_disk=mmcblk0']);
    expect(onCard.code).not.toBe(0);
    expect(recap(onCard.out, 'node1')).toMatchObject({ failed: 1, changed: 0 });
    expect(onCard.out).toContain(
      'node1 booted from /dev/mmcblk0 (/dev/mmcblk0p1): writing /dev/mmcblk0 would overwrite the running system',
    );
    expect(await out('node1', 'md5sum < /dev/mmcblk0')).toBe(card);

    const check = await run('reimage check', PLAYBOOK, ['-l', nodes.join(','), '--check']);
    expect(check.code, check.out + check.err).toBe(0);
    for (const n of nodes) {
      // check mode says what the restore would do, not only "skipping"
      expect(check.out).toContain(
        `"msg": "would run on ${n}: ${RESTORE} raspios-clean sda (image raspios-clean from 10.213.1.1:/srv/partimag onto /dev/sda, 67.1 MB: everything on it is replaced; the imaging system booted from /dev/mmcblk0)"`,
      );
      expect(recap(check.out, n)).toMatchObject({ failed: 0, unreachable: 0 });
      expect(recap(check.out, n).changed).toBeGreaterThan(0);
      expect((await node(n)).bootedFrom).toBe('imaging');
      expect((await sh(n, 'cmp -n 1048576 /dev/sda1 /dev/zero')).code).toBe(0);
      expect(await out(n, 'hostname')).toBe(`${n}\n`);
      expect(await mounts(n, '/home/partimag')).toBe('');
      expect(await dpkgStatus(n, 'clonezilla')).toBe('');
      expect((await sh(n, 'test -e /etc/apt/apt.conf.d/90cluster-proxy')).code).not.toBe(0);
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
      // Clonezilla was installed in the imaging system (its overlay on the SD card's side, read
      // from this machine: the node now runs its disk's system)
      const status = readFileSync(join(lab.state, 'hosts', n, 'upper/var/lib/dpkg/status'), 'utf8');
      expect(status).toMatch(/^Package: clonezilla\nStatus: install ok installed$/m);
    }

    // a second run changes nothing: the nodes run their disks' systems now (no /dev/sda to
    // write), and so does node3; all are refused before anything is touched
    const again = await run('reimage again', PLAYBOOK, ['-e', 'reimage_serial=3']);
    expect(again.code).not.toBe(0);
    for (const n of ['node1', 'node2', 'node3']) {
      expect(recap(again.out, n)).toMatchObject({ failed: 1, changed: 0 });
      expect(again.out).toContain(`${n} has no /dev/sda: is the USB disk plugged in, and is the node running its imaging system`);
    }
    for (const [k, n] of nodes.entries()) {
      expect((await node(n)).boots).toBe(bootsBefore[k]! + 2);
      expect(await out(n, 'hostname')).toBe(`${n}\n`);
    }
    expect(await out('node3', 'hostname')).toBe('changeme\n');
  }, 600_000);

  it('down leaves no mount, loop device or process behind with nodes running their disks', async () => {
    expect((await labStatus()).hosts.filter((h) => h.bootedFrom === 'disk').map((h) => h.name)).toEqual(['node1', 'node2', 'node3']);
    await labDown();
    expect(await labLeftovers()).toEqual([]);
  }, 120_000);
});
