// `fieldcam stream` end to end: the real CLI (PutMedia client on Node) against the local KVS, judged from
// what the cloud stored and from GetMedia decoded by ffprobe. Each fault must be recovered in the same
// process with no frame lost that the pool could hold (kvs-reference.md §4.8 item 10; user-needs rows 1, 5, 13).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { putMediaConnections } from '../../sim/cloud/kvs/media/putMediaRoute.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { assert, suite } from '../harness/index.ts';
import { decodedFrameCount, decodeErrors, FIXTURES, ROOT, tempDir, audioPacketCount } from './tools.ts';

const test = suite('fieldcam stream (e2e, local KVS)');
const tmp = tempDir('fieldcam-stream-');
const KEY = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const GOP10 = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
let cloud: RunningCloud;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a child process, asynchronously: the cloud runs in this process and must keep serving. */
function cli(args: string[], env: Record<string, string> = KEY): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'host', 'cli', 'bin.mjs'), ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: tmp.dir,
        AWS_CA_BUNDLE: cloud.caFile,
        AWS_REGION: 'us-east-1',
        AWS_EC2_METADATA_DISABLED: 'true',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

interface Summary {
  framesIn: number;
  fragmentsIn: number;
  fragmentsPersisted: number;
  fragmentsReplayed: number;
  connections: number;
  errors: Record<string, number>;
  ok: boolean;
}

async function stream(name: string, extra: string[] = [], env?: Record<string, string>): Promise<{ run: Run; summary: Summary }> {
  const run = await cli(['stream', '--video', GOP10, '--stream', name, '--endpoint-url', cloud.endpoint, '--json', ...extra], env);
  let summary: Summary;
  try {
    summary = JSON.parse(run.stdout) as Summary;
  } catch {
    throw new Error(`no JSON summary (exit ${run.status}): ${run.stdout}\n${run.stderr}`);
  }
  return { run, summary };
}

/** Producer timestamps of the distinct fragments the cloud stored for `name`, ascending. */
function storedTimestamps(name: string): number[] {
  const record = cloud.ctx.streams.get(name);
  assert.ok(record, `stream ${name} exists`);
  const set = new Set(
    fragmentStoreFor(cloud.ctx, record)
      .list()
      .map((f) => f.producerTimestampMs),
  );
  return [...set].sort((a, b) => a - b);
}

/** Ten 1-second fragments, none missing: consecutive timestamps exactly 1000 ms apart. */
function assertTenWholeFragments(name: string): void {
  const ts = storedTimestamps(name);
  assert.is(ts.length, 10, `10 distinct fragments stored, got ${ts.length}`);
  for (let i = 1; i < ts.length; i++) assert.is(ts[i]! - ts[i - 1]!, 1000, `fragment ${i} follows at +1000 ms`);
}

async function getMediaFrames(name: string): Promise<number> {
  const out = join(tmp.dir, `${name}.mkv`);
  const run = await cli(['get-media', '--stream', name, '--endpoint-url', cloud.endpoint, '-o', out]);
  assert.is(run.status, 0, run.stderr);
  assert.is(decodeErrors(out), '', 'ffmpeg decodes the retrieved media silently');
  return decodedFrameCount(out);
}

test.before(async () => {
  // start the local cloud
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
});

test('every fragment PERSISTED; GetMedia decodes to the input frame count; producer timestamps match', async () => {
  const { run, summary } = await stream('plain');
  assert.is(run.status, 0, run.stderr);
  assert.ok(summary.ok);
  assert.equal([summary.framesIn, summary.fragmentsIn, summary.fragmentsPersisted, summary.connections], [100, 10, 10, 1]);
  assertTenWholeFragments('plain');
  assert.is(await getMediaFrames('plain'), 100);
});

