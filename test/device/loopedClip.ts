// The camera fixture looped back to back, as the camera-fault suites feed it (test/device/cameraFaults.test.ts,
// test/bench/faultMatrix.ts): where its access units begin, found independently of the firmware, and what a camera
// that stopped at a byte position had fed.

export interface LoopedClip {
  /** Access units whose start code and NAL header were written by byte `written`: the frames the device was fed. */
  framesFed(written: number): number;
  /** A stream position in the middle of the access unit after `written` (the camera dies inside a frame). */
  midFrameAfter(written: number): number;
}

/**
 * Where each access unit of `data` begins (one slice per picture, as the fixtures have): at the first NAL unit after
 * a slice, H.264 7.4.1.2.3.
 */
function accessUnitStarts(data: Uint8Array): number[] {
  const starts: number[] = [];
  let previousWasSlice = true;
  for (let i = 0; i + 3 < data.length; i++) {
    if (data[i] !== 0 || data[i + 1] !== 0 || data[i + 2] !== 1) continue;
    const at = i > 0 && data[i - 1] === 0 ? i - 1 : i;
    const type = data[i + 3]! & 0x1f;
    if (previousWasSlice) starts.push(at);
    previousWasSlice = type === 1 || type === 5;
    i += 2;
  }
  return starts;
}

export function loopedClip(data: Uint8Array): LoopedClip {
  const starts = accessUnitStarts(data);
  const prefix = (i: number) => (data[starts[i]! + 2] === 1 ? 3 : 4);
  return {
    framesFed(written) {
      let n = 0;
      for (let loop = 0; loop * data.length < written; loop++) {
        for (let i = 0; i < starts.length; i++) if (loop * data.length + starts[i]! + prefix(i) + 1 <= written) n++;
      }
      return n;
    },
    midFrameAfter(written) {
      const loop = Math.floor(written / data.length);
      const within = written % data.length;
      const i = starts.findIndex((s) => s > within + 8);
      const k = i < 0 ? 0 : i;
      const base = (i < 0 ? loop + 1 : loop) * data.length;
      const end = k + 1 < starts.length ? starts[k + 1]! : data.length;
      return base + starts[k]! + Math.floor((end - starts[k]!) / 2);
    },
  };
}
