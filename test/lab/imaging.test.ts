// The lab's imaging stand-ins without a lab: the disk layout the MBR and the saved partition
// table describe, and the stand-in scripts parse as POSIX sh. (They run for real, on booted
// hosts, in nodes-reimage.test.ts.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DISK, imagingPaths, masterBootRecord, writeImagingTools } from '../../lab/imaging.js';

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
  });

  it('ocs-sr refuses anything but restoredisk, and a missing image, as Clonezilla would', () => {
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
    expect(run('-g', 'auto', '-e1', 'auto', '-e2', '-r', '-j2', '-p', 'true', 'savedisk', 'img', 'mmcblk0')).toMatchObject({
      code: 1,
      err: expect.stringContaining('only restoredisk'),
    });
    expect(
      run('-g', 'auto', '-e1', 'auto', '-e2', '-r', '-j2', '-p', 'true', 'restoredisk', 'no-such-image-here', 'mmcblk0'),
    ).toMatchObject({ code: 1, err: expect.stringContaining('/home/partimag/no-such-image-here was not found') });
    expect(run('restoredisk')).toMatchObject({ code: 1, err: expect.stringContaining('Usage: ocs-sr') });
  });
});
