// `fieldcam flash` with a bundle of several cameras (device.cbor `cameras`, issue 18): which capture each camera
// gets (its own `source`, else the board's), the refusals when two cameras would share one camera or a URL is
// missing, and the run script run end to end. For that run, two V4L2 cameras (an MJPEG one copied, an H.264 one
// copied through h264_mp4toannexb) have only their `-f v4l2 … -i /dev/videoN` input options replaced by the
// fixture files read in real time (no V4L2 device here); the FIFOs, the fds 3 and 4, the SIGTERM when a capture
// ends and the sim-x86 runtime streaming both cameras to the local KVS run as written. Judged by each camera's
// summary line and by GetMedia of its stream decoded with ffmpeg. Last, the real CLI: provision --camera with each
// camera's source, bitrate and URL file, flash --target refused without the URL file, then the tree written unedited.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT } from '../../../firmware/app/runDevice.ts';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import { encodeCbor } from '../../../firmware/core/cbor/encodeCbor.ts';
import { buildImage, imageDir, type ImageManifest } from '../../../host/lib/buildImage.ts';
import { BUNDLE_DIR, deviceCommand } from '../../../host/lib/flash/deviceTree.ts';
import { cameraSourceRows } from '../../../host/lib/doctor/cameraSourceRows.ts';
import { flashCameras } from '../../../host/lib/flash/flashCameras.ts';
import { cameraMicrophonePlans, parseCameraAudioFlag } from '../../../host/shared/audioSource.ts';
import { renderInstallScript } from '../../../host/lib/flash/renderService.ts';
import { renderMultiCameraRun } from '../../../host/lib/flash/renderMultiCameraRun.ts';
import { captureCommand, parseCameraSourceFlag } from '../../../host/shared/cameraSource.ts';
import { loadBoardManifest, type BoardManifest } from '../../../host/shared/loadBoardManifest.ts';
import { bootCommand } from '../../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../../sim/cloud/kvs/media/index.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud } from '../../../sim/cloud/startCloud.ts';
import { getMedia } from '../../device/storedMedia.ts';
import { decodedFrameCount, FIXTURES, ROOT, tempDir } from '../../e2e/tools.ts';
import { assert, suite } from '../../harness/index.ts';
import { cli } from '../provision/provisionKit.ts';
import { buildRaspiosImage } from './raspiosImage.ts';

const test = suite('flash with several cameras: one capture per camera on fds 3.., collisions refused, the run script end to end');
const tmp = tempDir('fieldcam-flash-multi-');
const PI4 = loadBoardManifest('pi-4');

/** A bundle directory holding only device.cbor (flashCameras reads nothing else) and the given URL files. */
function bundleWith(name: string, cameras: Record<string, unknown>[], urls: Record<string, string> = {}): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  const out = new Uint8Array(16 * 1024);
  const n = encodeCbor({ version: 1, thingName: 'yard', cameras }, out);
  writeFileSync(join(dir, 'device.cbor'), out.subarray(0, n));
  for (const [camera, url] of Object.entries(urls)) writeFileSync(join(dir, `camera-url-${camera}`), `${url}\n`, { mode: 0o600 });
  return dir;
}

function refused(fn: () => unknown, code: string, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.is((err as { code?: string }).code, code, (err as Error).message);
    assert.ok(message.test((err as Error).message), `${(err as Error).message} matches ${message}`);
    return;
  }
  assert.ok(false, `refused with ${code}`);
}

const image = { version: '0.0.0-test', runtimeFlags: [] } as unknown as ImageManifest;

