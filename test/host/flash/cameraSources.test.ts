// Each camera adapter (host/lib/flash/cameraSource.ts) end to end: the run script `fieldcam flash` writes, run
// by sh with only its two board paths moved (the runtime's command line → this machine's sim-x86 image with a
// device configuration for the local KVS; the bundle's camera-url → a temporary file), its capture stage fed by
// ffmpeg-made sources, the firmware reading it on stdin and streaming to the local cloud. Judged by the device's
// own summary (frames in, every fragment PERSISTED) and by GetMedia decoded with ffprobe.
//   rtsp:       the URL is a FIFO into which ffmpeg -re writes an H.264 camera's stream as Matroska, whose
//               SPS/PPS live only in its CodecPrivate (as RTSP's sprop-parameter-sets): the script's ffmpeg -c
//               copy must put them in band. `-rtsp_transport tcp` is added only for rtsp:// URLs, so the script
//               runs verbatim; no RTSP server is involved, so RTSP itself (DESCRIBE/SETUP/PLAY) is not exercised.
//   mjpeg-http: a real multipart/x-mixed-replace stream, served by `ffmpeg -f mpjpeg -listen 1`.
//   rpicam software (pi-5): rpicam-vid is a stand-in on PATH (no camera here) that checks the arguments it is
//               given and writes raw I420 from ffmpeg's testsrc; ffmpeg/libx264 and the runtime are real.
//   audio:      no sound card here: the script's ALSA input options (`-f alsa -ac 1 -ar 8000 -i hw:1`) are
//               replaced by a WAV of an ffmpeg sine read in real time and its FIFO path by one in a temporary
//               directory; the FIFO, the G.711 encoder and the runtime's `3<` redirection run as written.
//   v4l2:       no V4L2 device exists here (no v4l2loopback in this container): the script's input options
//               (`-f v4l2 -input_format mjpeg -video_size … -framerate … -i /dev/videoN`) are replaced by an
//               MJPEG file read in real time (-re); everything after them (transcode to H.264, the pipe, the
//               runtime) runs as written.
// Every source is paced in real time, as a camera is: the device timestamps frames by its capture clock.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT } from '../../../firmware/app/runDevice.ts';
import { buildImage, imageDir, type ImageManifest } from '../../../host/lib/buildImage.ts';
import { CAMERA_URL_FILE, type CameraSource } from '../../../host/shared/cameraSource.ts';
import { BUNDLE_DIR, deviceCommand } from '../../../host/lib/flash/deviceTree.ts';
import { renderRunScript, type AudioPlan } from '../../../host/lib/flash/renderService.ts';
import { AUDIO_FIFO } from '../../../host/shared/audioSource.ts';
import { loadBoardManifest, type BoardManifest } from '../../../host/shared/loadBoardManifest.ts';
import { bootCommand } from '../../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../../sim/cloud/kvs/media/index.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud } from '../../../sim/cloud/startCloud.ts';
import { getMedia } from '../../device/storedMedia.ts';
import { decodedFrameCount, FIXTURES, ROOT, tempDir } from '../../e2e/tools.ts';
import { assert, suite } from '../../harness/index.ts';

const test = suite('camera adapters: the flashed run script, fed by ffmpeg-made sources, into the runtime and the local KVS');
const tmp = tempDir('fieldcam-camera-sources-');
let cloud: RunningCloud;
let image: ImageManifest;

