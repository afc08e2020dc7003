// What nodes-reimage needs, played by the lab: each node's main disk, the USB disk of the imaging
// guide (a disk image file behind loop devices, seen in the node as /dev/sda with partitions sda1
// "bootfs" and sda2 "rootfs"), the SD card the imaging system boots from (/dev/mmcblk0, its
// partition mounted on /run/live/medium as a live system does), the imaging system the node runs
// until its disk holds a system (the node's own overlay, with a stand-in for Clonezilla's ocs-sr
// and for mount.nfs), the clean image store on the gateway
// (/srv/partimag, "exported" over NFS by the stand-in), and the node's firmware: before each
// boot it looks at the disk and boots the system on it (its boot partition's cmdline.txt gives
// systemd.run=firstrun.sh on the first boot, as Raspberry Pi OS does) or, on a blank disk, the
// imaging system. Every stand-in is a small shell script; docs/lab.md says what each plays.
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { hostPaths, hostSpecs, type HostSpec } from './config.js';
import { LabError, run, runStatus } from './proc.js';

/** The name of the clean image the lab puts in the image store. */
export const CLEAN_IMAGE = 'raspios-clean';
/** Where the image store is on the gateway (its NFS export) and where Clonezilla looks for images. */
export const STORE_EXPORT = '/srv/partimag';
export const STORE_MOUNT = '/home/partimag';
/** The placeholder hostname in the clean image's firstrun.sh (as set in Raspberry Pi Imager). */
export const PLACEHOLDER_HOSTNAME = 'changeme';

/** The main disk's fixed layout (the USB disk), in 512-byte sectors: 64 MiB, a 16 MiB boot and a 47 MiB root partition. */
export const DISK = {
  name: 'sda',
  sectors: 131072,
  labelId: 0x5e3da3da,
  parts: [
    { name: 'sda1', label: 'bootfs', start: 2048, size: 32768 },
    { name: 'sda2', label: 'rootfs', start: 34816, size: 96256 },
  ],
} as const;

/** The SD card the imaging system boots from: 4 MiB, one partition (its live medium). */
export const SD_CARD = {
  name: 'mmcblk0',
  sectors: 8192,
  part: { name: 'mmcblk0p1', label: 'imaging', start: 2048, size: 6144 },
} as const;
/** Where a live system (Clonezilla live, Debian live) mounts the medium it booted from. */
export const LIVE_MEDIUM = '/run/live/medium';

/** Files of the imaging stand-ins in the state directory. */
export function imagingPaths(state: string) {
  const dir = join(state, 'imaging');
  return { dir, firmware: join(dir, 'firmware.sh'), ocsSr: join(dir, 'ocs-sr'), mountNfs: join(dir, 'mount.nfs') };
}

/** Files of one node's disk. */
export function diskPaths(state: string, name: string) {
  const dir = hostPaths(state, name).dir;
  return {
    image: join(dir, 'disk.img'),
    loops: join(dir, 'disk.loops'),
    bootConf: join(dir, 'boot.conf'),
    bootedFrom: join(dir, 'booted-from'),
    sdCard: join(dir, 'sdcard.img'),
    bootfs: join(dir, 'bootfs'),
    rootfs: join(dir, 'rootfs'),
    identity: join(dir, 'identity'),
  };
}

// The partition table as Clonezilla saves it (sfdisk --dump).
function sfdiskDump(): string {
  return [
    'label: dos',
    `label-id: 0x${DISK.labelId.toString(16)}`,
    `device: /dev/${DISK.name}`,
    'unit: sectors',
    'sector-size: 512',
    '',
    ...DISK.parts.map((p) => `/dev/${p.name} : start=${String(p.start).padStart(12)}, size=${String(p.size).padStart(12)}, type=83`),
    '',
  ].join('\n');
}

/** The disk's MBR: boot code area empty, the disk signature, two Linux partitions (or the given ones). */
export function masterBootRecord(parts: readonly { start: number; size: number }[] = DISK.parts, labelId: number = DISK.labelId): Buffer {
  const mbr = Buffer.alloc(512);
  mbr.writeUInt32LE(labelId, 440);
  parts.forEach((p, i) => {
    const e = 446 + 16 * i;
    mbr.writeUInt8(0, e);
    mbr.set([0xfe, 0xff, 0xff], e + 1);
    mbr.writeUInt8(0x83, e + 4);
    mbr.set([0xfe, 0xff, 0xff], e + 5);
    mbr.writeUInt32LE(p.start, e + 8);
    mbr.writeUInt32LE(p.size, e + 12);
  });
  mbr.writeUInt16LE(0xaa55, 510);
  return mbr;
}