test('two CSI cameras by index, a USB and an RTSP camera: one capture each, into fds 3..6, the URL from the bundle', () => {
  const bundle = bundleWith(
    'four',
    [
      { name: 'front', source: 'rpicam:0' },
      { name: 'back', source: { kind: 'rpicam', camera: 1 } },
      { name: 'usb', source: 'v4l2:/dev/video4:h264' },
      { name: 'gate', source: 'rtsp' },
    ],
    { gate: 'rtsp://user:pw@10.0.0.9/stream1' },
  );
  const cameras = flashCameras(PI4, bundle)!;
  assert.equal(
    cameras.map((c) => [c.name, c.source.kind, c.url?.file]),
    [
      ['front', 'rpicam', undefined],
      ['back', 'rpicam', undefined],
      ['usb', 'v4l2', undefined],
      ['gate', 'rtsp', 'camera-url-gate'],
    ],
  );
  const script = renderMultiCameraRun(PI4, image, cameras);
  assert.ok(/"\$capture" -t 0 -n --camera 0 --codec h264 /.test(script), String(/"\$capture" -t 0 -n --camera 0 --codec h264 /));
  assert.ok(/"\$capture" -t 0 -n --camera 1 --codec h264 /.test(script), String(/"\$capture" -t 0 -n --camera 1 --codec h264 /));
  assert.ok(
    /-f v4l2 -input_format h264 .* -i \/dev\/video4 -an -c:v copy /.test(script),
    String(/-f v4l2 -input_format h264 .* -i \/dev\/video4 -an -c:v copy /),
  );
  assert.ok(new RegExp(`url=\\$\\(cat /${BUNDLE_DIR}/camera-url-gate\\)`).test(script), String(new RegExp(`url=\\$\\(cat /${BUNDLE_DIR}/camera-url-gate\\)`)));
  assert.ok(!script.includes('user:pw'), 'the URL (and its password) is never in the run script');
  assert.ok(
    /\) >"\$fifos\/3" &\nexec 3<"\$fifos\/0" 4<"\$fifos\/1" 5<"\$fifos\/2" 6<"\$fifos\/3"\n/.test(script),
    String(/\) >"\$fifos\/3" &\nexec 3<"\$fifos\/0" 4<"\$fifos\/1" 5<"\$fifos\/2" 6<"\$fifos\/3"\n/),
  );
  assert.ok(/\nexec \/opt\/fieldcam\/fieldcam-runtime .*<\/dev\/null\n$/.test(script), String(/\nexec \/opt\/fieldcam\/fieldcam-runtime .*<\/dev\/null\n$/));
  // The rpicam tool lookup once, ffmpeg's once: the script is valid sh.
  assert.is(script.split('for tool in rpicam-vid libcamera-vid').length - 1, 1);
  const path = join(tmp.dir, 'four.run');
  writeFileSync(path, script);
  assert.is(spawnSync('sh', ['-n', path]).status, 0);
  // install.sh checks each camera (the CSI ones listed, the USB node present, the URL file filled) and locks the URL file.
  const install = renderInstallScript(PI4, image, undefined, cameras);
  for (const line of [
    'camera front not detected',
    'camera back not detected',
    'if [ -c /dev/video4 ]',
    `if [ -s /${BUNDLE_DIR}/camera-url-gate ]`,
    `chmod 0600 /${BUNDLE_DIR}/device.cbor /${BUNDLE_DIR}/private.key /${BUNDLE_DIR}/camera-url-gate\n`,
  ])
    assert.ok(install.includes(line), line);
  writeFileSync(path, install);
  assert.is(spawnSync('sh', ['-n', path]).status, 0);
});

test('rpicam:N and rpicam:software:N: rpicam-vid --camera N, hardware or software encode; out of range refused', () => {
  assert.equal(parseCameraSourceFlag('rpicam:1'), { kind: 'rpicam', camera: 1 });
  assert.equal(parseCameraSourceFlag('rpicam:software:1'), { kind: 'rpicam', encoder: 'software', camera: 1 });
  assert.equal(parseCameraSourceFlag('rpicam:software'), { kind: 'rpicam', encoder: 'software' });
  assert.throws(() => parseCameraSourceFlag('rpicam:8'), 'CLI_USAGE');
  const pi5 = loadBoardManifest('pi-5');
  const soft = captureCommand({ ...pi5, camera: { ...pi5.camera, source: { kind: 'rpicam', encoder: 'software', camera: 1 } } });
  assert.ok(soft.startsWith('"$capture" -t 0 -n --camera 1 --codec yuv420 '), soft);
  assert.ok(!captureCommand(PI4).includes('--camera'), 'a one-camera board without an index: the script as before');
});

