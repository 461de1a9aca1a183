// The control channel over a recording MQTT connection, a recording device and a memory state store, with
// hand-driven time: command round trips, de-duplication, desired/reported, persistence, telemetry, health.
import { assert, suite } from '../../../harness/index.ts';
import { cbor, channelRig, FakeDevice, settle } from './controlKit.ts';

const test = suite('control: ControlChannel');

test('start: subscribes to cmd and desired (QoS 1), Will = offline; on connect: reported and health, retained', () => {
  const r = channelRig();
  r.channel.start();
  const m = r.mqtt();
  assert.equal(m.subscriptions, ['fieldcam/cam-1/cmd', 'fieldcam/cam-1/config/desired']);
  assert.ok(m.started, 'the connection opens once the subscriptions are queued');
  assert.throws(() => r.channel.start(), /twice/);
  assert.is(m.callbacks.will.topic, 'fieldcam/cam-1/health');
  assert.ok(m.callbacks.will.retain && m.callbacks.will.qos === 1);
  m.up();
  const reported = m.published.find((p) => p.topic === 'fieldcam/cam-1/config/reported')!;
  assert.ok(reported.retain);
  assert.equal(reported.value, {
    version: 0,
    settings: { streaming: true, fragmentMs: 2000, fps: null, bitrateKbps: null, telemetryIntervalS: 60, healthAmberMs: 30_000, healthRedMs: 60_000 },
  });
  assert.equal(
    m.on('health').map((h) => h.state),
    ['green'],
  );
  r.channel.close();
  assert.equal(r.time.timers, 0);
  assert.throws(() => r.channel.start(), /closed/, 'use after close throws');
});

test('status, unknown command, malformed payload: results on the result topic with named codes', async () => {
  const r = channelRig();
  r.channel.start();
  r.mqtt().up();
  r.device.framesIn = 42;
  r.command({ id: 's1', name: 'status' });
  r.command({ id: 'u1', name: 'reboot' });
  r.command(new Uint8Array([0xa2, 0x01]));
  r.command({ id: 'a1', name: 'status', args: { verbose: true } });
  await settle();
  const results = r.mqtt().on('result');
  assert.is(results.length, 4);
  const status = results.find((x) => x.id === 's1')!;
  assert.is(status.ok, true);
  const data = status.data as Record<string, unknown>;
  assert.is(data.framesIn, 42);
  for (const key of [
    't',
    'seq',
    'uptimeMs',
    'streaming',
    'health',
    'framesOut',
    'fragmentsSent',
    'fragmentsPersisted',
    'drops',
    'poolSlotsInUse',
    'poolSlots',
    'bytesBehind',
    'ackLatencyP50Ms',
    'ackLatencyP99Ms',
    'lastPersistedAgeMs',
    'errors',
    'heap',
    'computrons',
  ]) {
    assert.ok(key in data, key);
  }
  assert.equal(results.find((x) => x.id === 'u1')!.code, 'CONTROL_UNKNOWN_COMMAND');
  assert.equal(results.find((x) => x.id === undefined)!.code, 'CONTROL_PAYLOAD_INVALID');
  assert.equal(results.find((x) => x.id === 'a1')!.code, 'CONTROL_ARGUMENT_INVALID');
  r.channel.close();
});

test('a repeated command id is not executed again: its stored result is re-published', async () => {
  const r = channelRig();
  r.channel.start();
  r.mqtt().up();
  r.command({ id: 't1', name: 'tag', args: { name: 'event', value: 'door' } });
  r.command({ id: 't1', name: 'tag', args: { name: 'event', value: 'door' } }); // still running: nothing
  r.device.tagResolve!(1_700_000_004_000);
  await settle();
  r.command({ id: 't1', name: 'tag', args: { name: 'event', value: 'door' } });
  await settle();
  assert.equal(r.device.calls, ['tag event=door']);
  const results = r.mqtt().on('result');
  assert.equal(results, [
    { id: 't1', ok: true, data: { fragment: 1_700_000_004_000 } },
    { id: 't1', ok: true, data: { fragment: 1_700_000_004_000 } },
  ]);
  assert.ok(r.events.some((e) => e.type === 'command' && e.repeat));
  r.channel.close();
});

