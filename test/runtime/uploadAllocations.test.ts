// Zero per-frame allocations on the upload side of the device hot path (issue 12), counted inside the engine: the
// whole device (uploadAllocations.ts: runDevice with the XS board against the local cloud, camera → Matroska → SigV4
// PutMedia over TLS) natively and under qemu-arm -cpu arm1176, with every PutMediaSession drain after warm-up
// bracketed by the engine's slot and chunk counters with collections held. Over 270 frames and their fragment starts
// (the fixture played three times) the drains must allocate nothing; a control run that keeps one small object per
// frame must be seen. Each ACK's read (AckParser.push) is bracketed too and reported: an ACK is not per frame (three
// per fragment), and its FragmentNumber is a new string by contract.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { runtimeFlags } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { assert, suite } from '../harness/index.ts';
import { QEMU_CPU, runtime, scratch, type Arch } from './support.ts';

const test = suite('fieldcam-runtime: no allocation per frame on the upload path');

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'h264-320x240-10fps-gop10.h264');
const WARM = 30;

interface Counted {
  readonly drains: { calls: number; frames: number; fragments: number; slots: number; chunkBytes: number };
  readonly endings: { calls: number; slots: number; chunkBytes: number };
  readonly acks: { pushes: number; slots: number; chunkBytes: number };
  readonly kept: number;
}

let cloud: RunningCloud | undefined;
let bundle: string | undefined;

async function image(arch: Arch, board: string): Promise<string> {
  const dir = join(scratch, `upload-allocations-${arch}`);
  if (!bundle) {
    bundle = join(scratch, 'uploadAllocations.js');
    await build({
      entryPoints: [join(import.meta.dirname, 'uploadAllocations.ts')],
      outfile: bundle,
      bundle: true,
      format: 'iife',
      platform: 'neutral',
      target: 'es2022',
      charset: 'ascii',
      logLevel: 'warning',
    });
  }
  mkdirSync(dir, { recursive: true });
  for (const [name, target] of [
    ['fieldcam-runtime', runtime(arch)],
    ['firmware.js', bundle],
  ] as const) {
    try {
      symlinkSync(target, join(dir, name));
    } catch {
      // made by an earlier case
    }
  }
  writeFileSync(join(dir, 'board.json'), JSON.stringify(loadBoardManifest(board)));
  return dir;
}

async function measure(arch: Arch, board: string, probe: boolean): Promise<Counted> {
  cloud ??= await startCloud({ stateDir: join(scratch, 'upload-allocations-cloud'), port: 0, routes: [...mediaRoutes] });
  const dir = await image(arch, board);
  const name = `alloc-${arch}-${probe ? 'probe' : 'run'}`;
  const config = join(scratch, `${name}.json`);
  const url = new URL(cloud.endpoint);
  writeDeviceConfig(config, {
    board: loadBoardManifest(board),
    streamName: name,
    region: 'us-east-1',
    endpoint: { host: url.hostname, port: Number(url.port), caFile: cloud.caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec: 'h264',
    live: false,
    createRetentionHours: 24,
    statusIntervalMs: 0,
  });
  const video = join(scratch, 'upload-allocations-3x.h264');
  const bytes = readFileSync(FIXTURE);
  writeFileSync(video, Buffer.concat([bytes, bytes, bytes]));
  const cpu = QEMU_CPU[arch];
  let counted: Counted | undefined;
  const booted = bootBoard({
    image: { dir, runtimeFlags: runtimeFlags(loadBoardManifest(board)).flags, ...(cpu ? { qemuCpu: cpu } : {}) },
    wrap: (command, args) => ({ command, args: [...args, '--warm', String(WARM), ...(probe ? ['--probe'] : [])] }),
    config,
    video,
    loop: false,
    bytesPerSecond: 0,
    onRecord: (r) => {
      if (r.type === 'allocations') counted = r as unknown as Counted;
    },
  });
  const exit = await booted.exited;
  assert.is(exit.code, 0, `the device exited ${exit.code}: ${exit.stderr}`);
  assert.ok(counted, 'the allocation counts were printed');
  return counted!;
}

for (const [arch, board] of [
  ['x86_64', 'sim-x86'],
  ['armv6', 'pi-zero-w'],
] as const) {
  test(`${board} (${arch === 'x86_64' ? 'natively' : 'under qemu-arm -cpu arm1176'}): the drains after warm-up allocate nothing over 270 frames and their fragment starts`, async () => {
    const c = await measure(arch, board, false);
    assert.ok(c.drains.frames >= 300 - WARM - 10, `frames sent inside the brackets: ${c.drains.frames}`);
    assert.ok(c.drains.fragments >= 25, `fragment starts inside the brackets: ${c.drains.fragments}`);
    assert.is(c.drains.slots, 0, `slots allocated by ${c.drains.calls} drains: ${JSON.stringify(c)}`);
    assert.is(c.drains.chunkBytes, 0, `chunk bytes allocated by ${c.drains.calls} drains: ${JSON.stringify(c)}`);
    assert.ok(c.acks.pushes >= 20, `ACK reads bracketed: ${c.acks.pushes}`);
    assert.is(c.endings.calls, 1, 'the drain that ended the body (the stop) is counted apart');
    process.stdout.write(
      `# ${board}: ${c.drains.frames} frames, ${c.drains.fragments} fragments, ${c.drains.calls} drains: 0 allocated; ` +
        `${c.acks.pushes} ACK reads: ${c.acks.slots} slots, ${c.acks.chunkBytes} chunk bytes; the ending drain: ${c.endings.slots} slots, ${c.endings.chunkBytes} B\n`,
    );
  });
}

test('control: one small object kept per frame inside the drain bracket is seen', async () => {
  const c = await measure('x86_64', 'sim-x86', true);
  assert.ok(c.kept >= 200, `objects kept: ${c.kept}`);
  assert.ok(c.drains.slots > 0 || c.drains.chunkBytes > 0, `the counters saw them: ${JSON.stringify(c.drains)}`);
});

test('stop the local cloud', async () => {
  await cloud?.close();
});

test.run();
