// `fieldcam doctor` against the local cloud: a healthy bundle passes every check; then one case per
// misconfiguration of user-needs.md row 4, each with the row that must fail and its expected message.
import { AttachThingPrincipalCommand, CreateKeysAndCertificateCommand, CreateThingCommand, UpdateCertificateCommand } from '@aws-sdk/client-iot';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import { encodeCbor } from '../../../firmware/core/cbor/encodeCbor.ts';
import { hostHasTool } from '../../../host/lib/doctor/cameraToolsRow.ts';
import { encodeDeviceConfig, type DeviceDocument } from '../../../host/lib/writeBundle.ts';
import { ensureCertificates } from '../../../sim/cloud/tls/ensureCertificates.ts';
import { assert, suite } from '../../harness/index.ts';
import { cli, clients, startLocalCloud, tempDir } from '../provision/provisionKit.ts';

const test = suite('fieldcam doctor (local cloud)');
const state = tempDir('fieldcam-doctor-state-');
const work = tempDir('fieldcam-doctor-');
const cloud = await startLocalCloud(state.dir);
const url = ['--endpoint-url', cloud.endpoint];
const sdk = clients(cloud);

test.after(async () => {
  sdk.destroy();
  await cloud.close();
  state.remove();
  work.remove();
});

interface Row {
  check: string;
  status: 'PASS' | 'FAIL' | 'SKIP';
  cause: string;
  fix?: string;
}

async function doctor(bundle: string): Promise<{ status: number | null; rows: Row[] }> {
  const r = await cli(cloud, work.dir, ['doctor', '--bundle', bundle, ...url, '--json']);
  const out = JSON.parse(r.stdout) as { ok: boolean; checks: Row[] };
  return { status: r.status, rows: out.checks };
}

async function provision(args: string[]): Promise<void> {
  const r = await cli(cloud, work.dir, ['provision', ...args, ...url]);
  assert.equal(r.status, 0, r.stderr);
}

function copyBundle(from: string, to: string): string {
  cpSync(join(work.dir, from), join(work.dir, to), { recursive: true });
  return join(work.dir, to);
}

function editConfig(dir: string, edit: (c: DeviceDocument) => DeviceDocument): void {
  const config = decodeCbor(readFileSync(join(dir, 'device.cbor'))) as DeviceDocument;
  writeFileSync(join(dir, 'device.cbor'), encodeDeviceConfig(edit(config)), { mode: 0o600 });
}

/** device.cbor's optional `camera` map (docs/device-bundle.md), which provision does not write. */
function setCamera(dir: string, camera: Record<string, unknown>): void {
  const config = decodeCbor(readFileSync(join(dir, 'device.cbor'))) as Record<string, unknown>;
  const out = new Uint8Array(4096);
  writeFileSync(join(dir, 'device.cbor'), out.slice(0, encodeCbor({ ...config, camera }, out)), { mode: 0o600 });
}

await provision(['--thing', 'cam-ok']);
await provision(['--thing', 'cam-other']);
await provision(['--thing', 'cam-revoked']);
await provision(['--thing', 'cam-s', '--stream', 'not-cam-s']);

test('a healthy bundle passes every check and exits 0', async () => {
  const r = await doctor(join(work.dir, 'cam-ok'));
  assert.equal(
    r.rows.filter((row) => row.status !== 'PASS'),
    [],
  );
  assert.equal(
    r.rows.map((row) => row.check),
    [
      'bundle files',
      'device.cbor',
      'private key mode',
      'certificate/key pair',
      'certificate issuer',
      'certificate validity',
      'CA',
      'clock',
      'endpoint type',
      'credentials call',
      'stream',
      'stream name',
      'thing names',
    ],
  );
  assert.equal(r.status, 0);
  const human = await cli(cloud, work.dir, ['doctor', '--bundle', 'cam-ok', ...url]);
  assert.ok(/^PASS {2}credentials call {6}temporary credentials ASIA/m.test(human.stdout), human.stdout);
  assert.ok(/all 13 checks passed/.test(human.stdout), human.stdout);
});

