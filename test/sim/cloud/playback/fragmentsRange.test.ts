// `fieldcam fragments` and `fieldcam get-media` with time ranges and --max-results (ListFragments'
// FragmentSelector on the data endpoint), and a reader that closes the pipe early: fieldcam stops quietly.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { assert, suite } from '../../../harness/index.ts';
import { ROOT } from '../kvs/media/mediaKit.ts';
import { ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY } from '../kvs/media/putMediaClient.ts';
import { cli, decodedFrames, h264Body, playbackCloud, workDir } from './playbackKit.ts';

const test = suite('cli: fragments/get-media time ranges and --max-results; a closed pipe ends quietly');
const pc = await playbackCloud();
const out = workDir();
const T = Date.now() - 3_600_000;
test.after(async () => {
  await pc.close();
  out.remove();
});

const iso = (ms: number): string => new Date(T + ms).toISOString();

test('fragments --start/--end (producer time) and --max-results; get-media of a range decodes to its frames', async () => {
  await pc.fill('porch', h264Body(T));
  const ranged = await cli(pc.cloud, ['fragments', '--stream', 'porch', '--json', '--producer-timestamps', '--start', iso(2000), '--end', iso(5000)]);
  assert.is(ranged.code, 0, ranged.stderr);
  const rows = (JSON.parse(ranged.stdout) as { fragments: { ProducerTimestamp: string }[] }).fragments;
  assert.equal(
    rows.map((f) => Date.parse(f.ProducerTimestamp) - T),
    [2000, 3000, 4000, 5000],
  );
  const capped = await cli(pc.cloud, ['fragments', '--stream', 'porch', '--json', '--max-results', '3']);
  assert.is((JSON.parse(capped.stdout) as { fragments: unknown[] }).fragments.length, 3);
  const recent = await cli(pc.cloud, ['fragments', '--stream', 'porch', '--json', '--start=-10m']);
  assert.is((JSON.parse(recent.stdout) as { fragments: unknown[] }).fragments.length, 10, 'server time: all arrived just now');
  const file = join(out.dir, 'range.mkv');
  const got = await cli(pc.cloud, ['get-media', '--stream', 'porch', '-o', file, '--producer-timestamps', '--start', iso(7000), '--end', iso(9000)]);
  assert.is(got.code, 0, got.stderr);
  assert.is(await decodedFrames(file), 30);
  const none = await cli(pc.cloud, ['get-media', '--stream', 'porch', '-o', file, '--producer-timestamps', '--start', iso(60_000)]);
  assert.ok(none.code !== 0 && /no stored fragments in that range/.test(none.stderr), none.stderr);
});

test('a reader that closes the pipe first: exit 0 and nothing on stderr (no EPIPE stack trace)', async () => {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'host', 'cli', 'bin.mjs'), 'fragments', '--stream', 'porch', '--endpoint-url', pc.cloud.endpoint, '--region', REGION],
    {
      cwd: ROOT,
      env: { ...process.env, AWS_CA_BUNDLE: pc.cloud.caFile, AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY, AWS_PROFILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout.destroy(); // like `| head -0`: the read end is gone before fieldcam writes
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
  assert.is(stderr, '');
  assert.is(code, 0);
});

test.run();
