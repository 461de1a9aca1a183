// `fieldcam profile`, end to end: the real CLI in a child process boots the real image (natively for sim-x86,
// under qemu-arm for the ARM boards) with the 320x240 fixture against the local cloud, at a time scale so a
// run takes seconds. The HTML report is opened in headless Chromium (Debian's chromium, playwright-core):
// every plot has data and labels, no console error, the numbers shown equal the JSON; the JSON agrees with
// the cloud's own record on disk (fragments stored, frames decodable by ffprobe) and the device's summary line;
// --fail-on budget fails a run whose pool budget is too small; a pi-zero-w vs esp32-cam comparison renders.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { FileStreamStore } from '../../../sim/cloud/FileStreamStore.ts';
import { FragmentStore } from '../../../sim/cloud/kvs/media/FragmentStore.ts';
import type { ProfileReport } from '../../../host/shared/ProfileReport.ts';
import { assert, suite } from '../../harness/index.ts';

const test = suite('fieldcam profile (CLI, report in Chromium)');
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const work = mkdtempSync(join(tmpdir(), 'fieldcam-profile-test-'));
/** Where the docs screenshot goes when asked (FIELDCAM_PROFILE_SCREENSHOT=path). */
const SCREENSHOT = process.env.FIELDCAM_PROFILE_SCREENSHOT;
let browser: { context: BrowserContext; profile: string } | undefined;

test.after(async () => {
  if (browser) {
    await browser.context.close();
    rmSync(browser.profile, { recursive: true, force: true });
  }
  rmSync(work, { recursive: true, force: true });
});

function fieldcam(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'host', 'cli', 'bin.mjs'), 'profile', ...args], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function page(): Promise<Page> {
  if (!browser) {
    const profile = mkdtempSync(join(tmpdir(), 'fieldcam-profile-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      timeout: 30_000,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    browser = { context, profile };
  }
  return browser.context.newPage();
}

/** Opens a report offline (file://, every request other than the file itself refused) and collects its errors. */
async function open(file: string): Promise<{ page: Page; errors: string[] }> {
  const p = await page();
  const errors: string[] = [];
  p.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  p.on('pageerror', (e) => errors.push(e.message));
  await p.route('**/*', (route) => (route.request().url() === `file://${file}` ? route.continue() : route.abort()));
  await p.goto(`file://${file}`);
  return { page: p, errors };
}

interface PlotInfo {
  id: string;
  series: { name: string; points: number; pathLength: number }[];
  xLabel: string;
  yLabel: string;
}

const readPlots = (p: Page): Promise<PlotInfo[]> =>
  p.$$eval('svg[data-plot]', (svgs) =>
    svgs.map((svg) => ({
      id: svg.getAttribute('data-plot') ?? '',
      series: [...svg.querySelectorAll('path[data-series]')].map((path) => ({
        name: path.getAttribute('data-series') ?? '',
        points: Number(path.getAttribute('data-points')),
        pathLength: (path as unknown as { getTotalLength(): number }).getTotalLength(),
      })),
      xLabel: svg.querySelector('.x-label')?.textContent ?? '',
      yLabel: svg.querySelector('.y-label')?.textContent ?? '',
    })),
  );

const at = (r: unknown, key: string): unknown => {
  if (key.startsWith('recoveries.')) return (r as ProfileReport).recoveries.find((x) => x.fault === key.slice('recoveries.'.length))?.firstPersistedAfterMs;
  return key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], r);
};

