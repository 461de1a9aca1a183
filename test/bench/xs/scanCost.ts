// Runs inside fieldcam-runtime (bundled by test/bench/tlsCost.ts): the native start-code scan alone (scan.c
// findStartCodes) over a clip in 4 KiB reads, `passes` times; with `empty`, the same calls over empty ranges, so
// the difference of two runs under the instruction counter is the scan's own cost per byte.
declare const native: {
  print(line: string): void;
  readFile(path: string): ArrayBuffer;
  findStartCodes(data: Uint8Array, from: number, to: number, found: Uint32Array): number;
  readonly argv: readonly string[];
};

const [path, passes, mode] = native.argv as [string, string, 'scan' | 'empty'];
const bytes = new Uint8Array(native.readFile(path));
const found = new Uint32Array(32);
let hits = 0;
for (let p = 0; p < Number(passes); p++) {
  for (let at = 0; at < bytes.length; at += 4096) {
    const to = Math.min(at + 4096, bytes.length);
    hits += native.findStartCodes(bytes, at, mode === 'empty' ? at : to, found);
  }
}
native.print(JSON.stringify({ hits }));