// firstrun.sh of the clean image, in the manner of Raspberry Pi Imager's: the hostname (a
// placeholder until nodes-reimage patches it), pi's key and password, then it removes itself and
// its systemd.run words from cmdline.txt, and systemd reboots (systemd.run_success_action).
function firstrunScript(publicKey: string, passwordHash: string): string {
  return `#!/bin/bash
# First boot of the clean image (made the way Raspberry Pi Imager makes it): set the hostname,
# pi's SSH key and password, enable SSH, then remove this script from the boot partition.
set +e
NEW_HOSTNAME=${PLACEHOLDER_HOSTNAME}
CURRENT_HOSTNAME=$(tr -d " \\t\\n\\r" < /etc/hostname)
echo "$NEW_HOSTNAME" > /etc/hostname
sed -i "s/127.0.1.1.*$CURRENT_HOSTNAME/127.0.1.1\\t$NEW_HOSTNAME/g" /etc/hosts
install -o pi -g pi -m 700 -d /home/pi/.ssh
echo '${publicKey.trim()}' > /home/pi/.ssh/authorized_keys
chown pi:pi /home/pi/.ssh/authorized_keys
chmod 600 /home/pi/.ssh/authorized_keys
echo 'pi:${passwordHash}' | chpasswd -e
systemctl enable ssh
rm -f /boot/firmware/firstrun.sh
sed -i 's| systemd.run.*||g' /boot/firmware/cmdline.txt
exit 0
`;
}

const CONFIG_TXT = `# For more options and information see
# http://rpf.io/configtxt
# Some settings may impact device functionality. See link above for details

# Enable audio (loads snd_bcm2835)
dtparam=audio=on

# Automatically load overlays for detected cameras
camera_auto_detect=1

# Automatically load overlays for detected DSI displays
display_auto_detect=1

# Enable DRM VC4 V3D driver
dtoverlay=vc4-kms-v3d
max_framebuffers=2

[all]
`;

const CMDLINE_TXT = `console=serial0,115200 console=tty1 root=PARTUUID=${DISK.labelId.toString(16)}-02 rootfstype=ext4 fsck.repair=yes rootwait quiet systemd.run=/boot/firmware/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n`;