/** sim-x86's image with a 320x240 @ 10 fps camera from `source`: a key frame per 1 s fragment (g = 10). */
function boardWith(codec: 'h264' | 'mjpeg', source: CameraSource): BoardManifest {
  const b = loadBoardManifest('sim-x86');
  return { ...b, camera: { codec, width: 320, height: 240, fps: 10, source } };
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function replaceOnce(text: string, find: string, by: string): string {
  assert.is(text.split(find).length - 1, 1, `exactly one ${JSON.stringify(find)} in the run script`);
  return text.replace(find, () => by);
}

/** The run script as flash writes it, with the runtime's command and the camera-url path moved here. */
function runScript(name: string, board: BoardManifest, url?: string, edit: (s: string) => string = (s) => s, audio?: AudioPlan): string {
  let script = renderRunScript(board, image, audio);
  const config = join(tmp.dir, `${name}.json`);
  const endpoint = new URL(cloud.endpoint);
  writeDeviceConfig(config, {
    board,
    streamName: name,
    region: 'us-east-1',
    endpoint: { host: endpoint.hostname, port: Number(endpoint.port), caFile: cloud.caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec: board.camera.codec,
    fps: { num: board.camera.fps, den: 1 },
    live: true,
    recorded: false,
    createRetentionHours: 24,
    statusIntervalMs: 0,
    ...(audio ? { audio: audio.audio } : {}),
  });
  const { command, args } = bootCommand({ dir: imageDir('sim-x86'), runtimeFlags: image.runtimeFlags }, config);
  script = replaceOnce(script, deviceCommand(image, '/').join(' '), [command, ...args].map(quote).join(' '));
  if (url !== undefined) {
    const file = join(tmp.dir, `${name}.url`);
    writeFileSync(file, `${url}\n`, { mode: 0o600 });
    script = replaceOnce(script, `/${BUNDLE_DIR}/${CAMERA_URL_FILE}`, file);
  }
  const path = join(tmp.dir, `${name}.run`);
  writeFileSync(path, edit(script), { mode: 0o755 });
  return path;
}

type Summary = Record<string, unknown>;

/** Runs the script to its end (the source ends, so the pipeline does); the firmware's summary line. */
function run(path: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; summary: Summary | undefined; stderr: string }> {
  return new Promise((done) => {
    const child = spawn('sh', [path], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(guard);
      const records = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Summary);
      done({ code, summary: records.find((r) => r.type === 'summary'), stderr: err });
    });
  });
}

/**
 * The device runs these as a camera (no --recorded, as on the board): an H.264 access unit is known complete
 * only when the next one starts, so the source's end cuts the last one (drops.truncated 1); a JPEG ends with its
 * EOI marker, so MJPEG keeps every frame. Timestamps are the capture clock, so fragments follow arrival time.
 */
async function judge(name: string, r: Awaited<ReturnType<typeof run>>, sent: number, codec: 'h264' | 'mjpeg'): Promise<void> {
  assert.is(r.code, DEVICE_EXIT.OK, r.stderr);
  const s = r.summary!;
  assert.ok(s, `a summary line (stderr: ${r.stderr})`);
  const cut = codec === 'h264' ? 1 : 0;
  const drops = s.drops as Record<string, number>;
  assert.equal([s.framesIn, s.framesDropped, drops.truncated, s.fragmentsPersisted], [sent - cut, cut, cut, s.fragmentsIn], JSON.stringify(s));
  assert.ok(Number(s.fragmentsIn) >= 1, JSON.stringify(s));
  const media = await getMedia(cloud, name, tmp.dir);
  // Every frame decodes without a decoder error. A start-up burst is stamped at half intervals (CaptureClock),
  // which ffmpeg's null muxer rescales onto its own coarser time base and then calls non-monotonic: that line
  // is about ffmpeg's output clock, not the stream, whose stored timestamps are checked to increase below.
  const decoded = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', media, '-fps_mode', 'passthrough', '-f', 'null', '-'], { encoding: 'utf8' });
  const complaints = decoded.stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^\[null @ \S+\] Application provided invalid, non monotonically increasing dts to muxer/.test(l));
  assert.equal([decoded.status, complaints], [0, []]);
  assert.is(decodedFrameCount(media), sent - cut);
  const pts = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts', '-of', 'csv=p=0', media], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .map(Number);
  assert.ok(pts.length === sent - cut && pts.every((t, i) => i === 0 || t > pts[i - 1]!), `stored timestamps strictly increase: ${pts.join(' ')}`);
}

/** Whether AVCC samples (4-byte big-endian lengths) hold an SPS. */
function hasSps(sample: Buffer): boolean {
  for (let at = 0; at + 4 < sample.length; at += 4 + sample.readUInt32BE(at)) if ((sample[at + 4]! & 0x1f) === 7) return true;
  return false;
}

function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
}

test('the sim-x86 image and the local cloud', async () => {
  image = await buildImage(loadBoardManifest('sim-x86'), { typecheck: false });
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
});

