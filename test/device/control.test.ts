// Issue 6, the proofs under QEMU: the control channel end to end with the real ARM firmware (pi-zero-w image,
// `qemu-arm -cpu arm1176`) started from a bundle written by `fieldcam provision` against the local cloud, so
// the device's certificate serves both the IoT credentials provider (KVS keys) and the MQTT broker (client
// id = thing). One boot carries the proofs in sequence while its camera (the fixture looped at real time)
// keeps streaming; each proof is judged from what the cloud stored (fragment files, their Tags, ffprobe,
// ListFragments), what the device printed and what an operator received — never from sleeps.
//
// Operators: `fieldcam device` as a child process (asynchronous: the cloud answers from this process), and
// for what the CLI will not send (a command across a broker restart, fuzzed CBOR) an mqtt.js operator over
// WSS + SigV4 with a persistent session (controlKit.ts).
import { AttachThingPrincipalCommand, DescribeEndpointCommand, ListThingPrincipalsCommand, UpdateCertificateCommand } from '@aws-sdk/client-iot';
import { encode } from 'cbor-x';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { DEVICE_EXIT } from '../../firmware/app/runDevice.ts';
import { buildImage, imageDir, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/lib/loadBoardManifest.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { FIXTURES, ROOT, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { cli } from '../host/control/controlKit.ts';
import { iotClient } from '../sim/cloud/iot/iotKit.ts';
import {
  fragmentFile, listFragmentCount, mkvTags, Operator, RunningDevice, storedFragments, storedFrameCount, type Rec,
} from './controlKit.ts';

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
const logged: Array<{ event: string; fields: Rec }> = [];

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
  return device.next((r) => r.type === 'status' && accept(r), what, device.mark, timeoutMs);
}

const persisted = (s: Rec) => Number(s.fragmentsPersisted);

test.after(async () => {
  device?.kill();
  await operator?.close();
  await cloud?.close();
  tmp.remove();
});

test('setup: the pi-zero-w image; the local cloud with its broker; cam-001 and cam-002 provisioned by `fieldcam provision`', async () => {
  image = await buildImage(loadBoardManifest(BOARD), { typecheck: false });
  assert.is(image.qemuCpu, 'arm1176');
  cloud = await startCloud({
    stateDir: join(tmp.dir, 'cloud'), port: 0, mqttPort: 0, routes: [...mediaRoutes],
    log: (event, fields) => {
      if (event.startsWith('mqtt-')) logged.push({ event, fields });
    },
  });
  const provisioned = await cli(cloud, tmp.dir, ['provision', '--count', '2', '--prefix', 'cam-', '--out', tmp.dir, '--endpoint-url', cloud.endpoint]);
  assert.is(provisioned.status, 0, provisioned.stderr);
  operator = await Operator.connect(cloud, THING);
});

test('boot: credentials over mTLS, the MQTT connection with the same certificate (client id = thing), fragments PERSISTED', async () => {
  device = new RunningDevice({ dir: imageDir(BOARD), runtimeFlags: image.runtimeFlags, qemuCpu: image.qemuCpu! },
    { bundle: join(tmp.dir, THING) }, { video: GOP10, bytesPerSecond: REAL_TIME });
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
  assert.equal(Object.keys(t.drops as Rec).sort(), ['awaitKeyFrame', 'frameTooLarge', 'noParameterSets', 'poolFull', 'stopped']);
});

let tagged: { timecode: number } | undefined;

test('tag: `fieldcam device cam-001 tag name=event value=door-open` lands as MKV Tags on the next fragment only', async () => {
  const r = await fieldcamDevice('tag', 'name=event', 'value=door-open', '--json');
  assert.is(r.status, 0, r.stderr);
  const timecode = (r.result?.data as Rec | undefined)?.fragment;
  assert.ok(typeof timecode === 'number', JSON.stringify(r.result));
  tagged = { timecode: timecode as number };
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
  assert.ok(tagsOf(at).some(([k, v]) => k === 'event' && v === 'door-open'), JSON.stringify(tagsOf(at)));
  if (at > 0) assert.ok(!tagsOf(at - 1).some(([k]) => k === 'event'), 'not on the fragment before');
  if (at + 1 < fragments.length) assert.ok(!tagsOf(at + 1).some(([k]) => k === 'event'), 'not on the fragment after');
});

test('stop, then start: nothing is stored while stopped (the camera drained as `stopped`), streaming resumes', async () => {
  const stop = await fieldcamDevice('stop');
  assert.is(stop.status, 0, stop.stderr);
  const atStop = storedFragments(cloud, THING).length;
  // While stopped: the device says so, and frames it reads are dropped as `stopped`.
  const r = await fieldcamDevice('status', '--json');
  assert.is(r.status, 0, r.stderr);
  const t = r.result?.data as Rec;
  assert.is(t.streaming, false);
  assert.ok(Number((t.drops as Rec).stopped) > 0, JSON.stringify(t.drops));
  assert.is(t.fragmentsPersisted, t.fragmentsSent, 'the last fragment was PERSISTED before `stop` answered');
  const health = await operator.next('health', (v) => v.reason === 'stopped', 'health while stopped');
  assert.is(health.state, 'amber');
  await statusUntil((s) => Number(s.framesDropped) >= Number((t.drops as Rec).stopped) + 10, 'a second more of camera dropped while stopped');
  assert.is(storedFragments(cloud, THING).length, atStop, 'no fragment stored while stopped');
  const start = await fieldcamDevice('start');
  assert.is(start.status, 0, start.stderr);
  await statusUntil((s) => persisted(s) >= Number(t.fragmentsPersisted) + 2, 'two new fragments PERSISTED after start');
  assert.ok(storedFragments(cloud, THING).length >= atStop + 2, 'streaming resumed');
});

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

test('stop the device: SIGTERM, it flushes and exits 0', async () => {
  device.board.stop();
  const { code, stderr } = await device.exited;
  assert.is(code, DEVICE_EXIT.OK, stderr);
});

test.run();

// Later: broker restart, unauthorized, fuzz, set, final numbers.
void AttachThingPrincipalCommand;
void DescribeEndpointCommand;
void ListThingPrincipalsCommand;
void UpdateCertificateCommand;
void connect;
void (undefined as unknown as TLSSocket);
void encode;
void iotClient;
void listFragmentCount;
void storedFrameCount;
void ROOT;
void tagged;
