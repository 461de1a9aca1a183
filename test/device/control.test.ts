// Issue 6, the proofs under QEMU: the control channel end to end with the real ARM firmware (pi-zero-w image,
// `qemu-arm -cpu arm1176`) started from a bundle written by `fieldcam provision` against the local cloud, so
// the device's certificate serves both the IoT credentials provider (KVS keys) and the MQTT broker (client
// id = thing). One boot carries the proofs in sequence while its camera (the fixture looped at real time)
// keeps streaming; each proof is judged from what the cloud stored (fragment files, their Tags, ffprobe,
// ListFragments), what the device printed and what an operator received — never from sleeps. The last case
// boots the esp32-cam image the same way, to hold its 162 KiB app budget with the control channel running.
//
// Operators: `fieldcam device` as a child process (asynchronous: the cloud answers from this process), and
// for what the CLI will not send (a command across a broker restart, fuzzed CBOR) an mqtt.js operator over
// WSS + SigV4 with a persistent session (controlKit.ts).
import { AttachThingPrincipalCommand, ListThingPrincipalsCommand, UpdateCertificateCommand } from '@aws-sdk/client-iot';
import { decode, encode } from 'cbor-x';
import mqtt from 'mqtt';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT } from '../../firmware/app/runDevice.ts';
import { buildImage, imageDir, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { DROP_REASONS } from '../../firmware/core/pool/FramePool.ts';
import { writeDeviceBundle, type DeviceBundleDocument } from '../../sim/board/writeDeviceBundle.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { FIXTURES, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { cli } from '../host/control/controlKit.ts';
import { iotClient } from '../sim/cloud/iot/iotKit.ts';
import { Arrivals, fragmentFile, listFragmentCount, mkvTags, Operator, RunningDevice, storedFragments, storedFrameCount, type Rec } from './controlKit.ts';

const test = suite('control channel under QEMU: pi-zero-w firmware, provisioned bundle, local cloud (MQTT + KVS), fieldcam device');
const tmp = tempDir('fieldcam-control-device-');
const BOARD = 'pi-zero-w';
const THING = 'cam-001';
/** 10 s of 320x240 H.264 at 10 fps, a key frame every second: 1 s fragments by default. */
const GOP10 = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
const REAL_TIME = readFileSync(GOP10).length / 10;

let image: ImageManifest;
let cloud: RunningCloud;
let operator: Operator;
let device: RunningDevice;
const booted: RunningDevice[] = [];
/** The broker's log events (mqtt-connect, mqtt-connect-refused, mqtt-publish-refused, …), awaitable. */
const log = new Arrivals<{ readonly event: string; readonly fields: Rec }>();
const logged = log.items;

/** `fieldcam device <thing> <args…> --json` as a child process; the result document when it printed one. */
async function fieldcamDevice(...args: string[]): Promise<{ status: number | null; result: Rec | undefined; stderr: string; stdout: string }> {
  const r = await cli(cloud, tmp.dir, ['device', THING, ...args, '--endpoint-url', cloud.endpoint]);
  let result: Rec | undefined;
  try {
    result = args.includes('--json') ? (JSON.parse(r.stdout) as Rec) : undefined;
  } catch {
    result = undefined;
  }
  return { status: r.status, result, stderr: r.stderr, stdout: r.stdout };
}

/** The device's status lines (one a second) until `accept` holds. */
function statusUntil(accept: (s: Rec) => boolean, what: string, timeoutMs = 60_000): Promise<Rec> {
  return device
    .next((r) => r.type === 'status' && accept(r), what, device.mark, timeoutMs)
    .catch((err: Error) => {
      const statuses = device.lines.items.filter((r) => r.type === 'status');
      const last = device.lines.items.filter((r) => r.type !== 'status' || r === statuses[statuses.length - 1]).slice(-12);
      throw new Error(`${err.message}; the last lines: ${JSON.stringify(last)}`);
    });
}

const persisted = (s: Rec) => Number(s.fragmentsPersisted);

/** Boots the image with a bundle; its camera is the fixture looped at real time. */
function boot(bundle: string): RunningDevice {
  const d = new RunningDevice(
    { dir: imageDir(BOARD), runtimeFlags: image.runtimeFlags, qemuCpu: image.qemuCpu! },
    { bundle },
    { video: GOP10, bytesPerSecond: REAL_TIME },
  );
  booted.push(d);
  return d;
}

test.after(async () => {
  for (const d of booted) d.kill();
  await operator?.close();
  await cloud?.close();
  tmp.remove();
});

test.before(async () => {
  // setup: the pi-zero-w image; the local cloud with its broker; cam-001 and cam-002 provisioned by `fieldcam provision`
  image = await buildImage(loadBoardManifest(BOARD), { typecheck: false });
  assert.is(image.qemuCpu, 'arm1176');
  cloud = await startCloud({
    stateDir: join(tmp.dir, 'cloud'),
    port: 0,
    mqttPort: 0,
    routes: [...mediaRoutes],
    log: (event, fields) => {
      if (event.startsWith('mqtt-')) log.push({ event, fields });
    },
  });
  const provisioned = await cli(cloud, tmp.dir, ['provision', '--count', '2', '--prefix', 'cam-', '--out', tmp.dir, '--endpoint-url', cloud.endpoint]);
  assert.is(provisioned.status, 0, provisioned.stderr);
  operator = await Operator.connect(cloud, THING);
});

test('boot: credentials over mTLS, the MQTT connection with the same certificate (client id = thing), fragments PERSISTED', async () => {
  device = boot(join(tmp.dir, THING));
  await device.next((r) => r.type === 'control' && r.event === 'connected', 'the control channel connected', 0, 90_000);
  await device.next((r) => r.event === 'credentials', 'IoT credentials');
  const connect = logged.find((l) => l.event === 'mqtt-connect' && l.fields.clientId === THING);
  assert.ok(connect, `the broker accepted ${THING}: ${JSON.stringify(logged)}`);
  // Retained on connect: health and the reported configuration (docs/control-channel.md).
  await operator.next('health', (v) => v.state === 'green' || v.state === 'red' || v.state === 'amber', 'a health record');
  await operator.next('config/reported', (v) => typeof v.settings === 'object', 'the reported configuration');
  await statusUntil((s) => persisted(s) >= 2, 'two fragments PERSISTED');
});

test('status: `fieldcam device cam-001 status` exits 0 with the telemetry record the device sent', async () => {
  const before = await device.nextStatus();
  const r = await fieldcamDevice('status', '--json');
  assert.is(r.status, 0, r.stderr);
  const t = r.result?.data as Rec;
  assert.ok(r.result?.ok === true && t, JSON.stringify(r.result));
  assert.is(t.streaming, true);
  assert.is(t.health, 'green', JSON.stringify(t));
  assert.ok(Number(t.framesIn) >= Number(before.framesIn) && Number(t.framesOut) > 0, JSON.stringify(t));
  assert.ok(Number(t.fragmentsPersisted) >= persisted(before), JSON.stringify(t));
  assert.ok(Number(t.ackLatencyP50Ms) >= 0 && Number(t.lastPersistedAgeMs) >= 0, JSON.stringify(t));
  assert.ok((t.heap as Rec).limit !== undefined && Number((t.heap as Rec).bytes) > 0, JSON.stringify(t.heap));
  assert.equal(Object.keys(t.drops as Rec).sort(), [...DROP_REASONS].sort());
});

test('tag: `fieldcam device cam-001 tag name=event value=door-open` lands as MKV Tags on the next fragment only', async () => {
  const r = await fieldcamDevice('tag', 'name=event', 'value=door-open', '--json');
  assert.is(r.status, 0, r.stderr);
  const timecode = (r.result?.data as Rec | undefined)?.fragment;
  assert.ok(typeof timecode === 'number', JSON.stringify(r.result));
  // PERSISTED before it is judged: the status lines say so.
  const sent = Number((await device.nextStatus()).fragmentsSent);
  await statusUntil((s) => persisted(s) >= sent, 'the tagged fragment PERSISTED');
  const fragments = storedFragments(cloud, THING);
  const carrying = fragments.filter((f) => f.tags.some(([k, v]) => k === 'event' && v === 'door-open'));
  assert.is(carrying.length, 1, JSON.stringify(fragments.map((f) => [f.timecode, f.tags])));
  assert.is(carrying[0]!.timecode, timecode);
  // The fragment file itself, as mkvextract reads it, and its neighbours.
  const at = fragments.indexOf(carrying[0]!);
  const tagsOf = (i: number) => mkvTags(fragmentFile(cloud, THING, fragments[i]!, join(tmp.dir, `fragment-${i}.mkv`)));
  assert.ok(
    tagsOf(at).some(([k, v]) => k === 'event' && v === 'door-open'),
    JSON.stringify(tagsOf(at)),
  );
  if (at > 0) assert.ok(!tagsOf(at - 1).some(([k]) => k === 'event'), 'not on the fragment before');
  if (at + 1 < fragments.length) assert.ok(!tagsOf(at + 1).some(([k]) => k === 'event'), 'not on the fragment after');
});

test('stop, then start: nothing is stored while stopped (the camera drained as `stopped`), streaming resumes', async () => {
  const stop = await fieldcamDevice('stop');
  assert.is(stop.status, 0, stop.stderr);
  try {
    await stoppedThenStarted();
  } catch (err) {
    await operator.command('restore-streaming', 'start').catch(() => undefined); // so the next proofs judge a streaming device
    throw err;
  }
});

async function stoppedThenStarted(): Promise<void> {
  const atStop = storedFragments(cloud, THING).length;
  const dropped = Number((await device.nextStatus()).framesDropped);
  // While stopped the camera is still read: a second of it (10 frames) is dropped, nothing is stored.
  await statusUntil((s) => Number(s.framesDropped) >= dropped + 10, 'a second of camera dropped while stopped');
  const r = await fieldcamDevice('status', '--json');
  assert.is(r.status, 0, r.stderr);
  const t = r.result?.data as Rec;
  assert.is(t.streaming, false);
  assert.ok(Number((t.drops as Rec).stopped) >= 10, JSON.stringify(t.drops));
  assert.is(t.fragmentsPersisted, t.fragmentsSent, 'the last fragment was PERSISTED before `stop` answered');
  const health = await operator.next('health', (v) => v.reason === 'stopped', 'health while stopped');
  assert.is(health.state, 'amber');
  assert.is(storedFragments(cloud, THING).length, atStop, 'no fragment stored while stopped');
  const start = await fieldcamDevice('start');
  assert.is(start.status, 0, start.stderr);
  await statusUntil((s) => persisted(s) >= Number(t.fragmentsPersisted) + 2, 'two new fragments PERSISTED after start');
  assert.ok(storedFragments(cloud, THING).length >= atStop + 2, 'streaming resumed');
}

test('refusals: an unknown command is a usage error (exit 2, nothing sent); a setting the camera cannot take is refused by the device (exit 3)', async () => {
  const commandsBefore = device.lines.items.filter((r) => r.type === 'control' && r.event === 'command').length;
  const [unknown, fps] = await Promise.all([fieldcamDevice('reboot'), fieldcamDevice('set', 'fps=15')]);
  assert.is(unknown.status, 2, unknown.stderr);
  assert.ok(/CLI_USAGE: .*unknown command 'reboot'/.test(unknown.stderr), unknown.stderr);
  assert.is(fps.status, 3, fps.stderr);
  assert.ok(/refused 'set': CONTROL_UNSUPPORTED/.test(fps.stderr), fps.stderr);
  const commands = device.lines.items.filter((r) => r.type === 'control' && r.event === 'command');
  assert.is(commands.length, commandsBefore + 1, 'only the set reached the device');
});

/** The id of cam-001's certificate (to deactivate it for a while). */
async function deviceCertificateId(): Promise<string> {
  const principals = (await iotClient(cloud).send(new ListThingPrincipalsCommand({ thingName: THING }))).principals ?? [];
  assert.is(principals.length, 1, JSON.stringify(principals));
  return principals[0]!.slice(principals[0]!.lastIndexOf('/') + 1);
}

const setCertificate = async (certificateId: string, newStatus: 'ACTIVE' | 'INACTIVE') =>
  iotClient(cloud).send(new UpdateCertificateCommand({ certificateId, newStatus }));

test('broker restart: the device reconnects; a QoS 1 command published while it is away is executed exactly once', async () => {
  const certificateId = await deviceCertificateId();
  const from = device.mark;
  const om = operator.mark;
  const logFrom = logged.length;
  // Its certificate deactivated for the restart, the device's reconnects are refused (as AWS IoT refuses an
  // INACTIVE certificate) until it is active again: the command is certainly published while it is away.
  // KVS is not affected: the device streams on credentials it already holds.
  await setCertificate(certificateId, 'INACTIVE');
  try {
    await cloud.mqtt.restart();
    await device.next((r) => r.type === 'control' && r.event === 'disconnected', 'the device saw the broker go', from);
    await log.next((l) => l.event === 'mqtt-connect-refused' && l.fields.clientId === THING, 'a refused reconnect', logFrom, 30_000);
    await operator.publishCommand(encode({ id: 'across-restart', name: 'tag', args: { name: 'restart', value: 'once' } }));
    assert.ok(!device.lines.items.slice(from).some((r) => r.type === 'control' && r.event === 'connected'), 'published while the device was away');
  } finally {
    await setCertificate(certificateId, 'ACTIVE');
  }
  await device.next((r) => r.type === 'control' && r.event === 'connected', 'the device reconnected', from, 60_000);
  const result = await operator.next('result', (v) => v.id === 'across-restart', 'the result of the command sent while away', om);
  assert.is(result.ok, true, JSON.stringify(result));
  const timecode = (result.data as Rec | undefined)?.fragment;
  assert.ok(typeof timecode === 'number', JSON.stringify(result));
  // A later command's result is the barrier: a second delivery would have been answered before it.
  const after = await operator.command('after-restart', 'status');
  assert.is(after.ok, true);
  assert.is(operator.all('result', om).filter((v) => v.id === 'across-restart').length, 1, 'the result seen once');
  const runs = device.lines.items.slice(from).filter((r) => r.type === 'control' && r.event === 'command' && r.id === 'across-restart' && r.repeat === false);
  assert.is(runs.length, 1, device.controlLines(from));
  await statusUntil((s) => persisted(s) >= Number((after.data as Rec).fragmentsSent), 'the tagged fragment PERSISTED');
  const carrying = storedFragments(cloud, THING).filter((f) => f.tags.some(([k, v]) => k === 'restart' && v === 'once'));
  assert.is(carrying.length, 1, 'the effect once: one fragment carries the tag');
  assert.is(carrying[0]!.timecode, timecode);
});

/** An MQTT connection over TLS with cam-001's certificate and key (mqtt.js), as a stolen identity would be used. */
async function withDeviceCertificate(clientId: string): Promise<{ client: mqtt.MqttClient; connected: boolean; closed: Promise<void> }> {
  const bundle = join(tmp.dir, THING);
  const client = mqtt.connect(`mqtts://127.0.0.1:${cloud.mqtt.port}`, {
    clientId,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ca: readFileSync(join(bundle, 'ca.pem')),
    cert: readFileSync(join(bundle, 'certificate.pem')),
    key: readFileSync(join(bundle, 'private.key')),
  });
  client.on('error', () => undefined);
  const closed = new Promise<void>((done) => client.once('close', () => done()));
  const connected = await Promise.race([new Promise<boolean>((done) => client.once('connect', () => done(true))), closed.then(() => false)]);
  return { client, connected, closed };
}

test("unauthorized: the device's certificate cannot connect as another thing, nor subscribe or publish to its topics; the device streams on", async () => {
  const from = device.mark;
  const logFrom = logged.length;
  const before = persisted(await device.nextStatus());
  // iot:Connect is allowed for client id cam-001 only: refused without CONNACK, as AWS IoT does.
  const other = await withDeviceCertificate('cam-002');
  assert.is(other.connected, false, 'CONNECT as cam-002 refused');
  other.client.end(true);
  assert.ok(
    logged.slice(logFrom).some((l) => l.event === 'mqtt-connect-refused' && l.fields.clientId === 'cam-002'),
    JSON.stringify(logged.slice(logFrom)),
  );
  // As cam-001 (this takes the session over from the device, as a duplicate client id does on AWS IoT).
  const intruder = await withDeviceCertificate(THING);
  try {
    assert.is(intruder.connected, true);
    // SUBACK 0x80 for another thing's topics (mqtt.js reports it as an error).
    const refused = await intruder.client.subscribeAsync('fieldcam/cam-002/#', { qos: 1 }).then(
      () => false,
      () => true,
    );
    assert.ok(
      refused && logged.slice(logFrom).some((l) => l.event === 'mqtt-subscribe-refused' && l.fields.filter === 'fieldcam/cam-002/#'),
      JSON.stringify(logged.slice(logFrom)),
    );
    intruder.client.publish('fieldcam/cam-002/cmd', Buffer.from(encode({ id: 'intrusion', name: 'stop' })), { qos: 1 });
    await intruder.closed; // AWS IoT (and the local broker) disconnect a client whose publish the policy denies
  } finally {
    intruder.client.end(true);
  }
  assert.ok(
    logged.slice(logFrom).some((l) => l.event === 'mqtt-publish-refused' && l.fields.topic === 'fieldcam/cam-002/cmd'),
    JSON.stringify(logged.slice(logFrom)),
  );
  // The real device: pushed off by the takeover, it reconnects, answers, and its stream never paused.
  await device.next((r) => r.type === 'control' && r.event === 'connected', 'the device reconnected', from, 60_000);
  const status = await operator.command('after-intruder', 'status');
  assert.is(status.ok, true, JSON.stringify(status));
  assert.is((status.data as Rec).streaming, true);
  await statusUntil((s) => persisted(s) >= before + 2, 'fragments PERSISTED after the intrusion');
});

/** Deterministic bytes (xorshift32), so a failing case can be replayed. */
function randomBytes(seed: number, n: number): Uint8Array {
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

test('malformed CBOR commands (a fuzzed batch with operator credentials): each answered with a named error; every fragment PERSISTED meanwhile', async () => {
  const batch: Uint8Array[] = [];
  for (let i = 0; i < 16; i++) batch.push(randomBytes(0x9e3779b9 + i, 1 + ((i * 37) % 200)));
  const valid = encode({ id: 'fuzz-cut', name: 'status' });
  for (let cut = 1; cut < valid.length; cut += 3) batch.push(valid.subarray(0, cut));
  batch.push(
    encode([1, 2, 3]),
    encode('status'),
    encode(42),
    encode(null),
    Uint8Array.of(0xbf, 0x61, 0x61), // array, text, int, null, an unterminated map
    encode({ id: 5, name: 'status' }),
    encode({ id: 'x'.repeat(65), name: 'status' }),
    encode({ id: 'fuzz-noname' }),
    encode({ id: 'fuzz-unknown', name: 'reboot' }),
    encode({ id: 'fuzz-args', name: 'status', args: [1] }),
    encode({ id: 'fuzz-extra', name: 'status', args: { verbose: true } }),
    encode({ id: 'fuzz-set', name: 'set', args: { fragmentMs: 'fast' } }),
    encode({ id: 'fuzz-large', name: 'tag', args: { name: 'big', value: 'v'.repeat(1500) } }),
    encode({ id: 'fuzz-deep', name: 'set', args: { a: [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]] } }),
  );
  const om = operator.mark;
  const from = device.mark;
  const before = persisted(await device.nextStatus());
  // All at once: more commands than the device's MQTT QoS 1 ring (8) holds results for, in one burst.
  await Promise.all(batch.map((payload) => operator.publishCommand(payload)));
  const barrier = await operator.command('after-fuzz', 'status');
  assert.is(barrier.ok, true, JSON.stringify(barrier));
  const results = operator.all('result', om).filter((v) => v.id !== 'after-fuzz');
  assert.is(results.length, batch.length, `one result per malformed command: ${JSON.stringify(results)}\n${device.controlLines(from)}`);
  const named = new Set(['CONTROL_PAYLOAD_INVALID', 'CONTROL_UNKNOWN_COMMAND', 'CONTROL_ARGUMENT_INVALID']);
  for (const r of results) assert.ok(r.ok === false && named.has(String(r.code)) && typeof r.message === 'string', JSON.stringify(r));
  const code = (id: string) => results.find((r) => r.id === id)?.code;
  assert.is(code('fuzz-unknown'), 'CONTROL_UNKNOWN_COMMAND');
  assert.is(code('fuzz-extra'), 'CONTROL_ARGUMENT_INVALID');
  assert.ok(
    results.some((r) => r.id === undefined && /at most 1024/.test(String(r.message))),
    'larger than 1024 bytes: refused before it is decoded',
  );
  assert.is((barrier.data as Rec).streaming, true);
  const sent = Number((barrier.data as Rec).fragmentsSent);
  await statusUntil((s) => persisted(s) >= Math.max(before + 2, sent), 'streaming on: the fragments sent during the batch PERSISTED, and more');
});

test("a command past the device's MQTT packet limit (6 KB; AWS IoT allows 128 KiB) is refused with a result, the connection kept", async () => {
  const from = device.mark;
  const om = operator.mark;
  await operator.publishCommand(encode({ id: 'oversize', name: 'tag', args: { name: 'big', value: 'v'.repeat(6000) } }));
  const refused = await operator.next('result', (v) => v.ok === false && /MQTT packet/.test(String(v.message)), 'the refusal of the oversized command', om);
  assert.is(refused.code, 'CONTROL_PAYLOAD_INVALID', JSON.stringify(refused));
  const after = await operator.command('after-oversize', 'status');
  assert.is(after.ok, true, JSON.stringify(after));
  // Acknowledged and discarded: no reconnect, so the broker had nothing to deliver again.
  const control = device.lines.items.slice(from).filter((r) => r.type === 'control');
  assert.ok(
    control.some((r) => r.event === 'error' && r.code === 'MQTT_PACKET_TOO_LARGE'),
    device.controlLines(from),
  );
  assert.ok(!control.some((r) => r.event === 'disconnected'), device.controlLines(from));
  assert.is(operator.all('result', om).filter((v) => v.ok === false).length, 1, 'answered once');
});

test('set fragmentMs=2000: `fieldcam device` prints the reported configuration; the fragments stored afterwards last 2 s', async () => {
  const om = operator.mark;
  const r = await fieldcamDevice('set', 'fragmentMs=2000', '--json');
  assert.is(r.status, 0, r.stderr);
  assert.is(((r.result!.data as Rec).settings as Rec).fragmentMs, 2000, JSON.stringify(r.result));
  const reported = await operator.next('config/reported', (v) => (v.settings as Rec).fragmentMs === 2000, 'the reported configuration', om);
  assert.is((reported.settings as Rec).streaming, true);
  const sent = Number((await device.nextStatus()).fragmentsSent);
  await statusUntil((s) => persisted(s) >= sent + 2, 'two fragments after the change PERSISTED');
  const durations = storedFragments(cloud, THING).map((f) => f.durationMs);
  assert.ok(
    durations.slice(0, 3).every((d) => d < 1500),
    `1 s before: ${durations}`,
  );
  assert.ok(
    durations.slice(-2).every((d) => d >= 1800 && d <= 2100),
    `2 s after: ${durations}`,
  );
});

test('telemetry matches the local KVS: after a final stop, fragmentsPersisted = ListFragments, framesOut = frames ffprobe decodes', async () => {
  const stop = await fieldcamDevice('stop');
  assert.is(stop.status, 0, stop.stderr);
  const r = await fieldcamDevice('status', '--json');
  assert.is(r.status, 0, r.stderr);
  const t = r.result?.data as Rec;
  assert.is(t.streaming, false);
  assert.is(t.fragmentsPersisted, t.fragmentsSent);
  const listed = await listFragmentCount(cloud, THING);
  const frames = storedFrameCount(cloud, THING, tmp.dir);
  assert.equal([t.fragmentsPersisted, t.framesOut], [listed, frames], JSON.stringify(t));
  assert.ok(listed >= 15 && frames >= 150, `${listed} fragments, ${frames} frames`);
  final = t;
});

let final: Rec | undefined;

test('SIGTERM: the device exits 0; its summary line agrees with its last telemetry', async () => {
  device.board.stop();
  const { code, stderr } = await device.exited;
  assert.is(code, DEVICE_EXIT.OK, stderr);
  const summary = device.lines.items.find((r) => r.type === 'summary');
  assert.ok(summary && final, device.controlLines());
  assert.equal([summary.fragmentsSent, summary.fragmentsPersisted], [final.fragmentsSent, final.fragmentsPersisted]);
});

test('a device whose bundle names another thing than its certificate allows: MQTT refused (client id ≠ policy), the camera streams on', async () => {
  // cam-001's certificate, also attached to cam-002 (so the credentials provider issues cam-002's KVS keys),
  // in a bundle for cam-002: the device connects as client cam-002, which the certificate's policy does not allow.
  const iot = iotClient(cloud);
  const certificateArn = ((await iot.send(new ListThingPrincipalsCommand({ thingName: THING }))).principals ?? [])[0]!;
  await iot.send(new AttachThingPrincipalCommand({ thingName: 'cam-002', principal: certificateArn }));
  const own = join(tmp.dir, THING);
  const doc = decode(readFileSync(join(own, 'device.cbor'))) as DeviceBundleDocument;
  const bundle = writeDeviceBundle(join(tmp.dir, 'mismatch', 'cam-002'), {
    device: { ...doc, thingName: 'cam-002', streamName: 'cam-002' },
    certificatePem: readFileSync(join(own, 'certificate.pem'), 'utf8'),
    privateKeyPem: readFileSync(join(own, 'private.key'), 'utf8'),
    caPem: readFileSync(join(own, 'ca.pem'), 'utf8'),
  });
  const logFrom = logged.length;
  device = boot(bundle);
  const refusedTwice = () => logged.slice(logFrom).filter((l) => l.event === 'mqtt-connect-refused' && l.fields.clientId === 'cam-002').length >= 2;
  await statusUntil((s) => persisted(s) >= 3 && refusedTwice(), 'three fragments PERSISTED and two refused MQTT connections', 90_000);
  const lines = device.lines.items;
  assert.ok(!lines.some((r) => r.type === 'control' && r.event === 'connected'), device.controlLines());
  assert.ok(
    lines.some((r) => r.type === 'control' && r.event === 'error' && r.code === 'MQTT_CONNECTION_LOST'),
    device.controlLines(),
  );
  const refusal = logged.slice(logFrom).find((l) => l.event === 'mqtt-connect-refused' && l.fields.clientId === 'cam-002')!;
  assert.ok(/iot:Connect|not authori[sz]ed|policy/i.test(String(refusal.fields.reason)), JSON.stringify(refusal));
  device.board.stop();
  const { code, stderr } = await device.exited;
  assert.is(code, DEVICE_EXIT.OK, stderr);
  const summary = lines.find((r) => r.type === 'summary')!;
  assert.is(summary.fragmentsPersisted, summary.fragmentsSent, JSON.stringify(summary));
  assert.is(storedFragments(cloud, 'cam-002').length, summary.fragmentsPersisted, "stored in cam-002's stream");
});

test('esp32-cam profile with the control channel: MJPEG streamed and PERSISTED, `status` answered, a burst of 100 answered or refused as CONTROL_BUSY, the app within its 162 KiB', async () => {
  // The ESP32 profile's budget binds what the app allocates after boot (native.limitAppHeap): past it the runtime
  // ends with OUT_OF_MEMORY (exit 6), so a device that no longer fits fails this run instead of answering.
  const esp = await buildImage(loadBoardManifest('esp32-cam'), { typecheck: false });
  const budget = loadBoardManifest('esp32-cam').memory.appHeapBudgetBytes!;
  const thing = 'esp-001';
  const provisioned = await cli(cloud, tmp.dir, ['provision', '--thing', thing, '--out', join(tmp.dir, thing), '--endpoint-url', cloud.endpoint]);
  assert.is(provisioned.status, 0, provisioned.stderr);
  const mjpeg = join(FIXTURES, 'mjpeg-320x240-10fps.mjpeg'); // 30 frames: 3 s at 10 fps
  const cam = new RunningDevice(
    { dir: imageDir('esp32-cam'), runtimeFlags: esp.runtimeFlags, qemuCpu: esp.qemuCpu! },
    // Its own state file: the default (beside the bundle directory) is cam-001's, which the earlier cases stopped.
    { bundle: join(tmp.dir, thing), state: join(tmp.dir, 'esp32-state', 'control-state.cbor') },
    { video: mjpeg, bytesPerSecond: readFileSync(mjpeg).length / 3 },
  );
  booted.push(cam);
  // An OUT_OF_MEMORY exit ends every wait at once, with the runtime's message (not a timeout).
  let stderr = '';
  cam.board.child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const died = new Promise<never>((_, fail) =>
    cam.board.child.once('exit', (code, signal) => {
      const why = `the esp32-cam exited (${code ?? signal}): ${stderr.slice(-500)}`;
      cam.lines.end(why);
      fail(new Error(why));
    }),
  );
  died.catch(() => undefined); // raced below; the final stop ends it too
  const alive = <T>(p: Promise<T>): Promise<T> => Promise.race([p, died]);
  const op = await Operator.connect(cloud, thing);
  try {
    await cam.next((r) => r.type === 'control' && r.event === 'connected', 'the esp32-cam control channel connected', 0, 60_000);
    const status = await alive(op.command('esp-status', 'status'));
    assert.is(status.ok, true, JSON.stringify(status));
    assert.is((status.data as Rec).streaming, true);
    // 100 commands at once, far more than its 4-message QoS 1 ring and its 8 pending results (manifest
    // `control`): each one is either answered or refused as CONTROL_BUSY (not run, counted in telemetry), never
    // both, and the device stays up (before the bound, 60 ran it OUT_OF_MEMORY).
    const BURST = 100;
    const om = op.mark;
    const cm = cam.mark;
    const persistedBefore = Number(cam.lines.items.filter((r) => r.type === 'status').pop()?.fragmentsPersisted ?? 0);
    await Promise.all(Array.from({ length: BURST }, (_, i) => op.publishCommand(encode({ id: `esp-burst-${i}`, name: 'status' }))));
    const answeredIds = () =>
      new Set(
        op
          .all('result', om)
          .filter((v) => v.ok === true && String(v.id).startsWith('esp-burst-'))
          .map((v) => String(v.id)),
      );
    const busyIds = () =>
      new Set(
        cam.lines.items
          .slice(cm)
          .filter((r) => r.type === 'control' && r.code === 'CONTROL_BUSY')
          .map((r) => /^command (esp-burst-\d+) not run/.exec(String(r.message))?.[1] ?? String(r.message)),
      );
    // Re-checked on every line the device prints (a status line a second): done when all 100 are accounted for.
    await alive(cam.next(() => answeredIds().size + busyIds().size >= BURST, 'every command of the burst answered or refused', cm, 60_000));
    const answered = answeredIds();
    const busy = busyIds();
    assert.ok(answered.size > 0 && busy.size > 0, `answered ${answered.size}, busy ${busy.size}: ${cam.controlLines(cm).slice(0, 1000)}`);
    for (const id of busy) assert.ok(!answered.has(id) && /^esp-burst-\d+$/.test(id), `${id}: refused and not answered`);
    assert.is(answered.size + busy.size, BURST);
    const after = await alive(op.command('esp-after', 'status'));
    assert.is(((after.data as Rec).errors as Rec).CONTROL_BUSY, busy.size, 'the refusals are counted in telemetry errors');
    // Streaming went on through the burst.
    await alive(cam.next((r) => r.type === 'status' && Number(r.fragmentsPersisted) > persistedBefore + 1, 'fragments PERSISTED after the burst', cm, 30_000));
    // The manifest's control section reached the device: a 3 KB command passes a 4 KiB client, not this 2 KiB one.
    const mark = cam.mark;
    await op.publishCommand(encode({ id: 'esp-3k', name: 'tag', args: { name: 'big', value: 'v'.repeat(3000) } }));
    const refused = await cam.next(
      (r) => r.type === 'control' && r.code === 'MQTT_PACKET_TOO_LARGE',
      'the 3 KB command refused by the MQTT client',
      mark,
      30_000,
    );
    assert.ok(/exceeds maxPacketBytes 2048\b/.test(String(refused.message)), JSON.stringify(refused));
    const s = await cam.next((r) => r.type === 'status' && Number(r.fragmentsPersisted) >= 3, 'three fragments PERSISTED', cam.mark, 30_000);
    const baseline = Number(s.baselineHeapBytes);
    const app = Number(s.peakHeapBytes) - baseline;
    assert.ok(baseline > 0, `limitAppHeap took its baseline: ${JSON.stringify(s)}`);
    assert.ok(app > 0 && app <= budget, `the app after boot: ${app} B of ${budget} B`);
    console.log(`esp32-cam, burst of ${BURST}: ${answered.size} answered, ${busy.size} CONTROL_BUSY; app heap peak ${app} B of ${budget} B`);
    assert.ok(Number(s.peakHeapBytes) <= esp.sizes.heapLimitBytes, `peak ${String(s.peakHeapBytes)} B within the runtime limit ${esp.sizes.heapLimitBytes} B`);
    assert.ok(storedFragments(cloud, thing).length >= 3, 'the PERSISTED fragments are in the local KVS');
    cam.board.stop();
    const exit = await cam.exited;
    assert.is(exit.code, DEVICE_EXIT.OK, exit.stderr);
    const summary = cam.lines.items.find((r) => r.type === 'summary')!;
    assert.is(summary.fragmentsPersisted, summary.fragmentsSent, JSON.stringify(summary));
  } finally {
    await op.close();
  }
});

test.run();
