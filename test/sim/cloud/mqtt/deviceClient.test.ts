// fieldcam's own device-side MqttClient (firmware/core/mqtt) on the Node board's real sockets, timers and
// clock against the local cloud's broker: connect with the device certificate, a command round trip, a
// subscription outside the policy reported as MQTT_SUBSCRIBE_REFUSED, and a broker restart() with a QoS 1
// command published while the device was away → delivered once it has reconnected (issue 6's proof "broker
// restart → device reconnects and no QoS 1 command is lost").
import { assert, suite } from '../../../harness/index.ts';
import { startTestCloud, tempStateDir } from '../support.ts';
import { end, inbox, operatorClient, provisionDevice, subscribe } from './brokerKit.ts';
import { nodeDevice } from './nodeDevice.ts';

const test = suite('sim/cloud MQTT broker ↔ device MqttClient (Node board)');
const state = tempStateDir();
const cloud = await startTestCloud(state.dir);
const cam = await provisionDevice(cloud, 'cam-d');

test.after(async () => {
  await cloud.close();
  state.remove();
});

test('device MqttClient: command round trip, a refused filter named, restart() with a QoS 1 command while away', async () => {
  const d = await nodeDevice({
    host: '127.0.0.1',
    port: cloud.mqtt.port,
    tls: { ca: cloud.caPem, cert: cam.certificatePem, key: cam.privateKeyPem },
    clientId: 'cam-d',
    cleanSession: false,
    will: { topic: 'fieldcam/cam-d/health', payload: new TextEncoder().encode('offline'), qos: 1, retain: true },
  });
  const op = await operatorClient(cloud);
  try {
    const opIn = inbox(op);
    assert.equal(await subscribe(op, ['fieldcam/cam-d/result']), [1]);
    d.client.subscribe('fieldcam/cam-d/cmd', 1);
    d.client.subscribe('fieldcam/cam-e/cmd', 1);
    await d.when(() => d.errors.includes('MQTT_SUBSCRIBE_REFUSED'), 'the refused filter reported');
    await d.when(d.connected, 'connected');

    await op.publishAsync('fieldcam/cam-d/cmd', 'cmd-1', { qos: 1 });
    await d.when(() => d.received.includes('fieldcam/cam-d/cmd cmd-1'), 'cmd-1 at the device');
    assert.ok(d.client.publish('fieldcam/cam-d/result', new TextEncoder().encode('done-1'), 1), 'queued');
    assert.is((await opIn.until('fieldcam/cam-d/result', 'done-1')).payload, 'done-1');

    d.offline = true;
    await cloud.mqtt.restart();
    await d.when(() => !d.connected(), 'the device to see the broker go');
    // restart() dropped every connection, operators' too: a new one publishes while the device is away, and
    // finds the device's Will, which the broker published (retained) when the restart dropped the device.
    const op2 = await operatorClient(cloud);
    const op2In = inbox(op2);
    await op2.publishAsync('fieldcam/cam-d/cmd', 'cmd-while-away', { qos: 1 });
    await subscribe(op2, ['fieldcam/cam-d/health']);
    assert.is((await op2In.until('fieldcam/cam-d/health')).payload, 'offline');
    await end(op2);
    d.offline = false;
    await d.when(() => d.received.includes('fieldcam/cam-d/cmd cmd-while-away'), 'the command published while away');
    assert.is(d.connections(), 2, 'one reconnect');
    assert.equal(
      d.errors.filter((c) => c !== 'MQTT_CONNECTION_LOST' && c !== 'MQTT_SUBSCRIBE_REFUSED'),
      [],
      d.errors.join(', '),
    );
  } finally {
    d.client.close();
    await end(op);
  }
});

test('an unauthorized PUBLISH from the device firmware: the broker drops it, the client reports the loss and reconnects', async () => {
  const d = await nodeDevice({
    host: '127.0.0.1',
    port: cloud.mqtt.port,
    tls: { ca: cloud.caPem, cert: cam.certificatePem, key: cam.privateKeyPem },
    clientId: 'cam-d',
  });
  try {
    await d.when(() => d.connections() === 1, 'connected');
    d.client.publish('fieldcam/cam-e/cmd', new TextEncoder().encode('hijack'), 0);
    await d.when(() => d.connections() === 2, 'dropped, then reconnected');
    assert.ok(d.errors.includes('MQTT_CONNECTION_LOST'), d.errors.join(', '));
    assert.ok(
      cloud.events.some((e) => e.event === 'mqtt-publish-refused' && e.fields.topic === 'fieldcam/cam-e/cmd'),
      'refused by the broker',
    );
  } finally {
    d.client.close();
  }
});

test.run();