test('stop answers once the device reports the last PERSISTED; start; both persisted', async () => {
  const r = channelRig();
  r.channel.start();
  r.mqtt().up();
  r.command({ id: 'p1', name: 'stop' });
  await settle();
  assert.equal(r.device.calls, ['stop']);
  assert.is(r.mqtt().on('result').length, 0, 'waits for the PERSISTED');
  assert.is(r.mqtt().on('health').pop()!.reason, 'stopped');
  r.device.stopResolve!();
  await settle();
  assert.equal(r.mqtt().on('result'), [{ id: 'p1', ok: true }]);
  r.command({ id: 'p2', name: 'start' });
  await settle();
  assert.equal(r.device.calls, ['stop', 'start']);
  assert.is(r.mqtt().on('health').pop()!.state, 'green');
  r.command({ id: 'p3', name: 'stop' });
  r.time.advance(5000); // the uplink never confirms: answered after commandTimeoutMs anyway
  await settle();
  assert.equal(r.mqtt().on('result').pop(), { id: 'p3', ok: true });
  r.channel.close();
  // A new boot reads the state: stopped before any broker is reached, and the ids are remembered.
  const again = channelRig(r.store, new FakeDevice());
  assert.equal(again.device.calls, ['stop']);
  assert.is(again.channel.effective.streaming, false);
  again.channel.start();
  again.mqtt().up();
  again.command({ id: 'p3', name: 'stop' });
  await settle();
  assert.equal(again.device.calls, ['stop']);
  assert.equal(again.mqtt().on('result'), [{ id: 'p3', ok: true }]);
  again.channel.close();
});

test('set: all-or-nothing, applied to the device, reported; unsupported and unknown keys named', async () => {
  const r = channelRig();
  r.channel.start();
  r.mqtt().up();
  r.command({ id: 'x1', name: 'set', args: { fragmentMs: 4000, fps: 15 } });
  r.command({ id: 'x2', name: 'set', args: { fragmentMS: 4000 } });
  r.command({ id: 'x3', name: 'set', args: { fragmentMs: 4000, telemetryIntervalS: 5 } });
  await settle();
  const results = r.mqtt().on('result');
  assert.is(results[0]!.code, 'CONTROL_UNSUPPORTED');
  assert.is(results[1]!.code, 'CONTROL_ARGUMENT_INVALID');
  assert.ok(String(results[1]!.message).includes('fragmentMS'));
  assert.is(results[2]!.ok, true);
  assert.is(((results[2]!.data as Record<string, unknown>).settings as Record<string, unknown>).fragmentMs, 4000);
  assert.equal(r.device.calls, ['fragmentMs=4000']);
  assert.equal(r.mqtt().on('config/reported').pop()!.settings, {
    streaming: true,
    fragmentMs: 4000,
    fps: null,
    bitrateKbps: null,
    telemetryIntervalS: 5,
    healthAmberMs: 30_000,
    healthRedMs: 60_000,
  });
  // Telemetry now every 5 s (QoS 0, not retained).
  const before = r.mqtt().on('telemetry').length;
  r.time.advance(10_000);
  const tel = r.mqtt().published.filter((p) => p.topic === 'fieldcam/cam-1/telemetry');
  assert.is(tel.length - before, 2);
  assert.ok(tel.every((p) => p.qos === 0 && !p.retain));
  r.channel.close();
});

test('desired: a newer version is applied, persisted and reported with refused keys; older ones ignored', async () => {
  const r = channelRig();
  r.channel.start();
  const m = r.mqtt();
  m.up();
  m.deliver('fieldcam/cam-1/config/desired', cbor({ version: 2, settings: { fragmentMs: 3000, fps: 10, colour: 1 } }));
  const reported = m.on('config/reported').pop()!;
  assert.is(reported.version, 2);
  assert.is((reported.settings as Record<string, unknown>).fragmentMs, 3000);
  assert.equal(reported.rejected, { fps: 'CONTROL_UNSUPPORTED', colour: 'CONTROL_ARGUMENT_INVALID' });
  m.deliver('fieldcam/cam-1/config/desired', cbor({ version: 1, settings: { fragmentMs: 5000 } }));
  m.deliver('fieldcam/cam-1/config/desired', new Uint8Array([1, 2, 3]));
  m.deliver('fieldcam/cam-1/config/desired', new Uint8Array(0));
  assert.is(r.channel.effective.fragmentMs, 3000);
  assert.ok(r.events.some((e) => e.type === 'error' && e.code === 'CONTROL_PAYLOAD_INVALID'));
  r.channel.close();
  const again = channelRig(r.store, new FakeDevice());
  assert.equal(again.device.calls, ['fragmentMs=3000'], 'applied at boot from the state file');
  again.channel.start();
  again.mqtt().up();
  assert.is(again.mqtt().on('config/reported')[0]!.version, 2);
  again.channel.close();
});

test('health turns amber then red as the last PERSISTED ages, publishing health and telemetry on each change', () => {
  const r = channelRig();
  r.channel.start();
  r.mqtt().up();
  r.device.lastPersistedAgeMs = 500;
  r.time.advance(100_000);
  r.device.lastPersistedAgeMs = 31_000;
  r.time.advance(1000);
  r.device.lastPersistedAgeMs = 61_000;
  r.time.advance(1000);
  assert.equal(
    r
      .mqtt()
      .on('health')
      .map((h) => `${h.state}/${h.reason}`),
    ['green/starting', 'green/persisting', 'amber/late', 'red/stalled'],
  );
  assert.ok(r.mqtt().on('telemetry').length >= 3);
  assert.is(r.mqtt().on('telemetry').pop()!.health, 'red');
  r.channel.close();
  assert.equal(r.mqtt().on('health').pop(), { state: 'offline', reason: 'shutdown', lastPersistedAgeMs: -1, t: r.time.now() });
});

