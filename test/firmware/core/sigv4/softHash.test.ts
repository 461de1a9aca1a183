// The pure-JS SHA-256/HMAC test double, checked against published vectors before anything trusts it.
import { assert, suite } from '../../../harness/index.ts';
import { bytes, hex, hmacSha256, sha256 } from './softHash.ts';

const test = suite('softHash (test double)');

function digest(message: Uint8Array): string {
  const out = new Uint8Array(32);
  sha256(message, 0, message.length, out, 0);
  return hex(out);
}

function mac(key: Uint8Array, message: Uint8Array): string {
  const out = new Uint8Array(32);
  hmacSha256(key, message, 0, message.length, out, 0);
  return hex(out);
}

// FIPS 180-2 Appendix B.1 and B.2 (one-block and two-block messages); the empty message is the well-known
// SHA-256("") that SigV4 uses for an empty payload.
test('SHA-256 matches FIPS 180-2 "abc", the empty message and the 448-bit message', () => {
  assert.is(digest(bytes('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.is(digest(bytes('')), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.is(digest(bytes('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
});

test('SHA-256 hashes a sub-range and writes at an offset', () => {
  const data = bytes('xxabcyy');
  const out = new Uint8Array(40).fill(0xee);
  sha256(data, 2, 3, out, 4);
  assert.is(hex(out.subarray(4, 36)), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.is(out[3], 0xee);
  assert.is(out[36], 0xee);
});

// RFC 4231 §4.2 (test case 1), §4.3 (case 2) and §4.7 (case 6: a key longer than the block size).
test('HMAC-SHA256 matches RFC 4231 test cases 1, 2 and 6', () => {
  assert.is(mac(new Uint8Array(20).fill(0x0b), bytes('Hi There')), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
  assert.is(mac(bytes('Jefe'), bytes('what do ya want for nothing?')), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  assert.is(
    mac(new Uint8Array(131).fill(0xaa), bytes('Test Using Larger Than Block-Size Key - Hash Key First')),
    '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
  );
});

test.run();
