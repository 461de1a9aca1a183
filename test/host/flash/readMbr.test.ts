// The MBR reader flash --image trusts with partition offsets: bounded to one sector and four entries, every
// entry checked against the file (past the end, overlapping, a bad status byte, a GPT's protective entry),
// and it agrees with sfdisk on what sfdisk wrote.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMbr } from '../../../host/lib/flash/readMbr.ts';
import { assert, suite } from '../../harness/index.ts';
import { tempDir } from '../provision/provisionKit.ts';

const test = suite('readMbr: four bounded entries, each checked against the image');
const work = tempDir('fieldcam-mbr-');
test.after(() => work.remove());

function disk(entries: { status?: number; type: number; lba: number; sectors: number }[], bytes = 8 * 1024 * 1024): string {
  const path = join(work.dir, `d${Math.random().toString(36).slice(2)}.img`);
  const b = Buffer.alloc(bytes);
  entries.forEach((e, i) => {
    const at = 446 + i * 16;
    b[at] = e.status ?? 0;
    b[at + 4] = e.type;
    b.writeUInt32LE(e.lba, at + 8);
    b.writeUInt32LE(e.sectors, at + 12);
  });
  b[510] = 0x55;
  b[511] = 0xaa;
  writeFileSync(path, b);
  return path;
}

const why = (path: string) => {
  try {
    readMbr(path);
    return 'accepted';
  } catch (err) {
    return `${(err as { code: string }).code}: ${(err as Error).message}`;
  }
};

test('reads what sfdisk wrote, as sfdisk reads it', () => {
  const path = join(work.dir, 'sf.img');
  writeFileSync(path, Buffer.alloc(32 * 1024 * 1024));
  const r = spawnSync('sfdisk', ['-q', path], { input: 'label: dos\nstart=8192, size=16384, type=c, bootable\nstart=24576, type=83\n', encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.equal(
    readMbr(path).partitions.map((p) => [p.number, p.type, p.bootable, p.offset, p.bytes]),
    [
      [1, 0x0c, true, 8192 * 512, 16384 * 512],
      [2, 0x83, false, 24576 * 512, (65536 - 24576) * 512],
    ],
  );
});

test('refuses, by name: no signature, too short, past the end, overlapping, bad status, GPT', () => {
  const short = join(work.dir, 'short.img');
  writeFileSync(short, Buffer.alloc(100));
  assert.ok(/FLASH_IMAGE_NOT_RASPIOS: .*it is 100 bytes, smaller than one sector/.test(why(short)));
  const noSig = join(work.dir, 'nosig.img');
  writeFileSync(noSig, Buffer.alloc(4096));
  assert.ok(/no partition table \(no 0x55AA signature\)/.test(why(noSig)));
  assert.ok(
    /partition 2 ends at byte 8389120, past the end of the 8388608-byte image \(a truncated download\?\)/.test(
      why(
        disk([
          { type: 0x0c, lba: 2048, sectors: 2048 },
          { type: 0x83, lba: 4096, sectors: 12289 },
        ]),
      ),
    ),
  );
  assert.ok(
    /partitions 1 and 2 overlap/.test(
      why(
        disk([
          { type: 0x0c, lba: 2048, sectors: 4096 },
          { type: 0x83, lba: 4096, sectors: 4096 },
        ]),
      ),
    ),
  );
  assert.ok(/partition 1 has status 0x7f/.test(why(disk([{ status: 0x7f, type: 0x0c, lba: 2048, sectors: 2048 }]))));
  assert.ok(/GPT partition table/.test(why(disk([{ type: 0xee, lba: 1, sectors: 16383 }]))));
  assert.ok(/partition 1 starts at sector 0/.test(why(disk([{ type: 0x0c, lba: 0, sectors: 10 }]))));
  // Up to 2^32 sectors × 512 per entry: numbers stay exact (no 32-bit overflow), and are checked against the file.
  assert.ok(/past the end/.test(why(disk([{ type: 0x83, lba: 0xffffffff, sectors: 0xffffffff }]))));
  assert.equal(readMbr(disk([])).partitions, []);
});

test.run();
