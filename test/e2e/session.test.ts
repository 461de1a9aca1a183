// PutMediaSession in-process against the local KVS, for behaviour the CLI cannot easily steer: a board
// clock at 1970, rotation before the connection cap, and the service's own cap (ERROR 4003).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeClock } from '../../firmware/boards/node/nodeTime.ts';
import type { ClockPort } from '../../firmware/io/Clock.ts';
import type { PutMediaSession } from '../../firmware/core/kvs/PutMediaSession.ts';
import { ServerClock } from '../../firmware/core/net/ServerClock.ts';
import { FrameInput } from '../../firmware/core/media/FrameInput.ts';
import { PREPARE } from '../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../firmware/core/pool/FramePool.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import type { CloudConfig } from '../../sim/cloud/types.ts';
import { assert, suite } from '../harness/index.ts';
import { FIXTURES, tempDir } from './tools.ts';
import { nodeUploadSession } from './nodeUploadSession.ts';

const test = suite('PutMediaSession against the local KVS');
const tmp = tempDir('fieldcam-session-');
const clouds: RunningCloud[] = [];
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

async function cloudWith(config: Partial<CloudConfig> = {}): Promise<RunningCloud> {
  const cloud = await startCloud({ stateDir: join(tmp.dir, `cloud${clouds.length}`), port: 0, routes: [...mediaRoutes], config });
  clouds.push(cloud);
  return cloud;
}

/** Streams a fixture through a session; `paced` feeds it at its frame rate, as a camera would. */
async function run(cloud: RunningCloud, o: { stream: string; fixture: string; clock?: ClockPort; rotateMs?: number; paced?: boolean; fragmentMs?: number }) {
  const url = new URL(cloud.endpoint);
  const target = { host: url.hostname, port: Number(url.port), tls: { ca: cloud.caPem } };
  const clock = new ServerClock(o.clock ?? nodeClock);
  const pool = new FramePool({ slotCount: 8, slotBytes: 1 << 17, maxFrames: 256 });
  let session: PutMediaSession | undefined;
  const input = new FrameInput({ codec: 'h264', pool, fragmentMs: o.fragmentMs ?? 1000, startTimecode: clock.now(), onQueued: () => session?.framesQueued() });
  const credentials = () => CREDENTIALS;
  session = nodeUploadSession(input, {
    target,
    clock,
    streamName: o.stream,
    credentials,
    dataTls: { ca: cloud.caPem },
    createStream: { retentionHours: 24 },
    maxFragmentMs: 10_000,
    endOfFragment: true,
    onEvent: (e) => process.env.DEBUG_SESSION && console.error('EV', JSON.stringify(e).slice(0, 200)),
    ...(o.rotateMs ? { rotateMs: o.rotateMs } : {}),
    backoff: { initialMs: 20, maxMs: 200 },
    userAgent: 'test',
  });
  session.start();
  const bytes = readFileSync(join(FIXTURES, o.fixture));
  const started = nodeClock.monotonic();
  for (let at = 0; at < bytes.length; ) {
    if (input.prepare() !== PREPARE.OK) {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    const n = Math.min(input.targetSpace, bytes.length - at, 2048);
    input.target.set(bytes.subarray(at, at + n), input.targetOffset);
    input.push(n);
    at += n;
    const due = o.paced ? input.stats.frames * 100 - (nodeClock.monotonic() - started) : 0;
    await new Promise((r) => setTimeout(r, Math.max(0, due)));
  }
  input.end();
  session.framesQueued();
  await session.stop();
  const record = cloud.ctx.streams.get(o.stream)!;
  const stored = new Set(
    fragmentStoreFor(cloud.ctx, record)
      .list()
      .map((f) => f.producerTimestampMs),
  );
  return { session, clock, stored, input };
}

test('a board clock at 1970 is set from the service Date header; every fragment is PERSISTED without NTP', async () => {
  const cloud = await cloudWith();
  const boot = Date.now();
  const in1970: ClockPort = { now: () => nodeClock.now() - boot + 5_000, monotonic: () => nodeClock.monotonic() };
  const { session, clock, stored } = await run(cloud, { stream: 'no-rtc', fixture: 'h264-aud-sei-3byte.h264', clock: in1970 });
  assert.ok(clock.corrections >= 1, 'the clock was corrected');
  assert.ok(Math.abs(clock.now() - Date.now()) < 5_000, `corrected to the server's time (off by ${clock.now() - Date.now()} ms)`);
  assert.is(session.stats.fragmentsPersisted, 3);
  assert.is(stored.size, 3);
  // The frames captured while the clock said 1970 were moved to the true time before anything was sent.
  for (const ts of stored) assert.ok(Math.abs(ts - Date.now()) < 60_000, `producer timestamp ${new Date(ts).toISOString()} is now, not 1970`);
});

test('rotation: a connection older than rotateMs ends at a fragment boundary; nothing acknowledged is sent twice', async () => {
  const cloud = await cloudWith();
  const { session, stored } = await run(cloud, { stream: 'rotating', fixture: 'h264-aud-sei-3byte.h264', rotateMs: 900, paced: true });
  assert.ok(session.stats.connections >= 2, `rotated: ${session.stats.connections} connections`);
  assert.is(session.stats.fragmentsPersisted, 3);
  assert.is(session.stats.fragmentsReplayed, 0, 'a graceful rotation waits for the ACKs before closing');
  assert.is(stored.size, 3);
});

test("the service's connection cap (ERROR 4003) → reconnect; every fragment stored", async () => {
  const cloud = await cloudWith({ maxConnectionMs: 1500 });
  const { session, stored } = await run(cloud, { stream: 'capped', fixture: 'h264-aud-sei-3byte.h264', paced: true });
  assert.ok(session.stats.connections >= 2, `reconnected after the cap: ${session.stats.connections} connections`);
  assert.is(stored.size, 3, 'all 3 fragments stored');
});

test.after(async () => {
  for (const c of clouds) await c.close();
  tmp.remove();
});

test.run();
