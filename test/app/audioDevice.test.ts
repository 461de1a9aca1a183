// A camera with a microphone on the Node board against the local KVS (issue 18, Audio): H.264 on fd A and AAC
// (ADTS) or G.711 A-law on fd B, streamed as one 2-track stream. Judged from what the cloud stored, through GetMedia
// (the real CLI): mkvmerge sees the two tracks with their CodecID and CodecPrivate, ffprobe counts exactly the video
// frames and audio packets fed, ffmpeg decodes both without a message, every fragment carries both tracks with the
// blocks in timecode order; a G.711 track decodes to exactly the input samples. An audio input shorter than the
// video is filled with silence so every fragment still has audio (KVS ACK 4011 otherwise).
import { closeSync, constants, createWriteStream, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT, runDevice } from '../../firmware/app/runDevice.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { AdtsHeader } from '../../firmware/core/audio/AdtsHeader.ts';
import { silentPacket } from '../../firmware/core/audio/silentPacket.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { assert, suite } from '../harness/index.ts';
import { clusterBlocks, decodedFrameCount, decodeErrors, FIXTURES, framePts, mkvmerge, tempDir, tool, audioPacketCount } from '../e2e/tools.ts';
import { getMedia } from '../device/storedMedia.ts';
import { feedCamera } from '../../sim/board/feedCamera.ts';

const test = suite('device app with audio on the Node board (local KVS)');
const tmp = tempDir('fieldcam-audio-');
let cloud: RunningCloud;
const VIDEO = join(FIXTURES, 'h264-320x240-10fps-gop10.h264'); // 100 frames, 10 s, a key frame every second

/** The first `frames` ADTS frames of the AAC fixture (16 kHz mono, 64 ms each) as a file. */
function adtsPrefix(frames: number): string {
  const all = readFileSync(join(FIXTURES, 'aac-16khz-mono-10s.aac'));
  const h = new AdtsHeader();
  let p = 0;
  for (let i = 0; i < frames; i++) {
    h.parse(all, p, all.length - p, p, true);
    p += h.frameLength;
  }
  const path = join(tmp.dir, `aac-${frames}.aac`);
  writeFileSync(path, all.subarray(0, p));
  return path;
}

