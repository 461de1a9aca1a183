// Issue 11, item 2, as a deployed camera meets it: the pi-zero-w image under `qemu-arm -cpu arm1176`, in a
// mount namespace whose /etc/resolv.conf names a nameserver that reads every query and answers none (glibc's
// defaults: 5 s × 2 attempts), streaming to an endpoint given by NAME (kvs.fieldcam.test, which the local
// cloud's certificate carries, so mbedTLS verifies the cloud by that name). A live camera at its own pace.
// While DNS is black-holed the device reports NET_DNS_TIMEOUT and keeps reading the camera (its status lines
// keep coming with more frames each time); once the nameserver answers, it streams, and what the cloud
// stored accounts for every frame fed: stored + dropped = fed. Before the fix the lookup ran inside the
// event loop: no NET_DNS_TIMEOUT (an EAI_AGAIN after 10 s of a frozen device, camera unread).
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT } from '../../firmware/app/runDevice.ts';
import { buildImage, imageDir, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { TEST_HOST_NAME } from '../../sim/cloud/tls/ensureCertificates.ts';
import { namespaceCommand, resolvConfFor } from '../../sim/faults/namespaceCommand.ts';
import { startNameserver, type Nameserver } from '../../sim/faults/startNameserver.ts';
import { decodedFrameCount, decodeErrors, FIXTURES, ROOT, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { Arrivals, type Rec } from './controlKit.ts';
import { getMedia } from './storedMedia.ts';
import { localCloudTarget } from '../../sim/cloud/localCloudTarget.ts';

const test = suite('pi-zero-w under qemu-arm in a mount namespace: a black-holed nameserver, then one that answers');
const tmp = tempDir('fieldcam-dns-');
const BOARD = 'pi-zero-w';
/** The fixture: 100 frames at 10 fps, a key frame every 10; two copies make a 20 s camera. */
const COPIES = 2;
const FRAMES = 100 * COPIES;
const SECONDS = 10 * COPIES;
/** The device's lookup deadline (runtime time): well inside glibc's 10 s, so NET_DNS_TIMEOUT is what it reports. */
const DNS_TIMEOUT_MS = 1500;
let image: ImageManifest;
let cloud: RunningCloud;
let nameserver: Nameserver;

test.before(async () => {
  // build the pi-zero-w image; start the local cloud and a black-holed nameserver
  image = await buildImage(loadBoardManifest(BOARD), { typecheck: false });
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
  nameserver = await startNameserver();
});

test(`black-holed DNS: NET_DNS_TIMEOUT, the camera read throughout; DNS answers: it streams; stored + dropped = ${FRAMES} fed`, async () => {
  const video = join(tmp.dir, 'camera.h264');
  const one = readFileSync(join(FIXTURES, 'h264-320x240-10fps-gop10.h264'));
  writeFileSync(video, Buffer.concat(Array.from({ length: COPIES }, () => one)));
  const name = 'dns-blackhole';
  const config = join(tmp.dir, `${name}.json`);
  writeDeviceConfig(config, {
    board: loadBoardManifest(BOARD),
    streamName: name,
    ...localCloudTarget(cloud, { host: TEST_HOST_NAME }),
    codec: 'h264',
    live: true,
    createRetentionHours: 24,
    statusIntervalMs: 1000,
  });
  nameserver.blackhole();
  const lines = new Arrivals<Rec>();
  const board = bootBoard({
    image: { dir: imageDir(BOARD), qemuCpu: image.qemuCpu!, runtimeFlags: [...image.runtimeFlags, '--dns-timeout', String(DNS_TIMEOUT_MS)] },
    config,
    video,
    loop: false,
    bytesPerSecond: Math.ceil(statSync(video).size / SECONDS),
    cwd: ROOT,
    onRecord: (r) => lines.push(r),
    wrap: (command, args) => namespaceCommand({ dir: tmp.dir, resolvConf: resolvConfFor(nameserver.address) }, command, args),
  });
  const exited = board.exited.then((r) => {
    lines.end(`the device exited (${r.code}) first: ${r.stderr.slice(-2000)}`);
    return r;
  });
  const next = (accept: (r: Rec) => boolean, what: string, from: number) => lines.next(accept, what, from, 60_000);
  try {
    // Two lookups that hit their deadline, each reported with its code; the status lines in between show
    // the camera being read (more frames each time) while nothing is connected.
    const first = await next((r) => r.type === 'event' && r.code === 'NET_DNS_TIMEOUT', 'a first NET_DNS_TIMEOUT', 0);
    const from = lines.items.indexOf(first);
    const second = await next((r) => r.type === 'event' && r.code === 'NET_DNS_TIMEOUT', 'a second NET_DNS_TIMEOUT', from + 1);
    const upTo = lines.items.indexOf(second);
    const after = await next((r) => r.type === 'status', 'a status line after the second NET_DNS_TIMEOUT', upTo + 1);
    const during = lines.items.slice(from, lines.items.indexOf(after) + 1).filter((r) => r.type === 'status');
    assert.ok(during.length >= 2, `status lines kept coming while DNS was black-holed: ${JSON.stringify(during)}`);
    for (let i = 1; i < during.length; i++) {
      assert.ok(Number(during[i]!.framesIn) > Number(during[i - 1]!.framesIn), `the camera was read between status lines: ${JSON.stringify(during)}`);
    }
    assert.ok(
      during.every((s) => s.connected === false),
      'nothing connected while no name resolved',
    );
    assert.ok(String(first.message).includes(TEST_HOST_NAME), String(first.message));
    assert.ok(nameserver.queries.includes(TEST_HOST_NAME), 'the lookups went to the namespace’s nameserver');

    nameserver.answer({ [TEST_HOST_NAME]: '127.0.0.1' });
    const { code, stderr } = await exited;
    assert.is(code, DEVICE_EXIT.OK, `${stderr}\n${JSON.stringify(lines.items.filter((r) => r.type !== 'status'))}`);
    const summary = lines.items.find((r) => r.type === 'summary') as Rec;
    assert.ok(summary, 'a summary line');
    // Every frame the camera sent was read and is either stored or counted as dropped.
    assert.is(summary.framesIn, FRAMES, JSON.stringify(summary));
    const out = await getMedia(cloud, name, tmp.dir);
    assert.is(decodeErrors(out), '');
    const stored = decodedFrameCount(out);
    assert.is(
      stored + Number(summary.framesDropped),
      FRAMES,
      `stored ${stored} + dropped ${String(summary.framesDropped)} = fed ${FRAMES}: ${JSON.stringify(summary)}`,
    );
    assert.ok(stored > 0, 'it streamed once the name resolved');
  } finally {
    if (board.child.exitCode === null && board.child.signalCode === null) board.child.kill('SIGKILL');
  }
});

test.after(async () => {
  await nameserver?.close();
  await cloud?.close();
  tmp.remove();
});

test.run();