test('rtsp: ffmpeg -c copy of an H.264 source whose SPS/PPS are only out of band → every frame stored and decoded', async () => {
  const mp4 = join(tmp.dir, 'ipcam.mp4');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-frames:v', '40', '-c:v', 'libx264', '-g', '10', '-bf', '0', '-pix_fmt', 'yuv420p', mp4]);
  // The source really carries its parameter sets out of band: its first sample holds no SPS (NAL type 7).
  const sample = spawnSync('ffmpeg', ['-v', 'error', '-i', mp4, '-map', '0:v', '-c', 'copy', '-frames:v', '1', '-f', 'data', '-'], {
    maxBuffer: 1 << 24,
  }).stdout;
  assert.ok(sample.length > 8 && !hasSps(sample), 'the MP4 sample is length-prefixed, without an SPS');
  // A camera sends in real time: ffmpeg -re writes the file as Matroska (parameter sets in its CodecPrivate,
  // out of band like RTSP's SDP) into a FIFO, which is the URL the script reads.
  const fifo = join(tmp.dir, 'ipcam.mkv');
  assert.is(spawnSync('mkfifo', [fifo]).status, 0);
  const camera = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-re',
      '-i',
      mp4,
      '-c',
      'copy',
      '-f',
      'matroska',
      '-cluster_size_limit',
      '1',
      '-flush_packets',
      '1',
      '-y',
      fifo,
    ],
    { stdio: 'ignore' },
  );
  try {
    const board = boardWith('h264', { kind: 'rtsp' });
    const script = runScript('cam-rtsp', board, fifo);
    assert.ok(readFileSync(script, 'utf8').includes('-c:v copy -bsf:v h264_mp4toannexb,dump_extra=freq=keyframe -f h264 -'));
    await judge('cam-rtsp', await run(script), 40, 'h264');
  } finally {
    camera.kill('SIGKILL');
  }
});

/** Waits until a TCP port is in LISTEN state (from /proc/net/tcp: no connection made, ffmpeg -listen 1 serves one client). */
async function listening(port: number): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (let i = 0; i < 200; i++) {
    if (
      readFileSync('/proc/net/tcp', 'utf8')
        .split('\n')
        .some((l) => l.includes(hex) && l.split(/\s+/)[4] === '0A')
    )
      return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

test('mjpeg-http: a multipart MJPEG stream served by ffmpeg over HTTP → the 30 JPEG frames stored and decoded', async () => {
  const port = 20000 + (process.pid % 20000);
  const server = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-re',
      '-f',
      'mjpeg',
      '-framerate',
      '10',
      '-i',
      join(FIXTURES, 'mjpeg-320x240-10fps.mjpeg'),
      '-c',
      'copy',
      '-f',
      'mpjpeg',
      '-listen',
      '1',
      `http://127.0.0.1:${port}/cam.mjpg`,
    ],
    { stdio: 'ignore' },
  );
  try {
    await listening(port);
    const board = boardWith('mjpeg', { kind: 'mjpeg-http' });
    await judge('cam-http', await run(runScript('cam-http', board, `http://127.0.0.1:${port}/cam.mjpg`)), 30, 'mjpeg');
  } finally {
    server.kill('SIGKILL');
  }
});

test('rpicam software encode (pi-5): raw I420 from the camera, H.264 by ffmpeg/libx264 → every frame stored and decoded', async () => {
  const pi5 = loadBoardManifest('pi-5');
  assert.equal(pi5.camera.source, { kind: 'rpicam', encoder: 'software' });
  const bin = join(tmp.dir, 'bin');
  spawnSync('mkdir', ['-p', bin]);
  // The camera stand-in: refuses anything but what the script must ask for, then writes 30 raw frames.
  writeFileSync(
    join(bin, 'rpicam-vid'),
    `#!/bin/sh
case " $* " in *" -t 0 -n --codec yuv420 --width 320 --height 240 --framerate 10 --flush -o - "*) ;; *) echo "rpicam-vid stand-in: unexpected arguments: $*" >&2; exit 2 ;; esac
exec ffmpeg -hide_banner -loglevel error -nostdin -re -f lavfi -i testsrc=size=320x240:rate=10 -frames:v 30 -pix_fmt yuv420p -f rawvideo -
`,
  );
  chmodSync(join(bin, 'rpicam-vid'), 0o755);
  const board = boardWith('h264', pi5.camera.source!);
  const script = runScript('cam-pi5', board);
  assert.ok(readFileSync(script, 'utf8').includes('-c:v libx264 -preset ultrafast -tune zerolatency'));
  await judge('cam-pi5', await run(script, { ...process.env, PATH: `${bin}:${process.env.PATH}` }), 30, 'h264');
});

