// `fieldcam cloud` as a user runs it: the real CLI in a child process, its printed environment used as-is by
// an unmodified SDK client, and a clean exit on SIGTERM.
import { ListStreamsCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { awsClientConfig } from '../../../host/aws/awsClientConfig.ts';
import { fingerprintSecret } from '../../../host/shared/fingerprintSecret.ts';
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
  return Object.fromEntries(
    r.stdout
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

test('prints the endpoint and environment, serves the SDK with them, logs requests, exits 0 on SIGTERM', async () => {
  const secret = "s3cret/with space'quote";
  const child = spawn(
    process.execPath,
    [BIN, 'cloud', '--port', '0', '--state-dir', state.dir, '--region', 'eu-west-1', '--access-key-id', 'AKIAFIELDCAMTEST01', '--secret-access-key', secret],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
    // A secret of the operator's own is not printed (issue 11 item 18): the banner names its fingerprint.
    assert.is(env.AWS_SECRET_ACCESS_KEY, undefined);
    assert.ok(stdout.includes(fingerprintSecret(secret)), stdout);
    env.AWS_SECRET_ACCESS_KEY = secret;
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

/** POSTs `{}` to `path`, signed with `credentials` (right or wrong), and returns the HTTP status. */
async function signedStatus(
  endpoint: string,
  caPem: string,
  path: string,
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): Promise<number> {
  const url = new URL(endpoint);
  const signer = new SignatureV4({ service: 'kinesisvideo', region, credentials, sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'https:',
    hostname: url.hostname,
    port: Number(url.port),
    path,
    headers: { host: url.host, 'content-type': 'application/json' },
    body: '{}',
  });
  return new Promise((done, fail) => {
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path, headers: signed.headers, ca: caPem, agent: false }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
    });
    req.on('error', fail);
    req.end('{}');
  });
}

test('never prints a secret: not the --secret-access-key, not a session token in a signature mismatch (issue 11 item 18)', async () => {
  const dir = join(state.dir, 'secrets');
  mkdirSync(dir, { recursive: true });
  const secret = 'FieldcamTestSecretKey0123456789abcdefXYZ';
  // A temporary credential as the IoT credentials provider would have issued it, in the cloud's state file.
  const now = Date.now();
  const temporary = {
    accessKeyId: 'ASIAFIELDCAMTEST0001',
    secretAccessKey: 'TemporarySecretKeyOfTheTest0123456789',
    sessionToken: 'IQoJTestSessionTokenThatMustNeverBePrinted/0123456789+abcdefghijklmnopqrstuvwxyz==',
    expiration: now + 3600_000,
    issuedAt: now,
  };
  writeFileSync(join(dir, 'credentials.json'), JSON.stringify({ format: 'fieldcam-cloud-credentials', version: 1, temporary: [temporary] }), { mode: 0o600 });
  const child = spawn(
    process.execPath,
    [BIN, 'cloud', '--port', '0', '--state-dir', dir, '--access-key-id', 'AKIAFIELDCAMTEST02', '--secret-access-key', secret],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  try {
    const deadline = Date.now() + 15_000;
    while (!stdout.includes('Ctrl-C stops it.') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    const endpoint = /^endpoint-url: (https:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout)?.[1];
    assert.ok(endpoint, `no ready banner; stdout: ${stdout}\nstderr: ${stderr}`);
    const caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
    // Deliberately bad signatures: the temporary key id and its token with a wrong secret (the token is signed,
    // so it is in the canonical request the mismatch log shows), and the static key id with a wrong secret.
    assert.is(await signedStatus(endpoint, caPem, '/listStreams', 'us-east-1', { ...temporary, secretAccessKey: 'wrong' }), 403);
    assert.is(await signedStatus(endpoint, caPem, '/listStreams', 'us-east-1', { accessKeyId: 'AKIAFIELDCAMTEST02', secretAccessKey: 'wrong' }), 403);
    // The right key works (so the cloud did take the secret it never prints).
    assert.is(await signedStatus(endpoint, caPem, '/listStreams', 'us-east-1', { accessKeyId: 'AKIAFIELDCAMTEST02', secretAccessKey: secret }), 200);
    const logged = Date.now() + 5000;
    while ((stderr.match(/sigv4-mismatch/g) ?? []).length < 2 && Date.now() < logged) await new Promise((r) => setTimeout(r, 20));
    assert.is((stderr.match(/sigv4-mismatch/g) ?? []).length, 2, stderr);
    // The mismatch log still shows the canonical request, the token line by its fingerprint.
    assert.ok(stderr.includes(`x-amz-security-token:${fingerprintSecret(temporary.sessionToken)}`), stderr);
    assert.ok(stdout.includes(fingerprintSecret(secret)), stdout);
  } finally {
    child.kill('SIGTERM');
  }
  assert.is(await exited, 0, stderr);
  const output = stdout + stderr;
  for (const [what, value] of [
    ['--secret-access-key', secret],
    ['session token', temporary.sessionToken],
    ['temporary secret', temporary.secretAccessKey],
  ] as const) {
    // Whole, or any 12-character piece of it.
    for (let i = 0; i + 12 <= value.length; i++) {
      assert.ok(!output.includes(value.slice(i, i + 12)), `the ${what} appears in the output (from character ${i}):\n${output}`);
    }
  }
});

test('usage errors exit 2 with a named error', () => {
  const r = spawnSync(process.execPath, [BIN, 'cloud', '--port', '70000', '--state-dir', state.dir], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 2, r.stderr);
  assert.ok(r.stderr.includes('error CLI_USAGE') && r.stderr.includes('--port'), r.stderr);
  const lone = spawnSync(process.execPath, [BIN, 'cloud', '--access-key-id', 'AKIAX', '--state-dir', state.dir], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.is(lone.status, 2, lone.stderr);
  assert.ok(lone.stderr.includes('go together'), lone.stderr);
});

test.run();
