// FrameInput.readFrom with a source that is a file descriptor (FrameSource.fd): inside XS (natively and under
// qemu-arm) the board's port does the camera's read(2) itself in the reader's steady state, straight into the slot,
// and walks it in the same call (ByteScanPort.readAccessUnits, readJpeg); under Node every read is the source's.
// Either way the frames (every field, the slots they hold, the read each was stamped from), the counters and every
// readFrom result must be those of the same camera read through `source.read` with its fd hidden, at read sizes from
// 1 B to 64 KiB, on every H.264 fixture (strict and lenient) and the MJPEG one; would-block (an empty pipe), end of
// stream, a read error (the fd closed under the camera) and a closed camera behave as before. Real fds: the board's
// camera (xsCamera / nodeCamera) on files and FIFOs of the runner's scratch folder.
import type { Codec } from '../../../../firmware/core/media/FrameInput.ts';
import { FrameInput, READ_FROM } from '../../../../firmware/core/media/FrameInput.ts';
import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import type { ByteScanPort } from '../../../../firmware/io/ByteScan.ts';
import type { FrameSource } from '../../../../firmware/io/FrameSource.ts';
import { assert, boardByteScan, boardCameraFds, fixture, fullScale, suite } from '../../../harness/index.ts';

const test = suite('media/FrameInput.readFrom from a file descriptor (the board reads the camera itself)');

const board = boardByteScan();
const T0 = 1_700_000_000_000;
const H264_FIXTURES = ['h264-320x240-10fps-gop10.h264', 'h264-aud-sei-3byte.h264', 'h264-1080p-30fps.h264', 'h264-long-gop.h264', 'h264-bframes.h264'];
const MJPEG = fixture('mjpeg-320x240-10fps.mjpeg');
const GOP10 = fixture('h264-320x240-10fps-gop10.h264');

/** The board's port, counting the reads its read entries took (an fd path that never runs would prove nothing). */
function counting(): { port: ByteScanPort | undefined; taken: { reads: number; calls: number } } {
  const taken = { reads: 0, calls: 0 };
  if (!board) return { port: undefined, taken };
  const port: ByteScanPort = { ...board };
  const readAccessUnits = board.readAccessUnits;
  const readJpeg = board.readJpeg;
  if (readAccessUnits) {
    port.readAccessUnits = (source, limit, reader) => {
      const n = readAccessUnits(source, limit, reader);
      taken.calls++;
      if (n !== 0) taken.reads++;
      return n;
    };
  }
  if (readJpeg) {
    port.readJpeg = (source, limit, reader) => {
      const n = readJpeg(source, limit, reader);
      taken.calls++;
      if (n !== 0) taken.reads++;
      return n;
    };
  }
  return { port, taken };
}

/** The same camera without its fd: every read goes through `source.read`, as before this path existed. */
function withoutFd(source: FrameSource): FrameSource {
  return {
    get lastReadAt() {
      return source.lastReadAt;
    },
    recorded: source.recorded,
    read: (into, offset, length) => source.read(into, offset, length),
    close: () => source.close(),
  };
}

interface Options {
  readonly codec: Codec;
  readonly strict?: boolean;
  /** Capture timing (a live camera): timestamps from the read times, so only the stamping read is compared. */
  readonly capture?: boolean;
}

/** One input over a camera, recording what comes out. */
class Run {
  /** Every readFrom result: the reads that brought bytes as a count and a position-weighted sum, the others in full. */
  readonly results: (number | string)[] = [];
  private readCount = 0;
  private readSum = 0;
  /** lastReadAt after each read that brought bytes (the reads' times, increasing; grown by doubling). */
  times = new Float64Array(1024);
  readonly frames: Frame[] = [];
  readonly input: FrameInput;
  readonly pool: FramePool;
  readonly taken: { reads: number; calls: number };
  readonly source: FrameSource;
  readable = 0;
  /** What a strict reader threw (a fixture it refuses), as code and message. */
  error = '';

  readonly o: Options;

  constructor(fd: number, o: Options, hide: boolean) {
    this.o = o;
    const { port, taken } = counting();
    this.taken = taken;
    const camera = boardCameraFds().camera(fd)({ onReadable: () => this.readable++ });
    this.source = hide ? withoutFd(camera) : camera;
    this.pool = new FramePool({ slotCount: 8, slotBytes: 65536, maxFrames: 512, ...(o.codec === 'mjpeg' ? { nalsPerFrame: 0 } : {}) });
    this.input = new FrameInput({
      codec: o.codec,
      pool: this.pool,
      fps: { num: 10, den: 1 },
      fragmentMs: 1000,
      startTimecode: T0,
      strict: o.strict ?? true,
      ...(port ? { byteScan: port } : {}),
      ...(o.capture ? { capture: { monotonicAtStart: 0 } } : {}),
      // The consumer holds every frame (the pool holds every fixture).
      onQueued: (frame) => this.frames.push(frame),
    });
  }

