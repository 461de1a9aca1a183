import { EbmlBuilder } from '../../../../firmware/core/mkv/EbmlBuilder.ts';
import { EBML_IDS } from '../../../../firmware/core/mkv/ebmlIds.ts';
import { uintWidth, writeUintBE } from '../../../../firmware/core/mkv/uintBE.ts';
import { vintMax, vintWidth, writeUnknownVint, writeVint } from '../../../../firmware/core/mkv/vint.ts';
import { assert, suite } from '../../../harness/index.ts';
import { ascii, hex } from './support.ts';

const test = suite('EBML primitives');

function vint(value: number, width = vintWidth(value)): string {
  const out = new Uint8Array(width);
  assert.is(writeVint(out, 0, value, width), width);
  return hex(out);
}

test('VINT sizes: minimal widths, all-ones reserved for unknown (RFC 8794 §4, §6)', () => {
  assert.is(vint(0), '80');
  assert.is(vint(1), '81');
  assert.is(vint(126), 'fe');
  // 127 in one octet would be 0xFF, the unknown size: it takes two.
  assert.is(vint(127), '40 7f');
  assert.is(vint(16382), '7f fe');
  assert.is(vint(16383), '20 3f ff');
  assert.is(vint(2 ** 21 - 2), '3f ff fe');
  assert.is(vint(2 ** 28 - 2), '1f ff ff fe');
  assert.is(vint(2 ** 28 - 1), '08 0f ff ff ff');
  assert.is(vint(Number.MAX_SAFE_INTEGER), '01 1f ff ff ff ff ff ff');
  assert.is(vintWidth(126), 1);
  assert.is(vintWidth(127), 2);
  assert.is(vintMax(4), 268_435_454);
});

test('VINT sizes with a forced width, as the templates use them', () => {
  assert.is(vint(4, 4), '10 00 00 04');
  assert.is(vint(0x1234567, 4), '11 23 45 67');
  assert.is(vint(1, 8), '01 00 00 00 00 00 00 01');
  assert.is(vint(0, 2), '40 00');
  assert.throws(() => vint(127, 1), /does not fit/);
  assert.throws(() => vint(2 ** 28 - 1, 4), /does not fit/);
  assert.throws(() => vint(-1, 1), /does not fit/);
  assert.throws(() => vint(1, 9), /width/);
});

test('unknown sizes: 0xFF and the 8-octet 0x01FFFFFFFFFFFFFF', () => {
  const out = new Uint8Array(8);
  writeUnknownVint(out, 0, 1);
  assert.is(hex(out.subarray(0, 1)), 'ff');
  writeUnknownVint(out, 0, 8);
  assert.is(hex(out), '01 ff ff ff ff ff ff ff');
  writeUnknownVint(out, 0, 2);
  assert.is(hex(out.subarray(0, 2)), '7f ff');
});

test('big-endian unsigned integers up to 2^53', () => {
  assert.is(uintWidth(0), 1);
  assert.is(uintWidth(255), 1);
  assert.is(uintWidth(256), 2);
  assert.is(uintWidth(1_000_000), 3);
  assert.is(uintWidth(1_700_000_000_000), 6);
  const out = new Uint8Array(8);
  writeUintBE(out, 0, 1_700_000_123_456, 8);
  assert.is(hex(out), '00 00 01 8b cf e7 4a 40');
  writeUintBE(out, 0, Number.MAX_SAFE_INTEGER, 8);
  assert.is(hex(out), '00 1f ff ff ff ff ff ff');
  assert.throws(() => writeUintBE(out, 0, 256, 1), /does not fit/);
});

