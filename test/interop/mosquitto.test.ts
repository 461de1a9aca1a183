// Interoperability with Debian's mosquitto, both ways:
//  1. mosquitto_pub / mosquitto_sub with a device certificate against the local cloud's broker: the thing's
//     own topics work, another thing's topic and another client id are refused.
//  2. fieldcam's device-side MqttClient (firmware/core/mqtt) on the Node board's real sockets, timers and clock
//     against a real mosquitto (TLS listener, require_certificate, use_identity_as_username, persistence):
//     connect, subscribe, QoS 1 both ways, then mosquitto stopped and started again on the same port with a
//     QoS 1 command published to the device's persistent session while it was away → delivered on reconnect.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority } from '../../sim/cloud/iot/CertificateAuthority.ts';
import { ensureCertificates } from '../../sim/cloud/tls/ensureCertificates.ts';
import { assert, suite } from '../harness/index.ts';
import { attempt, end, guard, inbox, operatorClient, provisionDevice } from '../sim/cloud/mqtt/brokerKit.ts';
import { nodeDevice } from '../sim/cloud/mqtt/nodeDevice.ts';
import { startTestCloud } from '../sim/cloud/support.ts';
import { freePort, missingMosquitto, MOSQUITTO_PUB, MOSQUITTO_SUB, runClient, startMosquitto, type RunningMosquitto } from './mosquittoKit.ts';

const test = suite('interop: mosquitto clients ↔ local cloud broker; device MqttClient ↔ mosquitto broker');
const work = mkdtempSync(join(tmpdir(), 'fieldcam-mosquitto-'));
const missing = missingMosquitto();
/** Waiters on the cloud's log (the broker logs each SUBSCRIBE it granted). */
const logWaiters: { match: (event: string, fields: Record<string, unknown>) => boolean; done: () => void }[] = [];
const cloudEvents: { event: string; fields: Record<string, unknown> }[] = [];
const cloud = await startTestCloud(join(work, 'cloud'), {
  log: (event, fields) => {
    cloudEvents.push({ event, fields });
    for (const w of logWaiters.splice(0)) {
      if (w.match(event, fields)) w.done();
      else logWaiters.push(w);
    }
  },
});
function logged(match: (event: string, fields: Record<string, unknown>) => boolean): Promise<void> {
  return cloudEvents.some((e) => match(e.event, e.fields))
    ? Promise.resolve()
    : guard(new Promise((done) => logWaiters.push({ match, done })), 'a broker log event');
}
const cam = await provisionDevice(cloud, 'cam-x');
const certFile = join(work, 'cam-x.pem');
const keyFile = join(work, 'cam-x.key');
writeFileSync(certFile, cam.certificatePem);
writeFileSync(keyFile, cam.privateKeyPem, { mode: 0o600 });
let mosquitto: RunningMosquitto | undefined;

test.after(async () => {
  await mosquitto?.stop();
  await cloud.close();
  rmSync(work, { recursive: true, force: true });
});

/** mosquitto_pub / mosquitto_sub arguments for cam-x against the local cloud's broker (MQTT 3.1.1, mTLS). */
function against(clientId: string): string[] {
  return ['-h', '127.0.0.1', '-p', String(cloud.mqtt.port), '--cafile', cloud.caFile, '--cert', certFile, '--key', keyFile, '-V', 'mqttv311', '-i', clientId];
}

test('mosquitto_sub as cam-x receives a QoS 1 command; mosquitto_pub as cam-x publishes telemetry', async () => {
  assert.is(missing, undefined, missing);
  // mosquitto_sub's output to a pipe is block-buffered: the broker's log tells when it has subscribed.
  const ready = logged((event, f) => event === 'mqtt-subscribe' && f.clientId === 'cam-x');
  const sub = runClient(MOSQUITTO_SUB, [...against('cam-x'), '-t', 'fieldcam/cam-x/cmd', '-q', '1', '-C', '1']);
  const op = await operatorClient(cloud);
  try {
    await Promise.race([ready, sub.done.then((r) => assert.ok(false, `mosquitto_sub ended early: ${JSON.stringify(r)}`))]);
    await op.publishAsync('fieldcam/cam-x/cmd', 'hello-from-operator', { qos: 1 });
    const run = await sub.done;
    assert.is(run.status, 0, run.stderr + run.stdout);
    assert.ok(run.stdout.split('\n').includes('hello-from-operator'), run.stdout);

    const opIn = inbox(op);
    await op.subscribeAsync('fieldcam/cam-x/telemetry', { qos: 1 });
    const pub = await runClient(MOSQUITTO_PUB, [...against('cam-x'), '-t', 'fieldcam/cam-x/telemetry', '-m', 'from-mosquitto', '-q', '1']).done;
    assert.is(pub.status, 0, pub.stderr);
    assert.is((await opIn.until('fieldcam/cam-x/telemetry')).payload, 'from-mosquitto');
  } finally {
    sub.child.kill();
    await end(op);
  }
});

