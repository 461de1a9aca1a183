// Issue 18's audio proof on the real device: the pi-zero-w image under `qemu-arm -cpu arm1176` reads H.264 on
// stdin and AAC (ADTS) on fd 3 — the transport docs/device-bundle.md names — and streams one 2-track stream to
// the local KVS. GetMedia (the real CLI) holds exactly the video frames and ADTS frames fed, mkvmerge sees
// V_MPEG4/ISO/AVC and A_AAC with AudioSpecificConfig 1408, and every fragment carries both tracks.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, imageDir } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootCommand } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { AdtsHeader } from '../../firmware/core/audio/AdtsHeader.ts';
import { clusterBlocks, decodedFrameCount, FIXTURES, mkvmerge, ROOT, tempDir, audioPacketCount } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { getMedia } from './storedMedia.ts';

const test = suite('pi-zero-w under QEMU: H.264 on stdin + AAC on fd 3 → one 2-track stream in the local KVS');
const tmp = tempDir('fieldcam-device-audio-');
let cloud: RunningCloud | undefined;

test.after(async () => {
  await cloud?.close();
  tmp.remove();
});

test('every video frame and every ADTS frame fed is in GetMedia; both tracks in each of the 10 fragments', async () => {
  const board = loadBoardManifest('pi-zero-w');
  const image = await buildImage(board, { typecheck: false });
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
  // The AAC fixture's first 156 frames (64 ms each, 16 kHz mono) end inside the 10 s of video.
  const aac = readFileSync(join(FIXTURES, 'aac-16khz-mono-10s.aac'));
  const h = new AdtsHeader();
  let end = 0;
  for (let i = 0; i < 156; i++) {
    h.parse(aac, end, aac.length - end, end, true);
    end += h.frameLength;
  }
  const audioFile = join(tmp.dir, 'mic.aac');
  writeFileSync(audioFile, aac.subarray(0, end));
  const url = new URL(cloud.endpoint);
  const config = join(tmp.dir, 'device.json');
  writeDeviceConfig(config, {
    board,
    streamName: 'porch-av',
    region: 'us-east-1',
    endpoint: { host: url.hostname, port: Number(url.port), caFile: cloud.caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec: 'h264',
    live: false,
    createRetentionHours: 24,
    statusIntervalMs: 0,
    audio: { codec: 'aac', fd: 3, sampleRate: 16000, channels: 1 },
  });
  const { command, args } = bootCommand({ dir: imageDir('pi-zero-w'), runtimeFlags: image.runtimeFlags, qemuCpu: image.qemuCpu! }, config);
  const video = openSync(join(FIXTURES, 'h264-320x240-10fps-gop10.h264'), 'r');
  const child = spawn(command, args, { cwd: ROOT, stdio: [video, 'pipe', 'pipe', openSync(audioFile, 'r')] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  const records = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.is(code, 0, `${err}\n${out}`);
  type Summary = { framesIn: number; fragmentsPersisted: number; audio: { packetsIn: number; packetsQueued: number; silencePackets: number } };
  const summary = records.find((r) => r.type === 'summary') as Summary;
  assert.equal([summary.framesIn, summary.fragmentsPersisted], [100, 10]);
  assert.equal([summary.audio.packetsIn, summary.audio.packetsQueued, summary.audio.silencePackets], [156, 156, 0]);
  assert.is(cloud.ctx.streams.get('porch-av')!.MediaType, 'video/h264,audio/aac');

  const file = await getMedia(cloud, 'porch-av', tmp.dir);
  const report = mkvmerge(file);
  assert.equal(
    report.tracks.map((t) => [t.properties.codec_id, t.properties.codec_private_data ?? '']),
    [
      ['V_MPEG4/ISO/AVC', report.tracks[0]!.properties.codec_private_data ?? ''],
      ['A_AAC', '1408'],
    ],
  );
  assert.is(decodedFrameCount(file), 100);
  assert.is(audioPacketCount(file), 156);
  const clusters = clusterBlocks(file);
  assert.is(clusters.length, 10);
  for (const [i, blocks] of clusters.entries()) {
    assert.ok(blocks.some((b) => b.track === 1) && blocks.some((b) => b.track === 2), `fragment ${i} carries both tracks`);
  }
});

test.run();
