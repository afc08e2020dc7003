// The lab's imaging stand-ins without a lab: the disk layout the MBR and the saved partition
// table describe, and the stand-in scripts parse as POSIX sh. (They run for real, on booted
// hosts, in nodes-reimage.test.ts.)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DISK, SD_CARD, imagingPaths, masterBootRecord, writeImagingTools } from '../../lab/imaging.js';

describe('lab imaging stand-ins', () => {
  it('the MBR holds the lab layout: two Linux partitions that fill the disk, the disk signature, 0x55aa', () => {
    const mbr = masterBootRecord();
    expect(mbr.length).toBe(512);
    expect(mbr.readUInt16LE(510)).toBe(0xaa55);
    expect(mbr.readUInt32LE(440)).toBe(DISK.labelId);
    const parts = [0, 1].map((i) => ({
      type: mbr[446 + 16 * i + 4],
      start: mbr.readUInt32LE(446 + 16 * i + 8),
      size: mbr.readUInt32LE(446 + 16 * i + 12),
    }));
    expect(parts).toEqual(DISK.parts.map((p) => ({ type: 0x83, start: p.start, size: p.size })));
    expect(parts[0]!.start + parts[0]!.size).toBe(parts[1]!.start);
    expect(parts[1]!.start + parts[1]!.size).toBe(DISK.sectors);
    expect(mbr.readUInt32LE(446 + 32 + 12)).toBe(0);
    // the USB disk is sda (the imaging guide's target), the SD card mmcblk0 (the imaging system's)
    expect([DISK.name, ...DISK.parts.map((p) => p.name)]).toEqual(['sda', 'sda1', 'sda2']);
    const card = masterBootRecord([SD_CARD.part], 1);
    expect([card.readUInt32LE(446 + 8), card.readUInt32LE(446 + 12), card.readUInt32LE(446 + 16 + 12)]).toEqual([
      SD_CARD.part.start,
      SD_CARD.part.size,
      0,
    ]);
    expect(SD_CARD.part.start + SD_CARD.part.size).toBe(SD_CARD.sectors);
  });

  it('the firmware, ocs-sr and mount.nfs scripts are executable POSIX sh', () => {
    const state = mkdtempSync(join(tmpdir(), 'tsplay-imaging-'));
    writeImagingTools(state);
    const p = imagingPaths(state);
    for (const f of [p.firmware, p.ocsSr, p.mountNfs]) {
      expect(statSync(f).mode & 0o111).toBe(0o111);
      execFileSync('sh', ['-n', f]);
    }
    // the NFS stand-in serves only the gateway: its MAC on the cluster switch
    expect(readFileSync(p.mountNfs, 'utf8')).toContain('"$mac" != "02:74:73:00:01:01"');
    // the export's options are read from the gateway's /etc/exports: the awk that picks them out
    const awk = readFileSync(p.mountNfs, 'utf8').match(/eopts=\$\(awk -v e="\$export" '([^']+)'/)![1]!;
    const exports = '# comment\n/srv/other 10.0.0.0/24(ro)\n/srv/partimag 10.213.1.0/24(rw,sync,no_subtree_check)\n';
    expect(execFileSync('awk', ['-v', 'e=/srv/partimag', awk], { input: exports }).toString()).toBe('rw,sync,no_subtree_check\n');
  });

  it('ocs-sr refuses a missing disk, anything but restoredisk and savedisk, and a missing image, as Clonezilla would', () => {
    const state = mkdtempSync(join(tmpdir(), 'tsplay-imaging-'));
    writeImagingTools(state);
    const ocs = imagingPaths(state).ocsSr;
    const run = (...args: string[]) => {
      try {
        execFileSync('sh', [ocs, ...args], { stdio: 'pipe' });
        return { code: 0, err: '' };
      } catch (e) {
        const x = e as { status: number; stderr: Buffer };
        return { code: x.status, err: x.stderr.toString() };
      }
    };
    expect(run('-batch', '-nogui', '-p', 'true', 'restoreparts', 'img', 'no-such-disk')).toMatchObject({
      code: 1,
      err: expect.stringContaining('The target disk /dev/no-such-disk was not found'),
    });
    if (existsSync('/dev/loop0')) {
      expect(run('-batch', '-nogui', '-p', 'true', 'restoreparts', 'img', 'loop0')).toMatchObject({
        code: 1,
        err: expect.stringContaining('only restoredisk and savedisk'),
      });
      expect(
        run(
          '-batch',
          '-nogui',
          '-g',
          'auto',
          '-e1',
          'auto',
          '-e2',
          '-r',
          '-j2',
          '-k0',
          '-p',
          'true',
          'restoredisk',
          'no-such-image-here',
          '/dev/loop0',
        ),
      ).toMatchObject({ code: 1, err: expect.stringContaining('/home/partimag/no-such-image-here was not found') });
    }
    expect(run('restoredisk')).toMatchObject({ code: 1, err: expect.stringContaining('Usage: ocs-sr') });
  });
});