test("--board: the device's own reader judges the bundle, so a camera the board refuses fails (issue 13)", async () => {
  const rowOf = async (bundle: string, board: string): Promise<Row | undefined> => {
    const r = await cli(cloud, work.dir, ['doctor', '--bundle', bundle, '--board', board, ...url, '--json']);
    return (JSON.parse(r.stdout) as { checks: Row[] }).checks.find((row) => row.check === `device reader (${board})`);
  };
  assert.equal((await rowOf(join(work.dir, 'cam-ok'), 'pi-zero-w'))?.status, 'PASS');

  // An MJPEG bundle on a board whose camera is H.264: device.cbor alone is fine, the board refuses it.
  const mjpeg = copyBundle('cam-ok', 'mjpeg-camera');
  setCamera(mjpeg, { codec: 'mjpeg', fps: 10 });
  assert.equal((await doctor(mjpeg)).rows.find((row) => row.check === 'device.cbor')?.status, 'PASS');
  const wrong = await rowOf(mjpeg, 'pi-zero-w');
  assert.equal(wrong?.status, 'FAIL');
  assert.ok(/camera\.codec mjpeg, but the "h264" camera of this board/.test(wrong!.cause), wrong!.cause);
  assert.equal((await rowOf(mjpeg, 'esp32-cam'))?.status, 'PASS');

  // A codec no firmware reads: the device's CONFIG_INVALID reason.
  const vp9 = copyBundle('cam-ok', 'vp9-camera');
  setCamera(vp9, { codec: 'vp9' });
  // device.cbor is read by the device's own reader even without --board: no board's firmware reads VP9.
  const cborRow = (await doctor(vp9)).rows.find((row) => row.check === 'device.cbor');
  assert.equal(cborRow?.status, 'FAIL');
  assert.ok(/CONFIG_INVALID|camera\.codec must be "h264", "h265" or "mjpeg"/.test(cborRow!.cause), cborRow!.cause);
  const alias = copyBundle('cam-ok', 'bad-alias');
  editConfig(alias, (c) => ({ ...c, roleAlias: 'no spaces allowed' }));
  const aliasRow = (await doctor(alias)).rows.find((row) => row.check === 'device.cbor');
  assert.equal(aliasRow?.status, 'FAIL');
  assert.ok(/roleAlias must be a string matching/.test(aliasRow!.cause), aliasRow!.cause);
  const refused = await rowOf(vp9, 'pi-zero-w');
  assert.equal(refused?.status, 'FAIL');
  assert.ok(/would not boot: .*camera\.codec/.test(refused!.cause), refused!.cause);

  const unknown = await cli(cloud, work.dir, ['doctor', '--bundle', 'cam-ok', '--board', 'no-such-board']);
  assert.ok(/CONFIG_BOARD_UNKNOWN/.test(unknown.stderr), unknown.stderr);
});

test("--board: the camera source row checks the adapter's programs on this machine (a WARN naming the package, never a FAIL)", async () => {
  const row = async (board: string) => {
    const r = await cli(cloud, work.dir, ['doctor', '--bundle', join(work.dir, 'cam-ok'), '--board', board, ...url, '--json']);
    return (JSON.parse(r.stdout) as { checks: Row[] }).checks.find((c) => c.check === 'camera source')!;
  };
  // pi-5 needs rpicam-vid (or libcamera-vid) and ffmpeg; this machine has ffmpeg (toolchain/setup) and, unless
  // it is a Pi, no rpicam-vid.
  const pi5 = await row('pi-5');
  assert.ok(pi5, 'a camera source row');
  assert.ok(pi5.cause.startsWith('rpicam (software H.264): '), pi5.cause);
  if (hostHasTool('rpicam-vid') || hostHasTool('libcamera-vid')) {
    assert.is(pi5.status, 'PASS');
  } else {
    assert.is(pi5.status, 'WARN');
    assert.ok(/rpicam-vid or libcamera-vid not on this machine/.test(pi5.cause) && !/ffmpeg not/.test(pi5.cause), pi5.cause);
    assert.is(pi5.fix, 'on the board: sudo apt install rpicam-apps');
  }
});

test('usage: --bundle is required (exit 2); a missing directory is CLI_INPUT_NOT_FOUND', async () => {
  assert.equal((await cli(cloud, work.dir, ['doctor'])).status, 2);
  const r = await cli(cloud, work.dir, ['doctor', '--bundle', 'nowhere']);
  assert.equal(r.status, 1);
  assert.ok(/error CLI_INPUT_NOT_FOUND/.test(r.stderr), r.stderr);
});

/** One misconfiguration: how to make it, the check that must fail, and what it must say. */
interface Case {
  readonly name: string;
  make(): Promise<string>;
  readonly check: string;
  readonly message: RegExp;
}

