// The device's audio input (issue 18, Audio): G.711 and ADTS bytes read into pool slots, split into packets stamped
// by sample count, and placed among the video frames of the queue by timecode (never opening a fragment); packets
// ahead of the video wait, late ones are refused by name; a stalled input is filled with silence from one constant
// slot; an ADTS stream with garbage resyncs, one with another format is refused packet by packet.
import { AudioInput } from '../../../../firmware/core/audio/AudioInput.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { FragmentQueue } from '../../../../firmware/core/pool/FragmentQueue.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { assert, fixture, suite } from '../../../harness/index.ts';

const test = suite('AudioInput: audio packets in the video queue');

function setup(codec: 'alaw' | 'aac', sampleRate: number, stallMs?: number) {
  const pool = new FramePool({ slotCount: 8, slotBytes: 8192, maxFrames: 400 });
  const queue = new FragmentQueue({ pool, minFragmentMs: 1000 });
  const audio = new AudioInput({ codec, pool, queue, sampleRate, channels: 1, startTimecode: 0, ...(stallMs !== undefined ? { stallMs } : {}) });
  /** A video frame of 100 ms at `pts` (a key frame every second). */
  const video = (pts: number) => {
    const f = pool.newFrame()!;
    f.pts = f.dts = pts;
    f.duration = 100;
    f.key = pts % 1000 === 0;
    queue.push(f);
    audio.videoQueued();
  };
  const feed = (bytes: Uint8Array) => {
    for (let p = 0; p < bytes.length; ) {
      assert.is(audio.prepare(), PREPARE.OK);
      const n = Math.min(audio.targetSpace, bytes.length - p);
      audio.target.set(bytes.subarray(p, p + n), audio.targetOffset);
      audio.push(n, 0);
      p += n;
    }
  };
  const order = () => {
    const out: string[] = [];
    for (let i = 0; i < queue.length; i++) {
      const f = queue.at(i);
      out.push(`${f.fragmentStart ? '|' : ''}${f.track === 0 ? 'V' : 'A'}${f.pts}`);
    }
    return out.join(' ');
  };
  return { pool, queue, audio, video, feed, order };
}

test('G.711: 20 ms packets placed after the video frame they follow; audio ahead of the video waits; a fragment starts on video', () => {
  const { audio, video, feed, order, queue } = setup('alaw', 8000);
  feed(new Uint8Array(160 * 6).fill(0x55)); // 0-120 ms, before any video: waits
  assert.is(queue.length, 0);
  video(0);
  assert.is(order(), '|V0 A0 A20 A40 A60 A80');
  video(100);
  assert.is(order(), '|V0 A0 A20 A40 A60 A80 V100 A100', 'the waiting packet joins once the video reached it; video first at equal times');
  feed(new Uint8Array(160 * 3).fill(0x55)); // 120-180: before the video's end (200), placed now
  assert.is(order(), '|V0 A0 A20 A40 A60 A80 V100 A100 A120 A140 A160');
  assert.is(audio.through, 180);
  assert.equal([audio.stats.packetsIn, audio.stats.packetsQueued], [9, 9]);
  assert.is(queue.at(1).size, 160, 'a packet is a view of its 160 bytes');
});

test('refused by name: a packet later than a frame already sent (late), before the first key frame (noFragment), while stopped', () => {
  const { audio, video, feed, queue, pool } = setup('alaw', 8000);
  feed(new Uint8Array(160).fill(0x55)); // 0-20 waits
  video(500); // not a key frame: dropped, no fragment yet
  video(1000);
  assert.is(audio.stats.drops.noFragment, 1, 'the packet at 0 ms has no fragment to join');
  for (let f = queue.nextUnsent(); f; f = queue.nextUnsent()) f.sent = true;
  feed(new Uint8Array(160 * 49).fill(0x55)); // 20-1000: behind the sent key frame at 1000
  assert.is(audio.stats.drops.late, 49);
  queue.pause();
  feed(new Uint8Array(160).fill(0x55));
  video(1100);
  assert.is(audio.stats.drops.stopped, 1);
  assert.is(pool.stats.framesInUse, queue.length, 'every refused packet returned its record');
});

test('a stalled live input: past stallMs the gap is filled with silence packets from one constant slot, no pool slot taken', () => {
  const { audio, video, pool, queue } = setup('alaw', 8000, 500);
  const slotsBefore = pool.stats.slotsInUse;
  for (let t = 0; t < 1000; t += 100) video(t);
  // At the frame ending at 600 ms the audio (none) is more than 500 ms behind: silence up to 600 ms; then the
  // video is less than stallMs ahead again until 1100.
  assert.equal([audio.stats.silencePackets, audio.through], [30, 600]);
  assert.is(pool.stats.slotsInUse, slotsBefore, 'silence takes no pool slot');
  const a = queue.at(1);
  assert.equal([a.track, a.size, a.slotA!.bytes[0]], [1, 160, 0xd5], 'A-law silence (0xD5)');
  while (queue.length > 0) queue.releaseOldestFragment();
  assert.is(pool.stats.framesInUse, 0);
});

test('ADTS: packets after their header, 64 ms apart at 16 kHz; garbage before a header resyncs (one corrupt drop); another rate is AUDIO_FORMAT_MISMATCH', () => {
  const aac = fixture('aac-16khz-mono-10s.aac');
  const ok = setup('aac', 16000);
  ok.video(0);
  const junk = new Uint8Array(50).fill(0x11);
  const bytes = new Uint8Array(junk.length + aac.length);
  bytes.set(junk);
  bytes.set(aac, junk.length);
  ok.feed(bytes);
  assert.equal([ok.audio.stats.packetsIn, ok.audio.stats.drops.corrupt], [158, 1]);
  assert.is(ok.audio.through, 10112); // 158 × 1024 samples at 16 kHz
  assert.is(ok.queue.at(1).byteAt(0), aac[7], 'the packet starts after the 7-byte header');
  const wrong = setup('aac', 48000);
  wrong.feed(aac);
  assert.equal([wrong.audio.stats.packetsIn, wrong.audio.stats.drops.format], [0, 158]);
  assert.is(wrong.audio.problem?.code, 'AUDIO_FORMAT_MISMATCH');
});

test.run();
