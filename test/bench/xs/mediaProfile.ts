// Runs inside fieldcam-runtime: the media path of test/bench/xs/mediaCost.ts with every method (and getter) of the
// media classes wrapped by a native.computrons() bracket, to say where the per-frame computrons go (docs/performance.md,
// issue 12). Prints one JSON line: frames, total computrons, and per method its calls and self computrons (its own
// bracket minus those of the wrapped methods it called, and minus the wrapper cost of each such call, calibrated on an
// empty method). Free functions (pushAvccPayload, checkTime, ...) count in their callers. Profiling only: never bundled
// into firmware. Usage: see docs/performance.md ("Where the computrons went").
import { AccessUnit } from '../../../firmware/core/h264/AccessUnit.ts';
import { AnnexBReader } from '../../../firmware/core/h264/AnnexBReader.ts';
import { AnnexBScanner } from '../../../firmware/core/h264/AnnexBScanner.ts';
import { H264Reader } from '../../../firmware/core/h264/H264Reader.ts';
import { ParameterSetStore } from '../../../firmware/core/h264/ParameterSetStore.ts';
import { SliceHeader } from '../../../firmware/core/h264/SliceHeader.ts';
import { CaptureClock } from '../../../firmware/core/media/CaptureClock.ts';
import { Frame } from '../../../firmware/core/media/Frame.ts';
import { FrameInput } from '../../../firmware/core/media/FrameInput.ts';
import { Muxer, type Codec } from '../../../host/lib/Muxer.ts';
import type { NativeHost } from '../../../firmware/boards/xs/native.ts';
import { clipMuxer, feedClip } from './clipMuxer.ts';
import { StreamCursor } from '../../../firmware/core/media/StreamCursor.ts';
import { ViewList } from '../../../firmware/core/media/ViewList.ts';
import { JpegScanner } from '../../../firmware/core/mjpeg/JpegScanner.ts';
import { MjpegReader } from '../../../firmware/core/mjpeg/MjpegReader.ts';
import { MkvWriter } from '../../../firmware/core/mkv/MkvWriter.ts';
import { FragmentQueue } from '../../../firmware/core/pool/FragmentQueue.ts';
import { FramePool } from '../../../firmware/core/pool/FramePool.ts';

declare const native: NativeHost;

interface Entry {
  calls: number;
  self: number;
  children: number;
}
const table = new Map<string, Entry>();
const stack: { child: number; calls: number }[] = [];
for (let i = 0; i < 64; i++) stack.push({ child: 0, calls: 0 });
let depth = 0;

function wrapped(f: (...a: unknown[]) => unknown, label: string): (...a: unknown[]) => unknown {
  const e: Entry = { calls: 0, self: 0, children: 0 };
  table.set(label, e);
  return function (this: unknown, ...args: unknown[]) {
    const frame = stack[depth++]!;
    frame.child = 0;
    frame.calls = 0;
    const t0 = native.computrons();
    try {
      return f.apply(this, args);
    } finally {
      const t = native.computrons() - t0;
      depth--;
      e.calls++;
      e.self += t - frame.child;
      e.children += frame.calls;
      if (depth > 0) {
        stack[depth - 1]!.child += t;
        stack[depth - 1]!.calls++;
      }
    }
  };
}

function wrapClass(cls: { prototype: object; name: string }): void {
  const proto = cls.prototype as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (name === 'constructor') continue;
    const d = Object.getOwnPropertyDescriptor(proto, name)!;
    if (typeof d.value === 'function') d.value = wrapped(d.value as never, `${cls.name}.${name}`);
    if (d.get) d.get = wrapped(d.get as never, `${cls.name}.${name} (get)`) as () => unknown;
    if (d.set) d.set = wrapped(d.set as never, `${cls.name}.${name} (set)`) as (v: unknown) => void;
    Object.defineProperty(proto, name, d);
  }
}

// Calibration: what a wrapped call costs its caller beyond the callee's own work (an empty method).
class Empty {
  m(): void {}
}
class Outer {
  run(e: Empty): void {
    for (let i = 0; i < 1000; i++) e.m();
  }
}
class Bare {
  run(e: Empty): void {
    for (let i = 0; i < 1000; i++) e.m();
  }
}
const bareEmpty = new Empty();
const b0 = native.computrons();
new Bare().run(bareEmpty);
const bare = native.computrons() - b0;
wrapClass(Empty);
wrapClass(Outer);
new Outer().run(new Empty());
const perCall = (table.get('Outer.run')!.self - bare) / 1000;
// What the bracket itself counts inside a wrapped method (an empty one costs this much "self").
const inside = table.get('Empty.m')!.self / 1000;
table.clear();

for (const cls of [
  AccessUnit,
  AnnexBScanner,
  AnnexBReader,
  H264Reader,
  ParameterSetStore,
  SliceHeader,
  CaptureClock,
  Frame,
  FrameInput,
  Muxer,
  StreamCursor,
  ViewList,
  MkvWriter,
  FragmentQueue,
  FramePool,
  MjpegReader,
  JpegScanner,
])
  wrapClass(cls);

const [codec, fps] = native.argv as [Codec, string];
const muxer = clipMuxer({ codec, fps: Number(fps) });
const c0 = native.computrons();
feedClip(muxer);
const total = native.computrons() - c0;
const frames = muxer.stats.frames;
const rows = [...table]
  .filter(([, e]) => e.calls > 0)
  .map(([label, e]) => ({
    label,
    callsPerFrame: +(e.calls / frames).toFixed(2),
    selfPerFrame: Math.round((e.self - perCall * e.children - inside * e.calls) / frames),
  }))
  .sort((a, b) => b.selfPerFrame - a.selfPerFrame);
native.print(
  JSON.stringify({ frames, totalPerFrame: Math.round(total / frames), wrapperPerCall: Math.round(perCall), insidePerCall: Math.round(inside), rows }),
);
