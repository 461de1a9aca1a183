// Runs inside fieldcam-runtime: the cost of the PutMedia ACK parser per acknowledgement, in XS computrons.
// A fragment's three ACKs (BUFFERING, RECEIVED, PERSISTED, 47-digit FragmentNumber as KVS sends them) are pushed
// as they arrive, one read each, `rounds` times; the parser is warmed up first, and the cost is the counter's
// difference divided by the ACKs parsed. Measured twice: each ACK in a buffer of its own size (`perAck`), and each
// ACK at the start of a 4 KiB buffer (`perAckInReadBuffer`), as PutMediaConnection hands the parser its 4 KiB read
// scratch: a search that is not bounded by the pushed length shows there. Prints one JSON line. Bundle and run:
//   npx esbuild test/bench/xs/ackCost.ts --bundle --format=iife --platform=neutral --target=es2022 --outfile=/tmp/ack.js
//   build/xs/x86_64/fieldcam-runtime /tmp/ack.js 1000 [native | walk]
// `native`: with the XS board's AckScanPort (ack.c: the framing walk and the fast read), as the device runs it; `walk`:
// the native walk alone (JSON.parse reads each ACK); neither: the TypeScript walk and JSON.parse.
import { AckParser } from '../../../firmware/core/kvs/AckParser.ts';
import { encodeUtf8 } from '../../../firmware/core/text/utf8.ts';

declare const native: {
  print(line: string): void;
  computrons(): number;
  ackFollow(bytes: Uint8Array, from: number, end: number, state: Float64Array, scratch: Uint8Array): number;
  ackRead(scratch: Uint8Array, length: number, out: Float64Array): number;
  readonly argv: readonly string[];
};

const rounds = Number(native.argv[0] ?? '1000');
const FRAGMENT = '91343852333181432392682062622220590765191907586';
const reads: Uint8Array[] = [];
for (const type of ['BUFFERING', 'RECEIVED', 'PERSISTED']) {
  reads.push(encodeUtf8(`{"EventType":"${type}","FragmentTimecode":1711124585823,"FragmentNumber":"${FRAGMENT}"}\n`));
}
/** PutMediaConnection's READ_SCRATCH: the body bytes of a read are a range of this buffer. */
const READ_SCRATCH = 4 * 1024;
const inReadBuffer = reads.map((r) => {
  const buffer = new Uint8Array(READ_SCRATCH);
  buffer.set(r);
  return buffer;
});
let acks = 0;
let errors = 0;
let timecodes = 0;
const parser = new AckParser({
  onAck: (ack) => {
    acks++;
    timecodes += ack.fragmentTimecode === 1711124585823 ? 1 : 0;
  },
  onError: () => errors++,
  ...(native.argv[1] === 'native' ? { scan: Object.freeze({ followAck: native.ackFollow, readAck: native.ackRead }) } : {}),
  ...(native.argv[1] === 'walk' ? { scan: Object.freeze({ followAck: native.ackFollow }) } : {}),
});
function run(n: number, from: readonly Uint8Array[]): void {
  for (let r = 0; r < n; r++) for (let i = 0; i < reads.length; i++) parser.push(from[i]!, 0, reads[i]!.length);
}
function perAck(from: readonly Uint8Array[]): { spent: number; parsed: number } {
  run(10, from); // warm-up: first-use costs (property caches, lazily built tables) out of the figure
  const before = native.computrons();
  const acksBefore = acks;
  run(rounds, from);
  return { spent: native.computrons() - before, parsed: acks - acksBefore };
}
const exact = perAck(reads);
const buffered = perAck(inReadBuffer);
native.print(
  JSON.stringify({
    acks: exact.parsed + buffered.parsed,
    errors,
    correct: timecodes === acks,
    computrons: exact.spent,
    perAck: Math.round(exact.spent / exact.parsed),
    perAckInReadBuffer: Math.round(buffered.spent / buffered.parsed),
  }),
);