test("cameras without a source take the board's; collisions are refused with FLASH_CAMERA_SOURCE_CONFLICT and a remedy", () => {
  const twoCsi = bundleWith('two-csi', [{ name: 'a' }, { name: 'b' }]);
  refused(() => flashCameras(PI4, twoCsi), 'FLASH_CAMERA_SOURCE_CONFLICT', /cameras a and b both capture from the Raspberry Pi camera 0 .*source "rpicam:1"/);
  const index0 = bundleWith('index-0', [{ name: 'a' }, { name: 'b', source: 'rpicam:0' }]);
  refused(() => flashCameras(PI4, index0), 'FLASH_CAMERA_SOURCE_CONFLICT', /the Raspberry Pi camera 0/);
  const usb = bundleWith('two-usb', [
    { name: 'a', source: 'v4l2' },
    { name: 'b', source: { kind: 'v4l2', device: '/dev/video0' } },
  ]);
  refused(() => flashCameras(PI4, usb), 'FLASH_CAMERA_SOURCE_CONFLICT', /the V4L2 device \/dev\/video0, .*v4l2:\/dev\/video2/);
  const sameUrl = bundleWith(
    'same-url',
    [
      { name: 'a', source: 'rtsp' },
      { name: 'b', source: 'rtsp' },
    ],
    { a: 'rtsp://u:secret@cam/1', b: 'rtsp://u:secret@cam/1' },
  );
  refused(() => flashCameras(PI4, sameUrl), 'FLASH_CAMERA_SOURCE_CONFLICT', /the URL rtsp:\/\/\*\*\*@cam\/1/);
  const csiAndUsb = flashCameras(PI4, bundleWith('csi-usb', [{ name: 'a' }, { name: 'b', source: 'v4l2' }]))!;
  assert.equal(
    csiAndUsb.map((c) => c.source.kind),
    ['rpicam', 'v4l2'],
  );
});

test('a bad source or a missing URL file: FLASH_CAMERA_SOURCE_INVALID naming the camera; microphones paired per camera', () => {
  refused(
    () => flashCameras(PI4, bundleWith('bad-kind', [{ name: 'a', source: 'webcam' }, { name: 'b' }])),
    'FLASH_CAMERA_SOURCE_INVALID',
    /cameras\[0\]\.source "webcam"/,
  );
  refused(
    () => flashCameras(PI4, bundleWith('bad-map', [{ name: 'a', source: { kind: 'rpicam', camera: 9 } }])),
    'FLASH_CAMERA_SOURCE_INVALID',
    /cameras\[0\]\.source\.camera must be a camera index 0-7/,
  );
  refused(
    () => flashCameras(PI4, bundleWith('no-url', [{ name: 'a' }, { name: 'gate', source: 'mjpeg-http' }])),
    'FLASH_CAMERA_SOURCE_INVALID',
    /camera gate is a mjpeg-http camera and .*camera-url-gate cannot be read \(ENOENT\)/,
  );
  refused(
    () => flashCameras(PI4, bundleWith('bad-url', [{ name: 'gate', source: 'rtsp' }], { gate: 'http://x/' })),
    'CLI_USAGE',
    /camera-url-gate: not a rtsp:\/\/ or rtsps:\/\/ URL/,
  );
  // Microphones: `--audio-source CAMERA=alsa[:DEVICE]` for each camera with cameras[i].audio, paired by the one rule.
  assert.equal(parseCameraAudioFlag('avc=alsa:plughw:CARD=Device,DEV=0'), { camera: 'avc', source: { kind: 'alsa', device: 'plughw:CARD=Device,DEV=0' } });
  assert.equal(parseCameraAudioFlag('alsa:plughw:CARD=Device,DEV=0'), { camera: undefined, source: { kind: 'alsa', device: 'plughw:CARD=Device,DEV=0' } });
  assert.equal(parseCameraAudioFlag('avc=alsa'), { camera: 'avc', source: { kind: 'alsa', device: 'hw:1' } });
  assert.throws(() => parseCameraAudioFlag('avc=pulse'), 'CLI_USAGE');
  const aac = { codec: 'aac', fd: 5, sampleRate: 48000, channels: 1 } as const;
  const two = [{ name: 'a', audio: aac }, { name: 'b' }, { name: 'c', audio: { ...aac, fd: 6 } }];
  const hw = (device: string) => ({ kind: 'alsa', device }) as const;
  assert.equal([...cameraMicrophonePlans(two, { a: hw('hw:1'), c: hw('hw:2') }, 'B').keys()], ['a', 'c']);
  refused(
    () => cameraMicrophonePlans(two, { a: hw('hw:1') }, 'B'),
    'FLASH_AUDIO_SOURCE_MISSING',
    /camera c of the bundle B has audio \(aac, fd 6\).*--audio-source c=alsa:hw:1/,
  );
  refused(() => cameraMicrophonePlans(two, { a: hw('hw:1'), b: hw('hw:2'), c: hw('hw:3') }, 'B'), 'CLI_USAGE', /no camera b with audio.*are a, c/);
  refused(() => cameraMicrophonePlans(two, { a: hw('hw:1'), c: hw('hw:1') }, 'B'), 'CLI_USAGE', /cameras a and c both record from ALSA hw:1/);
  // A one-camera bundle (no `cameras`): flash writes the one-camera run script (renderService.ts).
  const one = join(tmp.dir, 'one');
  mkdirSync(one);
  const out = new Uint8Array(1024);
  writeFileSync(join(one, 'device.cbor'), out.subarray(0, encodeCbor({ version: 1, thingName: 'solo' }, out)));
  assert.is(flashCameras(PI4, one), undefined);
});