test('elements: IDs with their marker bits, unsigned integers, strings, binary', () => {
  const b = new EbmlBuilder(64);
  b.uint(EBML_IDS.TrackNumber, 1);
  assert.is(hex(b.bytes()), 'd7 81 01');
  b.reset().uint(EBML_IDS.TimecodeScale, 1_000_000);
  assert.is(hex(b.bytes()), '2a d7 b1 83 0f 42 40');
  b.reset().uint(EBML_IDS.Timecode, 5, 8);
  assert.is(hex(b.bytes()), 'e7 88 00 00 00 00 00 00 00 05');
  b.reset().uint(EBML_IDS.FlagLacing, 0);
  assert.is(hex(b.bytes()), '9c 81 00');
  b.reset().string(EBML_IDS.Name, 'é');
  assert.is(hex(b.bytes()), '53 6e 82 c3 a9');
  b.reset().string(EBML_IDS.CodecID, 'V_MJPEG');
  assert.is(hex(b.bytes()), `86 87 ${ascii('V_MJPEG')}`);
  b.reset().binary(EBML_IDS.CodecPrivate, Uint8Array.of(1, 2, 3));
  assert.is(hex(b.bytes()), '63 a2 83 01 02 03');
  b.reset().uint(EBML_IDS.DefaultDuration, 100_000_000);
  assert.is(hex(b.bytes()), '23 e3 83 84 05 f5 e1 00');
});

test('the EBML header Matroska/KVS expect, byte for byte', () => {
  const b = new EbmlBuilder(64);
  b.begin(EBML_IDS.EBML)
    .uint(EBML_IDS.EBMLVersion, 1)
    .uint(EBML_IDS.EBMLReadVersion, 1)
    .uint(EBML_IDS.EBMLMaxIDLength, 4)
    .uint(EBML_IDS.EBMLMaxSizeLength, 8)
    .string(EBML_IDS.DocType, 'matroska')
    .uint(EBML_IDS.DocTypeVersion, 2)
    .uint(EBML_IDS.DocTypeReadVersion, 2)
    .end();
  assert.is(hex(b.bytes()), `1a 45 df a3 a3 42 86 81 01 42 f7 81 01 42 f2 81 04 42 f3 81 08 42 82 88 ${ascii('matroska')} 42 87 81 02 42 85 81 02`);
});

test('masters: back-patched minimal sizes, forced widths, unknown sizes', () => {
  const b = new EbmlBuilder(512);
  b.begin(EBML_IDS.Tags).begin(EBML_IDS.Tag).begin(EBML_IDS.Targets).end().end().end();
  assert.is(hex(b.bytes()), '12 54 c3 67 86 73 73 83 63 c0 80');

  b.reset().begin(EBML_IDS.Video, 4).uint(EBML_IDS.PixelWidth, 320).end();
  assert.is(hex(b.bytes()), 'e0 10 00 00 04 b0 82 01 40');

  // Content of 200 bytes needs a 2-octet size; the nested element moves with it intact.
  const blob = new Uint8Array(196).fill(0xab);
  b.reset().begin(EBML_IDS.TrackEntry).binary(EBML_IDS.CodecPrivate, blob).end();
  const bytes = b.bytes();
  assert.is(hex(bytes.subarray(0, 7)), 'ae 40 c8 63 a2 40 c4');
  assert.is(bytes.length, 3 + 200);
  assert.equal(bytes.subarray(7), blob);

  b.reset().beginUnknown(EBML_IDS.Segment, 8);
  assert.is(hex(b.bytes()), '18 53 80 67 01 ff ff ff ff ff ff ff');
  b.reset().beginUnknown(EBML_IDS.Cluster, 1);
  assert.is(hex(b.bytes()), '1f 43 b6 75 ff');
});

test('programmer errors are RangeErrors', () => {
  const b = new EbmlBuilder(8);
  assert.throws(() => b.reset().id(0x8286), /marker/);
  assert.throws(() => b.reset().id(0x12), /not an EBML ID/);
  assert.throws(() => b.reset().string(EBML_IDS.Name, 'too long for eight'), /capacity/);
  assert.throws(() => b.reset().end(), /without begin/);
  b.reset().begin(EBML_IDS.Tag, 1);
  assert.throws(() => b.bytes(), /still open/);
  assert.throws(() => new EbmlBuilder(0), /capacity/);
});

test.run();
