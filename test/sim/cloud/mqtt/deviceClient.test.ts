// fieldcam's own device-side MqttClient (firmware/core/mqtt) on the Node board's real sockets, timers and
// clock against the local cloud's broker: connect with the device certificate, a command round trip, a
// subscription outside the policy reported as MQTT_SUBSCRIBE_REFUSED, and a broker restart() with a QoS 1
// command published while the device was away → delivered once it has reconnected (issue 6's proof "broker
// restart → device reconnects and no QoS 1 command is lost").
import type { FieldcamError } from '../../../../firmware/core/errors.ts';
import { MqttClient } from '../../../../firmware/core/mqtt/MqttClient.ts';
import { nodeSocket } from '../../../../firmware/boards/node/nodeSocket.ts';
import { nodeClock, nodeTimers } from '../../../../firmware/boards/node/nodeTime.ts';
import type { SocketFactory } from '../../../../firmware/io/Socket.ts';
import { assert, suite } from '../../../harness/index.ts';
import { startTestCloud, tempStateDir } from '../support.ts';
import { end, guard, inbox, operatorClient, provisionDevice, subscribe } from './brokerKit.ts';
import { freePort } from '../../../interop/mosquittoKit.ts';

const test = suite('sim/cloud MQTT broker ↔ device MqttClient (Node board)');
const state = tempStateDir();
const cloud = await startTestCloud(state.dir);
const cam = await provisionDevice(cloud, 'cam-d');

test.after(async () => {
  await cloud.close();
  state.remove();
});

test('device MqttClient: command round trip, a refused filter named, restart() with a QoS 1 command while away', async () => {
  // While `offline` is set, the device's connection attempts go to a port nothing listens on (a real
  // ECONNREFUSED), so it cannot reconnect before the test has published the command it must not lose.
  const refusing = await freePort();
  let offline = false;
  const sockets: SocketFactory = (options) => nodeSocket(offline ? { ...options, port: refusing } : options);
  const received: string[] = [];
  const errors: string[] = [];
  const waiters: { test: () => boolean; done: () => void }[] = [];
  const check = (): void => {
    for (const w of waiters.splice(0)) {
      if (w.test()) w.done();
      else waiters.push(w);
    }
  };
  const when = (condition: () => boolean, what: string): Promise<void> =>
    condition() ? Promise.resolve() : guard(new Promise((done) => waiters.push({ test: condition, done })), what);
  let connected = false;
  let connections = 0;
  const device = new MqttClient({
    sockets,
    timers: nodeTimers,
    clock: nodeClock,
    random: Math.random,
    host: '127.0.0.1',
    port: cloud.mqtt.port,
    tls: { ca: cloud.caPem, cert: cam.certificatePem, key: cam.privateKeyPem },
    clientId: 'cam-d',
    keepAliveSeconds: 30,
    cleanSession: false,
    backoff: { initialMs: 20, maxMs: 200 },
    will: { topic: 'fieldcam/cam-d/health', payload: new TextEncoder().encode('offline'), qos: 1, retain: true },
    onMessage: (topic, payload) => {
      received.push(`${topic} ${new TextDecoder().decode(payload)}`);
      check();
    },
    onConnectionChange: (up) => {
      connected = up;
      if (up) connections++;
      check();
    },
    onError: (err: FieldcamError) => {
      errors.push(err.code);
      check();
    },
  });
  const op = await operatorClient(cloud);
  try {
    const opIn = inbox(op);
    assert.equal(await subscribe(op, ['fieldcam/cam-d/result']), [1]);
    device.subscribe('fieldcam/cam-d/cmd', 1);
    device.subscribe('fieldcam/cam-e/cmd', 1);
    await when(() => errors.includes('MQTT_SUBSCRIBE_REFUSED'), 'the refused filter reported');
    await when(() => connected, 'connected');

    await op.publishAsync('fieldcam/cam-d/cmd', 'cmd-1', { qos: 1 });
    await when(() => received.includes('fieldcam/cam-d/cmd cmd-1'), 'cmd-1 at the device');
    assert.ok(device.publish('fieldcam/cam-d/result', new TextEncoder().encode('done-1'), 1), 'queued');
    assert.is((await opIn.until('fieldcam/cam-d/result', 'done-1')).payload, 'done-1');

    offline = true;
    await cloud.mqtt.restart();
    await when(() => !connected, 'the device to see the broker go');
    // restart() dropped every connection, operators' too: a new one publishes while the device is away, and
    // finds the device's Will, which the broker published (retained) when the restart dropped the device.
    const op2 = await operatorClient(cloud);
    const op2In = inbox(op2);
    await op2.publishAsync('fieldcam/cam-d/cmd', 'cmd-while-away', { qos: 1 });
    await subscribe(op2, ['fieldcam/cam-d/health']);
    assert.is((await op2In.until('fieldcam/cam-d/health')).payload, 'offline');
    await end(op2);
    offline = false;
    await when(() => received.includes('fieldcam/cam-d/cmd cmd-while-away'), 'the command published while away');
    assert.is(connections, 2, 'one reconnect');
    assert.equal(errors.filter((c) => c !== 'MQTT_CONNECTION_LOST' && c !== 'MQTT_SUBSCRIBE_REFUSED'), [], errors.join(', '));
  } finally {
    device.close();
    await end(op);
  }
});

test('an unauthorized PUBLISH from the device firmware: the broker drops it, the client reports the loss and reconnects', async () => {
  const errors: string[] = [];
  let connections = 0;
  let wake: (() => void) | undefined;
  const device = new MqttClient({
    sockets: nodeSocket,
    timers: nodeTimers,
    clock: nodeClock,
    random: Math.random,
    host: '127.0.0.1',
    port: cloud.mqtt.port,
    tls: { ca: cloud.caPem, cert: cam.certificatePem, key: cam.privateKeyPem },
    clientId: 'cam-d',
    keepAliveSeconds: 30,
    backoff: { initialMs: 20, maxMs: 200 },
    onMessage: () => {},
    onConnectionChange: (up) => {
      if (up) connections++;
      wake?.();
    },
    onError: (err: FieldcamError) => {
      errors.push(err.code);
      wake?.();
    },
  });
  const until = (condition: () => boolean, what: string): Promise<void> =>
    guard(
      new Promise<void>((done) => {
        wake = () => condition() && done();
        wake();
      }),
      what,
    );
  try {
    await until(() => connections === 1, 'connected');
    device.publish('fieldcam/cam-e/cmd', new TextEncoder().encode('hijack'), 0);
    await until(() => connections === 2, 'dropped, then reconnected');
    assert.ok(errors.includes('MQTT_CONNECTION_LOST'), errors.join(', '));
    assert.ok(cloud.events.some((e) => e.event === 'mqtt-publish-refused' && e.fields.topic === 'fieldcam/cam-e/cmd'), 'refused by the broker');
  } finally {
    device.close();
  }
});

test.run();