test("doctor: one camera-source row per camera (its adapter's tools), a FAIL when flash would refuse the sources", () => {
  const bundle = bundleWith('doctor', [
    { name: 'front', source: 'rpicam:0' },
    { name: 'usb', source: 'v4l2:/dev/video2' },
  ]);
  const onlyFfmpeg = (tool: string) => (tool === 'ffmpeg' ? '/usr/bin/ffmpeg' : undefined);
  const rows = cameraSourceRows(PI4, bundle, onlyFfmpeg, 'the image');
  assert.equal(
    rows.map((r) => [r.check, r.status]),
    [
      ['camera source front', 'WARN'],
      ['camera source usb', 'PASS'],
    ],
  );
  assert.ok(/rpicam-vid or libcamera-vid not on the image/.test(rows[0]!.cause), rows[0]!.cause);
  const clash = cameraSourceRows(PI4, bundleWith('doctor-clash', [{ name: 'a' }, { name: 'b' }]), onlyFfmpeg, 'the image');
  assert.equal(
    clash.map((r) => [r.check, r.status]),
    [['camera source', 'FAIL']],
  );
  assert.ok(/FLASH_CAMERA_SOURCE_CONFLICT: .*cameras a and b/.test(clash[0]!.cause), clash[0]!.cause);
});

let cloud: RunningCloud | undefined;
test.after(async () => {
  await cloud?.close();
  tmp.remove();
});

