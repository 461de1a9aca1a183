// `fieldcam device <thing> profile` against a real device: the sim-x86 firmware image (fieldcam-runtime, XS)
// booted from a bundle written by `fieldcam provision` against the local cloud, its camera the fixture looped at
// real time, its control channel on the local broker. The report is built from the telemetry that device
// sends; it is judged against the device's own status lines (printed by the same firmware in the same run)
// and the image's limits, and it must name the figures telemetry cannot give.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, imageDir, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { TELEMETRY_MISSING } from '../../host/lib/profile/profileFromTelemetry.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import type { ProfileReport } from '../../host/shared/ProfileReport.ts';
import { FIXTURES, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { cli } from '../host/control/controlKit.ts';
import { RunningDevice } from './controlKit.ts';

const test = suite('fieldcam device <thing> profile: a real device (sim-x86 firmware, provisioned bundle, local broker)');
const tmp = tempDir('fieldcam-device-profile-real-');
const BOARD = 'sim-x86';
const THING = 'cam-profile';
const GOP10 = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');

let image: ImageManifest;
let cloud: RunningCloud;
let device: RunningDevice | undefined;

test.after(async () => {
  device?.kill();
  await cloud?.close();
  tmp.remove();
});

test("the report comes from the device's telemetry: heap (with chunks and slots), pool and CPU equal what the device reports; the missing figures are named", async () => {
  image = await buildImage(loadBoardManifest(BOARD), { typecheck: false });
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, mqttPort: 0, routes: [...mediaRoutes] });
  const provisioned = await cli(cloud, tmp.dir, ['provision', '--thing', THING, '--out', join(tmp.dir, THING), '--endpoint-url', cloud.endpoint]);
  assert.is(provisioned.status, 0, provisioned.stderr);
  device = new RunningDevice(
    { dir: imageDir(BOARD), runtimeFlags: image.runtimeFlags },
    { bundle: join(tmp.dir, THING) },
    { video: GOP10, bytesPerSecond: readFileSync(GOP10).length / 10 },
  );
  await device.next((r) => r.type === 'control' && r.event === 'connected', 'the control channel connected', 0, 90_000);
  await device.next((r) => r.type === 'status' && Number(r.fragmentsPersisted) >= 1, 'a fragment PERSISTED', 0, 60_000);

  const out = join(tmp.dir, 'field.html');
  const before = device.mark;
  const r = await cli(cloud, tmp.dir, [
    'device',
    THING,
    'profile',
    '--duration',
    '4',
    '--interval',
    '0.5',
    '--json',
    '-o',
    out,
    '--endpoint-url',
    cloud.endpoint,
  ]);
  assert.is(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ProfileReport;
  const statuses = device.lines.items.slice(before).filter((x) => x.type === 'status');
  const last = statuses.at(-1)!;

  // Several telemetry records over 4 s, frames rising as the camera streams.
  assert.ok(report.samples.length >= 4, `samples: ${report.samples.length}`);
  assert.ok(report.samples.at(-1)!.framesIn > report.samples[0]!.framesIn, JSON.stringify(report.samples.map((s) => s.framesIn)));
  // Within what the device's own status lines said around the same time: frames no further than the last status.
  assert.ok(report.totals.framesIn <= Number(last.framesIn) + 10, `${report.totals.framesIn} vs status ${String(last.framesIn)}`);
  // The heap and its limit as the XS runtime reports them; chunks and slots from the engine (telemetry heap.chunks/slots).
  assert.is(report.limits.heapLimitBytes, image.sizes.heapLimitBytes);
  for (const s of report.samples) {
    assert.ok(s.heapBytes > 0 && s.heapChunkBytes > 0 && s.heapSlotBytes > 0 && s.heapChunkBytes + s.heapSlotBytes <= s.heapBytes, JSON.stringify(s));
  }
  assert.is(report.totals.peakHeapBytes, Math.max(...report.samples.map((s) => s.peakHeapBytes)));
  assert.ok(report.totals.peakHeapBytes <= Number(last.peakHeapBytes), `peak ${report.totals.peakHeapBytes} vs status ${String(last.peakHeapBytes)}`);
  // The pool as the device sizes it; computrons per frame of the same order as the status lines' own.
  assert.is(report.limits.poolSlots, Number(last.poolSlots));
  const statusCpf = (Number(last.computrons) - Number(statuses[0]!.computrons)) / (Number(last.framesIn) - Number(statuses[0]!.framesIn));
  assert.ok(
    report.totals.computronsPerFrame > statusCpf / 2 && report.totals.computronsPerFrame < statusCpf * 2,
    `${report.totals.computronsPerFrame} vs ${statusCpf}`,
  );
  assert.ok(
    report.budgets.every((b) => b.ok),
    JSON.stringify(report.budgets),
  );
  // What telemetry cannot give is named, and those plots are left out.
  assert.equal(report.missing, [...TELEMETRY_MISSING]);
  const html = readFileSync(out, 'utf8');
  for (const id of ['plot-heap', 'plot-heap-split', 'plot-pool', 'plot-cpu'])
    assert.ok(new RegExp(`data-plot="${id}"[^]*?data-points="[1-9]`).test(html), `${id} drawn with data`);
  for (const id of ['plot-rss', 'plot-latency-hist', 'plot-latency-cdf', 'plot-capture']) assert.ok(!html.includes(`data-plot="${id}"`), `${id} left out`);
});

test.run();
