import { CODEC_IDS, CODECS, codecChoices, isCodecId, sniffCodec } from '../../../../firmware/core/media/codecs.ts';
import { ERRORS } from '../../../../firmware/core/errors.ts';
import { assert, fixture, suite } from '../../../harness/index.ts';

const test = suite('codec table');

const head = (name: string) => fixture(name).subarray(0, 64);

test('every entry is frozen, keyed by its own id, with a real error code and a Matroska CodecID of printable ASCII', () => {
  assert.ok(Object.isFrozen(CODECS));
  for (const id of CODEC_IDS) {
    const c = CODECS[id];
    assert.ok(Object.isFrozen(c), id);
    assert.is(c.id, id);
    assert.ok(/^[VA]_[\x21-\x7e]{1,30}$/.test(c.mkvCodecId), c.mkvCodecId);
    assert.ok(c.notThisCodec in ERRORS, c.notThisCodec);
    assert.ok(c.parametersChanged in ERRORS, c.parametersChanged);
    assert.ok(/^video\/[\w.+-]+$/.test(c.kvsMediaType), c.kvsMediaType);
    assert.is(c.playback.hls, c.playback.caveat === undefined || c.playback.hls, `${id}: a codec HLS cannot play says why`);
  }
});

test('the fixtures sniff as what they are; neither JPEG nor Annex-B sniffs as nothing', () => {
  assert.is(sniffCodec(head('h264-320x240-10fps-gop10.h264'), 64), 'h264');
  assert.is(sniffCodec(head('h264-aud-sei-3byte.h264'), 64), 'h264');
  assert.is(sniffCodec(head('mjpeg-320x240-10fps.mjpeg'), 64), 'mjpeg');
  assert.is(sniffCodec(head('h265-320x240-10fps-gop10.h265'), 64), 'h265');
  assert.is(sniffCodec(head('h265-bframes.h265'), 64), 'h265');
  // An HEVC AUD (46 01) reads as an H.264 SEI with nal_ref_idc 2, which H.264 forbids (7.4.1): H.265.
  assert.is(sniffCodec(new Uint8Array([0, 0, 0, 1, 0x46, 0x01, 0x50]), 7), 'h265');
  assert.is(sniffCodec(new Uint8Array([0x1a, 0x45, 0xdf, 0xa3]), 4), undefined); // a Matroska file
  assert.is(sniffCodec(new Uint8Array([0, 0, 1]), 3), undefined); // a start code and nothing after it
});

test("isCodecId accepts the table's ids only; codecChoices lists them for messages", () => {
  for (const id of CODEC_IDS) assert.ok(isCodecId(id));
  assert.ok(!isCodecId('H264'));
  assert.ok(!isCodecId('toString'));
  assert.ok(!isCodecId(undefined));
  assert.ok(codecChoices().includes('h264') && codecChoices().includes(' or '));
});

test.run();
