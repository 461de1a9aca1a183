// Runs inside fieldcam-runtime: the cost of the spool's CRC-32 per byte, over `bytes` bytes in 64 KiB pieces (as
// SpoolLog checks a fragment's payload): the core's JS loop (firmware/core/spool/crc32.ts), or with `native` the C
// host's storageCrc32 the XS board uses. Prints one JSON line (XS computrons). For ARM instructions, count runs
// under the QEMU plugin and divide the difference to a 0-byte run by the bytes:
//   npx esbuild test/bench/xs/crcCost.ts --bundle --format=iife --platform=neutral --target=es2022 --outfile=/tmp/crc.js
//   build/xs/x86_64/fieldcam-runtime /tmp/crc.js 4194304
//   node toolchain/qemu/build.mjs count --cpu arm1176 build/xs/armv6/fieldcam-runtime /tmp/crc.js 4194304 [native]   (and 0)
import { crc32 as crc32InJs } from '../../../firmware/core/spool/crc32.ts';

declare const native: {
  print(line: string): void;
  computrons(): number;
  readonly argv: readonly string[];
  storageCrc32(crc: number, data: Uint8Array, offset: number, length: number): number;
};

const bytes = Number(native.argv[0] ?? '1048576');
const inC = native.argv[1] === 'native';
const crc32 = inC ? (c: number, b: Uint8Array, o: number, l: number) => native.storageCrc32(c, b, o, l) : crc32InJs;
const piece = new Uint8Array(64 * 1024);
for (let i = 0; i < piece.length; i++) piece[i] = (i * 131) & 0xff;
crc32(0, piece, 0, 1024); // warm-up: the table and property caches out of the figure
const before = native.computrons();
let crc = 0;
for (let done = 0; done < bytes; done += piece.length) crc = crc32(crc, piece, 0, Math.min(piece.length, bytes - done));
const spent = native.computrons() - before;
native.print(JSON.stringify({ path: inC ? 'C' : 'JS', bytes, computrons: spent, perByte: bytes > 0 ? spent / bytes : 0, crc }));