async function stream(name: string, audioFile: string, audio: { codec: 'aac' | 'alaw'; sampleRate: number }): Promise<Record<string, unknown>[]> {
  const url = new URL(cloud.endpoint);
  const config = join(tmp.dir, `${name}.json`);
  writeDeviceConfig(config, {
    board: loadBoardManifest('pi-zero-w'),
    streamName: name,
    region: 'us-east-1',
    endpoint: { host: url.hostname, port: Number(url.port), caFile: cloud.caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec: 'h264',
    live: false,
    cameraFd: openSync(VIDEO, 'r'),
    createRetentionHours: 24,
    statusIntervalMs: 0,
    audio: { codec: audio.codec, fd: openSync(audioFile, 'r'), sampleRate: audio.sampleRate, channels: 1 },
  });
  const records: Record<string, unknown>[] = [];
  const board = nodeBoard({ print: (line) => records.push(JSON.parse(line) as Record<string, unknown>), onStop: () => {} });
  const code = await runDevice(board, config);
  assert.is(code, DEVICE_EXIT.OK, JSON.stringify(records));
  return records;
}

/** The stored stream as a viewer gets it: two tracks, both decodable, every fragment with both, blocks in time order. */
function checkStored(file: string, codecId: string, rate: number, cpd: string, packets: number): void {
  const report = mkvmerge(file);
  assert.equal(report.errors, []);
  assert.equal(
    report.tracks.map((t) => t.properties.codec_id),
    ['V_MPEG4/ISO/AVC', codecId],
  );
  const a = report.tracks[1]!;
  assert.equal([a.type, a.properties.audio_sampling_frequency, a.properties.audio_channels, a.properties.codec_private_data], ['audio', rate, 1, cpd]);
  assert.is(decodedFrameCount(file), 100, 'every video frame fed');
  assert.is(audioPacketCount(file), packets, 'every audio packet fed');
  assert.is(decodeErrors(file), '', 'ffmpeg decodes video and audio without a message');
  const clusters = clusterBlocks(file);
  assert.is(clusters.length, 10);
  for (const [i, blocks] of clusters.entries()) {
    assert.ok(blocks.some((b) => b.track === 1) && blocks.some((b) => b.track === 2), `fragment ${i} carries both tracks`);
    for (let k = 1; k < blocks.length; k++) assert.ok(blocks[k]!.t >= blocks[k - 1]!.t, `fragment ${i}: block ${k} is before block ${k - 1}`);
  }
}

test.before(async () => {
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
});

test('H.264 + AAC: a video/h264,audio/aac stream; GetMedia holds 100 frames and every ADTS frame fed, AudioSpecificConfig 1408', async () => {
  const records = await stream('app-aac', adtsPrefix(156), { codec: 'aac', sampleRate: 16000 }); // 156 × 64 ms end inside the 10 s of video
  const summary = records.find((r) => r.type === 'summary') as { framesIn: number; fragmentsPersisted: number; audio: Record<string, unknown> };
  assert.equal([summary.framesIn, summary.fragmentsPersisted], [100, 10]);
  assert.equal([summary.audio.packetsIn, summary.audio.packetsQueued, summary.audio.silencePackets], [156, 156, 0]);
  assert.is(cloud.ctx.streams.get('app-aac')!.MediaType, 'video/h264,audio/aac');
  checkStored(await getMedia(cloud, 'app-aac', tmp.dir), 'A_AAC', 16000, '1408', 156);
});

test('H.264 + G.711 A-law: A_MS/ACM with its WAVEFORMATEX; the stored audio decodes to exactly the input samples', async () => {
  const alaw = join(FIXTURES, 'alaw-8khz-mono-10s.alaw');
  const records = await stream('app-alaw', alaw, { codec: 'alaw', sampleRate: 8000 });
  const summary = records.find((r) => r.type === 'summary') as { audio: Record<string, unknown> };
  assert.equal([summary.audio.packetsIn, summary.audio.packetsQueued, summary.audio.silencePackets], [500, 500, 0]);
  assert.ok(
    records.some((r) => r.type === 'boot' && Array.isArray(r.warnings) && /G\.711.*HLS/.test(String(r.warnings))),
    'the boot line warns: no G.711 in HLS',
  );
  const file = await getMedia(cloud, 'app-alaw', tmp.dir);
  checkStored(file, 'A_MS/ACM', 8000, '06000100401f0000401f0000010008000000', 500);
  const md5 = (args: string[]) => tool('ffmpeg', ['-nostdin', '-v', 'error', ...args, '-map', '0:a:0', '-f', 'md5', '-']).stdout.trim();
  assert.is(md5(['-i', file]), md5(['-f', 'alaw', '-ar', '8000', '-ac', '1', '-i', alaw]));
});

test('audio shorter than the video: the rest is silence, so every fragment has both tracks and all are PERSISTED', async () => {
  const short = join(tmp.dir, 'short.alaw');
  writeFileSync(short, readFileSync(join(FIXTURES, 'alaw-8khz-mono-10s.alaw')).subarray(0, 8000 * 3)); // 3 s of 10
  const records = await stream('app-short', short, { codec: 'alaw', sampleRate: 8000 });
  const summary = records.find((r) => r.type === 'summary') as { fragmentsPersisted: number; audio: Record<string, unknown> };
  assert.is(summary.fragmentsPersisted, 10);
  assert.equal([summary.audio.packetsIn, summary.audio.silencePackets], [150, 350]);
  const file = await getMedia(cloud, 'app-short', tmp.dir);
  checkStored(file, 'A_MS/ACM', 8000, '06000100401f0000401f0000010008000000', 500);
});

test('a live camera whose microphone never sends: past 2 s the gaps are silence, the video goes on, every fragment has both tracks', async () => {
  const camera = join(tmp.dir, 'camera.fifo');
  const mic = join(tmp.dir, 'mic.fifo');
  assert.is(tool('mkfifo', [camera, mic]).status, 0);
  const cameraFd = openSync(camera, constants.O_RDONLY | constants.O_NONBLOCK);
  const micFd = openSync(mic, constants.O_RDONLY | constants.O_NONBLOCK);
  const cameraWriter = openSync(camera, 'w'); // before the device reads: a FIFO without a writer reads as ended
  const micWriter = openSync(mic, 'w'); // held open, never written: a stalled microphone, not an ended one
  const url = new URL(cloud.endpoint);
  const config = join(tmp.dir, 'live.json');
  writeDeviceConfig(config, {
    board: loadBoardManifest('pi-zero-w'),
    streamName: 'app-live-stall',
    region: 'us-east-1',
    endpoint: { host: url.hostname, port: Number(url.port), caFile: cloud.caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec: 'h264',
    live: true,
    recorded: false,
    cameraFd,
    createRetentionHours: 24,
    statusIntervalMs: 0,
    audio: { codec: 'mulaw', fd: micFd, sampleRate: 8000, channels: 1 },
  });
  const records: Record<string, unknown>[] = [];
  const board = nodeBoard({ print: (line) => records.push(JSON.parse(line) as Record<string, unknown>), onStop: () => {} });
  const running = runDevice(board, config);
  // 5 s of the camera at its real rate, then the camera ends (a live end: its last access unit is cut).
  const feed = feedCamera(createWriteStream('', { fd: cameraWriter }), { video: VIDEO, loop: false, bytesPerSecond: readFileSync(VIDEO).length / 10 });
  setTimeout(() => feed(), 5000);
  const code = await running;
  closeSync(micWriter);
  assert.is(code, DEVICE_EXIT.OK, JSON.stringify(records.filter((r) => r.type !== 'status')));
  const summary = records.find((r) => r.type === 'summary') as { fragmentsIn: number; fragmentsPersisted: number; audio: Record<string, number> };
  assert.ok(summary.fragmentsIn >= 4, `fragments: ${summary.fragmentsIn}`);
  assert.is(summary.fragmentsPersisted, summary.fragmentsIn, 'every fragment PERSISTED (none refused for a missing track)');
  assert.is(summary.audio.packetsIn, 0);
  assert.ok(summary.audio.silencePackets >= 150, `silence packets: ${summary.audio.silencePackets}`);
  assert.ok(!records.some((r) => r.code === 'MKV_TRACK_MISSING_IN_FRAGMENT' || r.code === 'UPLOAD_FRAGMENT_REJECTED'), 'no fragment without audio');
  const file = await getMedia(cloud, 'app-live-stall', tmp.dir);
  assert.is(decodedFrameCount(file), (summary as unknown as { framesIn: number }).framesIn, 'every video frame queued is stored');
  const pts = framePts(file);
  for (let i = 1; i < pts.length; i++) assert.ok(pts[i]! > pts[i - 1]!, `video PTS strictly increasing at frame ${i}: ${pts[i - 1]} then ${pts[i]}`);
  const audio = tool('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-map', '0:a:0', '-f', 'null', '-']);
  assert.is(audio.stderr.trim(), '', 'the silence track decodes without a message');
  for (const [i, blocks] of clusterBlocks(file).entries()) {
    assert.ok(blocks.some((b) => b.track === 1) && blocks.some((b) => b.track === 2), `fragment ${i} carries both tracks`);
  }
});

test('the silence that fills gaps decodes to zeros: AAC-LC mono and stereo (ffmpeg), G.711 µ-law (A-law: ±8, its nearest code)', () => {
  for (const channels of [1, 2]) {
    const raw = silentPacket('aac', channels, 0)!;
    const length = raw.length + 7;
    // ADTS header (ISO/IEC 13818-7 6.2): no CRC, AAC-LC, 48 kHz (index 3), `channels`, one raw block.
    const header = [0xff, 0xf1, (1 << 6) | (3 << 2), (channels << 6) | (length >> 11), (length >> 3) & 0xff, ((length & 7) << 5) | 0x1f, 0xfc];
    const path = join(tmp.dir, `silence-${channels}.aac`);
    writeFileSync(path, Buffer.concat(Array.from({ length: 20 }, () => Buffer.from([...header, ...raw]))));
    const r = tool('ffmpeg', ['-nostdin', '-v', 'error', '-i', path, '-f', 's16le', '-']);
    assert.is(r.stderr, '', `ffmpeg decodes ${channels}-channel silence without a message`);
    const pcm = Buffer.from(r.stdout, 'latin1');
    assert.ok(pcm.length >= 2 * channels * 1024 * 18, `decoded ${pcm.length} bytes`);
    assert.ok(
      pcm.every((b) => b === 0),
      'every sample is 0',
    );
  }
  for (const [codec, fmt] of [
    ['alaw', 'alaw'],
    ['mulaw', 'mulaw'],
  ] as const) {
    const path = join(tmp.dir, `silence.${codec}`);
    writeFileSync(path, silentPacket(codec, 1, 160)!);
    const r = tool('ffmpeg', ['-nostdin', '-v', 'error', '-f', fmt, '-ar', '8000', '-ac', '1', '-i', path, '-f', 's16le', '-']);
    const pcm = Buffer.from(r.stdout, 'latin1');
    assert.is(pcm.length, 320);
    // µ-law has a code for 0; A-law's nearest is ±8 of 32768 (G.711 has no A-law zero).
    for (let i = 0; i < pcm.length; i += 2) assert.ok(Math.abs(pcm.readInt16LE(i)) <= (codec === 'alaw' ? 8 : 0), `${codec} sample ${i / 2}`);
  }
});

test.after(async () => {
  await cloud.close();
  tmp.remove();
});

test.run();
