// Opens a disk image as Raspberry Pi OS, read-only: the MBR (readMbr), the FAT boot partition with the
// firmware's config.txt and cmdline.txt, the ext4 root whose /etc/os-release is Raspbian or Debian bookworm
// (Raspberry Pi OS 32-bit says ID=raspbian; the 64-bit one says ID=debian and carries /etc/rpi-issue).
// Bookworm is required: it is the release whose networking is NetworkManager (Bullseye's is dhcpcd and
// wpa_supplicant, which the Wi-Fi file flash writes would not configure). FLASH_IMAGE_NOT_RASPIOS otherwise.
import { FieldcamError } from '../../shared/hostErrors.ts';
import { Ext4Image } from './Ext4Image.ts';
import { FatImage } from './FatImage.ts';
import { PARTITION_TYPES, readMbr, type Mbr, type MbrPartition } from './readMbr.ts';

export const SUPPORTED_CODENAMES = Object.freeze(['bookworm'] as const);
const FAT_TYPES: ReadonlySet<number> = new Set([PARTITION_TYPES.fat32Chs, PARTITION_TYPES.fat32Lba, PARTITION_TYPES.fat16Lba]);

export interface OsRelease {
  readonly id: string;
  readonly codename: string;
  readonly prettyName: string;
}

export interface RaspiosImage {
  readonly path: string;
  readonly mbr: Mbr;
  readonly bootPartition: MbrPartition;
  readonly rootPartition: MbrPartition;
  readonly boot: FatImage;
  readonly root: Ext4Image;
  readonly os: OsRelease;
  readonly cmdline: string;
}

/** os-release(5): KEY=value lines, values optionally quoted; at most 16 KiB and 200 lines are read. */
export function parseOsRelease(text: string): OsRelease {
  const fields: Record<string, string> = {};
  for (const line of text
    .slice(0, 16 * 1024)
    .split('\n')
    .slice(0, 200)) {
    const m = /^([A-Z0-9_]{1,64})=(.*)$/.exec(line.trim());
    if (m) fields[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  return { id: fields.ID ?? '', codename: fields.VERSION_CODENAME ?? '', prettyName: fields.PRETTY_NAME ?? fields.NAME ?? '' };
}

export function openRaspiosImage(path: string): RaspiosImage {
  const no = (why: string) => new FieldcamError('FLASH_IMAGE_NOT_RASPIOS', `flash: ${path} is not a Raspberry Pi OS (Bookworm) image: ${why}`);
  const mbr = readMbr(path);
  const bootPartition = mbr.partitions.find((p) => FAT_TYPES.has(p.type));
  const rootPartition = mbr.partitions.find((p) => p.type === PARTITION_TYPES.linux);
  const types = mbr.partitions.map((p) => `${p.number}: 0x${p.type.toString(16)}`).join(', ') || 'none';
  if (!bootPartition) throw no(`no FAT boot partition (type 0x0c) in its partition table (${types})`);
  if (!rootPartition) throw no(`no Linux root partition (type 0x83) in its partition table (${types})`);
  const boot = new FatImage(path, bootPartition.offset);
  const names = boot.list();
  if (!names) throw no(`partition ${bootPartition.number} is not a FAT file system`);
  const lower = new Set(names.map((n) => n.toLowerCase()));
  const missing = ['config.txt', 'cmdline.txt'].filter((n) => !lower.has(n));
  if (missing.length > 0) throw no(`its boot partition has no ${missing.join(' or ')} (the Raspberry Pi firmware reads both)`);
  const cmdline = boot.read('cmdline.txt')?.toString('utf8') ?? '';
  if (!/\broot=\S+/.test(cmdline)) throw no('its cmdline.txt names no root= file system');
  const root = new Ext4Image(path, rootPartition.offset);
  const problem = root.problem();
  if (problem) throw no(`partition ${rootPartition.number} is not an ext4 file system (${problem})`);
  const text = root.readText('/etc/os-release') ?? root.readText('/usr/lib/os-release');
  if (text === undefined) throw no('its root file system has no /etc/os-release');
  const os = parseOsRelease(text);
  const raspios = os.id === 'raspbian' || (os.id === 'debian' && root.stat('/etc/rpi-issue')?.type === 'regular');
  if (!raspios) throw no(`its os-release says ${JSON.stringify(os.prettyName || os.id)} (ID=${os.id || '?'}), not Raspbian, nor Debian with /etc/rpi-issue`);
  if (!(SUPPORTED_CODENAMES as readonly string[]).includes(os.codename)) {
    throw no(`it is ${os.prettyName || os.id} (${os.codename || 'no VERSION_CODENAME'}); fieldcam writes Bookworm's NetworkManager settings`);
  }
  return { path, mbr, bootPartition, rootPartition, boot, root, os, cmdline };
}
