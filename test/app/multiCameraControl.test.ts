// The control channel of a device with several cameras (issue 18) on the Node board, against the local KVS and an
// MQTT broker over TLS: one channel for the device; `status` (the telemetry record `device <thing> status` prints)
// sums the cameras and reports each one under `cameras`; `stop` stops every camera and is answered once each
// one's last fragment is PERSISTED — the stored fragments of both streams are what the device counts.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT, runDevice } from '../../firmware/app/runDevice.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud } from '../../sim/cloud/startCloud.ts';
import { FIXTURES, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { fifoCamera, Operator, startTlsBroker } from './controlKit.ts';

const test = suite('control channel of a device with two cameras (Node board, local KVS, MQTT over TLS)');
const THING = 'farm-ctl';
type Rec = Record<string, unknown>;

test('status sums the cameras and reports each; stop stops both, answered after their last PERSISTED', async () => {
  const tmp = tempDir('fieldcam-multicam-control-');
  const cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
  const dir = join(tmp.dir, 'cloud');
  const broker = await startTlsBroker(
    readFileSync(join(dir, 'server.pem'), 'utf8'),
    readFileSync(join(dir, 'server-key.pem'), 'utf8'),
    readFileSync(cloud.caFile, 'utf8'),
  );
  const operator = await Operator.connect(broker.port, readFileSync(cloud.caFile, 'utf8'), THING);
  const h264 = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
  const h265 = join(FIXTURES, 'h265-320x240-10fps-gop10.h265');
  const cams = [fifoCamera(join(tmp.dir, 'a.fifo'), h264, statSync(h264).size / 10), fifoCamera(join(tmp.dir, 'b.fifo'), h265, statSync(h265).size / 10)];
  try {
    await operator.publish('config/desired', { version: 1, settings: { telemetryIntervalS: 1 } }, true);
    const url = new URL(cloud.endpoint);
    const config = join(tmp.dir, 'device.json');
    writeDeviceConfig(config, {
      board: loadBoardManifest('pi-zero-w'),
      streamName: THING,
      region: 'us-east-1',
      endpoint: { host: url.hostname, port: Number(url.port), caFile: cloud.caFile },
      credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
      codec: 'h264',
      live: true,
      recorded: false,
      createRetentionHours: 24,
      statusIntervalMs: 0,
      cameras: [
        { name: 'gate', codec: 'h264', fd: cams[0]!.fd },
        { name: 'barn', codec: 'h265', fd: cams[1]!.fd },
      ],
      control: {
        host: '127.0.0.1',
        port: broker.port,
        thingName: THING,
        keepAliveSeconds: 30,
        certFile: join(dir, 'server.pem'),
        keyFile: join(dir, 'server-key.pem'),
        stateFile: join(tmp.dir, 'control-state.cbor'),
      },
    });
    const records: Rec[] = [];
    let stopApp: (() => void) | undefined;
    const board = nodeBoard({ print: (l) => records.push(JSON.parse(l) as Rec), onStop: (cb) => (stopApp = cb) });
    const exit = runDevice(board, config);

    // Telemetry once both cameras have fragments PERSISTED.
    const both = (v: Rec) => Object.values((v.cameras ?? {}) as Record<string, Rec>).filter((c) => (c.fragmentsPersisted as number) >= 2).length === 2;
    await operator.next('telemetry', both, 0, 60_000);
    const status = await operator.command('st-1', 'status');
    assert.is(status.ok, true, JSON.stringify(status));
    const data = status.data as Rec;
    const cameras = data.cameras as Record<string, Rec>;
    assert.equal(Object.keys(cameras), ['gate', 'barn']);
    assert.equal([cameras.gate!.stream, cameras.barn!.stream], ['farm-ctl-gate', 'farm-ctl-barn']);
    assert.is(data.fragmentsSent, (cameras.gate!.fragmentsSent as number) + (cameras.barn!.fragmentsSent as number));
    assert.is(data.poolSlots, (cameras.gate!.poolSlots as number) + (cameras.barn!.poolSlots as number));
    assert.is(data.lastPersistedAgeMs, Math.max(cameras.gate!.lastPersistedAgeMs as number, cameras.barn!.lastPersistedAgeMs as number));

    const stop = await operator.command('stop-1', 'stop', undefined);
    assert.is(stop.ok, true, JSON.stringify(stop));
    const after = (await operator.command('st-2', 'status')).data as Rec;
    assert.is(after.streaming, false);
    for (const name of ['gate', 'barn']) {
      const c = (after.cameras as Record<string, Rec>)[name]!;
      const stored = new Set(
        fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get(`${THING}-${name}`)!)
          .list()
          .map((f) => f.producerTimestampMs),
      ).size;
      assert.equal([c.fragmentsPersisted, c.fragmentsSent], [stored, stored], `${name}: every fragment counted PERSISTED is stored`);
    }
    stopApp?.();
    assert.is(await exit, DEVICE_EXIT.OK, JSON.stringify(records.filter((r) => r.type !== 'status')));
  } finally {
    for (const c of cams) c.stop();
    await operator.publish('config/desired', new Uint8Array(0), true);
    await operator.close();
    await broker.close();
    await cloud.close();
    tmp.remove();
  }
});

test.run();
