// PutMediaSession on hand-driven time (FakeTime) against a fake KVS on fake sockets (sessionKit): the camera feeds
// a real H.264 fixture through FrameInput into the pool, the session reads it through its FragmentSource port.
// Runs under Node, inside XS and under qemu-arm: every fragment stored, replay after a cut with the original
// timecodes, an outage, staleness, rotation, and the lifecycle of the session and its parts.
import { KvsControlClient } from '../../../../firmware/core/kvs/KvsControlClient.ts';
import { ConnectionSupervisor } from '../../../../firmware/core/kvs/ConnectionSupervisor.ts';
import { EndpointResolver } from '../../../../firmware/core/kvs/EndpointResolver.ts';
import { InFlightSet } from '../../../../firmware/core/kvs/InFlightSet.ts';
import { PoolFragmentSource } from '../../../../firmware/core/kvs/PoolFragmentSource.ts';
import { PutMediaSession, type PutMediaSessionOptions, type SessionEvent } from '../../../../firmware/core/kvs/PutMediaSession.ts';
import { FrameInput } from '../../../../firmware/core/media/FrameInput.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { ServerClock } from '../../../../firmware/core/net/ServerClock.ts';
import { assert, boardByteScan, fixture, suite } from '../../../harness/index.ts';
import { FakeTime } from '../../../harness/support.ts';
import { softHash } from '../sigv4/softHash.ts';
import { FakeKvs, type FakeKvsOptions } from './sessionKit.ts';
import { accessUnitStarts, readLive, type Reads } from '../media/liveKit.ts';

const test = suite('PutMediaSession on FakeTime: fragments from a FragmentSource, replay, outage, staleness, rotation');

const GOP10 = fixture('h264-320x240-10fps-gop10.h264'); // 100 AUs, 10 fps, an IDR every 10: 10 fragments of 1 s
const STARTS = accessUnitStarts(GOP10);
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

interface Rig {
  readonly time: FakeTime;
  readonly kvs: FakeKvs;
  readonly pool: FramePool;
  readonly input: FrameInput;
  readonly session: PutMediaSession;
  readonly events: SessionEvent[];
  /** Frames fed so far. */
  fed: number;
}

function rig(extra: Partial<PutMediaSessionOptions> = {}, poolSlots = 16, service: FakeKvsOptions = {}): Rig {
  const time = new FakeTime();
  const kvs = new FakeKvs(time, service);
  const clock = new ServerClock(time);
  const pool = new FramePool({ slotCount: poolSlots, slotBytes: 65536, maxFrames: 256 });
  const scan = boardByteScan();
  const events: SessionEvent[] = [];
  let session: PutMediaSession;
  const input = new FrameInput({
    codec: 'h264',
    pool,
    fps: { num: 10, den: 1 },
    fragmentMs: 1000,
    maxFragmentMs: 10_000,
    startTimecode: time.now(),
    strict: false,
    capture: { monotonicAtStart: 0 },
    overflowBytes: 4096,
    ...(scan ? { byteScan: scan } : {}),
    onQueued: () => session.framesQueued(),
  });
  const target = { host: 'kvs.test', port: 8080 };
  const credentials = () => CREDENTIALS;
  const control = new KvsControlClient({
    sockets: kvs.sockets,
    timers: time,
    hash: softHash,
    clock,
    region: 'us-east-1',
    target,
    credentials,
    userAgent: 'test',
  });
  session = new PutMediaSession({
    source: new PoolFragmentSource(input),
    control,
    sockets: kvs.sockets,
    timers: time,
    hash: softHash,
    clock,
    region: 'us-east-1',
    streamName: 'cam',
    credentials,
    maxFragmentMs: 10_000,
    endOfFragment: true,
    backoff: { initialMs: 200, maxMs: 2000 },
    random: () => 0.5,
    userAgent: 'test',
    onEvent: (e) => events.push(e),
    ...extra,
  });
  return { time, kvs, pool, input, session, events, fed: 0 };
}

/** Lets promise jobs run (the control plane's exchanges are async). */
async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await null;
}

/** Advances fake time in `step` ms steps, letting promise jobs run after each. */
async function run(r: Rig, ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    r.time.advance(step);
    await settle();
  }
}