test('sim-x86 with a dropped connection: every plot drawn with data, numbers equal the JSON, totals equal the cloud record', async () => {
  const state = join(work, 'state');
  const out = join(work, 'sim-x86.html');
  const json = join(work, 'sim-x86.json');
  // --fail-on budget: a run within the board's budgets exits 0.
  const r = fieldcam([
    '--board',
    'sim-x86',
    '--duration',
    '12',
    '--time-scale',
    '4',
    '--faults',
    'drop@6s',
    '--fail-on',
    'budget',
    '--state-dir',
    state,
    '-o',
    out,
    '--json',
    json,
    '--csv',
    join(work, 'csv'),
  ]);
  assert.is(r.status, 0, r.stderr + r.stdout);
  assert.ok(/within budget/.test(r.stdout), r.stdout);
  const report = JSON.parse(readFileSync(json, 'utf8')) as ProfileReport;
  assert.is(report.exitCode, 0);
  assert.ok(report.samples.length > 15, `samples: ${report.samples.length}`);

  // The cloud's own record, read from its state directory after the run: fragments stored and their frames.
  const streams = new FileStreamStore(state);
  const store = new FragmentStore(streams.dir(report.stream));
  const records = store.list();
  assert.is(records.length, report.totals.fragmentsPersisted, "stored fragments = the device summary's PERSISTED");
  assert.is(report.totals.cloudFragmentsStored, records.length);
  assert.is(report.totals.cloudPersistedAcks, records.length);
  assert.is(report.fragments.length, records.length);
  const mkv = join(work, 'stored.mkv');
  writeFileSync(mkv, Buffer.concat([store.readHeader(records[0]!.header), ...records.map((x) => store.readFragment(x))]));
  const probe = spawnSync(
    'ffprobe',
    ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', mkv],
    { encoding: 'utf8' },
  );
  assert.is(Number(probe.stdout.trim()), report.totals.framesIn - report.totals.framesDropped, `frames decodable in the cloud's fragments: ${probe.stderr}`);
  assert.ok(report.totals.connections >= 2, 'the drop made the device reconnect');
  assert.ok(report.recoveries[0]!.firstPersistedAfterMs >= 0, 'a fragment PERSISTED after the drop');
  assert.ok(report.events.some((e) => e.event === 'fault' && e.code === 'drop'));

  // The CSV carries the same samples.
  assert.is(
    readFileSync(join(work, 'csv', 'samples.csv'), 'utf8')
      .trim()
      .split('\n').length,
    report.samples.length + 1,
  );

  const { page: p, errors } = await open(out);
  const plots = await readPlots(p);
  assert.equal(plots.map((x) => x.id).sort(), [
    'plot-capture',
    'plot-cpu',
    'plot-heap',
    'plot-heap-split',
    'plot-latency-cdf',
    'plot-latency-hist',
    'plot-pool',
    'plot-rss',
  ]);
  for (const plot of plots) {
    assert.ok(plot.series.length > 0, `${plot.id}: a series`);
    for (const s of plot.series)
      assert.ok(s.points > 0 && s.pathLength > 0, `${plot.id}/${s.name}: drawn with data (${s.points} points, length ${s.pathLength})`);
    assert.ok(plot.xLabel.length > 0 && plot.yLabel.length > 0, `${plot.id}: axis labels`);
  }
  assert.is(plots.find((x) => x.id === 'plot-heap')!.series[0]!.points, report.samples.length);
  assert.is(plots.find((x) => x.id === 'plot-latency-cdf')!.series[0]!.points, report.fragments.length);
  // The XS heap's split from the engine: chunks and slots in use, both within what the heap took from the system.
  for (const s of report.samples)
    assert.ok(s.heapChunkBytes > 0 && s.heapSlotBytes > 0 && s.heapChunkBytes + s.heapSlotBytes <= s.heapBytes, JSON.stringify(s));
  assert.is(plots.find((x) => x.id === 'plot-heap-split')!.series[0]!.points, report.samples.length);
  // Capture → socket, from the device's status lines: every frame it sent was measured once (a replay is not).
  const c2s = report.totals.captureToSocket;
  assert.ok(c2s.frames > 0 && c2s.frames <= report.totals.framesIn, JSON.stringify(c2s));
  // The status lines' windows, and the summary's (the frames after the last status line).
  assert.ok(c2s.frames >= report.samples.reduce((n, s) => n + s.captureToSocketFrames, 0));
  assert.ok(
    report.samples.every(
      (s) => s.captureToSocketFrames === 0 || (s.captureToSocketP50Ms <= s.captureToSocketP99Ms && s.captureToSocketP99Ms <= s.captureToSocketMaxMs),
    ),
  );
  assert.is(c2s.maxMs, Math.max(...report.samples.map((s) => s.captureToSocketMaxMs), c2s.maxMs));
  // TLS on the device: at least one handshake per PutMedia connection, records carrying the fragments' bytes.
  assert.ok(report.totals.tlsHandshakes >= report.totals.connections, `${report.totals.tlsHandshakes} handshakes`);
  assert.ok(report.totals.tlsRecords >= report.totals.framesIn - report.totals.framesDropped, `${report.totals.tlsRecords} records`);
  assert.ok(await p.$('svg#plot-heap line[data-limit="heap limit"]'), 'the heap limit line');
  assert.ok(await p.$('svg#plot-heap line[data-marker="fault drop"]'), 'the fault marker on the time axis');
  const cells = await p.$$eval('td[data-key]', (tds) =>
    tds.map((td) => ({ key: td.getAttribute('data-key') ?? '', value: Number(td.getAttribute('data-value')), text: td.textContent ?? '' })),
  );
  assert.ok(cells.length >= 14, `summary cells: ${cells.length}`);
  for (const c of cells) {
    const expected = at(report, c.key);
    if (typeof expected === 'number' && Number.isFinite(expected)) assert.is(c.value, expected, c.key);
    if (c.key.endsWith('Bytes')) assert.is(c.text, `${((expected as number) / 1048576).toFixed(2)} MiB`, c.key);
    else if (!c.key.startsWith('latency') && !c.key.endsWith('Ms') && !c.key.startsWith('recoveries')) assert.is(c.text, String(expected), c.key);
  }
  const verdicts = await p.$$eval('tr[data-budget] td:last-child', (tds) => tds.map((td) => td.textContent));
  assert.equal(
    verdicts,
    report.budgets.map((b) => (b.ok ? 'within budget' : 'OVER BUDGET')),
  );
  assert.equal(errors, []);
  if (SCREENSHOT) {
    mkdirSync(resolve(SCREENSHOT, '..'), { recursive: true });
    await p.setViewportSize({ width: 820, height: 1400 });
    await p.screenshot({ path: SCREENSHOT, clip: { x: 0, y: 0, width: 820, height: 1400 } });
  }
  await p.close();
});

