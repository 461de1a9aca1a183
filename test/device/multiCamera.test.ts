// Several cameras in one device (issue 18) as deployed, one of them with a microphone (H.264 + AAC): the pi-zero-w image under `qemu-arm -cpu arm1176` and the
// pi-4 image under `qemu-aarch64 -cpu cortex-a72`, time-scaled
// (fieldcam-runtime --time-scale, the cloud's timeScale and the feeders' rate from one origin), three cameras fed
// on fds 3, 4, 5 (as the run script passes capture pipes): H.264, H.265 and MJPEG, the MJPEG one stalling for a
// while. One process, one memory budget: the pools fit the board's poolBudgetBytes and the heap stays under its
// limit. Judged from what the local KVS stored (GetMedia through the CLI, decoded by ffprobe/ffmpeg) and, for
// fairness, in fragments: at every status line the steady cameras have at most one fragment open and one awaiting
// its PERSISTED — an ACK later than one fragment would show as a third.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT } from '../../firmware/app/runDevice.ts';
import { buildImage, imageDir, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { AdtsHeader } from '../../firmware/core/audio/AdtsHeader.ts';
import { decodedFrameCount, decodeErrors, FIXTURES, ROOT, tempDir, tool } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { distinctTimestamps, getMedia } from './storedMedia.ts';

const test = suite('pi-zero-w (armv6) and pi-4 (aarch64) under QEMU: one device, three cameras (H.264 + AAC, H.265, MJPEG), one stalling');
const tmp = tempDir('fieldcam-multicam-image-');
const SCALE = 2;
type Rec = Record<string, unknown>;

test.after(() => tmp.remove());

/** The cameras: name, codec, file, its frames and seconds (real time in the device's clock). */
const CAMERAS = [
  { name: 'gate', codec: 'h264', video: join(FIXTURES, 'h264-320x240-10fps-gop10.h264'), frames: 100, fragments: 10, seconds: 10 },
  { name: 'barn', codec: 'h265', video: join(FIXTURES, 'h265-320x240-10fps-gop10.h265'), frames: 100, fragments: 10, seconds: 10 },
  { name: 'door', codec: 'mjpeg', video: join(FIXTURES, 'mjpeg-320x240-10fps.mjpeg'), frames: 30, fragments: 3, seconds: 3 },
] as const;

/** The first camera's microphone: the AAC fixture's first 156 frames (64 ms each, 16 kHz mono), inside its 10 s of video. */
const AAC_FRAMES = 156;
/** How long (device ms) the microphone runs before the cameras start: well within the device's pending audio records. */
const MIC_LEAD_MS = 500;
function microphone(): string {
  const aac = readFileSync(join(FIXTURES, 'aac-16khz-mono-10s.aac'));
  const h = new AdtsHeader();
  let end = 0;
  for (let i = 0; i < AAC_FRAMES; i++) {
    h.parse(aac, end, aac.length - end, end, true);
    end += h.frameLength;
  }
  const file = join(tmp.dir, 'mic.aac');
  writeFileSync(file, aac.subarray(0, end));
  return file;
}
/** The microphone's descriptor: after the three cameras' 3, 4, 5. */
const MIC_FD = 6;

for (const BOARD of ['pi-zero-w', 'pi-4']) {
  test(`${BOARD}: three cameras stream to <device>-<camera>; each decodes to exactly the frames fed; a stall holds up no other camera`, async () => {
    const image = await buildImage(loadBoardManifest(BOARD), { typecheck: false });
    const origin = Date.now();
    const cloud = await startCloud({
      stateDir: join(tmp.dir, BOARD, 'cloud'),
      port: 0,
      routes: [...mediaRoutes],
      config: { timeScale: SCALE, timeOrigin: origin },
    });
    try {
      await scenario(BOARD, image, cloud, origin);
    } finally {
      await cloud.close();
    }
  });
}

async function scenario(BOARD: string, image: ImageManifest, cloud: RunningCloud, origin: number): Promise<void> {
  const url = new URL(cloud.endpoint);
  const config = join(tmp.dir, BOARD, 'device.json');
  writeDeviceConfig(config, {
    board: loadBoardManifest(BOARD),
    streamName: 'yard',
    region: 'us-east-1',
    endpoint: { host: url.hostname, port: Number(url.port), caFile: cloud.caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec: 'h264',
    live: true,
    createRetentionHours: 24,
    statusIntervalMs: 250,
    cameras: CAMERAS.map((c, i) => ({
      name: c.name,
      codec: c.codec,
      ...(c.codec === 'mjpeg' ? { fps: { num: 10, den: 1 } } : {}),
      ...(i === 0 ? { audio: { codec: 'aac' as const, fd: MIC_FD, sampleRate: 16000, channels: 1 } } : {}),
    })),
  });
  const records: Rec[] = [];
  const mic = microphone();
  const booted = bootBoard({
    image: {
      dir: imageDir(BOARD),
      runtimeFlags: [...image.runtimeFlags, '--time-scale', String(SCALE), '--time-origin', String(origin)],
      ...(image.qemuCpu ? { qemuCpu: image.qemuCpu } : {}),
      ...(image.qemu ? { qemu: image.qemu } : {}),
    },
    config,
    video: CAMERAS[0].video,
    loop: false,
    cwd: ROOT,
    rate: SCALE,
    bytesPerSecond: 0,
    cameras: CAMERAS.map((c) => ({ video: c.video, bytesPerSecond: readFileSync(c.video).length / c.seconds })),
    audio: [{ file: mic, bytesPerSecond: readFileSync(mic).length / CAMERAS[0].seconds }],
    onRecord: (r) => {
      records.push(r);
      if (r.type !== 'status') return;
      // The cameras start once every session is connected (three TLS handshakes under QEMU are the device's boot,
      // not its steady state), all at once.
      if (r.connected === true) connected.add(r.camera as string);
      if (!started && connected.size === CAMERAS.length) {
        started = true;
        // The microphone half a second (device time) ahead of them, as a capture pipeline starts it: from boot on, its
        // packets would wait for the video past the device's pending records while three handshakes run under QEMU
        // (dropped as noFragment on a loaded machine); started with the video, it could end after the video did.
        for (const feed of booted.microphones) feed.resume();
        setTimeout(() => {
          for (const feed of booted.cameras) feed.resume();
        }, MIC_LEAD_MS / SCALE);
      }
      // Resumed four seconds (device time) after the device reported the stalled camera: the stall is in its status lines.
      if (paused && resume === undefined && r.camera === 'door') resume = setTimeout(() => booted.cameras[2]!.resume(), 4000 / SCALE);
    },
  });
  const connected = new Set<string>();
  let started = false;
  for (const feed of [...booted.cameras, ...booted.microphones]) feed.pause();
  // The MJPEG camera stalls after a third of its video (the capture process hangs), then sends the rest.
  const door = readFileSync(CAMERAS[2].video).length;
  let paused = false;
  let resume: NodeJS.Timeout | undefined;
  const watch = setInterval(() => {
    if (paused || booted.cameras[2]!.written < door / 3) return;
    booted.cameras[2]!.pause();
    paused = true;
  }, 5);
  const guard = setTimeout(() => booted.child.kill('SIGKILL'), 120_000);
  const { code, stderr } = await booted.exited;
  clearInterval(watch);
  for (const t of [resume, guard]) clearTimeout(t);
  const notStatus = JSON.stringify(records.filter((r) => r.type !== 'status'));
  assert.is(code, DEVICE_EXIT.OK, `${stderr}\n${notStatus}`);

  // One device, one memory budget: the pools side by side within poolBudgetBytes, the heap under its limit.
  const boot = records.find((r) => r.type === 'boot')!;
  assert.equal(
    (boot.cameras as Rec[]).map((c) => [c.camera, c.stream, c.fd]),
    [
      ['gate', 'yard-gate', 3],
      ['barn', 'yard-barn', 4],
      ['door', 'yard-door', 5],
    ],
  );
  assert.ok((boot.poolBytes as number) <= (boot.poolBudgetBytes as number), `pools ${String(boot.poolBytes)} within ${String(boot.poolBudgetBytes)}`);
  const peakHeap = Math.max(...records.filter((r) => r.type === 'summary').map((r) => r.peakHeapBytes as number));
  assert.ok(peakHeap < loadBoardManifest(BOARD).memory.jsBudgetBytes, `peak heap ${peakHeap}`);
  // The boot check's heap estimate (firmware/app/heapBudget.ts) held the peak and fit the limit.
  const estimate = boot.heapEstimateBytes as number;
  assert.ok(
    estimate >= peakHeap && estimate <= (boot.heapLimitBytes as number),
    `estimate ${estimate}, peak ${peakHeap}, limit ${String(boot.heapLimitBytes)}`,
  );

  const media = await Promise.all(CAMERAS.map((c) => getMedia(cloud, `yard-${c.name}`, join(tmp.dir, BOARD))));
  CAMERAS.forEach((c, i) => {
    const s = records.find((r) => r.type === 'summary' && r.camera === c.name)!;
    assert.equal(
      [s.stream, s.framesIn, s.fragmentsIn, s.fragmentsPersisted, s.framesDropped],
      [`yard-${c.name}`, c.frames, c.fragments, c.fragments, 0],
      `${c.name}: ${JSON.stringify(s)}`,
    );
    assert.is(distinctTimestamps(cloud, `yard-${c.name}`).length, c.fragments, c.name);
    assert.is(decodeErrors(media[i]!), '', c.name);
    assert.is(decodedFrameCount(media[i]!), c.frames, c.name);
  });

  // The microphone: every ADTS frame fed is in the first camera's stream, as its second track (plus any silence
  // the device filled in while the microphone lagged its video, counted in the summary).
  type Audio = { packetsIn: number; packetsQueued: number; silencePackets: number };
  const audio = records.find((r) => r.type === 'summary' && r.camera === 'gate')!.audio as Audio;
  assert.equal([audio.packetsIn, audio.packetsQueued], [AAC_FRAMES, AAC_FRAMES], JSON.stringify(audio));
  assert.is(cloud.ctx.streams.get('yard-gate')!.MediaType, 'video/h264,audio/aac');
  const packets = tool('ffprobe', [
    '-v',
    'error',
    '-count_packets',
    '-select_streams',
    'a:0',
    '-show_entries',
    'stream=nb_read_packets',
    '-of',
    'csv=p=0',
    media[0]!,
  ]);
  assert.is(Number(packets.stdout.trim()), AAC_FRAMES + audio.silencePackets, JSON.stringify(audio));

  // Fairness: while the MJPEG camera stood still, the others went on, never more than a fragment behind their ACKs.
  const lines = (camera: string) => records.filter((r) => r.type === 'status' && r.camera === camera);
  const doorFrames = lines('door').map((r) => r.framesIn as number);
  assert.ok(
    doorFrames.some((n, i) => i >= 8 && n === doorFrames[i - 8] && n < 30),
    `the MJPEG camera stalled for 2 s or more: ${doorFrames.join(' ')}`,
  );
  for (const name of ['gate', 'barn']) {
    const behind = lines(name)
      .filter((r) => (r.framesIn as number) > 0)
      .map((r) => (r.fragmentsIn as number) - (r.fragmentsPersisted as number));
    assert.ok(behind.length >= 10, `${behind.length} status lines of ${name}`);
    assert.ok(Math.max(...behind) <= 2, `${name}: fragments behind per status line: ${behind.join(' ')}`);
  }
}

test.run();
