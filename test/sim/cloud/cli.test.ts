// `fieldcam cloud` as a user runs it: the real CLI in a child process, its printed environment used as-is by
// an unmodified SDK client, and a clean exit on SIGTERM.
import { ListStreamsCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { awsClientConfig } from '../../../host/aws/awsClientConfig.ts';
import { assert, suite } from '../../harness/index.ts';
import { tempStateDir } from './support.ts';

const test = suite('fieldcam cloud (CLI)');
const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'host', 'cli', 'bin.mjs');
const state = tempStateDir('fieldcam-cloud-cli-');
test.after(() => state.remove());

/** Runs the export line through a real shell and returns the variables it sets (proves the quoting). */
function shellEnv(exportLine: string): Record<string, string> {
  const r = spawnSync('sh', ['-c', `${exportLine}\nenv -0`], { encoding: 'utf8', env: {} });
  assert.is(r.status, 0, r.stderr);
  return Object.fromEntries(r.stdout.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

test('prints the endpoint and environment, serves the SDK with them, logs requests, exits 0 on SIGTERM', async () => {
  const secret = "s3cret/with space'quote";
  const child = spawn(process.execPath, [BIN, 'cloud', '--port', '0', '--state-dir', state.dir, '--region', 'eu-west-1',
    '--access-key-id', 'AKIAFIELDCAMTEST01', '--secret-access-key', secret], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  try {
    const deadline = Date.now() + 15_000;
    while (!stdout.includes('Ctrl-C stops it.') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    assert.ok(stdout.includes('Ctrl-C stops it.'), `no ready banner; stdout: ${stdout}\nstderr: ${stderr}`);

    const endpoint = /^endpoint-url: (https:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout)?.[1];
    assert.ok(endpoint, stdout);
    assert.ok(stdout.includes(`--endpoint-url ${endpoint}`), 'an example command with --endpoint-url');
    const exportLine = /^\s*(export AWS_CA_BUNDLE=.*)$/m.exec(stdout)?.[1];
    assert.ok(exportLine, stdout);
    const env = shellEnv(exportLine);
    assert.is(env.AWS_CA_BUNDLE, join(state.dir, 'ca.pem'));
    assert.is(env.AWS_ACCESS_KEY_ID, 'AKIAFIELDCAMTEST01');
    assert.is(env.AWS_SECRET_ACCESS_KEY, secret);
    assert.is(env.AWS_REGION, 'eu-west-1');

    const client = new KinesisVideoClient({
      ...awsClientConfig({ env, endpointUrl: endpoint }),
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
      maxAttempts: 1,
    });
    const out = await client.send(new ListStreamsCommand({}));
    assert.equal(out.StreamInfoList, []);
    client.destroy();
    const deadlineLog = Date.now() + 5000;
    while (!/POST \/listStreams 200 \d+ms/.test(stderr) && Date.now() < deadlineLog) await new Promise((r) => setTimeout(r, 20));
    assert.ok(/POST \/listStreams 200 \d+ms/.test(stderr), `request log line; stderr: ${stderr}`);
  } finally {
    child.kill('SIGTERM');
  }
  assert.is(await exited, 0, `exit status after SIGTERM; stderr: ${stderr}`);
  assert.ok(stderr.includes('SIGTERM, stopping'));
});

test('usage errors exit 2 with a named error', () => {
  const r = spawnSync(process.execPath, [BIN, 'cloud', '--port', '70000', '--state-dir', state.dir], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 2, r.stderr);
  assert.ok(r.stderr.includes('error CLI_USAGE') && r.stderr.includes('--port'), r.stderr);
  const lone = spawnSync(process.execPath, [BIN, 'cloud', '--access-key-id', 'AKIAX', '--state-dir', state.dir], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.is(lone.status, 2, lone.stderr);
  assert.ok(lone.stderr.includes('go together'), lone.stderr);
});

test.run();
