// The control channel's memory bounds: commands past `pendingResults` are refused (CONTROL_BUSY, counted in
// telemetry), the command log keeps no telemetry records, the state file is written only when it changes and
// stays within its buffer. Small on purpose: these suites also run inside XS and under QEMU.
import { decodeCbor } from '../../../../firmware/core/cbor/decodeCbor.ts';
import { assert, suite } from '../../../harness/index.ts';
import { channelRig, settle } from './controlKit.ts';

const test = suite('control: bounds (CONTROL_BUSY, command log, state file)');

test('past pendingResults a command is not run: CONTROL_BUSY, counted in telemetry errors; the same id sent later runs', async () => {
  const r = channelRig(undefined, undefined, { pendingResults: 3 });
  r.channel.start();
  const m = r.mqtt();
  m.up();
  m.capacity = m.inFlight; // the client's ring is full: no result can leave before a PUBACK
  for (let i = 0; i < 6; i++) r.command({ id: `t${i}`, name: 'tag', args: { name: 'n', value: String(i) } });
  await settle();
  assert.equal(r.device.calls, ['tag n=0', 'tag n=1', 'tag n=2'], 'three run, three refused');
  const busy = r.events.filter((e) => e.type === 'error' && e.code === 'CONTROL_BUSY');
  assert.is(busy.length, 3);
  assert.ok(
    busy.every((e) => e.type === 'error' && /^command t[345] not run/.test(e.message)),
    JSON.stringify(busy),
  );
  // Finished but not yet sent still counts: the tags answer into the channel's queue, which stays at 3.
  r.device.tagResolve!(4000);
  r.time.advance(5000); // the other two tags time out and answer {}
  await settle();
  r.command({ id: 'x', name: 'reboot' });
  assert.is(r.events.filter((e) => e.type === 'error' && e.code === 'CONTROL_BUSY').length, 4, 'still full while nothing was acknowledged');
  m.capacity = Infinity;
  m.puback();
  assert.equal(
    m.on('result').map((x) => x.id),
    ['t0', 't1', 't2'],
  );
  r.command({ id: 't3', name: 'tag', args: { name: 'n', value: '3' } });
  r.command({ id: 's', name: 'status' });
  await settle();
  assert.ok(r.device.calls.includes('tag n=3'), 'a refused id is not in the log: sent again, it runs');
  const status = m.on('result').find((x) => x.id === 's')!.data as { errors: Record<string, number> };
  assert.equal(status.errors, { UPLOAD_NETWORK: 1, CONTROL_BUSY: 4 });
  r.channel.close();
});

test('status is not logged: a duplicate runs again and never writes the state file; tag/set results are kept small', async () => {
  const r = channelRig();
  r.channel.start();
  const m = r.mqtt();
  m.up();
  r.command({ id: 's1', name: 'status' });
  r.command({ id: 's1', name: 'status' });
  await settle();
  const statuses = m
    .on('result')
    .filter((x) => x.id === 's1')
    .map((x) => (x.data as { seq: number }).seq);
  assert.is(statuses.length, 2);
  assert.ok(statuses[0] !== statuses[1], 'executed twice (seq differs), not replayed');
  assert.is(r.store.writes, 0, 'a status changes nothing on disk');
  r.command({ id: 'set1', name: 'set', args: { telemetryIntervalS: 5 } });
  r.command({ id: 'tag1', name: 'tag', args: { name: 'n', value: 'v' } });
  r.device.tagResolve!(7000);
  await settle();
  const file = decodeCbor(r.store.bytes!) as { commands: { id: string; data?: Record<string, unknown> }[] };
  assert.equal(
    file.commands.map((c) => c.id),
    ['set1', 'tag1'],
  );
  assert.equal(file.commands[1]!.data, { fragment: 7000 });
  assert.is((file.commands[0]!.data as { settings: { telemetryIntervalS: number } }).settings.telemetryIntervalS, 5);
  // A state that does not change is not written again: the second `start` saves an unchanged document when it
  // applies (streaming: true is already there), then its log entry; a repeated id and a status write nothing.
  r.command({ id: 'go', name: 'start' });
  await settle();
  const writes = r.store.writes;
  r.command({ id: 'go2', name: 'start' });
  await settle();
  const afterStart = r.store.writes;
  assert.is(afterStart, writes + 1, 'only the log entry is written');
  r.command({ id: 'go', name: 'start' });
  r.command({ id: 'again', name: 'status' });
  await settle();
  assert.is(r.store.writes, afterStart, 'a repeat and a status leave the file alone');
  assert.is(m.on('result').filter((x) => x.id === 'go').length, 2, 'the repeat is answered from the log');
  r.channel.close();
});

test('a state buffer too small for the whole log keeps the settings and the newest entries', async () => {
  const r = channelRig(undefined, undefined, { stateBytes: 2048 });
  r.channel.start();
  r.mqtt().up();
  r.command({ id: 'set', name: 'set', args: { fragmentMs: 3000 } });
  // Refused tags carry ~200-byte messages: 16 of them do not fit in 2 KiB.
  for (let i = 0; i < 15; i++) r.command({ id: `bad-${i}-${'x'.repeat(40)}`, name: 'tag', args: { name: 'n'.repeat(200), value: 'v' } });
  await settle();
  assert.ok(r.store.bytes!.length <= 2048, `${r.store.bytes!.length} bytes`);
  assert.ok(!r.events.some((e) => e.type === 'error' && e.code === 'CONTROL_STATE_WRITE_FAILED'), JSON.stringify(r.events.filter((e) => e.type === 'error')));
  const file = decodeCbor(r.store.bytes!) as { settings: Record<string, unknown>; commands: { id: string }[] };
  assert.equal(file.settings, { fragmentMs: 3000 });
  assert.ok(file.commands.length > 0 && file.commands.length < 16, `${file.commands.length} entries kept`);
  assert.ok(file.commands[file.commands.length - 1]!.id.startsWith('bad-14-'), 'the newest is kept');
  // A restart from that file still has the setting and answers a kept id from its log without running it.
  const again = channelRig(r.store, undefined, { stateBytes: 2048 });
  assert.is(again.channel.effective.fragmentMs, 3000);
  again.channel.start();
  again.mqtt().up();
  again.command({ id: file.commands[file.commands.length - 1]!.id, name: 'tag', args: { name: 'n'.repeat(200), value: 'v' } });
  await settle();
  assert.ok(
    again.events.some((e) => e.type === 'command' && e.repeat),
    'answered as a repeat, not run again',
  );
  assert.is(again.mqtt().on('result')[0]!.code, 'CONTROL_ARGUMENT_INVALID');
  again.channel.close();
  r.channel.close();
});

test.run();
