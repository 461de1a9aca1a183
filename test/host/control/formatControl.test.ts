// The operator's text output without a broker: health colours only on a terminal that wants them, the
// telemetry table, the watch screen redrawn in place, watch lines, fleet rows from partial records, and
// payloads that are not documents ignored.
import { encodeControl, decodeControl, MAX_CONTROL_PAYLOAD_BYTES } from '../../../host/lib/control/controlCbor.ts';
import { parseControlTopic } from '../../../host/lib/control/controlTopics.ts';
import { formatMs, formatTelemetry, paintHealth, wantsColour } from '../../../host/lib/control/formatControl.ts';
import { fleetRow } from '../../../host/lib/control/readFleet.ts';
import { telemetryOfCamera } from '../../../host/lib/control/telemetryOfCamera.ts';
import { eventLine, watchEvent, WatchScreen } from '../../../host/lib/control/watchDevice.ts';
import { assert, suite } from '../../harness/index.ts';
import { sampleTelemetry } from './protocolPeer.ts';

const test = suite('control CLI output: colours, tables, watch screen, fleet rows');

test('colour only on a TTY, never with NO_COLOR or TERM=dumb', () => {
  assert.is(wantsColour({ isTTY: true }, {}), true);
  assert.is(wantsColour({ isTTY: false }, {}), false);
  assert.is(wantsColour({}, {}), false);
  assert.is(wantsColour({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.is(wantsColour({ isTTY: true }, { TERM: 'dumb' }), false);
  assert.is(paintHealth('red', true), '\x1b[31mred\x1b[0m');
  assert.is(paintHealth('red', false), 'red');
  assert.is(paintHealth('unknown', true), 'unknown');
});

test('durations: -1 and absent are "-"', () => {
  assert.equal(
    [formatMs(undefined), formatMs(-1), formatMs(250), formatMs(1500), formatMs(600_000), formatMs(9_000_000)],
    ['-', '-', '250 ms', '1.5 s', '10 min', '2.5 h'],
  );
});

test('the telemetry table names every field of the record', () => {
  const lines = formatTelemetry(sampleTelemetry(3, { lastPersistedAgeMs: -1 }));
  const text = lines.join('\n');
  assert.ok(/last PERSISTED\s+never/.test(text), text);
  assert.ok(/drops\s+poolFull 3, awaitKeyFrame 7, frameTooLarge 0, noParameterSets 0, stopped 0/.test(text), text);
  assert.ok(/heap\s+150000 bytes \(peak 160000, limit 262144\)/.test(text), text);
  assert.ok(/errors\s+UPLOAD_NETWORK 1/.test(text), text);
  assert.ok(/record\s+#3 at 2026-11-21T10:00:03.000Z/.test(text), text);
  assert.is(/events/.test(text), false, 'a continuous device has no event rows');
  const events = {
    events: 3,
    clips: 2,
    merged: 1,
    fragmentsAdmitted: 41,
    tagsLost: 0,
    preRollMs: 10_000,
    preRollFillMs: 9500,
    openClip: 1796649991000,
    postRemainingMs: 12_000,
    idle: false,
  };
  const withEvents = formatTelemetry({ ...sampleTelemetry(4, {}), events }).join('\n');
  assert.ok(/events \/ clips\s+3 \/ 2 \(1 merged\)/.test(withEvents), withEvents);
  assert.ok(/fragments admitted\s+41/.test(withEvents), withEvents);
  assert.ok(/pre-roll\s+9.5 s of 10.0 s held/.test(withEvents), withEvents);
  assert.ok(/clip\s+clip 1796649991000 open, 12.0 s of post window left/.test(withEvents), withEvents);
});

test('a device with several cameras: a row per camera after the totals (device <thing> status)', () => {
  const record = {
    ...sampleTelemetry(4),
    cameras: {
      gate: {
        stream: 'yard-gate',
        framesIn: 300,
        framesOut: 290,
        fragmentsSent: 30,
        fragmentsPersisted: 29,
        poolSlotsInUse: 2,
        poolSlots: 37,
        lastPersistedAgeMs: 400,
        connected: true,
      },
      door: {
        stream: 'yard-door',
        framesIn: 12,
        framesOut: 0,
        fragmentsSent: 0,
        fragmentsPersisted: 0,
        poolSlotsInUse: 0,
        poolSlots: 37,
        lastPersistedAgeMs: -1,
        connected: false,
        cameraError: 'MJPEG_NO_FRAMES',
      },
    },
  };
  const lines = formatTelemetry(record);
  const header = lines.findIndex((l) => l.startsWith('camera'));
  assert.ok(header > 0 && lines[header - 1] === '', lines.join('\n'));
  assert.ok(/^gate\s+yard-gate\s+connected\s+300 \/ 290\s+30 \/ 29\s+2 of 37\s+400 ms ago\s+-$/.test(lines[header + 1]!), lines[header + 1]);
  assert.ok(/^door\s+yard-door\s+not connected\s+12 \/ 0\s+0 \/ 0\s+0 of 37\s+never\s+MJPEG_NO_FRAMES$/.test(lines[header + 2]!), lines[header + 2]);
  assert.ok(!formatTelemetry(sampleTelemetry(4)).some((l) => l.startsWith('camera')), 'one camera: no camera table');
  // Event mode: a clips column, each camera's clips and the open one's post time left.
  const report = (clips: number, openClip: number, postRemainingMs: number) => ({
    events: clips + 1,
    clips,
    merged: 1,
    fragmentsAdmitted: 9,
    tagsLost: 0,
    preRollMs: 6000,
    preRollFillMs: 6000,
    openClip,
    postRemainingMs,
    idle: openClip === 0,
  });
  const cameras = record.cameras as Record<string, Record<string, unknown>>;
  const evented = formatTelemetry({
    ...record,
    cameras: { gate: { ...cameras.gate, events: report(2, 1796649991000, 4000) }, door: { ...cameras.door, events: report(1, 0, 0) } },
  });
  const at = evented.findIndex((l) => l.startsWith('camera'));
  assert.ok(/\s+clips$/.test(evented[at]!), evented[at]);
  assert.ok(/\s+2 \(3 events\), open: 4.0 s left$/.test(evented[at + 1]!), evented[at + 1]);
  assert.ok(/MJPEG_NO_FRAMES\s+1 \(2 events\)$/.test(evented[at + 2]!), evented[at + 2]);
});

test('status --camera NAME: that camera in place of the device sums; an unknown camera or a one-camera device is CLI_USAGE', () => {
  const record = {
    ...sampleTelemetry(4),
    cameras: {
      gate: {
        stream: 'yard-gate',
        framesIn: 300,
        framesOut: 290,
        fragmentsSent: 30,
        fragmentsPersisted: 29,
        poolSlotsInUse: 2,
        poolSlots: 37,
        lastPersistedAgeMs: 400,
        connected: true,
      },
      door: {
        stream: 'yard-door',
        framesIn: 12,
        framesOut: 0,
        fragmentsSent: 0,
        fragmentsPersisted: 0,
        poolSlotsInUse: 0,
        poolSlots: 37,
        lastPersistedAgeMs: -1,
        connected: false,
        cameraError: 'MJPEG_NO_FRAMES',
      },
    },
  };
  const door = telemetryOfCamera(record, 'yard', 'door');
  assert.equal([door.camera, door.framesIn, door.poolSlots, door.cameras, door.health], ['door', 12, 37, undefined, sampleTelemetry(4).health]);
  const lines = formatTelemetry(door);
  for (const row of [
    /^camera\s+door → stream yard-door$/,
    /^upload\s+not connected, camera error MJPEG_NO_FRAMES$/,
    /^last PERSISTED\s+never$/,
    /^frames in \/ out\s+12 \/ 0$/,
    /^pool\s+0 of 37 slots$/,
    /^\(health, drops, bytes behind, ACK latency, errors and heap: the whole device\)$/,
  ])
    assert.ok(
      lines.some((l) => row.test(l)),
      `${String(row)} in\n${lines.join('\n')}`,
    );
  assert.ok(!lines.some((l) => l.startsWith('gate')), 'no other camera');
  assert.throws(() => telemetryOfCamera(record, 'yard', 'barn'), /device yard: no camera 'barn'; its cameras are gate, door/);
  assert.throws(() => telemetryOfCamera(sampleTelemetry(4), 'yard', 'gate'), /yard runs one camera .*leave out --camera/);
  assert.throws(() => telemetryOfCamera(sampleTelemetry(4), 'yard', 'gate'), 'CLI_USAGE');
});

test('watch: the terminal screen redraws in place with the latest of each kind; lines otherwise', () => {
  const at = Date.UTC(2026, 10, 21, 10, 0, 0);
  const health = watchEvent('cam-1', 'fieldcam/cam-1/health', encodeControl({ state: 'amber', reason: 'late' }), true, at)!;
  const other = watchEvent('cam-2', 'fieldcam/cam-1/health', encodeControl({ state: 'red' }), false, at);
  assert.is(other, undefined, 'another thing is not shown');
  assert.is(watchEvent('cam-1', 'fieldcam/cam-1/health', new Uint8Array([0xff]), false, at), undefined, 'not CBOR: ignored');
  const screen = new WatchScreen('cam-1', true);
  screen.connection('connected');
  screen.add(health);
  screen.add(watchEvent('cam-1', 'fieldcam/cam-1/telemetry', encodeControl(sampleTelemetry(9)), false, at + 500)!);
  const first = screen.render(at + 1500);
  assert.ok(first.startsWith('\x1b[H\x1b[J'), 'cursor home + clear');
  assert.ok(first.includes('\x1b[33mamber\x1b[0m (late), received 1.5 s ago (retained)'), first);
  assert.ok(/telemetry  \(received 1.0 s ago\)/.test(first), first);
  screen.add(watchEvent('cam-1', 'fieldcam/cam-1/health', encodeControl({ state: 'green', reason: '' }), false, at + 2000)!);
  const second = screen.render(at + 2000);
  assert.ok(second.includes('\x1b[32mgreen\x1b[0m, received 0 ms ago'), second);
  assert.ok(!second.includes('amber'), 'the latest health replaces the old one');
  assert.is(eventLine(health, false), '10:00:00.000 health amber (late) (retained)');
  assert.equal(JSON.parse(eventLine(health, true)), {
    at: '2026-11-21T10:00:00.000Z',
    topic: 'health',
    retained: true,
    document: { state: 'amber', reason: 'late' },
  });
});

test('fleet rows: live telemetry beats a retained offline; missing records stay absent', () => {
  assert.equal(fleetRow('a', undefined, undefined), { thing: 'a', health: 'unknown', live: false });
  const offline = fleetRow('b', { state: 'offline' }, sampleTelemetry(1, { health: 'amber' }));
  assert.is(offline.health, 'amber');
  assert.is(fleetRow('c', { state: 'offline' }, undefined).health, 'offline');
  assert.is(fleetRow('d', { state: 'purple' }, undefined).health, 'unknown', 'an unknown state is not trusted');
});

test('decodeControl: only maps, bounded in size; topics parsed strictly', () => {
  assert.equal(decodeControl(encodeControl({ a: 1 })), { a: 1 });
  assert.is(decodeControl(new Uint8Array([0x83, 1, 2, 3])), undefined, 'an array');
  assert.is(decodeControl(new Uint8Array(0)), undefined);
  assert.is(decodeControl(new Uint8Array(MAX_CONTROL_PAYLOAD_BYTES + 1)), undefined);
  assert.equal(parseControlTopic('fieldcam/cam-1/config/reported'), { thing: 'cam-1', leaf: 'config/reported' });
  assert.is(parseControlTopic('fieldcam/cam-1/other'), undefined);
  assert.is(parseControlTopic('elsewhere/cam-1/health'), undefined);
});

test.run();
