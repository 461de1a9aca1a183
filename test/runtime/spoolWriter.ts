// The spool under power cuts, device side: bundled for fieldcam-runtime by spoolPowerCut.test.ts. Opens the spool
// in argv[0] (cutting torn tails), checks every record it kept (payload = spoolPayload(timecode), timecodes
// contiguous), prints `open <records> <cutBytes> <firstT> <lastT> <bad>`, then appends records of varied sizes
// for ever, printing `ok <T>` after each append returned (fsynced), and `try <T>` / `rel <T>` before / after each release, until the
// test kills it with SIGKILL.
import { xsStorage } from '../../firmware/boards/xs/xsStorage.ts';
import { ViewList } from '../../firmware/core/media/ViewList.ts';
import { SpoolLog } from '../../firmware/core/spool/SpoolLog.ts';
import { spoolPayload, SPOOL_MAX_PAYLOAD } from './spoolPayload.ts';

declare const native: { readonly argv: readonly string[]; print(line: string): void };

const dir = native.argv[0]!;
let t = Number(native.argv[1]);
let random = Number(native.argv[2]) >>> 0 || 1;
const next = () => {
  random ^= random << 13;
  random >>>= 0;
  random ^= random >>> 17;
  random ^= random << 5;
  random >>>= 0;
  return random;
};

const log = new SpoolLog({ storage: xsStorage(), dir, segmentBytes: 192 * 1024, maxRecords: 4096, maxRecordBytes: SPOOL_MAX_PAYLOAD });
const report = log.open();
const buffer = new Uint8Array(SPOOL_MAX_PAYLOAD);
let bad = 0;
for (let i = 0; i < log.count; i++) {
  const tc = log.timecodeAt(i);
  const n = log.read(i, buffer, 0);
  const expected = spoolPayload(tc);
  if (n !== expected.length || (i > 0 && tc !== log.timecodeAt(i - 1) + 1)) bad++;
  else
    for (let b = 0; b < n; b++)
      if (buffer[b] !== expected[b]) {
        bad++;
        break;
      }
}
const first = log.count > 0 ? log.timecodeAt(0) : -1;
const last = log.count > 0 ? log.timecodeAt(log.count - 1) : -1;
native.print(`open ${report.records} ${report.cutBytes} ${first} ${last} ${bad}`);
if (last >= t) t = last + 1;
const views = new ViewList(4);
for (;;) {
  const payload = spoolPayload(t);
  views.clear();
  // Three appends per record (header, two views): a kill between them leaves a torn record.
  views.push(payload, 0, payload.length >> 1);
  views.push(payload, payload.length >> 1, payload.length - (payload.length >> 1));
  if (log.full) log.release(log.seqAt(log.count >> 1));
  log.append(t, views);
  native.print(`ok ${t}`);
  t++;
  if (next() % 5 === 0 && log.count > 2) {
    const through = log.count - 1 - (next() % 3);
    const tc = log.timecodeAt(through);
    native.print(`try ${tc}`); // a kill after the watermark moved and before `rel` still released it
    log.release(log.seqAt(through));
    native.print(`rel ${tc}`);
  }
}
