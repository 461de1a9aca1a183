// `fieldcam device <thing> profile`: the profile report from a camera's telemetry over MQTT (the local broker,
// a protocol peer as the camera): status requests each interval, telemetry published meanwhile, and a report
// with the heap, pool and CPU plots and verdicts the telemetry supports; RSS and latency plots left out.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProfileReport } from '../../../host/shared/ProfileReport.ts';
import { assert, suite } from '../../harness/index.ts';
import { cli, provisionedCloud, start } from './controlKit.ts';
import { ProtocolPeer, sampleTelemetry } from './protocolPeer.ts';

const test = suite('fieldcam device <thing> profile (local broker, protocol peer)');
const { cloud, work, url, close } = await provisionedCloud('fieldcam-device-profile', 1);
const peer = await ProtocolPeer.connect(join(work.dir, 'cam-001'));

test.after(async () => {
  await peer.close();
  await close();
});

test('telemetry over the duration becomes heap, pool and CPU plots with verdicts; the missing figures are named', async () => {
  const out = join(work.dir, 'field.html');
  const run = start(cloud, work.dir, ['device', 'cam-001', 'profile', '--duration', '3', '--interval', '0.5', '--json', '-o', out, ...url]);
  await peer.received(1);
  // Three records as the camera would publish them, frames and computrons rising, the pool filling.
  for (const [i, pool] of [
    [1, 10],
    [2, 30],
    [3, 50],
  ] as const) {
    await peer.publishTelemetry({ framesIn: 1500 + 100 * i, computrons: 123_456_789 + 2_500_000 * i, poolSlotsInUse: pool });
  }
  const r = await run.done;
  assert.is(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ProfileReport;
  assert.ok(report.samples.length >= 4, `samples: ${report.samples.length}`);
  assert.is(report.totals.poolHighWater, 50);
  assert.ok(
    report.samples.some((s) => s.computronsPerFrame === 25_000),
    JSON.stringify(report.samples.map((s) => s.computronsPerFrame)),
  );
  const sample = sampleTelemetry(0);
  assert.equal(report.totals.dropsByReason, { poolFull: 3, awaitKeyFrame: 7 });
  assert.is(report.limits.heapLimitBytes, (sample.heap as { limit: number }).limit);
  // The peer's telemetry counts poolFull drops: the pool verdict fails and says why.
  const pool = report.budgets.find((b) => b.unit === 'slots')!;
  assert.is(pool.ok, false);
  assert.ok(pool.note?.includes('3 frames dropped'), pool.note);
  assert.ok(report.missing.some((m) => m.startsWith('process RSS')));
  const html = readFileSync(out, 'utf8');
  for (const id of ['plot-heap', 'plot-pool', 'plot-cpu'])
    assert.ok(new RegExp(`data-plot="${id}"[^]*?data-points="[1-9]`).test(html), `${id} drawn with data`);
  for (const id of ['plot-rss', 'plot-latency-hist', 'plot-latency-cdf']) assert.ok(!html.includes(`data-plot="${id}"`), `${id} left out`);
});

test('a device that never answers: exit 4 naming it', async () => {
  peer.answering = false;
  try {
    const r = await cli(cloud, work.dir, ['device', 'cam-001', 'profile', '--duration', '1', '-o', join(work.dir, 'none.html'), ...url]);
    assert.is(r.status, 4, r.stderr);
    assert.ok(/sent no telemetry and answered no status request/.test(r.stderr), r.stderr);
  } finally {
    peer.answering = true;
  }
});

test.run();