test("--fail-on budget: exit 1 with a pool budget of one slot or a 1 MiB heap (the first test passes with the board's own)", async () => {
  const tight = fieldcam([
    '--board',
    'sim-x86',
    '--duration',
    '6',
    '--time-scale',
    '3',
    '--as-fast-as-possible',
    '--budget',
    'pool=1',
    '--fail-on',
    'budget',
    '-o',
    join(work, 'tight.html'),
    '--json',
    join(work, 'tight.json'),
  ]);
  assert.is(tight.status, 1, tight.stderr + tight.stdout);
  assert.ok(/pool high-water .* OVER BUDGET/.test(tight.stdout), tight.stdout);
  assert.ok(/over budget: pool high-water/.test(tight.stderr), tight.stderr);
  const heap = fieldcam([
    '--board',
    'sim-x86',
    '--duration',
    '4',
    '--time-scale',
    '2',
    '--budget',
    'heap=1048576',
    '--fail-on',
    'budget',
    '-o',
    join(work, 'heap.html'),
  ]);
  assert.is(heap.status, 1, heap.stderr + heap.stdout);
  assert.ok(/peak XS heap .* OVER BUDGET/.test(heap.stdout), heap.stdout);
});

test('a pool sized too small in a manifest copy (--image): an outage fills it, drops counted by reason, --fail-on budget exits 1', () => {
  // The image the first test built, with a board.json whose pool holds about one second of the 10 fps sample.
  const image = join(work, 'small-pool-image');
  mkdirSync(image, { recursive: true });
  for (const name of ['fieldcam-runtime', 'firmware.js', 'image.json', 'board.json']) copyFileSync(join(ROOT, 'dist', 'sim-x86', name), join(image, name));
  const board = JSON.parse(readFileSync(join(image, 'board.json'), 'utf8')) as { pool: { bufferSeconds: number; fps: number } };
  board.pool.bufferSeconds = 1;
  board.pool.fps = 10;
  writeFileSync(join(image, 'board.json'), JSON.stringify(board));
  const json = join(work, 'small-pool.json');
  const r = fieldcam([
    '--image',
    image,
    '--duration',
    '10',
    '--time-scale',
    '5',
    '--faults',
    'outage@3s:5s',
    '--fail-on',
    'budget',
    '-o',
    join(work, 'small-pool.html'),
    '--json',
    json,
  ]);
  assert.is(r.status, 1, r.stderr + r.stdout);
  assert.ok(/pool high-water .* OVER BUDGET \(\d+ frames dropped with the pool full\)/.test(r.stdout), r.stdout);
  const report = JSON.parse(readFileSync(json, 'utf8')) as ProfileReport;
  assert.ok(report.totals.framesDropped > 0, 'frames dropped during the outage');
  // The pool's reasons: poolFull for the fragments given up, awaitKeyFrame for the frames until the next key frame.
  const reasons = report.totals.dropsByReason;
  assert.ok((reasons.poolFull ?? 0) > 0, JSON.stringify(reasons));
  assert.is(
    Object.values(reasons).reduce((a, b) => a + b, 0),
    report.totals.framesDropped,
    `every drop has its reason (status drops): ${JSON.stringify(reasons)}`,
  );
  assert.is(report.budgets.find((b) => b.unit === 'slots')!.ok, false);
});