test("mosquitto clients are refused outside cam-x's policy: another thing's topic, a refused filter, another client id", async () => {
  assert.is(missing, undefined, missing);
  const pub = await runClient(MOSQUITTO_PUB, [...against('cam-x'), '-t', 'fieldcam/cam-y/cmd', '-m', 'hijack', '-q', '1']).done;
  assert.not(pub.status, 0, `mosquitto_pub to another thing's topic must fail: ${pub.stderr}`);
  assert.ok(
    cloudEvents.some((e) => e.event === 'mqtt-publish-refused' && e.fields.topic === 'fieldcam/cam-y/cmd'),
    'disconnected by the broker',
  );

  const sub = await runClient(MOSQUITTO_SUB, [...against('cam-x'), '-t', 'fieldcam/cam-y/cmd', '-q', '1', '-C', '1']).done;
  // mosquitto_sub 2.0 reads the SUBACK 0x80 and stops at once instead of waiting for its message (exit 0).
  assert.ok(sub.stderr.includes('All subscription requests were denied.'), `SUBACK 0x80 reported: ${JSON.stringify(sub)}`);

  const intruder = await runClient(MOSQUITTO_PUB, [...against('intruder'), '-t', 'fieldcam/cam-x/telemetry', '-m', 'x', '-q', '1']).done;
  assert.not(intruder.status, 0, `another client id must be refused: ${intruder.stderr}`);
  assert.ok(
    cloudEvents.some((e) => e.event === 'mqtt-connect-refused' && e.fields.clientId === 'intruder'),
    'connect refused',
  );
});

test('device MqttClient ↔ mosquitto: connect, subscribe, QoS 1 both ways, mosquitto restart with a QoS 1 command queued for the persistent session', async () => {
  assert.is(missing, undefined, missing);
  const dir = mkdtempSync(join(work, 'mosquitto-'));
  mkdirSync(join(dir, 'pki'));
  const pki = await ensureCertificates(join(dir, 'pki'));
  const ca = new CertificateAuthority(pki.caPem, readFileSync(join(dir, 'pki', 'ca-key.pem'), 'utf8'));
  const deviceCert = await ca.createKeysAndCertificate();
  const operatorCert = await ca.createKeysAndCertificate();
  writeFileSync(join(dir, 'server.pem'), pki.certPem);
  writeFileSync(join(dir, 'server.key'), pki.keyPem, { mode: 0o600 });
  const files = { dir, caFile: pki.caFile, certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') };
  const port = await freePort();
  mosquitto = await startMosquitto(files, port);

  const d = await nodeDevice({
    host: '127.0.0.1',
    port,
    tls: { ca: pki.caPem, cert: deviceCert.certificatePem, key: deviceCert.privateKeyPem },
    clientId: 'cam-q',
    cleanSession: false,
  });
  const operatorUrl = `mqtts://127.0.0.1:${port}`;
  const operatorTls = { ca: pki.caPem, cert: operatorCert.certificatePem, key: operatorCert.privateKeyPem, clientId: 'operator' };
  let op = await attempt(operatorUrl, operatorTls);
  try {
    assert.ok('client' in op, `operator connected to mosquitto: ${mosquitto.log()}`);
    const opIn = inbox(op.client);
    await op.client.subscribeAsync('fieldcam/cam-q/result', { qos: 1 });
    d.client.subscribe('fieldcam/cam-q/cmd', 1);
    await d.when(d.connected, 'the device connected');
    await guard(mosquitto.waitForLog(/Sending SUBACK to cam-q/), 'the SUBACK to cam-q');

    // QoS 1 device → operator.
    assert.ok(d.client.publish('fieldcam/cam-q/result', new TextEncoder().encode('ok-1'), 1), 'queued');
    assert.is((await opIn.until('fieldcam/cam-q/result')).payload, 'ok-1');
    await guard(mosquitto.waitForLog(/Sending PUBACK to cam-q/), 'the PUBACK to cam-q');
    // QoS 1 operator → device.
    await op.client.publishAsync('fieldcam/cam-q/cmd', 'cmd-1', { qos: 1 });
    await d.when(() => d.received.includes('fieldcam/cam-q/cmd cmd-1'), 'cmd-1 at the device');

    // mosquitto goes away (SIGTERM: it saves its database) and comes back on the same port.
    d.offline = true;
    await end(op.client);
    await mosquitto.stop();
    await d.when(() => !d.connected(), 'the device to see mosquitto go');
    mosquitto = await startMosquitto(files, port);
    op = await attempt(operatorUrl, operatorTls);
    assert.ok('client' in op, 'operator reconnected');
    await op.client.publishAsync('fieldcam/cam-q/cmd', 'cmd-while-away', { qos: 1 });
    d.offline = false;
    await d.when(() => d.received.includes('fieldcam/cam-q/cmd cmd-while-away'), 'the command queued while away, after the reconnect');
    assert.is(d.connections(), 2, 'one reconnect');
    // mosquitto logs the CONNECT (p2 = MQTT 3.1.1, c0 = clean session 0) and the CONNACK (1 = session present).
    assert.ok(/as cam-q \(p2, c0, k30/.test(mosquitto.log()), `reconnected with clean session 0: ${mosquitto.log()}`);
    assert.ok(/Sending CONNACK to cam-q \(1, 0\)/.test(mosquitto.log()), 'session present after the restart');
    assert.equal(
      d.errors.filter((c) => c !== 'MQTT_CONNECTION_LOST'),
      [],
      `errors: ${d.errors.join(', ')}`,
    );
  } finally {
    d.client.close();
    if ('client' in op) await end(op.client);
    await mosquitto.stop();
    mosquitto = undefined;
  }
});

test.run();