for (const [fixture, frames, extra, mediaType] of [
  ['h264-aud-sei-3byte.h264', 30, [], 'video/h264'],
  ['h264-1080p-30fps.h264', 30, [], 'video/h264'],
  ['mjpeg-320x240-10fps.mjpeg', 30, ['--fps', '10'], 'video/x-motion-jpeg'],
  ['h265-320x240-10fps-gop10.h265', 100, [], 'video/h265'],
] as const) {
  test(`${fixture}: streamed, every fragment PERSISTED, GetMedia decodes ${frames} frames, created as ${mediaType}`, async () => {
    const name = fixture.replace(/[^a-z0-9]/g, '-');
    const run = await cli(['stream', '--video', join(FIXTURES, fixture), '--stream', name, '--endpoint-url', cloud.endpoint, '--json', ...extra]);
    assert.is(run.status, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as Summary;
    assert.is(summary.framesIn, frames);
    assert.is(summary.fragmentsPersisted, summary.fragmentsIn);
    assert.is(await getMediaFrames(name), frames);
    assert.is(cloud.ctx.streams.get(name)?.MediaType, mediaType, "CreateStream carried the codec table's media type");
  });
}

test('--audio: H.264 + G.711 A-law as one video/h264,audio/alaw stream; GetMedia holds 100 frames and the 500 packets fed', async () => {
  const { run, summary } = await stream('plain-av', ['--audio', join(FIXTURES, 'alaw-8khz-mono-10s.alaw')]);
  assert.is(run.status, 0, run.stderr);
  const s = summary as Summary & { audioPacketsIn: number; audioPacketsQueued: number; audioSilencePackets: number };
  assert.equal([s.ok, s.fragmentsPersisted, s.audioPacketsIn, s.audioPacketsQueued, s.audioSilencePackets], [true, 10, 500, 500, 0]);
  assert.is(cloud.ctx.streams.get('plain-av')?.MediaType, 'video/h264,audio/alaw');
  assert.is(await getMediaFrames('plain-av'), 100);
  assert.is(audioPacketCount(join(tmp.dir, 'plain-av.mkv')), 500);
});

test('connection dropped mid-fragment → reconnect, replay with original timecodes, nothing lost', async () => {
  cloud.ctx.faults.dropAfterBytes = 30_000;
  const { run, summary } = await stream('dropped');
  assert.is(run.status, 0, run.stderr);
  assert.ok(summary.connections >= 2, `reconnected (${summary.connections} connections)`);
  assert.ok(summary.fragmentsReplayed >= 1, 'un-acknowledged fragments replayed');
  assertTenWholeFragments('dropped');
  assert.is(await getMediaFrames('dropped'), 100);
});

test('ACKs delayed past the staleness window → stale reset, then recovery', async () => {
  cloud.ctx.faults.ackDelayMs = 2500;
  // Lift the delay once the device has given up on the first connection and opened a second one, however
  // fast or slow this machine is.
  const watch = setInterval(() => {
    const { active, recent } = putMediaConnections(cloud.ctx);
    if ([...active, ...recent].filter((c) => c.stream === 'stale').length >= 2) delete cloud.ctx.faults.ackDelayMs;
  }, 20);
  const { run, summary } = await stream('stale', ['--connection-staleness', '1', '--realtime']);
  clearInterval(watch);
  delete cloud.ctx.faults.ackDelayMs;
  assert.is(run.status, 0, run.stderr);
  assert.ok((summary.errors.UPLOAD_STALE ?? 0) >= 1, `stale reset counted: ${JSON.stringify(summary.errors)}`);
  assertTenWholeFragments('stale');
});

test('ERROR 5000 → restart and replay', async () => {
  cloud.ctx.faults.errorAck = { errorId: 5000, remaining: 1 };
  const { run, summary } = await stream('error5000');
  assert.is(run.status, 0, run.stderr);
  assert.is(summary.errors.UPLOAD_SERVICE_ERROR, 1);
  assert.ok(summary.connections >= 2);
  assertTenWholeFragments('error5000');
  assert.is(await getMediaFrames('error5000'), 100);
});

test('server clock 2 h ahead → clock corrected from the Date header, then streaming', async () => {
  cloud.ctx.faults.clockSkewMs = 2 * 3600_000;
  try {
    const { run, summary } = await stream('skewed');
    assert.is(run.status, 0, run.stderr);
    assert.ok((summary.errors.UPLOAD_CLOCK_SKEW ?? 0) >= 1, `skew seen: ${JSON.stringify(summary.errors)}`);
    assert.is(summary.fragmentsPersisted, 10);
  } finally {
    delete cloud.ctx.faults.clockSkewMs;
  }
});

test('credentials expiring mid-stream → reloaded from the refreshed profile, nothing lost', async () => {
  const profileFile = join(tmp.dir, 'credentials');
  const write = (c: { accessKeyId: string; secretAccessKey: string; sessionToken: string }) =>
    writeFileSync(
      profileFile,
      `[fc]\naws_access_key_id = ${c.accessKeyId}\naws_secret_access_key = ${c.secretAccessKey}\naws_session_token = ${c.sessionToken}\n`,
    );
  write(cloud.ctx.temporaryCredentials.issue(3600_000));
  const env = { AWS_SHARED_CREDENTIALS_FILE: profileFile, AWS_CONFIG_FILE: join(tmp.dir, 'none'), AWS_PROFILE: 'fc' };
  // Once the first connection is streaming: expire every token issued so far, write fresh credentials to
  // the profile, and drop the connection so the next one must authenticate again.
  const poll = setInterval(() => {
    if (putMediaConnections(cloud.ctx).active.some((c) => c.stream === 'expiring')) {
      clearInterval(poll);
      cloud.ctx.faults.expireTokensBefore = cloud.ctx.now() + 1;
      setTimeout(() => {
        write(cloud.ctx.temporaryCredentials.issue(3600_000));
        cloud.ctx.faults.dropAfterBytes = 1;
      }, 20);
    }
  }, 10);
  const run = await cli(
    ['stream', '--video', join(FIXTURES, 'h264-aud-sei-3byte.h264'), '--stream', 'expiring', '--endpoint-url', cloud.endpoint, '--json', '--realtime'],
    env,
  );
  clearInterval(poll);
  delete cloud.ctx.faults.expireTokensBefore;
  const summary = JSON.parse(run.stdout) as Summary;
  assert.is(run.status, 0, run.stderr);
  assert.ok((summary.errors.UPLOAD_NO_CREDENTIALS ?? 0) >= 1, `expiry seen: ${JSON.stringify(summary.errors)}`);
  assert.is(storedTimestamps('expiring').length, 3, 'all 3 fragments stored');
});

test('a wrong secret fails fast with UPLOAD_AUTH_FAILED (no endless retry)', async () => {
  const run = await cli(['stream', '--video', GOP10, '--stream', 'denied', '--endpoint-url', cloud.endpoint], {
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'not-the-secret',
  });
  assert.is(run.status, 1);
  assert.ok(run.stderr.includes('error UPLOAD_AUTH_FAILED:'), run.stderr);
});

test('--no-create on a missing stream → UPLOAD_STREAM_NOT_FOUND', async () => {
  const run = await cli(['stream', '--video', GOP10, '--stream', 'absent', '--no-create', '--endpoint-url', cloud.endpoint]);
  assert.is(run.status, 1);
  assert.ok(run.stderr.includes('error UPLOAD_STREAM_NOT_FOUND:'), run.stderr);
});

test.after(async () => {
  await cloud?.close();
  tmp.remove();
});

test.run();
