// `fieldcam cloud` prints the MQTT broker's endpoint and takes --mqtt-port: the real CLI in a child process,
// an operator connecting over WSS to the printed endpoint with the printed CA, and a clean exit on SIGTERM.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY } from '../../../../sim/cloud/startCloud.ts';
import { assert, suite } from '../../../harness/index.ts';
import { tempStateDir } from '../support.ts';
import { attempt, end, next, presignedUrl } from './brokerKit.ts';

const test = suite('fieldcam cloud --mqtt-port (CLI)');
const ROOT = resolve(import.meta.dirname, '..', '..', '..', '..');
const state = tempStateDir('fieldcam-cloud-mqtt-cli-');
test.after(() => state.remove());

/** A port that was free a moment ago (the kernel's pick, released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  return typeof address === 'object' && address ? address.port : 0;
}

test('the banner names the broker on --mqtt-port; an operator connects there over WSS', async () => {
  const mqttPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'host', 'cli', 'bin.mjs'),
      'cloud',
      '--port',
      '0',
      '--credentials-port',
      '0',
      '--mqtt-port',
      String(mqttPort),
      '--state-dir',
      state.dir,
      '--quiet',
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  try {
    while (!stdout.includes('Ctrl-C stops it.') && child.exitCode === null) await Promise.race([next(child.stdout, 'data'), exited]);
    const line = /^MQTT broker \(iot:Data-ATS\) on (127\.0\.0\.1:(\d+)): mqtts:\/\/ with a device certificate, wss:\/\/\S+\/mqtt with SigV4$/m.exec(stdout);
    assert.ok(line, `banner; stdout: ${stdout}\nstderr: ${stderr}`);
    assert.is(Number(line[2]), mqttPort);
    const url = presignedUrl(line[1]!, 'us-east-1', { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY });
    const result = await attempt(url, { clientId: 'cli-operator', wsOptions: { ca: readFileSync(join(state.dir, 'ca.pem'), 'utf8') } });
    assert.ok('client' in result, 'operator connected');
    await end(result.client);
  } finally {
    child.kill('SIGTERM');
  }
  assert.is(await exited, 0, stderr);
});

test('--mqtt-port out of range → usage error, exit 2', async () => {
  const child = spawn(process.execPath, [join(ROOT, 'host', 'cli', 'bin.mjs'), 'cloud', '--mqtt-port', '70000', '--state-dir', state.dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const [code] = await next<[number | null]>(child, 'exit');
  assert.is(code, 2, stderr);
  assert.ok(stderr.includes('mqtt-port'), stderr);
});

test.run();
