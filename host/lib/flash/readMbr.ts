// The four primary entries of a DOS partition table (MBR), read from the first sector of a disk image: what
// `fieldcam flash --image` needs to find Raspberry Pi OS's FAT boot and ext4 root partitions without the
// kernel (no loop device). Bounded: one 512-byte sector, four 16-byte entries, each checked against the
// file's size. Layout: entries at byte 446, signature 0x55 0xAA at 510 (the classic IBM PC MBR; sfdisk(8)
// "dos" label); each entry: status (0x00/0x80), CHS start, type, CHS end, LBA start (u32le), sectors (u32le).
import { closeSync, fstatSync, openSync, readFileSync, readSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { FieldcamError } from '../../shared/hostErrors.ts';

export const SECTOR_BYTES = 512;

/** Partition types Raspberry Pi OS uses: FAT32 (LBA) for the boot partition, Linux for the root. */
export const PARTITION_TYPES = Object.freeze({
  fat32Chs: 0x0b,
  fat32Lba: 0x0c,
  fat16Lba: 0x0e,
  linux: 0x83,
  extended: 0x05,
  extendedLba: 0x0f,
  gptProtective: 0xee,
});

export interface MbrPartition {
  /** 1-4, as sfdisk and the kernel number them (sda1 ...). */
  readonly number: number;
  readonly type: number;
  readonly bootable: boolean;
  readonly offset: number;
  readonly bytes: number;
}

export interface Mbr {
  readonly diskBytes: number;
  readonly partitions: readonly MbrPartition[];
}

/** The partition table of `path`, or FLASH_IMAGE_NOT_RASPIOS naming what is wrong. */
export function readMbr(path: string): Mbr {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    // A block device (a card) has no size in stat: sysfs has it, in 512-byte sectors.
    const diskBytes = st.isBlockDevice() ? Number(readFileSync(`/sys/class/block/${basename(realpathSync(path))}/size`, 'utf8').trim()) * 512 : st.size;
    const sector = Buffer.alloc(SECTOR_BYTES);
    const n = diskBytes >= SECTOR_BYTES ? readSync(fd, sector, 0, SECTOR_BYTES, 0) : 0;
    if (n < SECTOR_BYTES) throw notAnImage(path, `it is ${diskBytes} bytes, smaller than one sector`);
    if (sector[510] !== 0x55 || sector[511] !== 0xaa) throw notAnImage(path, 'its first sector has no partition table (no 0x55AA signature)');
    const partitions: MbrPartition[] = [];
    for (let i = 0; i < 4; i++) {
      const e = 446 + i * 16;
      const type = sector[e + 4]!;
      const status = sector[e]!;
      if (type === 0) continue;
      if (status !== 0x00 && status !== 0x80) throw notAnImage(path, `partition ${i + 1} has status 0x${status.toString(16)} (0x00 or 0x80 expected)`);
      if (type === PARTITION_TYPES.gptProtective) throw notAnImage(path, 'it has a GPT partition table; Raspberry Pi OS images use an MBR (dos) table');
      const lba = sector.readUInt32LE(e + 8);
      const sectors = sector.readUInt32LE(e + 12);
      const offset = lba * SECTOR_BYTES;
      const bytes = sectors * SECTOR_BYTES;
      if (sectors === 0 || lba === 0) throw notAnImage(path, `partition ${i + 1} starts at sector ${lba} with ${sectors} sectors`);
      if (offset + bytes > diskBytes)
        throw notAnImage(path, `partition ${i + 1} ends at byte ${offset + bytes}, past the end of the ${diskBytes}-byte image (a truncated download?)`);
      partitions.push(Object.freeze({ number: i + 1, type, bootable: status === 0x80, offset, bytes }));
    }
    for (const a of partitions) {
      for (const b of partitions) {
        if (a.number < b.number && a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes)
          throw notAnImage(path, `partitions ${a.number} and ${b.number} overlap`);
      }
    }
    return Object.freeze({ diskBytes, partitions: Object.freeze(partitions) });
  } finally {
    closeSync(fd);
  }
}

function notAnImage(path: string, why: string): FieldcamError {
  return new FieldcamError('FLASH_IMAGE_NOT_RASPIOS', `flash: ${path} is not a Raspberry Pi OS disk image: ${why}`);
}
