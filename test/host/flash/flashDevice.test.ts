// `fieldcam flash --image … --device /dev/sdX`: the refusals judged on stand-in host views (a sysfs tree and
// mountinfo written here: a partition, a mounted partition, the system disk, swap, a small card, a card with
// data without --yes), then the real CLI on this host: a regular file and this machine's own root disk are
// refused with nothing written; and, where loop devices exist, a file-backed loop device stands for the card:
// refused while mounted (a real mount), refused while it holds data, written with --yes, and read back from the device by `flash --verify`.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { judgeDevice, type HostBlockView } from '../../../host/lib/flash/checkDevice.ts';
import { startCloud, type RunningCloud } from '../../../sim/cloud/startCloud.ts';
import { assert, suite } from '../../harness/index.ts';
import { cli, tempDir } from '../provision/provisionKit.ts';
import { buildRaspiosImage } from './raspiosImage.ts';

const test = suite('fieldcam flash --device: refusals on stand-in and real host views; a loop device as the card');
const work = tempDir('fieldcam-flash-device-');
const MIB = 1024 * 1024;

/** A stand-in /sys/class/block: sdz (a 2 GB card) with sdz1 and sdz2, and vda (a disk with vda1). */
function view(mountinfo: string, swaps = 'Filename\tType\tSize\tUsed\tPriority\n'): HostBlockView {
  const sys = join(work.dir, 'sys');
  const put = (p: string, text: string) => {
    mkdirSync(join(sys, p, '..'), { recursive: true });
    writeFileSync(join(sys, p), text);
  };
  put('sdz/dev', '8:240\n');
  put('sdz/size', `${(2e9 / 512).toFixed(0)}\n`);
  put('sdz/sdz1/partition', '1\n');
  put('sdz/sdz1/dev', '8:241\n');
  put('sdz/sdz2/partition', '2\n');
  put('sdz/sdz2/dev', '8:242\n');
  put('sdz1/partition', '1\n');
  put('sdz1/dev', '8:241\n');
  put('vda/dev', '254:0\n');
  put('vda/size', '536870912\n');
  put('vda/vda1/partition', '1\n');
  put('vda/vda1/dev', '254:1\n');
  return { sysBlock: sys, mountinfo, swaps };
}
const ROOT_ON_VDA1 = '27 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n22 27 0:21 / /proc rw,relatime - proc proc rw\n';
const EMPTY = () => new Uint8Array(MIB);
const DATA = Uint8Array.of(0xfa, 0xb8, 0, 0x10);

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return `${(err as { code?: string }).code}: ${(err as Error).message}`;
  }
  return 'accepted';
}

test('judged on a stand-in host: partition, mounted, system disk, swap, too small, data without --yes; an empty or confirmed card passes', () => {
  const base = { device: '/dev/sdz', name: 'sdz', isBlock: true, head: EMPTY, imageBytes: 100 * MIB, yes: false, view: view(ROOT_ON_VDA1) };
  assert.equal(judgeDevice(base).partitions, ['sdz1', 'sdz2']);
  assert.is(judgeDevice(base).bytes, 2e9);
  assert.ok(
    /^FLASH_DEVICE_REFUSED: flash: \/dev\/sdz is not a block device \(to write an image file, use -o\); nothing was written$/.test(
      refusal(() => judgeDevice({ ...base, isBlock: false })),
    ),
  );
  assert.ok(/is a partition: pass the whole card/.test(refusal(() => judgeDevice({ ...base, device: '/dev/sdz1', name: 'sdz1' }))));
  assert.ok(/is not a disk the kernel lists/.test(refusal(() => judgeDevice({ ...base, device: '/dev/sdq', name: 'sdq' }))));
  const mounted = view(`${ROOT_ON_VDA1}90 27 8:242 / /media/me/rootfs rw,nosuid - ext4 /dev/sdz2 rw\n`);
  assert.ok(
    /FLASH_DEVICE_REFUSED: .*is in use: \/dev\/sdz2 is mounted on \/media\/me\/rootfs \(unmount it first/.test(
      refusal(() => judgeDevice({ ...base, view: mounted })),
    ),
  );
  const bySource = view(`${ROOT_ON_VDA1}91 27 0:99 / /media/me/boot rw - vfat /dev/sdz1 rw\n`);
  assert.ok(/\/dev\/sdz1 is mounted on \/media\/me\/boot/.test(refusal(() => judgeDevice({ ...base, view: bySource }))));
  assert.ok(
    /holds the running system \(\/dev\/vda1 is mounted on \/\): this is the host's system disk/.test(
      refusal(() => judgeDevice({ ...base, device: '/dev/vda', name: 'vda' })),
    ),
  );
  assert.ok(
    /is in use: \/dev\/sdz2 is swap/.test(
      refusal(() => judgeDevice({ ...base, view: view(ROOT_ON_VDA1, 'Filename\tType\tSize\tUsed\tPriority\n/dev/sdz2\tpartition\t1000\t0\t-2\n') })),
    ),
  );
  assert.ok(/holds 2\.00 GB, less than the 3\.00 GB image/.test(refusal(() => judgeDevice({ ...base, imageBytes: 3e9 }))));
  const head = new Uint8Array(MIB);
  head.set(DATA, 446);
  assert.ok(
    /holds data \(partitions sdz1, sdz2\) and would be erased: check it is the card \(lsblk \/dev\/sdz\) and pass --yes/.test(
      refusal(() => judgeDevice({ ...base, head: () => head })),
    ),
  );
  assert.equal(judgeDevice({ ...base, head: () => head, yes: true }).name, 'sdz');
});