// An ext4 file system image of `sectors` sectors holding the files of `dir`.
async function makeExt4(file: string, label: string, sectors: number, dir: string): Promise<void> {
  await run('mke2fs', ['-q', '-F', '-t', 'ext4', '-L', label, '-d', dir, file, `${(sectors * 512) / 1024}k`], {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
}

/**
 * The clean image in the gateway's image store (`<gateway root>/srv/partimag/<image>`), in
 * Clonezilla's layout: `disk`, `parts`, the partition table (`<disk>-pt.sf`, `<disk>-mbr`) and one
 * gzipped image per partition (raw here, partclone's format in Clonezilla). The boot partition
 * holds config.txt, cmdline.txt and firstrun.sh; the root partition the system's own files (an
 * upper layer over the lab's shared root file system).
 */
export async function buildImageStore(state: string, gatewayRoot: string, creds: { publicKey: string }): Promise<string> {
  const shadow = readFileSync(join(gatewayRoot, 'etc/shadow'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('pi:'));
  const hash = shadow?.split(':')[1];
  if (!hash) throw new LabError("cannot read pi's password hash from the gateway");
  const store = join(gatewayRoot, STORE_EXPORT.slice(1));
  const dir = join(store, CLEAN_IMAGE);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tmp = mkdtempSync(join(state, '.image-'));
  try {
    const boot = join(tmp, 'boot');
    mkdirSync(boot);
    writeFileSync(join(boot, 'config.txt'), CONFIG_TXT);
    writeFileSync(join(boot, 'cmdline.txt'), CMDLINE_TXT);
    writeFileSync(join(boot, 'firstrun.sh'), firstrunScript(creds.publicKey, hash), { mode: 0o755 });
    const root = join(tmp, 'root');
    mkdirSync(join(root, 'upper/etc'), { recursive: true });
    mkdirSync(join(root, 'work'));
    mkdirSync(join(root, 'upper/boot/firmware'), { recursive: true });
    writeFileSync(join(root, 'upper/etc/hostname'), 'raspberrypi\n');
    writeFileSync(
      join(root, 'upper/etc/hosts'),
      '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n\n127.0.1.1\traspberrypi\n',
    );
    writeFileSync(
      join(root, 'upper/etc/fstab'),
      "proc            /proc           proc    defaults          0       0\n# the boot partition is mounted on /boot/firmware by the lab's firmware (docs/lab.md)\n",
    );
    writeFileSync(join(root, 'upper/etc/tsplay-lab-image'), `${CLEAN_IMAGE}\n`);
    const [p1, p2] = DISK.parts;
    await makeExt4(join(tmp, 'p1.img'), p1.label, p1.size, boot);
    await makeExt4(join(tmp, 'p2.img'), p2.label, p2.size, root);
    for (const [p, f] of [
      [p1, 'p1.img'],
      [p2, 'p2.img'],
    ] as const) {
      await run('sh', ['-c', 'gzip -c "$1" > "$2"', 'sh', join(tmp, f), join(dir, `${p.name}.ext4-img.gz`)]);
    }
    writeFileSync(join(dir, 'disk'), `${DISK.name}\n`);
    writeFileSync(join(dir, 'parts'), `${DISK.parts.map((p) => p.name).join(' ')}\n`);
    writeFileSync(join(dir, `${DISK.name}-pt.sf`), sfdiskDump());
    writeFileSync(join(dir, `${DISK.name}-mbr`), masterBootRecord());
    writeFileSync(
      join(dir, 'clonezilla-img'),
      'This image was saved by the tsplay lab, a stand-in for Clonezilla (raw partition images).\n',
    );
    writeFileSync(
      join(gatewayRoot, 'etc/exports'),
      `# the tsplay lab's image store (served by the lab's NFS stand-in, docs/lab.md)\n${STORE_EXPORT} 10.213.1.0/24(ro,no_subtree_check)\n`,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

// ocs-sr, restoredisk and savedisk: the partition table and each partition image to the disk,
// or the disk into an image of Clonezilla's layout (raw partition images, gzipped), as Clonezilla
// does (its options are accepted; -p says what to do afterwards).
const OCS_SR = `#!/bin/sh
# tsplay lab stand-in for Clonezilla's ocs-sr: restores and saves images of the lab's layout (see docs/lab.md).
set -u
post=true
while [ $# -gt 0 ]; do
  case $1 in
    -p|--postaction) post=$2; shift 2 ;;
    -g|--grub-install|-e1|--change-geometry|-f|--from-part-in-img|-i|--image-size|-l|--language|-or|--ocsroot) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
[ $# -eq 3 ] || { echo "Usage: ocs-sr [OPTION] {savedisk|restoredisk} IMAGE_NAME DEVICE" >&2; exit 1; }
mode=$1 image=$2 target=\${3#/dev/}
ocsroot=${STORE_MOUNT}
img=$ocsroot/$image
dev=/dev/$target
[ -b "$dev" ] || { echo "The target disk $dev was not found." >&2; exit 1; }
case $target in *[0-9]) sep=p ;; *) sep= ;; esac
case $mode in
restoredisk)
  if [ ! -d "$img" ] || [ ! -f "$img/disk" ] || [ ! -f "$img/parts" ]; then
    echo "The image $img was not found, or it is not a Clonezilla image (no disk/parts file). Is the image repository mounted on $ocsroot?" >&2
    exit 1
  fi
  src=$(cat "$img/disk")
  echo "Restoring image $image (disk $src) to disk $target..."
  dd if="$img/$src-mbr" of="$dev" bs=512 count=1 conv=fsync status=none || exit 1
  for part in $(cat "$img/parts"); do
    n=\${part#"$src"}; n=\${n#p}
    to=/dev/$target$sep$n
    file=$(ls "$img/$part".*-img.gz 2>/dev/null | head -n 1)
    [ -n "$file" ] || { echo "No image of partition $part in $img" >&2; exit 1; }
    [ -b "$to" ] || { echo "The target partition $to was not found." >&2; exit 1; }
    echo "Restoring $part to $to..."
    gunzip -c "$file" | dd of="$to" bs=1M iflag=fullblock conv=fsync status=none || { echo "Failed to restore $part to $to" >&2; exit 1; }
  done
  sync
  echo "Image $image restored to $target."
  ;;
savedisk)
  mountpoint -q "$ocsroot" || { echo "The image repository $ocsroot is not mounted." >&2; exit 1; }
  parts=
  for n in 1 2 3 4; do [ -b "/dev/$target$sep$n" ] && parts="$parts $target$sep$n"; done
  [ -n "$parts" ] || { echo "No partition on $dev to save." >&2; exit 1; }
  tmp=$ocsroot/.$image.saving
  rm -rf "$tmp" && mkdir -p "$tmp" || { echo "Cannot write to the image repository $ocsroot (is it mounted read-write?)" >&2; exit 1; }
  echo "Saving disk $target as image $image..."
  echo "$target" > "$tmp/disk"
  echo $parts > "$tmp/parts"
  dd if="$dev" of="$tmp/$target-mbr" bs=512 count=1 status=none || exit 1
  if command -v sfdisk >/dev/null; then sfdisk --dump "$dev" > "$tmp/$target-pt.sf" || exit 1; fi
  for part in $parts; do
    echo "Saving $part..."
    gzip -c "/dev/$part" > "$tmp/$part.ext4-img.gz" || { echo "Failed to save $part" >&2; exit 1; }
  done
  echo "This image was saved by the tsplay lab's stand-in for Clonezilla (raw partition images)." > "$tmp/clonezilla-img"
  rm -rf "$img" && mv "$tmp" "$img" || exit 1
  sync
  echo "Disk $target saved as image $image."
  ;;
*)
  echo "ocs-sr (tsplay lab): only restoredisk and savedisk are played by the lab, not $mode" >&2; exit 1 ;;
esac
case $post in
  reboot) systemctl reboot ;;
  poweroff) systemctl poweroff ;;
esac
exit 0
`;

// mount.nfs: attaches the gateway's share when the server answers from the node and is the gateway
// (by its MAC on the cluster switch) and the gateway's /etc/exports lists the directory; the share
// is a bind mount of the gateway's directory (which the lab passes into every node), read-only
// unless both the export and the mount options allow writing.
function mountNfsScript(gatewayMac: string): string {
  return `#!/bin/sh
# tsplay lab stand-in for mount.nfs (this kernel has no NFS): see docs/lab.md.
spec=$1 dir=$2; shift 2
opts=
while [ $# -gt 0 ]; do
  case $1 in -o) opts=$2; shift 2 ;; *) shift ;; esac
done
server=\${spec%%:*} export=\${spec#*:}
[ "$server" != "$spec" ] || { echo "mount.nfs: remote share not in 'host:dir' format" >&2; exit 32; }
case ,$opts, in
  *,remount,*) case ,$opts, in *,rw,*) exec mount -o remount,bind,rw "$dir" ;; *) exec mount -o remount,bind,ro "$dir" ;; esac ;;
esac
case $server in
  *[!0-9.]*) addr=$(getent ahostsv4 "$server" | awk 'NR == 1 { print $1 }') ;;
  *) addr=$server ;;
esac
[ -n "$addr" ] || { echo "mount.nfs: Failed to resolve server $server: Name or service not known" >&2; exit 32; }
if ! ping -c 1 -W 2 "$addr" >/dev/null 2>&1; then echo "mount.nfs: Connection timed out" >&2; exit 32; fi
mac=$(ip neigh show "$addr" | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
if [ "$mac" != "${gatewayMac}" ]; then echo "mount.nfs: Connection refused (the lab's NFS server is the gateway)" >&2; exit 32; fi
nfs=/run/tsplay-lab/nfs/gateway
share=$nfs$export
if [ ! -d "$share" ] || [ -z "$export" ]; then echo "mount.nfs: mounting $spec failed, reason given by server: No such file or directory" >&2; exit 32; fi
# the export's options, from the gateway's /etc/exports (the first client entry)
eopts=$(awk -v e="$export" '$1 == e { sub(/^[^(]*\\(/, "", $2); sub(/\\).*$/, "", $2); print $2; exit }' "$nfs/etc/exports" 2>/dev/null)
if ! awk -v e="$export" '$1 == e { found = 1 } END { exit !found }' "$nfs/etc/exports" 2>/dev/null; then
  echo "mount.nfs: access denied by server while mounting $spec" >&2; exit 32
fi
[ -d "$dir" ] || { echo "mount.nfs: mount point $dir does not exist" >&2; exit 32; }
mode=ro
case ,$eopts, in *,rw,*) case ,$opts, in *,ro,*) ;; *) mode=rw ;; esac ;; esac
mount --bind "$share" "$dir" || exit 32
mount -o "remount,bind,$mode" "$dir" || { umount "$dir"; exit 32; }
exit 0
`;
}

// The node's firmware, run by its supervisor before each boot (arguments: the host's directory).
// It prints the extra nspawn arguments of this boot: the main disk's system when the disk holds
// one (boot partition with cmdline.txt, root partition with a system), else the imaging system.
const FIRMWARE = `#!/bin/sh
set -u
dir=$1
. "$dir/boot.conf"
root=$dir/root
for m in "$root" "$dir/bootfs" "$dir/rootfs"; do
  while mountpoint -q "$m"; do umount "$m" 2>/dev/null || umount -l "$m"; done
done
set -- $loops
disk=$1 p1=$2 p2=$3 sd=$4 sdp1=$5
mkdir -p "$dir/bootfs" "$dir/rootfs"
if mount -t ext4 "$p1" "$dir/bootfs" 2>/dev/null && [ -f "$dir/bootfs/cmdline.txt" ] &&
   mount -t ext4 "$p2" "$dir/rootfs" 2>/dev/null && [ -d "$dir/rootfs/upper" ]; then
  mkdir -p "$dir/rootfs/work"
  mount -t overlay "tsplay-lab-$name-disk" -o "lowerdir=$image,upperdir=$dir/rootfs/upper,workdir=$dir/rootfs/work" "$root" || exit 1
  # the lab keeps the node's SSH host key across a reimage (a real Pi makes a new one)
  if [ ! -e "$root/etc/ssh/ssh_host_ed25519_key" ]; then cp -p "$dir/identity/ssh_host_ed25519_key" "$dir/identity/ssh_host_ed25519_key.pub" "$root/etc/ssh/"; fi
  echo disk > "$dir/booted-from"
  echo "tsplay lab firmware: booting $name from its disk ($(cat "$dir/bootfs/cmdline.txt"))" >&2
  echo "--bind=$dir/bootfs:/boot/firmware"
  for w in $(cat "$dir/bootfs/cmdline.txt"); do case $w in systemd.*) echo "$w" ;; esac; done
else
  mountpoint -q "$dir/bootfs" && umount "$dir/bootfs"
  mountpoint -q "$dir/rootfs" && umount "$dir/rootfs"
  mount -t overlay "tsplay-lab-$name" -o "lowerdir=$image,upperdir=$dir/upper,workdir=$dir/work" "$root" || exit 1
  echo imaging > "$dir/booted-from"
  echo "tsplay lab firmware: $name's disk holds no system; booting the imaging system" >&2
  echo "--bind=$disk:/dev/${DISK.name}"
  echo "--bind=$p1:/dev/${DISK.parts[0].name}"
  echo "--bind=$p2:/dev/${DISK.parts[1].name}"
  echo "--bind=$sd:/dev/${SD_CARD.name}"
  echo "--bind=$sdp1:/dev/${SD_CARD.part.name}"
  echo "--bind-ro=$imaging/ocs-sr:/usr/local/sbin/ocs-sr"
  echo "--bind-ro=$imaging/mount.nfs:/usr/sbin/mount.nfs"
  echo "--bind=$gateway_srv:/run/tsplay-lab/nfs/gateway/srv"
  echo "--bind-ro=$gateway_etc:/run/tsplay-lab/nfs/gateway/etc"
fi
`;

/** Write the stand-ins' scripts into the state directory. */
export function writeImagingTools(state: string): void {
  const p = imagingPaths(state);
  mkdirSync(p.dir, { recursive: true });
  const gatewayMac = hostSpecs(0)[0]!.links.find((l) => l.name === 'eth0')!.mac;
  writeFileSync(p.firmware, FIRMWARE, { mode: 0o755 });
  writeFileSync(p.ocsSr, OCS_SR, { mode: 0o755 });
  writeFileSync(p.mountNfs, mountNfsScript(gatewayMac), { mode: 0o755 });
  for (const f of [p.firmware, p.ocsSr, p.mountNfs]) chmodSync(f, 0o755);
}

// The imaging system mounts the SD card's partition where a live system keeps its medium, so
// that it can tell which disk it booted from (nodes-reimage refuses to restore onto it).
const LIVE_MEDIUM_UNIT = `[Unit]
Description=tsplay lab: the imaging system's boot medium (the SD card) on ${LIVE_MEDIUM}
ConditionPathExists=/dev/${SD_CARD.part.name}

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'mkdir -p ${LIVE_MEDIUM} && mount -o ro /dev/${SD_CARD.part.name} ${LIVE_MEDIUM}'

[Install]
WantedBy=multi-user.target
`;

/**
 * A node's blank main disk (a sparse file) and its SD card (the imaging system's boot medium),
 * attached as loop devices: the whole disk and its two partitions at their fixed offsets, the
 * card and its partition; and the boot configuration its firmware reads.
 */
export async function prepareDisk(state: string, host: HostSpec, image: string): Promise<void> {
  const d = diskPaths(state, host.name);
  const p = hostPaths(state, host.name);
  writeFileSync(d.image, '');
  await run('truncate', ['-s', String(DISK.sectors * 512), d.image]);
  // the SD card: an MBR and one ext4 partition holding a note of what it is
  const note = mkdtempSync(join(state, '.sdcard-'));
  try {
    mkdirSync(join(note, 'live'));
    writeFileSync(
      join(note, 'live', 'README'),
      "The tsplay lab's imaging system: the node's own system with the lab's ocs-sr (docs/lab.md).\n",
    );
    writeFileSync(d.sdCard, '');
    await run('truncate', ['-s', String(SD_CARD.sectors * 512), d.sdCard]);
    await run(
      'mke2fs',
      [
        '-q',
        '-F',
        '-t',
        'ext4',
        '-L',
        SD_CARD.part.label,
        '-E',
        `offset=${SD_CARD.part.start * 512}`,
        '-d',
        note,
        d.sdCard,
        `${(SD_CARD.part.size * 512) / 1024}k`,
      ],
      {
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      },
    );
    const fd = openSync(d.sdCard, 'r+');
    try {
      writeSync(fd, masterBootRecord([SD_CARD.part], 0x5d0ca4d0), 0, 512, 0);
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(note, { recursive: true, force: true });
  }
  const loops: string[] = [];
  const attach = async (file: string, part?: { start: number; size: number }) =>
    (
      await run('losetup', [
        '--find',
        '--show',
        ...(part ? ['--offset', String(part.start * 512), '--sizelimit', String(part.size * 512)] : []),
        file,
      ])
    ).trim();
  loops.push(await attach(d.image));
  for (const part of DISK.parts) loops.push(await attach(d.image, part));
  loops.push(await attach(d.sdCard));
  loops.push(await attach(d.sdCard, SD_CARD.part));
  writeFileSync(d.loops, loops.join(' ') + '\n');
  mkdirSync(d.identity, { recursive: true });
  for (const f of ['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub']) copyFileSync(join(p.root, 'etc/ssh', f), join(d.identity, f));
  // the imaging system (the node's own overlay) mounts its boot medium
  const units = join(p.root, 'etc/systemd/system');
  mkdirSync(join(units, 'multi-user.target.wants'), { recursive: true });
  writeFileSync(join(units, 'tsplay-lab-live-medium.service'), LIVE_MEDIUM_UNIT);
  symlinkSync('../tsplay-lab-live-medium.service', join(units, 'multi-user.target.wants', 'tsplay-lab-live-medium.service'));
  const gatewayRoot = hostPaths(state, 'gateway').root;
  const conf = {
    name: host.name,
    image,
    loops: loops.join(' '),
    imaging: imagingPaths(state).dir,
    gateway_srv: join(gatewayRoot, 'srv'),
    gateway_etc: join(gatewayRoot, 'etc'),
  };
  writeFileSync(
    d.bootConf,
    Object.entries(conf)
      .map(([k, v]) => `${k}='${v}'`)
      .join('\n') + '\n',
  );
}

/** Loop devices whose backing file is in the state directory (of one host, when given). */
export async function labLoops(state: string, host?: string): Promise<string[]> {
  const r = await runStatus('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE']);
  if (r.code !== 0) return [];
  const under = (host ? hostPaths(state, host).dir : join(state, 'hosts')) + '/';
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([name, file]) => name && file && file.replace(/ \(deleted\)$/, '').startsWith(under))
    .map(([name]) => name!);
}

/** Detach the lab's loop devices (of one host, when given), once nothing is mounted from them. */
export async function detachDisks(state: string, host?: string): Promise<void> {
  for (const loop of await labLoops(state, host)) await runStatus('losetup', ['--detach', loop]);
}

/** Which system the host booted last: its disk's or the imaging system (nodes only). */
export function bootedFrom(state: string, name: string): 'disk' | 'imaging' | undefined {
  try {
    const s = readFileSync(diskPaths(state, name).bootedFrom, 'utf8').trim();
    return s === 'disk' || s === 'imaging' ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Does the host boot through the lab's firmware (a node with a disk)? */
export function hasFirmware(state: string, name: string): boolean {
  return existsSync(diskPaths(state, name).bootConf);
}
