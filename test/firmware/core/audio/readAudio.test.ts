// The audio packetisers on ffmpeg-made fixtures: AAC-LC in ADTS (16 kHz mono, 158 frames) and raw G.711 A-law.
import { readAdts } from '../../../../firmware/core/audio/readAdts.ts';
import { readG711 } from '../../../../firmware/core/audio/readG711.ts';
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { assert, fixture, stride, suite } from '../../../harness/index.ts';

const test = suite('audio packets (ADTS, G.711)');
const AAC = fixture('aac-16khz-mono-10s.aac');
const ALAW = fixture('alaw-8khz-mono-10s.alaw');

test('ADTS: 158 frames, each a view after its 7-byte header; AudioSpecificConfig 14 08 (AAC-LC, 16 kHz, mono); 64 ms apart', () => {
  const a = readAdts(AAC);
  assert.equal([a.count, a.sampleRate, a.channels], [158, 16000, 1]);
  assert.equal(Array.from(a.codecPrivate), [0x14, 0x08]);
  let bytes = 0;
  for (let i = 0; i < a.count; i++) {
    assert.is(AAC[a.offset[i]! - 7], 0xff, `frame ${i} follows its ADTS header`);
    bytes += a.length[i]! + 7;
  }
  assert.is(bytes, AAC.length, 'headers and payloads cover the file');
  assert.equal([a.timeMs(0), a.timeMs(1), a.timeMs(157)], [0, 64, 10048]);
  assert.is(a.bytes, AAC, 'the packets are views of the input, not copies');
});

test('ADTS is bounded: every cut, and garbage, is AUDIO_ADTS_INVALID, never anything else', () => {
  for (let n = 1; n < AAC.length; n += 37 * stride()) {
    let cutAtFrame = false;
    try {
      readAdts(AAC.subarray(0, n));
      cutAtFrame = true; // a cut exactly between two frames is a valid, shorter stream
    } catch (err) {
      assert.ok(err instanceof FieldcamError && err.code === 'AUDIO_ADTS_INVALID', `cut at ${n}: ${String(err)}`);
    }
    if (cutAtFrame) assert.ok(AAC[n] === 0xff, `cut at ${n} accepted but not at a frame boundary`);
  }
  assert.throws(() => readAdts(new Uint8Array([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0])), 'AUDIO_ADTS_INVALID'); // an ID3 tag (an MP3)
  assert.throws(() => readAdts(new Uint8Array(0)), 'AUDIO_ADTS_INVALID');
});

test('G.711: 20 ms packets of 160 samples; WAVEFORMATEX with wFormatTag 6 (A-law) or 7 (µ-law), 8000 Hz, 8 bits', () => {
  const a = readG711(ALAW, 'alaw');
  assert.equal([a.count, a.sampleRate, a.channels, a.bitDepth], [500, 8000, 1, 8]);
  assert.equal([a.timeMs(1), a.timeMs(499)], [20, 9980]);
  assert.equal(Array.from(a.codecPrivate), [6, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x40, 0x1f, 0, 0, 1, 0, 8, 0, 0, 0]);
  assert.is(readG711(ALAW.subarray(0, 170), 'mulaw').codecPrivate[0], 7);
  assert.equal(Array.from(readG711(ALAW.subarray(0, 170), 'mulaw').length), [160, 10]);
  assert.throws(() => readG711(new Uint8Array(0), 'alaw'), 'INPUT_EMPTY');
});

test.run();
