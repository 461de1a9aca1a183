// Issue 16's proof with the real device: the pi-zero-w image under `qemu-arm -cpu arm1176` streams a live camera
// (the looped fixture, paced in real time, stamped by the capture clock) into the local KVS, and hls.js in
// Debian's headless Chromium plays the stream's LIVE HLS session: currentTime advances 10 s, decoded frames
// grow, no hls.js error event. The session URL comes from the unmodified SDK clients, as a user's would.
import { GetHLSStreamingSessionURLCommand, KinesisVideoArchivedMediaClient, ListFragmentsCommand } from '@aws-sdk/client-kinesis-video-archived-media';
import { GetDataEndpointCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, imageDir, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard, type BootedBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { FIXTURES, ROOT, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { launchChromium, startPlayer, until, type Browser } from '../sim/cloud/playback/browserKit.ts';
import { playbackCloud, type PlaybackCloud } from '../sim/cloud/playback/playbackKit.ts';
import { localCloudTarget } from '../../sim/cloud/localCloudTarget.ts';

const test = suite('pi-zero-w under QEMU streams; hls.js in headless Chromium plays its LIVE HLS session');
const tmp = tempDir('fieldcam-live-playback-');
const GOP10 = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
const STREAM = 'porch-live';
let image: ImageManifest;
let pc: PlaybackCloud;
let browser: Browser;
let device: BootedBoard | undefined;

test.after(async () => {
  device?.child.kill('SIGKILL');
  await browser?.close();
  await pc?.close();
  tmp.remove();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test.before(async () => {
  // build the pi-zero-w image; start the local cloud and Chromium
  image = await buildImage(loadBoardManifest('pi-zero-w'), { typecheck: false });
  pc = await playbackCloud();
  browser = await launchChromium();
});

test('LIVE: currentTime advances 10 s and decoded frames grow while the device streams, no hls.js error', async () => {
  const config = join(tmp.dir, 'device.json');
  writeDeviceConfig(config, {
    board: loadBoardManifest('pi-zero-w'),
    streamName: STREAM,
    ...localCloudTarget(pc.cloud),
    codec: 'h264',
    live: true,
    recorded: false,
    createRetentionHours: 24,
    statusIntervalMs: 1000,
  });
  const records: Record<string, unknown>[] = [];
  device = bootBoard({
    image: { dir: imageDir('pi-zero-w'), runtimeFlags: image.runtimeFlags, qemuCpu: image.qemuCpu! },
    config,
    video: GOP10,
    loop: true,
    bytesPerSecond: readFileSync(GOP10).length / 10,
    onRecord: (r) => records.push(r),
    cwd: ROOT,
  });
  const control = new KinesisVideoClient(pc.config());
  let archived: KinesisVideoArchivedMediaClient | undefined;
  try {
    // The device creates its stream; wait for three fragments stored (the player needs a few to start LIVE).
    let stored = 0;
    for (let i = 0; i < 120 && stored < 3; i++) {
      await sleep(500);
      if (!archived) {
        try {
          const endpoint = (await control.send(new GetDataEndpointCommand({ StreamName: STREAM, APIName: 'GET_HLS_STREAMING_SESSION_URL' }))).DataEndpoint!;
          archived = new KinesisVideoArchivedMediaClient({ ...pc.config(), endpoint });
        } catch {
          continue; // not created yet
        }
      }
      const now = new Date();
      const listed = await archived.send(
        new ListFragmentsCommand({
          StreamName: STREAM,
          FragmentSelector: {
            FragmentSelectorType: 'SERVER_TIMESTAMP',
            TimestampRange: { StartTimestamp: new Date(now.getTime() - 600_000), EndTimestamp: now },
          },
        }),
      );
      stored = listed.Fragments?.length ?? 0;
    }
    assert.ok(stored >= 3, `fragments stored by the device: ${stored}; its lines: ${JSON.stringify(records.filter((r) => r.type !== 'status'))}`);
    const session = (await archived!.send(new GetHLSStreamingSessionURLCommand({ StreamName: STREAM, PlaybackMode: 'LIVE' }))).HLSStreamingSessionURL!;
    const page = await browser.context.newPage();
    await page.goto(`${pc.cloud.endpoint}/viewer`); // a page of the cloud's origin, which serves hls.js
    await startPlayer(page, session);
    const first = await until(page, (s) => s.currentTime > 0.5);
    const later = await until(page, (s) => s.currentTime >= first.currentTime + 10);
    assert.equal(later.errors, []);
    assert.ok(later.currentTime >= first.currentTime + 10, `currentTime ${first.currentTime} → ${later.currentTime}`);
    assert.ok(later.frames > first.frames + 80, `decoded frames ${first.frames} → ${later.frames} (10 fps)`);
  } finally {
    archived?.destroy();
    control.destroy();
    device.stop();
    await device.exited;
  }
});

test.run();