test('v4l2 (MJPEG camera → H.264): the script with only its V4L2 input options replaced by a file → every frame stored and decoded', async () => {
  const board = boardWith('h264', { kind: 'v4l2', device: '/dev/video0', format: 'mjpeg' });
  const v4l2Input = '-f v4l2 -input_format mjpeg -video_size 320x240 -framerate 10 -i /dev/video0';
  const script = runScript('cam-v4l2', board, undefined, (s) =>
    replaceOnce(s, v4l2Input, `-re -f mjpeg -framerate 10 -i ${join(FIXTURES, 'mjpeg-320x240-10fps.mjpeg')}`),
  );
  await judge('cam-v4l2', await run(script), 30, 'h264');
});

test("audio (ALSA → G.711 A-law, fd 3): the script's FIFO, encoder and redirection → every sample fed stored, then silence", async () => {
  const board = boardWith('h264', { kind: 'v4l2', device: '/dev/video0', format: 'mjpeg' });
  const audio: AudioPlan = { audio: { codec: 'alaw', fd: 3, sampleRate: 8000, channels: 1 }, source: { kind: 'alsa', device: 'hw:1' } };
  const wav = join(tmp.dir, 'mic.wav');
  ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000:duration=2', '-ac', '1', '-c:a', 'pcm_s16le', wav]); // 2 s inside the 3 s of video
  const fifo = join(tmp.dir, 'audio.fifo');
  const v4l2Input = '-f v4l2 -input_format mjpeg -video_size 320x240 -framerate 10 -i /dev/video0';
  const script = runScript(
    'cam-audio',
    board,
    undefined,
    (s) =>
      replaceOnce(
        replaceOnce(s, v4l2Input, `-re -f mjpeg -framerate 10 -i ${join(FIXTURES, 'mjpeg-320x240-10fps.mjpeg')}`),
        '-f alsa -ac 1 -ar 8000 -i hw:1',
        `-re -i ${wav}`,
      )
        .split(AUDIO_FIFO)
        .join(fifo),
    audio,
  );
  const text = readFileSync(script, 'utf8');
  assert.ok(
    text.includes(`[ -p ${fifo} ] || mkfifo -m 0600 ${fifo}`) &&
      text.includes(
        `-ac 1 -ar 8000 -c:a pcm_alaw -f alaw -y ${fifo} \\\n  || echo "fieldcam: the microphone's encoder (alsa hw:1) ended with $?: the device sends silence" >&2; : <> ${fifo}; } &`,
      ) &&
      text.trimEnd().endsWith(`3< ${fifo}`),
    text,
  );
  const r = await run(script);
  await judge('cam-audio', r, 30, 'h264');
  const a = r.summary!.audio as Record<string, number>;
  assert.is(a.packetsIn, 100, JSON.stringify(a)); // 2 s of 8 kHz A-law in 20 ms packets
  const media = await getMedia(cloud, 'cam-audio', tmp.dir);
  const stored = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', media, '-map', '0:a:0', '-c', 'copy', '-f', 'alaw', '-'], { maxBuffer: 1 << 24 }).stdout;
  const fed = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', wav, '-c:a', 'pcm_alaw', '-f', 'alaw', '-'], { maxBuffer: 1 << 24 }).stdout;
  assert.is(fed.length, 16000);
  // A live device drops the packets that arrive before the first video key frame opens a fragment
  // (drops.noFragment); every one after it is stored as fed, then silence to the video's end.
  const skip = (a.drops as unknown as Record<string, number>).noFragment! * 160;
  assert.ok(skip < 1600, JSON.stringify(a));
  assert.ok(stored.subarray(0, fed.length - skip).equals(fed.subarray(skip)), 'the stored track holds exactly the samples the script encoded, in order');
  assert.equal([stored.length, a.packetsSent], [a.packetsQueued! * 160, a.packetsQueued], JSON.stringify(a));
  assert.ok(
    stored.subarray(fed.length - skip).every((b) => b === 0xd5),
    'then A-law silence',
  );
});

