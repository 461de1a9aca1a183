// `npm run bench`, native costs on the ARM1176 (qemu-arm -cpu arm1176 with the instruction-counting plugin): the TLS
// record ciphers (test/bench/tls/cipherCost.c against Debian's armel mbedTLS 2.28, static) and the start-code scan
// (scan.c through fieldcam-runtime). Each figure is a difference of two runs, so start-up cancels.
// Usage: node --import tsx test/bench/tlsCost.ts <armv6 fieldcam-runtime> <an H.264 clip>
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from '../../host/lib/buildImage.ts';
import { countInstructions, MARKER_SYSCALL } from '../../toolchain/qemu/build.mjs';

export interface NativeCosts {
  /** Instructions to encrypt and authenticate one record of `bytes` plaintext bytes, per cipher. */
  readonly record: (cipher: Cipher, bytes: number) => Promise<number>;
  /** findStartCodes instructions per byte scanned, call overhead excluded. */
  readonly scanPerByte: number;
  readonly table: string;
}

export type Cipher = 'aes-128-gcm' | 'chacha20-poly1305';

function cipherProgram(): string {
  const out = join(ROOT, 'build', 'bench');
  mkdirSync(out, { recursive: true });
  const program = join(out, 'cipherCost-armv6');
  const r = spawnSync(
    'arm-linux-gnueabi-gcc',
    [
      '-O2',
      '-march=armv6kz',
      '-mfpu=vfp',
      '-mfloat-abi=softfp',
      '-marm',
      '-static',
      '-o',
      program,
      join(ROOT, 'test', 'bench', 'tls', 'cipherCost.c'),
      '-lmbedcrypto',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`cannot build cipherCost: ${r.stderr}`);
  return program;
}

export async function nativeCosts(runtimeArm: string, clip: string): Promise<NativeCosts> {
  const program = cipherProgram();
  const marked = async (cipher: Cipher, bytes: number, records: number) => {
    const r = await countInstructions({ cpu: 'arm1176', program, args: [cipher, String(bytes), String(records)], marker: MARKER_SYSCALL });
    if (r.code !== 0) throw new Error(`cipherCost exited ${r.code}: ${r.stderr}`);
    return Number(r.marked);
  };
  const record = async (cipher: Cipher, bytes: number) => (await marked(cipher, bytes, 3)) - (await marked(cipher, bytes, 2));
  const bundle = join(ROOT, 'build', 'bench', 'scan-cost.js');
  await build({
    entryPoints: [join(ROOT, 'test', 'bench', 'xs', 'scanCost.ts')],
    outfile: bundle,
    bundle: true,
    format: 'iife',
    platform: 'neutral',
    target: 'es2022',
    charset: 'ascii',
    logLevel: 'warning',
  });
  const scanRun = async (passes: number, mode: string) => {
    const r = await countInstructions({ cpu: 'arm1176', program: runtimeArm, args: [bundle, clip, String(passes), mode], cwd: ROOT });
    if (r.code !== 0) throw new Error(`scan-cost exited ${r.code}: ${r.stderr}`);
    return Number(r.instructions);
  };
  const size = readFileSync(clip).length;
  const scanPerByte = ((await scanRun(2, 'scan')) - (await scanRun(1, 'scan')) - ((await scanRun(2, 'empty')) - (await scanRun(1, 'empty')))) / size;
  const rows: string[] = [];
  for (const cipher of ['aes-128-gcm', 'chacha20-poly1305'] as const) {
    const full = await record(cipher, 16384);
    const frame = await record(cipher, 5164);
    rows.push(
      `| ${cipher} | ${Math.round(full).toLocaleString('en-US')} | ${(full / 16384).toFixed(2)} | ${Math.round(frame).toLocaleString('en-US')} | ${(frame / 5164).toFixed(2)} |`,
    );
  }
  const table = [
    '| TLS record cipher (mbedTLS 2.28, armel) | instructions per 16 KiB record | per byte | per 5,164-byte record (a reference-clip frame on the wire) | per byte |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Start-code scan (scan.c findStartCodes: the odd bytes of 32-byte blocks), reference clip in 4 KiB reads: ${scanPerByte.toFixed(2)} ARM1176 instructions per byte.`,
  ].join('\n');
  return { record, scanPerByte, table };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [runtimeArm, clip] = process.argv.slice(2);
  if (!runtimeArm || !clip) throw new Error('usage: tlsCost.ts <armv6 fieldcam-runtime> <clip.h264>');
  process.stdout.write(`${(await nativeCosts(runtimeArm, clip)).table}\n`);
}