const raspios = join(work.dir, 'raspios.img');
let cloud: RunningCloud | undefined;
test.after(async () => {
  await cloud?.close();
  work.remove();
});
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

test('the CLI on this host: a regular file and the system disk are refused, nothing written', async () => {
  buildRaspiosImage(raspios, { rootMiB: 32 });
  cloud = await startCloud({ stateDir: join(work.dir, 'cloud'), port: 0 });
  const fieldcam = (args: string[]) => cli(cloud!, work.dir, args);
  const p = await fieldcam(['provision', '--thing', 'card-cam-1', '--out', join(work.dir, 'card-cam-1'), '--endpoint-url', cloud.endpoint]);
  assert.is(p.status, 0, p.stderr);
  const fake = join(work.dir, 'fake-card');
  writeFileSync(fake, Buffer.alloc(2 * MIB, 7));
  const before = sha(fake);
  let r = await fieldcam(['flash', '--bundle', join(work.dir, 'card-cam-1'), '--board', 'pi-zero-w', '--image', raspios, '--device', fake, '--yes']);
  assert.is(r.status, 1, r.stderr);
  assert.ok(/error FLASH_DEVICE_REFUSED: flash: .*fake-card is not a block device/.test(r.stderr), r.stderr);
  assert.is(sha(fake), before);
  // This machine's own root: the block device behind "/" in mountinfo, when it is one.
  const rootLine = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === '/');
  const source = rootLine?.split(' - ')[1]?.split(' ')[1];
  if (source?.startsWith('/dev/') && existsSync(source) && statSync(source).isBlockDevice()) {
    r = await fieldcam(['flash', '--bundle', join(work.dir, 'card-cam-1'), '--board', 'pi-zero-w', '--image', raspios, '--device', source, '--yes']);
    assert.is(r.status, 1, r.stderr);
    assert.ok(/error FLASH_DEVICE_REFUSED: .*(holds the running system|is a partition)/.test(r.stderr), r.stderr);
  } else {
    console.log(`  (the root file system is on ${source ?? '?'}, not a block device: the system-disk case is covered by the stand-in view only)`);
  }
  assert.equal(spawnSync('find', [work.dir, '-name', '*.tmp', '-o', '-name', '*.card.img'], { encoding: 'utf8' }).stdout, '');
});

test('a loop device as the card: refused while mounted, refused while it holds data, written with --yes, read back from the device', async () => {
  // The "card" holds an ext4 file system (data in its first MiB: the superblock at 1024).
  const backing = join(work.dir, 'card.bin');
  writeFileSync(backing, '');
  spawnSync('truncate', ['-s', String(64 * MIB), backing]);
  assert.is(spawnSync('mke2fs', ['-q', '-t', 'ext4', backing]).status, 0);
  const attach = spawnSync('losetup', ['--find', '--show', backing], { encoding: 'utf8' });
  if (attach.status !== 0) {
    console.log(`  (no loop device here: ${attach.stderr.trim()}; the write path is untested on this machine)`);
    return;
  }
  const loop = attach.stdout.trim();
  const mnt = join(work.dir, 'mnt');
  mkdirSync(mnt);
  let mounted = false;
  try {
    const fieldcam = (args: string[]) => cli(cloud!, work.dir, args);
    const args = ['flash', '--bundle', join(work.dir, 'card-cam-1'), '--board', 'pi-zero-w', '--image', raspios, '--device', loop];
    mounted = spawnSync('mount', [loop, mnt]).status === 0;
    if (mounted) {
      const m = await fieldcam([...args, '--yes']);
      assert.is(m.status, 1, m.stderr);
      assert.ok(new RegExp(`error FLASH_DEVICE_REFUSED: flash: ${loop} is in use: ${loop} is mounted on ${mnt} \\(unmount it first`).test(m.stderr), m.stderr);
      assert.is(spawnSync('umount', [mnt]).status, 0);
      mounted = false;
      // The mount itself writes the file system; an image write would have put an MBR in the first 1024 bytes.
      assert.ok(
        readFileSync(backing)
          .subarray(0, 1024)
          .every((x) => x === 0),
        'no MBR written while mounted',
      );
    } else {
      console.log('  (mount refused here: the mounted case is covered by the stand-in view only)');
    }
    const before = sha(backing);
    let r = await fieldcam(args);
    assert.is(r.status, 1, r.stderr);
    assert.ok(
      /error FLASH_DEVICE_REFUSED: flash: \/dev\/loop\d+ holds data \(its first MiB is not empty\) and would be erased: .*pass --yes/.test(r.stderr),
      r.stderr,
    );
    assert.is(sha(backing), before, 'untouched');
    r = await fieldcam([...args, '--yes']);
    assert.is(r.status, 0, r.stdout + r.stderr);
    assert.ok(new RegExp(`${loop}: [\\d.]+ MiB written; eject it and boot the Pi`).test(r.stdout), r.stdout);
    const v = await fieldcam(['flash', '--verify', loop]);
    assert.is(v.status, 0, v.stdout + v.stderr);
    assert.ok(/^PASS  bundle\s+thing card-cam-1/m.test(v.stdout) && /all 13 checks passed/.test(v.stdout), v.stdout);
    assert.equal(spawnSync('find', [work.dir, '-name', '*.tmp', '-o', '-name', '*.card.img'], { encoding: 'utf8' }).stdout, '');
  } finally {
    if (mounted) spawnSync('umount', [mnt]);
    spawnSync('losetup', ['-d', loop]);
  }
});

test.run();