test('the run script end to end: two V4L2 cameras (MJPEG, H.264 with a microphone) through FIFOs on fds 3, 4 and 5 → both streams stored and decoded, the audio as fed', async () => {
  const sim = await buildImage(loadBoardManifest('sim-x86'), { typecheck: false });
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
  const b = loadBoardManifest('sim-x86');
  const board: BoardManifest = { ...b, camera: { ...b.camera, codec: 'h264', width: 320, height: 240, fps: 10 } };
  const bundle = bundleWith('e2e', [
    { name: 'jpeg', codec: 'mjpeg', fps: 10, source: 'v4l2:/dev/video0:mjpeg' },
    { name: 'avc', codec: 'h264', source: 'v4l2:/dev/video2:h264', audio: { codec: 'alaw', fd: 5, sampleRate: 8000, channels: 1 } },
  ]);
  const mic = { codec: 'alaw', fd: 5, sampleRate: 8000, channels: 1 } as const;
  const mics = cameraMicrophonePlans([{ name: 'jpeg' }, { name: 'avc', audio: mic }], { avc: { kind: 'alsa', device: 'hw:1' } }, bundle);
  let script = renderMultiCameraRun(board, sim, flashCameras(board, bundle)!, mics);
  // 2 s of a 440 Hz tone: the microphone, inside the 3 s the MJPEG camera runs.
  const wav = join(tmp.dir, 'mic.wav');
  assert.is(
    spawnSync('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=8000:duration=2',
      '-ac',
      '1',
      '-c:a',
      'pcm_s16le',
      wav,
    ]).status,
    0,
  );
  const config = join(tmp.dir, 'e2e.json');
  const endpoint = new URL(cloud.endpoint);
  writeDeviceConfig(config, {
    board,
    streamName: 'yard',
    region: 'us-east-1',
    endpoint: { host: endpoint.hostname, port: Number(endpoint.port), caFile: cloud.caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec: 'h264',
    live: true,
    recorded: false,
    createRetentionHours: 24,
    statusIntervalMs: 0,
    cameras: [
      { name: 'jpeg', codec: 'mjpeg', fps: { num: 10, den: 1 } },
      { name: 'avc', codec: 'h264', audio: mic },
    ],
  });
  const { command, args } = bootCommand({ dir: imageDir('sim-x86'), runtimeFlags: sim.runtimeFlags }, config);
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const swap = (find: string, by: string) => {
    assert.is(script.split(find).length - 1, 1, `exactly one ${JSON.stringify(find)} in the run script`);
    script = script.replace(find, () => by);
  };
  swap(deviceCommand(sim, '/').join(' '), [command, ...args].map(quote).join(' '));
  swap(
    '-f v4l2 -input_format mjpeg -video_size 320x240 -framerate 10 -i /dev/video0',
    `-re -f mjpeg -framerate 10 -i ${join(FIXTURES, 'mjpeg-320x240-10fps.mjpeg')}`,
  );
  swap(
    '-f v4l2 -input_format h264 -video_size 320x240 -framerate 10 -i /dev/video2',
    `-re -f h264 -framerate 10 -i ${join(FIXTURES, 'h264-320x240-10fps-gop10.h264')}`,
  );
  // The microphone's FIFO beside the cameras', on the track's fd, encoded as the track says; only its ALSA input replaced.
  for (const line of [
    '[ -p "$fifos/mic-avc" ] || mkfifo -m 0600 "$fifos/mic-avc"\n',
    '-ac 1 -ar 8000 -c:a pcm_alaw -f alaw -y "$fifos/mic-avc"',
    'exec 3<"$fifos/0" 4<"$fifos/1" 5<"$fifos/mic-avc"\n',
    'rm -f "$fifos/0" "$fifos/1" "$fifos/mic-avc"\n',
  ])
    assert.ok(script.includes(line), line);
  swap('-f alsa -ac 1 -ar 8000 -i hw:1', `-re -i ${wav}`);
  const path = join(tmp.dir, 'e2e.run');
  writeFileSync(path, script, { mode: 0o755 });
  const r = await new Promise<{ code: number | null; out: string; err: string }>((done) => {
    const child = spawn('sh', [path], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(guard);
      done({ code, out, err });
    });
  });
  // One SIGTERM (a second would make the runtime exit at once, 143, without its last fragments): a clean stop.
  assert.is(r.code, DEVICE_EXIT.OK, r.err);
  assert.ok(!/No such file|Permission denied|Bad fd/.test(r.err), r.err);
  const records = r.out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const name of ['jpeg', 'avc']) {
    const s = records.find((x) => x.type === 'summary' && x.camera === name);
    assert.ok(s, `a summary for ${name} (exit ${r.code}; stderr: ${r.err})`);
    // The MJPEG source is 3 s (30 JPEGs, each complete at its EOI), the H.264 one 10 s: the MJPEG capture ends
    // first, its subshell sends the runtime SIGTERM, and the runtime sends what it holds of both cameras.
    if (name === 'jpeg') assert.is(s!.framesIn, 30, JSON.stringify(s));
    else assert.ok(Number(s!.framesIn) >= 15 && Number(s!.framesIn) < 100, `avc was stopped with jpeg: ${JSON.stringify(s)}`);
    assert.ok(s!.fragmentsPersisted === s!.fragmentsIn && Number(s!.fragmentsIn) >= 2, `${name}: ${JSON.stringify(s)}`);
    const media = await getMedia(cloud, `yard-${name}`, tmp.dir);
    assert.is(decodedFrameCount(media), s!.framesIn, `${name}: every frame counted in is stored and decodes`);
    if (name !== 'avc') continue;
    // avc's audio track holds the samples its microphone stage encoded, in order (those before the first key frame
    // opened a fragment are dropped, drops.noFragment), then silence.
    const a = s!.audio as Record<string, number> & { drops: Record<string, number> };
    const stored = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', media, '-map', '0:a:0', '-c', 'copy', '-f', 'alaw', '-'], {
      maxBuffer: 1 << 24,
    }).stdout;
    const fed = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', wav, '-c:a', 'pcm_alaw', '-f', 'alaw', '-'], { maxBuffer: 1 << 24 }).stdout;
    const skip = (a.drops.noFragment ?? 0) * 160;
    // How much comes before the first key frame depends on which capture starts first (a loaded machine: up to ~0.5 s).
    assert.ok(a.packetsIn >= 50 && skip <= fed.length / 2, JSON.stringify(a));
    const heard = Math.min(fed.length - skip, stored.length);
    assert.ok(heard >= 4000, `at least 0.5 s of the tone stored: ${heard} bytes, ${JSON.stringify(a)}`);
    assert.ok(stored.subarray(0, heard).equals(fed.subarray(skip, skip + heard)), 'the stored track holds exactly the samples the script encoded, in order');
  }
});

