// `fieldcam flash --device /dev/sdX`: may this block device be overwritten with a card image? Refused
// (FLASH_DEVICE_REFUSED, nothing written) when it is not a whole-disk block device, when it or one of its
// partitions is mounted or used as swap, when it holds the running system's root, or when it is smaller than
// the image; a disk whose first MiB is not all zeros (a partition table, a file system) needs --yes. The
// host's view (sysfs, mountinfo, swaps) is an argument, so the rules are tested against stand-in views too.
// Sources: sysfs-block (Documentation/ABI/stable/sysfs-block: <disk>/dev "MAJ:MIN", <disk>/size in 512-byte
// sectors, <disk>/<part>/partition), proc(5) /proc/self/mountinfo (field 3 MAJ:MIN, field 5 mount point,
// the source after " - fstype "), /proc/swaps.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FieldcamError } from '../../shared/hostErrors.ts';

export interface HostBlockView {
  /** /sys/class/block (one entry per disk and partition). */
  readonly sysBlock: string;
  /** /proc/self/mountinfo text. */
  readonly mountinfo: string;
  /** /proc/swaps text. */
  readonly swaps: string;
}

export interface DeviceVerdict {
  readonly name: string;
  readonly bytes: number;
  readonly partitions: readonly string[];
}

export function hostBlockView(): HostBlockView {
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  return { sysBlock: '/sys/class/block', mountinfo: read('/proc/self/mountinfo'), swaps: read('/proc/swaps') };
}

const refuse = (device: string, why: string) => new FieldcamError('FLASH_DEVICE_REFUSED', `flash: ${device} ${why}; nothing was written`);

/**
 * Judges `name` (the kernel's name, e.g. sdb) for an image of `imageBytes`; `head` reads the device's first
 * MiB (only once the mount and system-disk checks passed); `isBlock` whether the path is a block device at all.
 */
export function judgeDevice(o: {
  device: string;
  name: string;
  isBlock: boolean;
  head: () => Uint8Array;
  imageBytes: number;
  yes: boolean;
  view: HostBlockView;
}): DeviceVerdict {
  const { device, name, view } = o;
  if (!o.isBlock) throw refuse(device, 'is not a block device (to write an image file, use -o)');
  const sys = join(view.sysBlock, name);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name) || !existsSync(join(sys, 'dev'))) throw refuse(device, `is not a disk the kernel lists (no ${sys}/dev)`);
  if (existsSync(join(sys, 'partition')))
    throw refuse(device, 'is a partition: pass the whole card (e.g. /dev/sdb, not /dev/sdb1; /dev/mmcblk0, not /dev/mmcblk0p1)');
  const partitions = readdirSync(sys).filter((e) => e.startsWith(name) && existsSync(join(sys, e, 'partition')));
  const devOf = (n: string) => readFileSync(join(n === name ? sys : join(sys, n), 'dev'), 'utf8').trim();
  const ours = new Map<string, string>([[devOf(name), name], ...partitions.map((p) => [devOf(p), p] as [string, string])]);
  const names = new Set([name, ...partitions].map((n) => `/dev/${n}`));
  for (const line of view.mountinfo.split('\n').slice(0, 100_000)) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (f.length < 10 || dash < 6) continue;
    const [majMin, mountPoint, source] = [f[2]!, f[4]!, f[dash + 2] ?? ''];
    const hit = ours.get(majMin) ?? (names.has(source) ? source.slice(5) : undefined);
    if (hit !== undefined) {
      throw refuse(
        device,
        mountPoint === '/'
          ? `holds the running system (/dev/${hit} is mounted on /): this is the host's system disk, not a card`
          : `is in use: /dev/${hit} is mounted on ${mountPoint.replace(/\\040/g, ' ')} (unmount it first: udisksctl unmount -b /dev/${hit}, or umount)`,
      );
    }
  }
  for (const line of view.swaps.split('\n').slice(1, 10_000)) {
    const source = line.split(/\s+/)[0] ?? '';
    if (names.has(source)) throw refuse(device, `is in use: ${source} is swap (swapoff ${source} first)`);
  }
  const bytes = Number(readFileSync(join(sys, 'size'), 'utf8').trim()) * 512;
  if (!(bytes > 0)) throw refuse(device, 'has no medium (size 0): insert the card');
  if (bytes < o.imageBytes) throw refuse(device, `holds ${(bytes / 1e9).toFixed(2)} GB, less than the ${(o.imageBytes / 1e9).toFixed(2)} GB image`);
  if (!o.yes && o.head().some((b) => b !== 0)) {
    throw refuse(
      device,
      `holds data (${partitions.length > 0 ? `partitions ${partitions.join(', ')}` : 'its first MiB is not empty'}) and would be erased: check it is the card (lsblk ${device}) and pass --yes`,
    );
  }
  return { name, bytes, partitions };
}
