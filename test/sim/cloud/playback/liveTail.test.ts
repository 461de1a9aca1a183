// GetMedia's live tail with the unmodified SDK media client: a reader that starts (StartSelector NOW) while
// a camera is connected receives every later fragment as it is PERSISTED — each one before the camera's
// next PERSISTED ACK, i.e. within one fragment duration — and the response ends once the camera is gone.
// Order is judged by ACK counts, never by clock readings.
import { GetDataEndpointCommand, KinesisVideoClient, CreateStreamCommand } from '@aws-sdk/client-kinesis-video';
import { GetMediaCommand, KinesisVideoMediaClient } from '@aws-sdk/client-kinesis-video-media';
import { assert, suite } from '../../../harness/index.ts';
import { RawPutMedia } from '../kvs/media/putMediaClient.ts';
import { h264Body, playbackCloud } from './playbackKit.ts';

const test = suite('sim/cloud GetMedia live tail (NOW): fragments PERSISTED after the reader started reach it at once');
const pc = await playbackCloud();
test.after(() => pc.close());

test('a NOW reader started before the camera sends sees all 10 fragments, each before the next PERSISTED ACK', async () => {
  const control = new KinesisVideoClient(pc.config());
  await control.send(new CreateStreamCommand({ StreamName: 'gate', DataRetentionInHours: 24 }));
  const endpoint = (await control.send(new GetDataEndpointCommand({ StreamName: 'gate', APIName: 'GET_MEDIA' }))).DataEndpoint!;
  control.destroy();
  const camera = await RawPutMedia.open(pc.cloud.endpoint, pc.cloud.caPem, { stream: 'gate' });
  await camera.waitFor(() => camera.status !== 0, 5000, 'status');
  const persisted = (): string[] => camera.acks.filter((a) => a.EventType === 'PERSISTED').map((a) => String(a.FragmentNumber));

  const reader = new KinesisVideoMediaClient({ ...pc.config(), endpoint });
  const answer = await reader.send(new GetMediaCommand({ StreamName: 'gate', StartSelector: { StartSelectorType: 'NOW' } }));
  /** Fragment number → how many PERSISTED ACKs the camera had when the reader first saw it. */
  const seenAt = new Map<string, number>();
  let text = '';
  const reading = (async () => {
    for await (const chunk of answer.Payload as AsyncIterable<Uint8Array>) {
      text += Buffer.from(chunk).toString('latin1');
      for (const n of persisted()) if (!seenAt.has(n) && text.includes(n)) seenAt.set(n, persisted().length);
      // Fragments the reader gets before their ACK reached the camera count as seen at their own ACK.
      for (const m of text.matchAll(/AWS_KINESISVIDEO_FRAGMENT_NUMBER.{0,4}?(\d{40,})/gs)) if (!seenAt.has(m[1]!)) seenAt.set(m[1]!, -1);
    }
  })();

  // The camera sends 1 s fragments at about their own pace.
  const body = h264Body(Date.now());
  const step = Math.ceil(body.length / 50);
  for (let at = 0; at < body.length; at += step) {
    camera.write(body.subarray(at, at + step));
    await new Promise((r) => setTimeout(r, 100));
  }
  camera.end();
  await camera.waitFor(() => camera.ended || camera.closed, 10_000, 'end of PutMedia');
  camera.destroy();
  await reading; // ends by itself: the producer is gone and every fragment was sent
  reader.destroy();

  const acked = persisted();
  assert.is(acked.length, 10, camera.trace().join(' '));
  acked.forEach((n, i) => {
    assert.ok(seenAt.has(n), `fragment ${i} reached the reader`);
    const at = seenAt.get(n)!;
    assert.ok(at === -1 || at <= i + 1, `fragment ${i} reached the reader by ACK ${at} (its own is ACK ${i + 1})`);
  });
});

test.run();