test("event mode: green idle between clips while frames arrive; a clip's age counts from its start; a quiet camera is not idle", () => {
  const r = channelRig();
  const report = (idle: boolean) => ({
    events: 0,
    clips: 0,
    merged: 0,
    fragmentsAdmitted: 0,
    tagsLost: 0,
    preRollMs: 10_000,
    preRollFillMs: 10_000,
    openClip: idle ? 0 : 7,
    postRemainingMs: idle ? 0 : 20_000,
    idle,
  });
  r.device.eventReport = report(true);
  r.channel.start();
  r.mqtt().up();
  // 100 s without a PERSISTED (none ever; red is 60 s): idle, since the camera keeps delivering frames.
  for (let s = 0; s < 100; s++) {
    r.device.framesIn += 10;
    r.time.advance(1000);
  }
  assert.equal(
    r
      .mqtt()
      .on('health')
      .map((h) => `${h.state}/${h.reason}`),
    ['green/idle'],
  );
  // A clip opens: its age counts from then (green starting), then amber and red if nothing is PERSISTED.
  r.device.eventReport = report(false);
  const advance = (ms: number) => {
    for (let t = 0; t < ms; t += 1000) {
      r.device.framesIn += 10;
      r.time.advance(1000);
    }
  };
  advance(2000);
  advance(60_000);
  assert.equal(
    r
      .mqtt()
      .on('health')
      .map((h) => `${h.state}/${h.reason}`),
    ['green/idle', 'green/starting', 'amber/starting', 'red/never-persisted'],
  );
  assert.is((r.mqtt().on('telemetry').pop()!.events as Record<string, unknown>).openClip, 7);
  // Idle again, then the camera goes quiet: after healthAmberMs (3 × 10 s) without frames it is no longer idle, and
  // its age counts from the last idle moment (amber 30 s later, red 60 s later).
  r.device.eventReport = report(true);
  advance(2000);
  r.time.advance(29_000);
  assert.is(r.mqtt().on('health').pop()!.reason, 'idle');
  r.time.advance(62_000);
  assert.equal(
    r
      .mqtt()
      .on('health')
      .map((h) => `${h.state}/${h.reason}`)
      .slice(-4),
    ['green/idle', 'green/starting', 'amber/starting', 'red/never-persisted'],
  );
  r.channel.close();
});

test('restart replies first, then asks the device to restart; reload-credentials returns the expiration', async () => {
  const r = channelRig();
  r.channel.start();
  r.mqtt().up();
  r.command({ id: 'r1', name: 'reload-credentials' });
  r.command({ id: 'r2', name: 'restart' });
  await settle();
  const results = r.mqtt().on('result');
  assert.equal(
    results.find((x) => x.id === 'r1'),
    { id: 'r1', ok: true, data: { expiration: '2030-01-01T00:00:00.000Z' } },
  );
  assert.equal(
    results.find((x) => x.id === 'r2'),
    { id: 'r2', ok: true },
  );
  assert.equal(r.device.calls, ['reload']);
  r.time.advance(0);
  assert.equal(r.device.calls, ['reload', 'restart']);
  r.channel.close();
});

test('a burst of commands larger than the client queue: every result goes out, in order, as PUBACKs make room', async () => {
  const r = channelRig();
  r.channel.start();
  const m = r.mqtt();
  m.up();
  m.capacity = m.inFlight + 4;
  for (let i = 0; i < 12; i++) r.command({ id: `b${i}`, name: 'reboot' });
  r.command(new Uint8Array([0xff]));
  r.command({ id: 'last', name: 'status' });
  await settle();
  assert.is(m.on('result').length, 4, 'the queue is full');
  while (m.on('result').length < 14) {
    const before = m.on('result').length;
    m.puback(2);
    assert.is(m.on('result').length, before + 2, 'a PUBACK lets the next ones go at once');
  }
  assert.equal(
    m.on('result').map((x) => x.id ?? '-'),
    ['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8', 'b9', 'b10', 'b11', '-', 'last'],
  );
  r.channel.close();
});

test('a corrupt state file is reported and the defaults apply', () => {
  const store = channelRig().store;
  store.bytes = new Uint8Array([0xa1, 0xff]);
  const r = channelRig(store);
  assert.ok(r.events.some((e) => e.type === 'error' && e.code === 'CONTROL_STATE_INVALID'));
  assert.is(r.channel.effective.streaming, true);
  assert.equal(r.device.calls, []);
});

test.run();