test('bad input: named errors (faults, compare files, an image that cannot boot)', () => {
  const faults = fieldcam(['--board', 'sim-x86', '--faults', 'outage@5s']);
  assert.is(faults.status, 2);
  assert.ok(/CLI_USAGE.*outage@T:D/.test(faults.stderr), faults.stderr);
  const compare = fieldcam(['--compare', join(work, 'missing.json'), join(work, 'missing2.json')]);
  assert.ok(/CLI_INPUT_NOT_FOUND/.test(compare.stderr), compare.stderr);
  assert.ok(!existsSync(join(work, 'profile-sim-x86.html')));
  // A heap limit the firmware cannot boot in (an image.json copy): a named error with the runtime's reason.
  const image = join(work, 'tiny-heap-image');
  mkdirSync(image, { recursive: true });
  for (const name of ['fieldcam-runtime', 'firmware.js', 'image.json', 'board.json']) copyFileSync(join(ROOT, 'dist', 'sim-x86', name), join(image, name));
  const manifest = JSON.parse(readFileSync(join(image, 'image.json'), 'utf8')) as { runtimeFlags: string[] };
  manifest.runtimeFlags[manifest.runtimeFlags.indexOf('--heap-limit') + 1] = '6000000';
  writeFileSync(join(image, 'image.json'), JSON.stringify(manifest));
  const tiny = fieldcam(['--image', image, '--duration', '4', '--time-scale', '2', '-o', join(work, 'tiny.html')]);
  assert.is(tiny.status, 1, tiny.stderr);
  assert.ok(/CONFIG_INVALID: the sim-x86 image exited \d+ before booting .*OUT_OF_MEMORY/.test(tiny.stderr), tiny.stderr);
});

test('--compare: pi-zero-w vs esp32-cam under qemu-arm renders both runs overlaid', async () => {
  const runs: string[] = [];
  for (const board of ['pi-zero-w', 'esp32-cam']) {
    const json = join(work, `${board}.json`);
    // esp32-cam also counts ARM guest instructions per frame with the QEMU plugin (the clip twice minus once).
    const r = fieldcam([
      '--board',
      board,
      '--duration',
      '6',
      '--time-scale',
      '2',
      '-o',
      join(work, `${board}.html`),
      '--json',
      json,
      ...(board === 'esp32-cam' ? ['--count-instructions'] : []),
    ]);
    assert.is(r.status, 0, r.stderr + r.stdout);
    const report = JSON.parse(readFileSync(json, 'utf8')) as ProfileReport;
    if (board === 'esp32-cam') {
      const insns = report.totals.instructionsPerFrame;
      // An XS computron is at least one guest instruction; the TLS and socket work in C adds more.
      assert.ok(
        insns !== null && insns > report.totals.computronsPerFrame,
        `instructions/frame ${insns} vs computrons/frame ${report.totals.computronsPerFrame}`,
      );
      assert.ok(r.stdout.includes(`ARM instructions per frame`), r.stdout);
      // By stage (the plugin's address ranges): the stages add up to the total, to rounding; JS and TLS both work per frame.
      const stages = report.totals.instructionsPerFrameByStage!;
      assert.equal(Object.keys(stages).sort(), ['JS', 'SHA-256', 'TLS', 'rest', 'scan']);
      assert.ok(Math.abs(Object.values(stages).reduce((a, b) => a + b, 0) - insns!) <= 5, JSON.stringify(stages));
      assert.ok(stages.JS! > report.totals.computronsPerFrame && stages.TLS! > 0 && stages.scan! > 0, JSON.stringify(stages));
    } else assert.is(report.totals.instructionsPerFrame, null);
    assert.ok(report.qemu && report.qemu.overheadBytes > 0, `${board}: QEMU overhead measured`);
    assert.ok(report.totals.fragmentsPersisted > 0, `${board}: fragments PERSISTED`);
    runs.push(json);
  }
  const esp = JSON.parse(readFileSync(runs[1]!, 'utf8')) as ProfileReport;
  assert.ok(esp.totals.peakAppHeapBytes > 0 && esp.budgets.some((b) => b.name === 'app heap after boot'), 'esp32-cam: app heap against its budget');
  const diff = join(work, 'diff.html');
  const r = fieldcam(['--compare', ...runs, '-o', diff]);
  assert.is(r.status, 0, r.stderr + r.stdout);
  const { page: p, errors } = await open(diff);
  const plots = await readPlots(p);
  assert.is(plots.length, 9);
  // Only esp32-cam counted instructions: its bars by stage, one per stage.
  const stageBars = plots.find((x) => x.id === 'plot-cpu-stages')!;
  assert.equal(
    stageBars.series.filter((s) => s.points > 0).map((s) => [s.name, s.points]),
    [['esp32-cam instructions/frame', 5]],
  );
  for (const plot of plots.filter((x) => x.id !== 'plot-cpu-stages')) {
    const boards = plot.series.filter((s) => s.points > 0 && s.pathLength > 0).map((s) => s.name.split(' ')[0]);
    assert.ok(
      boards.includes('pi-zero-w') && boards.includes('esp32-cam'),
      `${plot.id}: both runs drawn (${plot.series.map((s) => `${s.name}:${s.points}`).join(', ')})`,
    );
  }
  const headers = await p.$$eval('table.summary th', (ths) => ths.map((th) => th.textContent));
  assert.equal(headers, ['figure', 'pi-zero-w', 'esp32-cam', 'difference']);
  assert.equal(errors, []);
  await p.close();
});

test.run();