/** Feeds access units [from, to) of the fixture, one every 100 ms of fake time (a live 10 fps camera). */
async function feed(r: Rig, from: number, to: number): Promise<void> {
  const reads: Reads = { reads: 0, reclaimed: 0, overflowed: 0 };
  for (let i = from; i < to; i++) {
    const end = i + 1 < STARTS.length ? STARTS[i + 1]! : GOP10.length;
    readLive(r.input, GOP10, STARTS[i]!, end, r.time.monotonic(), 1 << 20, reads);
    r.fed++;
    await run(r, 100);
  }
}

async function stop(r: Rig): Promise<void> {
  r.input.end(false);
  r.session.framesQueued();
  let done = false;
  let failed: unknown;
  r.session.stop().then(
    () => (done = true),
    (err) => (failed = err),
  );
  for (let i = 0; i < 600 && !done && failed === undefined; i++) await run(r, 100);
  if (failed !== undefined) throw failed;
  assert.ok(done, 'stop() settled');
}

test('every fragment of a live camera is stored once; the pool is empty after stop', async () => {
  const r = rig();
  r.session.start();
  await feed(r, 0, 100);
  await stop(r);
  // The last access unit of a live camera is incomplete at the end of input (dropped as truncated).
  assert.is(r.kvs.stored.size, 10, `10 fragments stored: ${[...r.kvs.stored.keys()].join(',')}`);
  for (const [tc, copies] of r.kvs.stored) assert.is(copies, 1, `fragment ${tc} stored once`);
  assert.is(
    r.session.stats.framesPersisted + r.pool.dropped,
    r.fed,
    `fed ${r.fed} = persisted ${r.session.stats.framesPersisted} + dropped ${JSON.stringify(r.pool.drops)}`,
  );
  assert.is(r.pool.stats.slotsInUse, 0, 'every slot released');
  assert.is(r.session.stats.connections, 1);
  assert.is(r.time.timers, 0, 'no timer left armed');
});

test('a socket that frames each chunk itself (Socket.writeChunk, the XS board in C): the same bytes on the wire and bytesSent', async () => {
  const wire: Uint8Array[] = [];
  const sent: number[] = [];
  for (const socketFramesChunks of [false, true]) {
    const r = rig({ segmentUid: new Uint8Array(16).fill(7) }, 16, { socketFramesChunks });
    r.session.start();
    await feed(r, 0, 40);
    await stop(r);
    assert.is(r.kvs.putMedia.length, 1);
    wire.push(r.kvs.putMedia[0]!.socket.written().slice());
    sent.push(r.session.stats.bytesSent);
    if (socketFramesChunks) assert.ok(r.kvs.chunksFramedBySocket >= 40, `chunks framed by the socket: ${r.kvs.chunksFramedBySocket}`);
    else assert.is(r.kvs.chunksFramedBySocket, 0);
  }
  assert.ok(wire[0]!.length > 40 * 800, `bytes on the wire: ${wire[0]!.length}`);
  assert.equal(wire[1], wire[0], 'the same bytes, framing included');
  assert.is(sent[1], sent[0], 'bytesSent counts the framing either way');
});

test('a cut connection: reconnect after backoff, un-acknowledged fragments replayed with their original timecodes', async () => {
  const r = rig();
  r.session.start();
  await feed(r, 0, 35);
  r.kvs.cut(); // mid-fragment: the fragment starting at 3 s is partly sent
  await feed(r, 35, 100);
  await stop(r);
  assert.ok(r.session.stats.connections >= 2, `reconnected: ${r.session.stats.connections}`);
  assert.ok(r.session.stats.fragmentsReplayed >= 1, 'the open fragment was replayed');
  assert.is(r.kvs.stored.size, 10, 'every fragment stored');
  for (const [tc, copies] of r.kvs.stored) assert.is(copies, 1, `fragment ${tc} stored once`);
  const first = r.kvs.putMedia[0]!.fragments;
  const second = r.kvs.putMedia[1]!.fragments;
  assert.is(second[0], first[first.length - 1], 'the second connection starts with the fragment cut on the first, same timecode');
  assert.ok(
    r.events.some((e) => e.type === 'retry'),
    'a retry was announced',
  );
});

