// Event recording (issue 15, event clips): a real H.264 stream through FrameInput with an EventGate, drained by a
// consumer that sends as the uploader does (nextUnsent, in order). What reaches the consumer is judged against the
// frames fed: a clip starts at the key frame at or before the pre-roll, keeps the frames' original timestamps, ends
// with the fragment open at the end of the post window, overlapping events merge into one clip, and every frame
// outside the windows is counted as `outsideEvent` (fed = sent + dropped). Pure ECMAScript: Node and XS.
import { EventGate } from '../../../../firmware/core/events/EventGate.ts';
import { eventRequest } from '../../../../firmware/core/events/EventRequest.ts';
import { FrameInput } from '../../../../firmware/core/media/FrameInput.ts';
import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { assert, fixture, suite } from '../../../harness/index.ts';
import { accessUnitStarts } from '../media/liveKit.ts';

const test = suite('EventGate: event clips with pre-roll, merged windows, frames outside windows counted');

const T0 = 1_700_000_000_000;
const GOP10 = fixture('h264-320x240-10fps-gop10.h264'); // 100 AUs, 10 fps, an IDR every 10: fragments of 1 s
const STARTS = accessUnitStarts(GOP10);

interface Sent {
  pts: number;
  key: boolean;
  fragmentStart: boolean;
  clip: number;
  tags: number;
}

class Rig {
  readonly pool = new FramePool({ slotCount: 8, slotBytes: 65536, maxFrames: 256 });
  readonly sent: Sent[] = [];
  readonly input: FrameInput;
  readonly gate: EventGate | undefined;
  private fed = 0;

  constructor(event: boolean, preRollMs = 3000, postMs = 2000) {
    this.input = new FrameInput({
      codec: 'h264',
      pool: this.pool,
      fps: { num: 10, den: 1 },
      fragmentMs: 1000,
      maxFragmentMs: 10_000,
      startTimecode: T0,
      strict: true,
      onQueued: () => this.drain(),
    });
    if (event) {
      this.gate = new EventGate({ queue: this.input.queue, preRollMs, postMs, onAdmitted: () => this.drain() });
      this.input.queue.setGate(this.gate);
    }
  }

  /** The uploader's loop: every frame nextUnsent gives, in order; written means done (offline). */
  drain(): void {
    const queue = this.input.queue;
    for (let f: Frame | undefined = queue.nextUnsent(); f; f = queue.nextUnsent()) {
      const tags = f.fragmentStart ? (this.gate?.tagsFor(f)?.length ?? 0) : 0;
      this.sent.push({ pts: f.pts, key: f.key, fragmentStart: f.fragmentStart, clip: f.fragmentStart ? f.clip : -1, tags });
      f.sent = true;
    }
    queue.releaseSent();
  }

  /** Feeds access units [fed, upTo): afterwards frames before upTo - 1 are queued (the reader holds the last). */
  feedTo(upTo: number): void {
    const from = STARTS[this.fed]!;
    const to = upTo >= STARTS.length ? GOP10.length : STARTS[upTo]!;
    let i = from;
    while (i < to) {
      if (this.input.prepare() !== PREPARE.OK) throw new Error('pool exhausted');
      const n = Math.min(to - i, this.input.targetSpace);
      this.input.target.set(GOP10.subarray(i, i + n), this.input.targetOffset);
      this.input.push(n);
      i += n;
    }
    this.fed = upTo;
  }

  end(): void {
    this.input.end(true);
    this.drain();
  }
}

const frameIndex = (pts: number) => Math.round((pts - T0) / 100);

test('continuous (no gate): every frame is sent, nothing held', () => {
  const rig = new Rig(false);
  rig.feedTo(100);
  rig.end();
  assert.is(rig.sent.length, 100);
  assert.is(rig.pool.drops.outsideEvent, 0);
});

test('no event: nothing is sent and every frame is counted outsideEvent', () => {
  const rig = new Rig(true);
  rig.feedTo(100);
  rig.end();
  assert.is(rig.sent.length, 0);
  assert.is(rig.pool.drops.outsideEvent, 100);
  assert.is(rig.input.queue.length, 0);
});