test('audio: a microphone that fails at once (no such card) does not hold the camera: the video streams, the audio is silence', async () => {
  const board = boardWith('h264', { kind: 'v4l2', device: '/dev/video0', format: 'mjpeg' });
  const audio: AudioPlan = { audio: { codec: 'alaw', fd: 3, sampleRate: 8000, channels: 1 }, source: { kind: 'alsa', device: 'hw:1' } };
  const fifo = join(tmp.dir, 'nomic.fifo');
  const v4l2Input = '-f v4l2 -input_format mjpeg -video_size 320x240 -framerate 10 -i /dev/video0';
  const script = runScript(
    'cam-nomic',
    board,
    undefined,
    (s) =>
      replaceOnce(
        replaceOnce(s, v4l2Input, `-re -f mjpeg -framerate 10 -i ${join(FIXTURES, 'mjpeg-320x240-10fps.mjpeg')}`),
        '-f alsa -ac 1 -ar 8000 -i hw:1',
        `-i ${join(tmp.dir, 'no-such-card.wav')}`,
      )
        .split(AUDIO_FIFO)
        .join(fifo),
    audio,
  );
  const r = await run(script);
  assert.ok(/fieldcam: the microphone's encoder \(alsa hw:1\) ended with [1-9]\d*: the device sends silence/.test(r.stderr), r.stderr);
  await judge('cam-nomic', r, 30, 'h264');
  const a = r.summary!.audio as Record<string, number>;
  // Nothing from the microphone: every packet sent is silence (one more may be made before the first fragment opens).
  assert.equal([a.packetsIn, a.packetsSent > 0, a.packetsSent, a.silencePackets - a.packetsSent <= 1], [0, true, a.packetsQueued, true], JSON.stringify(a));
  const stored = spawnSync(
    'ffmpeg',
    ['-nostdin', '-v', 'error', '-i', await getMedia(cloud, 'cam-nomic', tmp.dir), '-map', '0:a:0', '-c', 'copy', '-f', 'alaw', '-'],
    { maxBuffer: 1 << 24 },
  ).stdout;
  assert.ok(stored.length === a.packetsSent! * 160 && stored.every((b) => b === 0xd5), 'the stored track is A-law silence');
});

test("audio (AAC): the script encodes ADTS at the track's rate and channels into the runtime's fd", () => {
  const board = boardWith('h264', { kind: 'rpicam' });
  const text = renderRunScript(board, image, {
    audio: { codec: 'aac', fd: 3, sampleRate: 48000, channels: 2 },
    source: { kind: 'alsa', device: 'plughw:CARD=Device,DEV=0' },
  });
  assert.ok(
    text.includes(
      `ffmpeg -hide_banner -loglevel error -nostdin -f alsa -ac 2 -ar 48000 -i plughw:CARD=Device,DEV=0 -ac 2 -ar 48000 -c:a aac -b:a 64k -f adts -y ${AUDIO_FIFO} \\\n`,
    ),
    text,
  );
  assert.ok(text.trimEnd().endsWith(`3< ${AUDIO_FIFO}`), text);
  assert.ok(!renderRunScript(board, image).includes('alsa'), 'no audio stage without a microphone');
});

test('a missing tool: the run script exits 10 naming the package', async () => {
  const board = boardWith('h264', { kind: 'v4l2' });
  // sh by its absolute path; `command -v ffmpeg` then fails on this PATH.
  const r = spawnSync('/bin/sh', [runScript('cam-notool', board)], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
  assert.is(r.status, 10, r.stderr);
  assert.ok(r.stderr.includes('fieldcam: no ffmpeg for the v4l2 camera: sudo apt install ffmpeg'), r.stderr);
});

test.after(async () => {
  // stop the local cloud
  await cloud.close();
  tmp.remove();
});

test.run();