  /** Reads until readFrom returns something other than bytes; returns that. */
  readOn(size: number): number {
    for (;;) {
      const n = this.input.readFrom(this.source, size);
      if (n <= 0) {
        this.results.push(`${this.readCount} reads, sum ${this.readSum}`, n);
        return n;
      }
      if (this.readCount === this.times.length) {
        const grown = new Float64Array(2 * this.times.length);
        grown.set(this.times);
        this.times = grown;
      }
      this.times[this.readCount++] = this.source.lastReadAt;
      this.readSum = (this.readSum + n * this.readCount) % 1_000_000_007;
    }
  }

  /** Which read a frame was stamped from (its index among the reads that brought bytes), -1 for none. */
  readOf(at: number): number {
    let lo = 0;
    let hi = this.readCount;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid]! < at) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.readCount && this.times[lo] === at ? lo : -1;
  }

  /** Every field of every frame (the timestamps only without capture timing), its slots, NAL table and stamping read. */
  describe(): string[] {
    const skip = this.o.capture ? ['capturedAt', 'pts', 'dts', 'duration', 'fragmentStart'] : ['capturedAt'];
    return this.frames.map((frame) => {
      const fields: unknown[] = [];
      for (const [name, value] of Object.entries(frame)) {
        if ((typeof value === 'number' || typeof value === 'boolean') && !skip.includes(name)) fields.push(name, value);
      }
      const nals: number[] = [];
      for (let i = 0; i < frame.nalCount; i++) nals.push(frame.nalOffset[i]!, frame.nalLength[i]!, frame.nalPrefix[i]!, frame.nalType[i]!);
      return JSON.stringify([fields, frame.slotA?.index ?? -1, frame.slotB?.index ?? -1, nals, `read ${this.readOf(frame.capturedAt)}`]);
    });
  }

  /** The input's and the pool's counters, and the slots' references. */
  counters(): string {
    const stats = { ...this.input.stats };
    if (this.o.capture) stats.reanchors = 0; // a pause between two reads is the machine's, not the path's
    return JSON.stringify([stats, this.input.bytesIn, this.pool.drops, this.pool.slots.map((s) => s.refs), this.input.problem()?.code ?? '']);
  }
}

/** A fixture read from a file in reads of at most `size`, with the fd shown to the board or hidden. */
function fromFile(data: Uint8Array, size: number, o: Options, hide: boolean): Run {
  const run = new Run(boardCameraFds().file(data), o, hide);
  try {
    assert.is(run.readOn(size), READ_FROM.END);
    // End of stream stays the end: the next read says it again (the port's read got 0 bytes, left to the source).
    assert.is(run.input.readFrom(run.source, size), READ_FROM.END);
    run.input.end(true);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (!e.code) throw err;
    run.error = `${e.code}: ${e.message}`;
  }
  run.source.close();
  return run;
}

/** Both ways over the same bytes: everything the same; inside XS, the port took reads once the reader was steady. */
function compare(name: string, data: Uint8Array, size: number, o: Options): void {
  const viaFd = fromFile(data, size, o, false);
  const viaRead = fromFile(data, size, o, true);
  const what = `${name}, ${o.codec}${o.strict === false ? ' lenient' : ''}${o.capture ? ' capture' : ''}, reads of ${size} B`;
  assert.ok(viaRead.frames.length > 0, `${what}: no frame`);
  assert.is(viaFd.error, viaRead.error, `${what}: error`);
  assert.equal(viaFd.describe(), viaRead.describe(), `${what}: frames`);
  assert.equal(viaFd.results, viaRead.results, `${what}: readFrom results`);
  assert.is(viaFd.counters(), viaRead.counters(), `${what}: counters`);
  assert.is(viaRead.taken.reads, 0, `${what}: a hidden fd was read by the port`);
  if (board && data.length >= 8 * size) assert.ok(viaFd.taken.reads > 0, `${what}: the port took no read`);
  for (const frame of [...viaFd.frames, ...viaRead.frames]) assert.ok(frame.capturedAt >= 0, `${what}: a frame without its read time`);
}

/** Read sizes: 1 B (whole fixtures at full scale, the smallest one always), a few bytes, about a read, 64 KiB. */
function sizesFor(data: Uint8Array): number[] {
  return fullScale() || data.length <= 5000 ? [1, 7, 1000, 4096, 65536] : [7, 1000, 4096, 65536];
}

test('H.264 fixtures, strict and lenient, reads of 1 B to 64 KiB: the same frames, read times, results and counters', () => {
  for (const name of H264_FIXTURES) {
    const data = fixture(name);
    for (const size of sizesFor(data)) {
      compare(name, data, size, { codec: 'h264' });
      compare(name, data, size, { codec: 'h264', strict: false });
    }
  }
});