test('an event mid-stream: a clip from the key frame before the pre-roll to the fragment open at the end of the post window', () => {
  const rig = new Rig(true, 3000, 2000);
  rig.feedTo(56); // frames 0..54 queued
  const at = rig.input.queue.newestEnd;
  assert.is(at, T0 + 5500);
  // Before the event: idle, the pool holds the pre-roll (3 s asked; held fragments from 2.0 s or 3.0 s on).
  const before = rig.gate!.report();
  assert.equal([before.events, before.openClip, before.postRemainingMs, before.idle, before.preRollMs], [0, 0, 0, true, 3000]);
  assert.ok(before.preRollFillMs >= 2500 && before.preRollFillMs <= 3000, String(before.preRollFillMs));
  const outcome = rig.gate!.event(eventRequest(undefined, undefined, ['motion'], ['front']));
  assert.is(outcome.at, at);
  assert.is(outcome.merged, false);
  assert.is(outcome.clip, at);
  // Pre-roll: from 2.5 s, so the fragment opening at 2.0 s (it ends after 2.5 s) is the first one.
  assert.ok(rig.sent.length > 0, 'the pre-roll went out at once');
  assert.is(frameIndex(rig.sent[0]!.pts), 20);
  assert.ok(rig.sent[0]!.key && rig.sent[0]!.fragmentStart);
  rig.feedTo(66); // 6.5 s: 1 s of the 2 s post window left; the open fragment is admitted and not yet released
  const during = rig.gate!.report();
  assert.equal([during.openClip, during.postRemainingMs, during.idle], [outcome.clip, 1000, false]);
  rig.feedTo(100);
  rig.end();
  // Post: up to 7.5 s, so the fragment opening at 7.0 s is the last one: frames 20..79.
  const indices = rig.sent.map((s) => frameIndex(s.pts));
  assert.equal(
    indices,
    Array.from({ length: 60 }, (_, i) => 20 + i),
  );
  // Original timestamps: frame i at T0 + 100 i, exactly as fed.
  for (const s of rig.sent) assert.is((s.pts - T0) % 100, 0);
  // Every fragment of the clip carries its tags.
  const starts = rig.sent.filter((s) => s.fragmentStart);
  assert.is(starts.length, 6);
  for (const s of starts) {
    assert.is(s.clip, outcome.clip);
    assert.ok(s.tags > 0);
  }
  // The report (status, telemetry): after the post window no clip is open, the pool holds a full pre-roll, and
  // everything admitted has gone (this rig's uploader releases what it wrote): idle.
  const report = rig.gate!.report();
  assert.equal([report.events, report.clips, report.openClip, report.postRemainingMs, report.idle], [1, 1, 0, 0, true]);
  assert.is(report.fragmentsAdmitted, 6);
  // Fed = sent + dropped: 20 before the pre-roll, 20 after the post window.
  assert.is(rig.pool.drops.outsideEvent, 40);
  assert.is(rig.pool.dropped, 40);
  assert.is(rig.sent.length + rig.pool.dropped, 100);
});

test('overlapping events merge into one clip; separate events make separate clips', () => {
  const rig = new Rig(true, 2000, 1000);
  rig.feedTo(31); // newest end 3.0 s
  const a = rig.gate!.event(eventRequest(undefined, undefined, ['door'], ['open']));
  rig.feedTo(46); // 4.5 s: a's window ends at 4.0 s; b's pre-roll (2.5 s) reaches into it
  const b = rig.gate!.event(eventRequest(undefined, 1000, ['person'], ['yes']));
  assert.is(b.merged, true);
  assert.is(b.clip, a.clip);
  rig.feedTo(86); // 8.5 s: far from the merged window (ends 5.5 s); c is a new clip
  const c = rig.gate!.event(eventRequest(1000, 500, [], []));
  assert.is(c.merged, false);
  assert.not(c.clip, a.clip);
  rig.feedTo(100);
  rig.end();
  const indices = rig.sent.map((s) => frameIndex(s.pts));
  // a/b: from 1.0 s (a's pre-roll) to the fragment open at 5.5 s → frames 10..59, no gap; c: 7.5 s → 9.0 s: 70..89.
  const expected = [...Array.from({ length: 50 }, (_, i) => 10 + i), ...Array.from({ length: 20 }, (_, i) => 70 + i)];
  assert.equal(indices, expected);
  const clips = rig.sent.filter((s) => s.fragmentStart).map((s) => s.clip);
  assert.equal(clips, [...Array(5).fill(a.clip), ...Array(2).fill(c.clip)]);
  assert.is(rig.pool.drops.outsideEvent, 30);
  assert.is(rig.sent.length + rig.pool.dropped, 100);
  assert.is(rig.gate!.stats.clips, 2);
  assert.is(rig.gate!.stats.merged, 1);
});

test('pre is capped by the pre-roll the pool keeps; an event before any frame is EVENT_NO_VIDEO', () => {
  const rig = new Rig(true, 1000, 0);
  assert.throws(() => rig.gate!.event(eventRequest(undefined, undefined, [], [])), 'EVENT_NO_VIDEO');
  rig.feedTo(56);
  const o = rig.gate!.event(eventRequest(30_000, 0, [], []));
  assert.is(o.from, o.at - 1000);
  rig.end();
  assert.is(frameIndex(rig.sent[0]!.pts), 40);
  assert.is(rig.sent.length + rig.pool.dropped, 56); // the input ended after 56 access units
});

test.run();
