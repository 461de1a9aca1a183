import { isFieldcamError } from '../../../../firmware/core/errors.ts';
import { EBML_IDS } from '../../../../firmware/core/mkv/ebmlIds.ts';
import { FragmentMetadata } from '../../../../firmware/core/mkv/FragmentMetadata.ts';
import { encodeUtf8 } from '../../../../firmware/core/text/utf8.ts';
import { assert, suite } from '../../../harness/index.ts';
import { child, data, walk } from './ebmlWalk.ts';
import { ascii, hex } from './support.ts';

const test = suite('FragmentMetadata');

interface Item {
  name: Uint8Array;
  value: Uint8Array;
  targets: number;
}

/** Parses the encoded Tags elements back into (name, value) pairs with an independent reader. */
function items(md: FragmentMetadata): Item[] {
  const bytes = md.encode();
  return walk(bytes).map((tags) => {
    assert.is(tags.id, EBML_IDS.Tags);
    assert.is(tags.children.length, 1, 'one Tag per Tags element, as the PIC writes them');
    const tag = child(tags, EBML_IDS.Tag);
    const simple = child(tag, EBML_IDS.SimpleTag);
    return {
      name: data(bytes, child(simple, EBML_IDS.TagName)).slice(),
      value: data(bytes, child(simple, EBML_IDS.TagString)).slice(),
      targets: child(tag, EBML_IDS.Targets).children.length,
    };
  });
}

function pairs(md: FragmentMetadata): string[] {
  return items(md).map((i) => `${String.fromCharCode(...i.name)}=${String.fromCharCode(...i.value)}`);
}

test('encodes one Tags > Tag > (empty Targets, SimpleTag > TagName, TagString) per item, byte for byte', () => {
  const md = new FragmentMetadata();
  assert.is(md.encode().length, 0);
  md.put('cam', 'porch');
  assert.is(hex(md.encode()), `12 54 c3 67 97 73 73 94 63 c0 80 67 c8 8e 45 a3 83 ${ascii('cam')} 44 87 85 ${ascii('porch')}`);
  const [item] = items(md);
  assert.is(item!.targets, 0);
});

test('10 items fit; the 11th is refused with METADATA_TOO_MANY and nothing accepted is lost', () => {
  const md = new FragmentMetadata();
  for (let i = 0; i < 10; i++) md.put(`k${i}`, `v${i}`, i % 2 === 0);
  assert.is(md.count, 10);
  assert.throws(() => md.put('k10', 'v10'), 'METADATA_TOO_MANY');
  assert.throws(() => md.put('k10', 'v10', false), 'METADATA_TOO_MANY');
  assert.is(md.count, 10);
  assert.equal(pairs(md), ['k0=v0', 'k1=v1', 'k2=v2', 'k3=v3', 'k4=v4', 'k5=v5', 'k6=v6', 'k7=v7', 'k8=v8', 'k9=v9']);
});

test('100 items attempted: the first 10 are kept and 90 are refused by name', () => {
  const md = new FragmentMetadata();
  const codes: string[] = [];
  for (let i = 0; i < 100; i++) {
    try {
      md.put(`sensor-${i}`, String(i * 7));
    } catch (err) {
      assert.ok(isFieldcamError(err));
      codes.push(err.code);
    }
  }
  assert.is(codes.length, 90);
  assert.ok(codes.every((c) => c === 'METADATA_TOO_MANY'));
  assert.equal(
    pairs(md),
    Array.from({ length: 10 }, (_, i) => `sensor-${i}=${i * 7}`),
  );
});

test('names are 1-128 bytes of UTF-8, values at most 256 bytes', () => {
  const md = new FragmentMetadata();
  const name128 = 'é'.repeat(64); // 64 characters, 128 bytes
  md.put(name128, 'ok');
  assert.throws(() => md.put(`${name128}a`, 'x'), 'METADATA_NAME_INVALID'); // 65 characters, 129 bytes
  assert.throws(() => md.put('a'.repeat(129), 'x'), 'METADATA_NAME_INVALID');
  assert.throws(() => md.put('', 'x'), 'METADATA_NAME_INVALID');
  md.put('v', 'ü'.repeat(128)); // 256 bytes
  assert.throws(() => md.put('w', `${'ü'.repeat(128)}!`), 'METADATA_VALUE_TOO_LONG');
  assert.throws(() => md.put('w', '😀'.repeat(64) + 'x'), 'METADATA_VALUE_TOO_LONG'); // 257 bytes in 129 UTF-16 units
  assert.is(md.count, 2);
  const [first, second] = items(md);
  assert.equal(first!.name, encodeUtf8(name128));
  assert.equal(second!.value, encodeUtf8('ü'.repeat(128)));
});