test('MJPEG, strict and lenient, reads of 1 B to 64 KiB: the same images, read times, results and counters', () => {
  // 1-byte reads over the first images only (below full scale): a syscall per byte.
  const head = MJPEG.subarray(0, 20_000);
  for (const size of [1, 7, 1000, 4096, 65536]) {
    const data = size === 1 && !fullScale() ? head : MJPEG;
    compare('mjpeg-320x240-10fps.mjpeg', data, size, { codec: 'mjpeg' });
    compare('mjpeg-320x240-10fps.mjpeg', data, size, { codec: 'mjpeg', strict: false });
  }
});

test('capture timing (a live camera): each frame stamped from the same read on both paths', () => {
  for (const size of [1000, 4096]) {
    compare('h264-320x240-10fps-gop10.h264', GOP10, size, { codec: 'h264', strict: false, capture: true });
    compare('mjpeg-320x240-10fps.mjpeg', MJPEG, size, { codec: 'mjpeg', strict: false, capture: true });
  }
});

/** A stream fed through an empty pipe in pieces: reads go on until the pipe is empty (would block) after each. */
function fromPipe(data: Uint8Array, codec: Codec, hide: boolean, pieces: number): Run {
  const fds = boardCameraFds();
  const fd = fds.pipe();
  const run = new Run(fd, { codec, strict: false }, hide);
  // Nothing written yet: would block before the first byte too.
  assert.is(run.readOn(4096), READ_FROM.NOTHING);
  for (let k = 0; k < pieces; k++) {
    const from = Math.floor((data.length * k) / pieces);
    const to = Math.floor((data.length * (k + 1)) / pieces);
    fds.write(fd, data, from, to - from);
    assert.is(run.readOn(4096), READ_FROM.NOTHING, `piece ${k}`);
  }
  run.source.close();
  return run;
}

test('would-block (an empty pipe): readFrom returns 0 with nothing read, each time, as before, and the stream goes on', () => {
  for (const [codec, data] of [
    ['h264', GOP10],
    ['mjpeg', MJPEG.subarray(0, 120_000)],
  ] as const) {
    // Pieces below a pipe's 64 KiB, cut anywhere (mid-frame).
    const viaFd = fromPipe(data, codec, false, 5);
    const viaRead = fromPipe(data, codec, true, 5);
    assert.ok(viaRead.frames.length > 3, `${codec}: frames`);
    assert.equal(viaFd.results, viaRead.results, `${codec}: readFrom results`);
    assert.equal(viaFd.describe(), viaRead.describe(), `${codec}: frames`);
    assert.is(viaFd.counters(), viaRead.counters(), `${codec}: counters`);
    assert.is(viaFd.input.bytesIn, data.length);
    if (board) {
      assert.ok(viaFd.taken.reads > 0, `${codec}: the port took no read`);
      // The port saw the empty pipe in the steady state too, and left it to the source.
      assert.ok(viaFd.taken.calls > viaFd.taken.reads, `${codec}: the port never met the empty pipe`);
    }
  }
});

/** A file read 10 times, then its fd closed under the camera, then the camera closed: each error as it came. */
function failing(codec: Codec, data: Uint8Array, hide: boolean): { run: Run; errors: string[] } {
  const fds = boardCameraFds();
  const fd = fds.file(data);
  const run = new Run(fd, { codec, strict: false }, hide);
  for (let k = 0; k < 10; k++) assert.ok(run.input.readFrom(run.source, 4096) > 0);
  const errors: string[] = [];
  const attempt = () => {
    try {
      run.input.readFrom(run.source, 4096);
      errors.push('no error');
    } catch (err) {
      const e = err as Error & { code?: string };
      errors.push(`${e.code ?? e.name}: ${e.message.split(String(fd)).join('N')}`);
    }
  };
  fds.close(fd);
  attempt(); // the read fails (EBADF): INPUT_READ_FAILED from the source, as before
  attempt(); // and again: nothing was taken in between
  run.source.close();
  attempt(); // a closed camera: the source refuses the read
  return { run, errors };
}

test('a read error (the fd closed under the camera) and a closed camera: the same errors, nothing read, as before', () => {
  for (const [codec, data] of [
    ['h264', GOP10],
    ['mjpeg', MJPEG],
  ] as const) {
    const viaFd = failing(codec, data, false);
    const viaRead = failing(codec, data, true);
    assert.equal(viaFd.errors, viaRead.errors, `${codec}: errors`);
    assert.ok(viaRead.errors[0]!.startsWith('INPUT_READ_FAILED: '), `${codec}: ${viaRead.errors[0]}`);
    assert.is(viaRead.errors[0], viaRead.errors[1]);
    assert.is(viaRead.errors[2], 'Error: read() after close()');
    assert.equal(viaFd.run.describe(), viaRead.run.describe(), `${codec}: frames`);
    assert.is(viaFd.run.counters(), viaRead.run.counters(), `${codec}: counters`);
    if (board) assert.ok(viaFd.run.taken.reads > 0, `${codec}: the port took no read`);
  }
});

test.run();
