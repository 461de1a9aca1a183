// Settings validation and merge, the command log, health derivation and the state file codec.
import { CommandLog } from '../../../../firmware/core/control/CommandLog.ts';
import { checkSetting, defaultSettings, mergeSettings, sortSettings } from '../../../../firmware/core/control/ControlSettings.ts';
import { decodeControlState, stateDocument } from '../../../../firmware/core/control/ControlState.ts';
import { deriveHealth } from '../../../../firmware/core/control/deriveHealth.ts';
import { assert, suite } from '../../../harness/index.ts';
import { cbor } from './controlKit.ts';

const test = suite('control: settings, command log, health, state');
const caps = { fps: false, bitrate: true, reloadCredentials: false, fragmentMs: 2000, maxFragmentMs: 8000 };

test('defaults come from the board; every setting is checked by name', () => {
  assert.equal(defaultSettings(caps), {
    streaming: true,
    fragmentMs: 2000,
    fps: null,
    bitrateKbps: null,
    telemetryIntervalS: 60,
    healthAmberMs: 24_000,
    healthRedMs: 60_000,
  });
  assert.is(checkSetting('fragmentMs', 4000, caps), undefined);
  assert.is(checkSetting('fragmentMs', 9000, caps)?.code, 'CONTROL_ARGUMENT_INVALID', 'above the board maximum');
  assert.is(checkSetting('fragmentMs', 999, caps)?.code, 'CONTROL_ARGUMENT_INVALID');
  assert.is(checkSetting('fragmentMs', 1500.5, caps)?.code, 'CONTROL_ARGUMENT_INVALID');
  assert.is(checkSetting('streaming', 1, caps)?.code, 'CONTROL_ARGUMENT_INVALID');
  assert.is(checkSetting('fps', 30, caps)?.code, 'CONTROL_UNSUPPORTED');
  assert.is(checkSetting('fps', 500, caps)?.code, 'CONTROL_ARGUMENT_INVALID', 'range before support');
  assert.is(checkSetting('bitrateKbps', 800, caps), undefined);
  const typo = checkSetting('fragmentMS', 2000, caps);
  assert.is(typo?.code, 'CONTROL_ARGUMENT_INVALID');
  assert.ok(typo!.message.includes('fragmentMS'));
  const sorted = sortSettings({ fragmentMs: 3000, fps: 10, colour: 'red' }, caps);
  assert.equal(sorted.accepted, { fragmentMs: 3000 });
  assert.equal(Object.keys(sorted.rejected), ['fps', 'colour']);
  assert.equal(mergeSettings(defaultSettings(caps), sorted.accepted).fragmentMs, 3000);
});

test('command log: the last 16 ids with their results; older ones are forgotten', () => {
  const log = new CommandLog();
  for (let i = 0; i < 17; i++) {
    log.begin(`c${i}`);
    log.finish({ id: `c${i}`, ok: true });
  }
  assert.is(log.has('c0'), false);
  assert.ok(log.has('c1') && log.has('c16'));
  assert.equal(log.result('c5'), { id: 'c5', ok: true });
  log.begin('run');
  assert.ok(log.has('run'));
  assert.is(log.result('run'), undefined, 'still running');
  assert.is(log.entries().length, 15);
  assert.is(log.entries()[0]!.id, 'c2');
});

test('health: green/amber/red from the last PERSISTED age, counted from when streaming began', () => {
  const h = (lastPersistedAgeMs: number, streamingForMs: number, streaming = true) => {
    const r = deriveHealth({ streaming, lastPersistedAgeMs, streamingForMs, amberMs: 6000, redMs: 60_000 });
    return `${r.state}/${r.reason}`;
  };
  assert.is(h(1000, 100_000), 'green/persisting');
  assert.is(h(7000, 100_000), 'amber/late');
  assert.is(h(61_000, 100_000), 'red/stalled');
  assert.is(h(-1, 1000), 'green/starting');
  assert.is(h(-1, 10_000), 'amber/starting');
  assert.is(h(-1, 60_000), 'red/never-persisted');
  assert.is(h(500_000, 2000), 'green/starting', 'a PERSISTED from before a stop does not count against a new start');
  assert.is(h(1000, 100_000, false), 'amber/stopped');
  const idle = deriveHealth({ streaming: true, lastPersistedAgeMs: -1, streamingForMs: 600_000, amberMs: 6000, redMs: 60_000, idle: true });
  assert.is(`${idle.state}/${idle.reason}`, 'green/idle', 'event mode between clips: nothing is due, nothing is late');
});

test('state file: round trip, and anything else is CONTROL_STATE_INVALID', () => {
  const state = {
    desiredVersion: 3,
    settings: { streaming: false, fragmentMs: 4000 },
    commands: [{ id: 'a', ok: false, code: 'CONTROL_UNSUPPORTED', message: 'm' }],
  };
  assert.equal(decodeControlState(cbor(stateDocument(state))), state);
  for (const bad of [
    cbor({ version: 2 }),
    cbor({ version: 1, desiredVersion: -1, settings: {}, commands: [] }),
    cbor({ version: 1, desiredVersion: 0, settings: { fragmentMs: 'x' }, commands: [] }),
    cbor({ version: 1, desiredVersion: 0, settings: {}, commands: [{ id: 1 }] }),
    new Uint8Array([0xff, 0x00]),
  ]) {
    assert.throws(() => decodeControlState(bad), 'CONTROL_STATE_INVALID');
  }
});

test.run();