test("the CLI: provision --camera with sources, bitrate and a URL file, flash --target with no hand edits → the tree's run script and URL file", async () => {
  const work = join(tmp.dir, 'cli');
  mkdirSync(join(work, 'root'), { recursive: true });
  const bundle = join(work, 'yard');
  const urlFile = join(work, 'gate.url');
  writeFileSync(urlFile, 'rtsp://viewer:secret@192.0.2.7/stream1\n');
  const provision = (extra: string[]) =>
    cli(cloud!, work, ['provision', '--thing', 'yard', '--out', bundle, '--endpoint-url', cloud!.endpoint, '--json', ...extra]);
  const cameras = ['--camera', 'front=rpicam:1,bitrate=1500', '--camera', 'gate=rtsp'];
  // An RTSP camera without its URL: refused before any AWS call, naming the flag that gives it.
  const noUrl = await provision(cameras);
  assert.ok(noUrl.status !== 0 && /PROVISION_CAMERA_INVALID: camera gate is an rtsp camera .*--camera-url-file gate=FILE/.test(noUrl.stderr), noUrl.stderr);
  const p = await provision([...cameras, '--camera-url-file', `gate=${urlFile}`]);
  assert.is(p.status, 0, p.stderr);
  assert.ok(!p.stdout.includes('secret') && !p.stderr.includes('secret'), 'provision prints the URL nowhere');
  const bytes = readFileSync(join(bundle, 'device.cbor'));
  assert.equal((decodeCbor(bytes, 0, bytes.length) as { cameras: unknown }).cameras, [
    { name: 'front', bitrateKbps: 1500, source: 'rpicam:1' },
    { name: 'gate', source: 'rtsp' },
  ]);
  const urlInBundle = join(bundle, 'camera-url-gate');
  assert.equal([readFileSync(urlInBundle, 'utf8'), statSync(urlInBundle).mode & 0o777], ['rtsp://viewer:secret@192.0.2.7/stream1\n', 0o600]);
  // A re-run naming the cameras only keeps their sources, bitrate and URL.
  const again = await provision(['--cameras', 'front,gate']);
  assert.is(again.status, 0, again.stderr);
  assert.equal(readFileSync(join(bundle, 'device.cbor')), bytes, 'device.cbor unchanged');
  const flash = (extra: string[] = []) =>
    cli(cloud!, work, ['flash', '--bundle', bundle, '--board', 'pi-4', '--target', join(work, 'root'), '--json', ...extra]);
  // Without its URL file, flash refuses the bundle and writes nothing.
  renameSync(urlInBundle, `${urlInBundle}.away`);
  const missing = await flash();
  assert.is(missing.status, 1, missing.stderr);
  assert.ok(/FLASH_CAMERA_SOURCE_INVALID/.test(missing.stderr) && /camera-url-gate/.test(missing.stderr), missing.stderr);
  assert.equal(readdirSync(join(work, 'root')), [], 'nothing written');
  renameSync(`${urlInBundle}.away`, urlInBundle);
  // Bitrates whose pools exceed the board's budget: flash says now what the device would refuse at boot.
  const big = await provision(['--camera', 'front=rpicam:1,bitrate=30000', '--camera', 'gate=rtsp,bitrate=30000']);
  assert.is(big.status, 0, big.stderr);
  const over = await flash();
  assert.ok(
    over.status === 1 &&
      /FLASH_BUNDLE_INVALID: .*the frame pools of 2 camera\(s\) need \d+ bytes \(front \d+, gate \d+\); board pi-4 allows 167772160/.test(over.stderr),
    over.stderr,
  );
  assert.equal(readdirSync(join(work, 'root')), [], 'nothing written');
  assert.is((await provision(cameras)).status, 0);
  // A microphone named for a camera without an audio track, or without a camera name: refused, nothing written.
  const noTrack = await flash(['--audio-source', 'front=alsa:hw:1']);
  assert.ok(noTrack.status === 2 && /--audio-source front=…: the bundle .* has no camera front with audio/.test(noTrack.stderr), noTrack.stderr);
  const unnamed = await flash(['--audio-source', 'front=alsa:hw:1', '--audio-source', 'alsa:hw:2']);
  assert.ok(unnamed.status === 2 && /--audio-source alsa:hw:2: with several microphones each names its camera/.test(unnamed.stderr), unnamed.stderr);
  assert.equal(readdirSync(join(work, 'root')), [], 'nothing written');
  const f = await flash();
  assert.is(f.status, 0, f.stderr);
  assert.ok(!f.stdout.includes('secret') && !f.stderr.includes('secret'), 'the URL is printed nowhere');
  const run = readFileSync(join(work, 'root', 'opt', 'fieldcam', 'run'), 'utf8');
  assert.ok(
    run.includes('"$capture" -t 0 -n --camera 1 --codec h264') &&
      run.includes('--bitrate 1500000 ') &&
      run.includes(`url=$(cat /${BUNDLE_DIR}/camera-url-gate)`) &&
      run.includes('exec 3<"$fifos/0" 4<"$fifos/1"\n'),
    run,
  );
  assert.ok(!run.includes('secret'));
  const url = join(work, 'root', BUNDLE_DIR, 'camera-url-gate');
  assert.equal([readFileSync(url, 'utf8'), statSync(url).mode & 0o777], ['rtsp://viewer:secret@192.0.2.7/stream1\n', 0o600]);
  // An URL adapter as the board's default asks for no --camera-url-file with such a bundle, and refuses one.
  const viaFlag = await flash(['--camera-source', 'rtsp']);
  assert.is(viaFlag.status, 0, viaFlag.stderr);
  writeFileSync(join(work, 'one.url'), 'rtsp://192.0.2.8/s\n');
  const withFile = await flash(['--camera-source', 'rtsp', '--camera-url-file', join(work, 'one.url')]);
  assert.ok(
    withFile.status === 2 && /lists 2 cameras: each RTSP\/HTTP camera's URL goes in the bundle file camera-url-<camera>/.test(withFile.stderr),
    withFile.stderr,
  );
  // Into a Raspberry Pi OS image, then --verify: a camera-source row per camera and the URL camera's file checked.
  const raspios = join(work, 'raspios.img');
  buildRaspiosImage(raspios);
  const img = await cli(cloud!, work, [
    'flash',
    '--bundle',
    bundle,
    '--board',
    'pi-4',
    '--camera-source',
    'rtsp',
    '--image',
    raspios,
    '-o',
    join(work, 'yard.img'),
  ]);
  assert.is(img.status, 0, img.stderr);
  const v = await cli(cloud!, work, ['flash', '--verify', join(work, 'yard.img')]);
  for (const row of [
    /^(PASS|WARN) {2}camera source front\s.*rpicam/m,
    /^WARN {2}camera source gate\s.*rtsp.*ffmpeg not on the image/m,
    /^PASS {2}camera URL gate\s.*camera-url-gate \(0600/m,
  ])
    assert.ok(row.test(v.stdout), `${row}\n${v.stdout}`);
  assert.ok(!v.stdout.includes('secret'));
  // The per-camera rows replace the board's (whose rtsp adapter, from --camera-source, has no camera-url of its own).
  assert.ok(!/^\w{4} {2}camera (source|URL) {2,}/m.test(v.stdout) && !/^FAIL/m.test(v.stdout), v.stdout);
});

test.run();