const CASES: readonly Case[] = [
  {
    name: 'wrong endpoint type (Data-ATS as the credentials endpoint)',
    async make() {
      const dir = copyBundle('cam-ok', 'wrong-endpoint');
      editConfig(dir, (c) => ({ ...c, endpoints: { ...c.endpoints, credentialProvider: c.endpoints.iotData } }));
      return dir;
    },
    check: 'endpoint type',
    message: /is the iot:Data-ATS \(MQTT\) endpoint, not iot:CredentialProvider/,
  },
  {
    name: 'mismatched key',
    async make() {
      const dir = copyBundle('cam-ok', 'mismatched-key');
      cpSync(join(work.dir, 'cam-other', 'private.key'), join(dir, 'private.key'));
      return dir;
    },
    check: 'certificate/key pair',
    message: /private\.key is not the key of certificate\.pem/,
  },
  {
    name: 'wrong CA',
    async make() {
      const dir = copyBundle('cam-ok', 'wrong-ca');
      mkdirSync(join(work.dir, 'other-ca'));
      const other = await ensureCertificates(join(work.dir, 'other-ca'));
      writeFileSync(join(dir, 'ca.pem'), readFileSync(other.caFile));
      return dir;
    },
    check: 'CA',
    message: /ca\.pem does not verify https:\/\/127\.0\.0\.1:\d+ \(/,
  },
  {
    name: 'revoked certificate',
    async make() {
      const id = readFileSync(join(work.dir, 'cam-revoked', 'certificate.pem'));
      const { createHash, X509Certificate } = await import('node:crypto');
      const certificateId = createHash('sha256').update(new X509Certificate(id).raw).digest('hex');
      await sdk.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'REVOKED' }));
      return join(work.dir, 'cam-revoked');
    },
    check: 'credentials call',
    message: /"Certificate is invalid on this endpoint": the certificate is revoked, inactive or unknown/,
  },
  {
    name: 'missing IoT policy (a certificate attached to its thing, with no policy)',
    async make() {
      await sdk.iot.send(new CreateThingCommand({ thingName: 'cam-nopolicy' }));
      const cert = await sdk.iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
      await sdk.iot.send(new AttachThingPrincipalCommand({ thingName: 'cam-nopolicy', principal: cert.certificateArn! }));
      const dir = copyBundle('cam-ok', 'no-policy');
      writeFileSync(join(dir, 'certificate.pem'), cert.certificatePem!);
      writeFileSync(join(dir, 'private.key'), cert.keyPair!.PrivateKey!, { mode: 0o600 });
      editConfig(dir, (c) => ({ ...c, thingName: 'cam-nopolicy', streamName: 'cam-nopolicy' }));
      return dir;
    },
    check: 'credentials call',
    message: /"Access Denied": no IoT policy on the certificate allows iot:AssumeRoleWithCertificate/,
  },
  {
    name: 'wrong role alias',
    async make() {
      const dir = copyBundle('cam-ok', 'wrong-alias');
      editConfig(dir, (c) => ({ ...c, roleAlias: 'no-such-alias' }));
      return dir;
    },
    check: 'credentials call',
    message: /role alias 'no-such-alias' does not exist/,
  },
  {
    name: 'stream ≠ thing',
    async make() {
      return join(work.dir, 'cam-s');
    },
    check: 'stream name',
    message:
      /stream 'not-cam-s' is neither thing 'cam-s' nor 'cam-s-…': the role policy allows only stream\/\$\{credentials-iot:ThingName\} and stream\/\$\{credentials-iot:ThingName\}-\*, so KVS refused it \(AccessDeniedException\)/,
  },
];

for (const c of CASES) {
  test(`doctor: ${c.name}`, async () => {
    const dir = await c.make();
    const r = await doctor(dir);
    assert.equal(r.status, 1);
    const row = r.rows.find((x) => x.check === c.check);
    assert.ok(row, `no '${c.check}' row: ${JSON.stringify(r.rows)}`);
    assert.equal(row.status, 'FAIL', JSON.stringify(row));
    assert.ok(c.message.test(row.cause), row.cause);
    assert.ok(row.fix && row.fix.length > 0);
  });
}

test('doctor: a credentials answer it cannot read is reported without the secrets in it (issue 11 item 18)', async () => {
  // An endpoint that answers 200 with a secret key and a session token but no access key id: not a
  // provider doctor can use, and what it prints about it must not carry the secrets.
  const secret = 'DoctorTestSecretAccessKey0123456789abcdef';
  const token = 'DoctorTestSessionToken/ThatMustNeverBePrinted+0123456789==';
  const tls = await ensureCertificates(state.dir);
  const server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ credentials: { secretAccessKey: secret, sessionToken: token, expiration: '2049-01-01T00:00:00Z' } }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  try {
    const port = (server.address() as { port: number }).port;
    const dir = copyBundle('cam-ok', 'odd-provider');
    editConfig(dir, (c) => ({ ...c, endpoints: { ...c.endpoints, credentialProvider: `127.0.0.1:${port}` } }));
    const r = await cli(cloud, work.dir, ['doctor', '--bundle', dir, ...url]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.ok(/credentials call .*\(200 .*a JSON object with the fields credentials/.test(r.stdout), r.stdout);
    for (const value of [secret, token]) {
      for (let i = 0; i + 12 <= value.length; i++)
        assert.ok(!(r.stdout + r.stderr).includes(value.slice(i, i + 12)), `a secret in doctor's output:\n${r.stdout}${r.stderr}`);
    }
  } finally {
    await new Promise<void>((done) => server.close(() => done()));
  }
});

test('doctor: clock far off (the server 2 h ahead, clockSkewMs fault)', async () => {
  cloud.ctx.faults.clockSkewMs = 2 * 3600_000;
  try {
    const r = await doctor(join(work.dir, 'cam-ok'));
    assert.equal(r.status, 1);
    const failed = r.rows.filter((x) => x.status === 'FAIL');
    assert.equal(
      failed.map((x) => x.check),
      ['clock'],
    );
    assert.ok(/the local clock is 2 h 0 min behind the server's Date/.test(failed[0]!.cause), failed[0]!.cause);
  } finally {
    cloud.ctx.faults.clockSkewMs = undefined;
  }
});

test.run();