test('"AWS" names are reserved except the documented ones', () => {
  const md = new FragmentMetadata();
  assert.throws(() => md.put('AWS_CUSTOM', 'x'), 'METADATA_NAME_RESERVED');
  assert.throws(() => md.put('AWSome', 'x'), 'METADATA_NAME_RESERVED');
  assert.throws(() => md.put('AWS_KINESISVIDEO_END_OF_FRAGMENT', ''), 'METADATA_NAME_RESERVED');
  md.put('AWS_KINESISVIDEO_NOTIFICATION', '', false);
  md.put('AWS_KINESISVIDEO_IMAGE_GENERATION', '', false);
  md.put('AWS_KINESISVIDEO_IMAGE_PREFIX', 'porch/', false);
  md.put('aws_lowercase', 'x'); // the PIC compares the prefix case-sensitively
  assert.equal(pairs(md), ['AWS_KINESISVIDEO_NOTIFICATION=', 'AWS_KINESISVIDEO_IMAGE_GENERATION=', 'AWS_KINESISVIDEO_IMAGE_PREFIX=porch/', 'aws_lowercase=x']);
});

test('persistent items repeat on every fragment; a new value overwrites; an empty value removes', () => {
  const md = new FragmentMetadata();
  md.put('site', 'north');
  md.put('mode', 'day');
  assert.equal(pairs(md), ['site=north', 'mode=day']);
  md.fragmentDone();
  assert.equal(pairs(md), ['site=north', 'mode=day']);
  md.put('site', 'south');
  assert.equal(pairs(md), ['site=south', 'mode=day']);
  md.put('site', '');
  assert.equal(pairs(md), ['mode=day']);
  md.put('absent', ''); // removing what is not there changes nothing
  assert.equal(pairs(md), ['mode=day']);
});

test('one-shot items go on the next fragment only, and may repeat', () => {
  const md = new FragmentMetadata();
  md.put('site', 'north');
  md.put('motion', 'zone1', false);
  md.put('motion', 'zone2', false);
  md.put('site', 'north', false); // a one-shot never overwrites the persistent item of the same name
  assert.equal(pairs(md), ['site=north', 'motion=zone1', 'motion=zone2', 'site=north']);
  md.fragmentDone();
  assert.equal(pairs(md), ['site=north']);
  md.fragmentDone();
  assert.equal(pairs(md), ['site=north']);
});

test('overwriting or removing at the limit works; one-shots free their room after the fragment', () => {
  const md = new FragmentMetadata();
  for (let i = 0; i < 9; i++) md.put(`p${i}`, 'x');
  md.put('once', 'y', false);
  md.put('p3', 'changed');
  assert.is(md.count, 10);
  assert.throws(() => md.put('p9', 'x'), 'METADATA_TOO_MANY');
  md.fragmentDone();
  md.put('p9', 'x');
  md.put('p0', '');
  md.put('p10', 'x');
  assert.is(md.count, 10);
});

test('encodes only when the set changed', () => {
  const md = new FragmentMetadata();
  md.put('a', '1');
  const first = md.encode();
  assert.is(md.encode(), first);
  md.put('a', '1'); // same value: no change
  assert.is(md.encode(), first);
  md.put('a', '2');
  const second = md.encode();
  assert.is(second.buffer, first.buffer, 'the one buffer allocated at construction is reused');
  assert.equal(pairs(md), ['a=2']);
  md.clear();
  assert.is(md.encode().length, 0);
});

test('arguments of the wrong type are TypeErrors', () => {
  const md = new FragmentMetadata();
  assert.throws(() => md.put(1 as unknown as string, 'x'), /name must be a string/);
  assert.throws(() => md.put('a', null as unknown as string), /value must be a string/);
  assert.throws(() => md.put('a', 'b', 'yes' as unknown as boolean), /persistent/);
});

test.run();
