// The control channel's `event` command (docs/control-channel.md, docs/events.md): its arguments checked on the device
// with named errors, the request handed to the device as it was sent, and the device's refusal (continuous recording)
// answered with its code. What an event does to the stream is judged in test/app/eventClips.test.ts.
import { assert, suite } from '../../../harness/index.ts';
import { channelRig, settle } from './controlKit.ts';

const test = suite('control: the event command');

test('event: pre/post in ms and tags reach the device; the result carries the clip', async () => {
  const r = channelRig();
  r.device.eventMode = true;
  r.channel.start();
  r.mqtt().up();
  r.command({ id: 'e1', name: 'event', args: { pre: 5000, post: 15_000, tags: { motion: 'front', zone: '3' } } });
  r.command({ id: 'e2', name: 'event' });
  await settle();
  assert.equal(r.device.calls, ['event motion=front zone=3', 'event']);
  assert.is(r.device.events[0]!.preMs, 5000);
  assert.is(r.device.events[0]!.postMs, 15_000);
  assert.is(r.device.events[1]!.preMs, undefined);
  const results = r.mqtt().on('result');
  assert.equal(results[0], { id: 'e1', ok: true, data: { clip: 5000, merged: false, at: 5000, from: 0, to: 20_000, fragments: 3, tagsKept: 2 } });
  assert.is(results[1]!.ok, true);
  r.channel.close();
});

test('bad arguments are refused by name before the device sees them; a continuous device says EVENT_MODE_OFF', async () => {
  const r = channelRig();
  r.channel.start();
  r.mqtt().up();
  r.command({ id: 'b1', name: 'event', args: { before: 1 } });
  r.command({ id: 'b2', name: 'event', args: { pre: -1 } });
  r.command({ id: 'b3', name: 'event', args: { post: 1.5 } });
  r.command({ id: 'b4', name: 'event', args: { tags: ['a'] } });
  r.command({ id: 'b5', name: 'event', args: { tags: { AWS_X: '1' } } });
  r.command({ id: 'b6', name: 'event', args: { tags: { a: 'with space' } } });
  r.command({ id: 'b7', name: 'event', args: { tags: { a: '1', b: '2', c: '3', d: '4', e: '5' } } });
  r.command({ id: 'b8', name: 'event', args: { tags: { a: 1 } } });
  r.command({ id: 'c1', name: 'event', args: { tags: { a: '1' } } });
  await settle();
  const codes = Object.fromEntries(
    r
      .mqtt()
      .on('result')
      .map((x) => [x.id, x.code]),
  );
  assert.equal(codes, {
    b1: 'CONTROL_ARGUMENT_INVALID',
    b2: 'EVENT_DURATION_INVALID',
    b3: 'EVENT_DURATION_INVALID',
    b4: 'CONTROL_ARGUMENT_INVALID',
    b5: 'EVENT_TAG_INVALID',
    b6: 'EVENT_TAG_INVALID',
    b7: 'EVENT_TAG_INVALID',
    b8: 'EVENT_TAG_INVALID',
    c1: 'EVENT_MODE_OFF',
  });
  assert.equal(r.device.calls, []);
  r.channel.close();
});

test.run();