test('an outage longer than the backoff cap: frames wait in the pool, everything goes once the link returns', async () => {
  const r = rig({}, 64);
  r.session.start();
  await feed(r, 0, 20);
  r.kvs.down = true;
  r.kvs.cut();
  await feed(r, 20, 60); // 4 s without a link: several refused connections
  r.kvs.down = false;
  await feed(r, 60, 100);
  await stop(r);
  assert.ok(r.session.stats.errors['UPLOAD_NETWORK']! >= 2, `refused connections counted: ${JSON.stringify(r.session.stats.errors)}`);
  assert.is(r.kvs.stored.size, 10, 'every fragment stored');
  assert.is(r.session.stats.framesPersisted + r.pool.dropped, r.fed);
});

test('staleness: no BUFFERING and no progress for stalenessMs → the connection is reset (UPLOAD_STALE) and replayed', async () => {
  const r = rig({ stalenessMs: 3000 });
  r.kvs.autoAck = false; // the service swallows the body: no ACK, and the socket never reports a drain
  r.session.start();
  await feed(r, 0, 60);
  assert.ok((r.session.stats.errors['UPLOAD_STALE'] ?? 0) >= 1, `stale connection reset: ${JSON.stringify(r.session.stats.errors)}`);
  r.kvs.autoAck = true;
  r.kvs.cut();
  await feed(r, 60, 100);
  await stop(r);
  assert.is(r.kvs.stored.size, 10, 'every fragment stored after the stale connections');
});

test('rotation: a connection older than rotateMs ends at a fragment boundary; nothing is sent twice', async () => {
  const r = rig({ rotateMs: 2500 });
  r.session.start();
  await feed(r, 0, 100);
  await stop(r);
  assert.ok(r.session.stats.connections >= 3, `rotated: ${r.session.stats.connections} connections`);
  assert.is(r.session.stats.fragmentsReplayed, 0, 'a graceful rotation waits for the ACKs');
  assert.is(r.kvs.storedCount, 10, 'each fragment stored exactly once');
  assert.ok(r.events.some((e) => e.type === 'rotating'));
});

test('close(): the connection and every timer are gone, use after close throws; so for its parts', async () => {
  const r = rig();
  r.session.start();
  await feed(r, 0, 15);
  r.session.close();
  assert.ok(r.kvs.live === undefined || r.kvs.connections.every((c) => c.closed || !c.putMedia), 'the PutMedia socket is closed');
  assert.is(r.time.timers, 0, 'no timer left armed');
  assert.throws(() => r.session.framesQueued(), /closed/);
  assert.throws(() => r.session.start(), /closed/);
  const time = new FakeTime();
  const flights = new InFlightSet(4);
  flights.start();
  flights.add(1000, 0);
  assert.is(flights.unreceived(), 1);
  flights.close();
  assert.throws(() => flights.add(2000, 0), /closed/);
  const supervisor = new ConnectionSupervisor({
    timers: time,
    clock: time,
    flights: new InFlightSet(1),
    stalenessMs: 1,
    rotateMs: 1,
    events: { onTick: () => true, onStale: () => {}, onHealthy: () => {}, onRotate: () => {} },
  });
  supervisor.start();
  assert.is(time.timers, 1, 'the tick is armed');
  supervisor.close();
  assert.is(time.timers, 0, 'close clears the tick');
  assert.throws(() => supervisor.opened(), /closed/);
  const kvs = new FakeKvs(time);
  const clock = new ServerClock(time);
  const control = new KvsControlClient({
    sockets: kvs.sockets,
    timers: time,
    hash: softHash,
    clock,
    region: 'us-east-1',
    target: { host: 'kvs.test', port: 8080 },
    credentials: () => CREDENTIALS,
    userAgent: 'test',
  });
  const resolver = new EndpointResolver({ control, timers: time, clock, streamName: 'cam' });
  resolver.start();
  const resolved = resolver.resolve();
  for (let i = 0; i < 20; i++) {
    time.advance(10);
    await settle();
  }
  assert.is((await resolved).host, 'kvs.test');
  assert.is(resolver.retentionHours, 24);
  assert.ok(resolver.fresh);
  resolver.close();
  assert.throws(() => resolver.fresh, /closed/);
});

test.run();
