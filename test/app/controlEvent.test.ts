// The `event` command end to end on the Node board (issue 15, event clips): a device recording in event mode, its
// camera a real-time FIFO, the command sent by an MQTT operator through a real TLS broker. The result names the clip
// and its window; what the local KVS stored is exactly that clip — every fragment tagged with it, its first frame at
// or before the window's start — and GetMedia decodes to the frames queued less those counted `outsideEvent`.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT, runDevice } from '../../firmware/app/runDevice.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import type { RunningCloud } from '../../sim/cloud/startCloud.ts';
import { getMedia } from '../device/storedMedia.ts';
import { decodedFrameCount, FIXTURES, framePts, tempDir, until } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { type ControlCloud, fifoCamera, type Operator, startControlCloud } from './controlKit.ts';
import { localCloudTarget } from '../../sim/cloud/localCloudTarget.ts';

const test = suite('the event command on the Node board (local KVS, MQTT over TLS)');
const tmp = tempDir('fieldcam-control-event-');
const THING = 'cam-event';
const VIDEO = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
let cloud: RunningCloud;
let net: ControlCloud;
let operator: Operator;

test.after(async () => {
  await net?.close();
  tmp.remove();
});

test.before(async () => {
  // start the local cloud, a TLS broker and the operator
  net = await startControlCloud(tmp.dir, THING);
  ({ cloud, operator } = net);
});

test('event over the control channel: one clip, tagged, with its pre-roll; nothing else stored; the rest counted', async () => {
  const camera = fifoCamera(join(tmp.dir, 'camera.fifo'), VIDEO, statSync(VIDEO).size / 10);
  const config = join(tmp.dir, 'device.json');
  writeDeviceConfig(config, {
    board: loadBoardManifest('pi-zero-w'),
    streamName: THING,
    ...localCloudTarget(cloud),
    codec: 'h264',
    live: true,
    cameraFd: camera.fd,
    createRetentionHours: 24,
    statusIntervalMs: 100,
    control: net.control(join(tmp.dir, 'control-state.cbor')),
    recording: { mode: 'event', preRollMs: 3000, postMs: 20_000 },
  });
  const records: Record<string, unknown>[] = [];
  let stopApp: (() => void) | undefined;
  const board = nodeBoard({ print: (text) => records.push(JSON.parse(text) as Record<string, unknown>), onStop: (cb) => (stopApp = cb) });
  const exit = runDevice(board, config).finally(() => camera.stop());
  const framesIn = () => Math.max(0, ...records.filter((r) => r.type === 'status').map((r) => r.framesIn as number));
  await until('control connected', () => records.some((r) => r.type === 'control' && r.event === 'connected'));
  // Health with a 2 s red limit: a continuous device with nothing PERSISTED would be red by now; one waiting for an event
  // is green (reason idle), and its telemetry says why: no clip open, the pre-roll held.
  const set = await operator.command('set-health', 'set', { healthAmberMs: 1000, healthRedMs: 2000 });
  assert.is(set.ok, true, JSON.stringify(set));
  await until('5 s of video', () => framesIn() >= 50);
  const idle = await operator.command('st-idle', 'status');
  const idleData = idle.data as Record<string, unknown>;
  assert.is(idleData.health, 'green', JSON.stringify(idleData));
  const idleEvents = idleData.events as Record<string, unknown>;
  assert.equal(
    [idleEvents.events, idleEvents.clips, idleEvents.openClip, idleEvents.postRemainingMs, idleEvents.idle, idleEvents.preRollMs],
    [0, 0, 0, 0, true, 3000],
  );
  assert.ok((idleEvents.preRollFillMs as number) >= 2000, JSON.stringify(idleEvents));
  const result = await operator.command('ev-1', 'event', { pre: 2000, post: 1500, tags: { door: 'open' } });
  assert.is(result.ok, true, JSON.stringify(result));
  const data = result.data as Record<string, number | boolean>;
  assert.is(data.merged, false);
  assert.is(data.from, (data.at as number) - 2000);
  assert.is(data.to, (data.at as number) + 1500);
  assert.ok((data.fragments as number) >= 2, 'the pre-roll (2 s of 1 s fragments) went out at once');
  const open = await operator.command('st-open', 'status');
  const openEvents = (open.data as Record<string, unknown>).events as Record<string, unknown>;
  assert.equal([openEvents.events, openEvents.clips, openEvents.openClip, openEvents.idle], [1, 1, data.clip, false], JSON.stringify(openEvents));
  assert.ok((openEvents.postRemainingMs as number) > 0 && (openEvents.postRemainingMs as number) <= 1500, JSON.stringify(openEvents));
  assert.ok((openEvents.fragmentsAdmitted as number) >= (data.fragments as number), JSON.stringify(openEvents));
  const after = framesIn();
  await until('4 s more video', () => framesIn() >= after + 40);
  stopApp!();
  assert.is(await exit, DEVICE_EXIT.OK);

  const stored = fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get(THING)!).list();
  assert.ok(stored.length >= 3, `${stored.length} fragments`);
  for (const f of stored) {
    const tags = Object.fromEntries(f.tags);
    assert.is(tags.FIELDCAM_CLIP, String(data.clip), `fragment ${f.producerTimestampMs}`);
    assert.is(tags.door, 'open');
  }
  const starts = stored.map((f) => f.producerTimestampMs).sort((a, b) => a - b);
  assert.ok(starts[0]! <= (data.from as number) && starts[1]! > (data.from as number), 'the clip starts at the key frame at or before the pre-roll');
  assert.ok(starts.at(-1)! < (data.to as number), 'no fragment opened after the post window');
  const summary = records.find((r) => r.type === 'summary')!;
  const drops = summary.drops as Record<string, number>;
  assert.ok(drops.outsideEvent! > 0);
  const media = await getMedia(cloud, THING, tmp.dir);
  const decoded = decodedFrameCount(media);
  assert.is(decoded, (summary.framesIn as number) - drops.outsideEvent!, JSON.stringify(summary));
  assert.ok(Math.abs(framePts(media)[0]! * 1000 - starts[0]!) < 0.5, 'the first frame at its original producer timestamp');
});

test.run();
