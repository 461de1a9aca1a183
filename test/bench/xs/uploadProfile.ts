// Runs inside fieldcam-runtime in place of firmware.js: the whole device (runDevice with the XS board, as main.ts runs
// it) with every method of the upload path's classes — and of the media path's, so both sides are accounted — wrapped
// by MethodProfiler, to say where the device's per-frame computrons go beyond the media path (docs/performance.md,
// "The upload side of the hot path"). At the end it prints one JSON line {type: 'profile', total, rows} before the
// device's exit code. Driven by test/bench/uploadProfile.ts (the clip once and twice, per frame = the difference).
// Profiling only: never bundled into firmware.
import { CameraUploader } from '../../../firmware/app/CameraUploader.ts';
import { runDevice } from '../../../firmware/app/runDevice.ts';
import { host } from '../../../firmware/boards/xs/native.ts';
import { xsBoard } from '../../../firmware/boards/xs/xsBoard.ts';
import { AnnexBReader } from '../../../firmware/core/h264/AnnexBReader.ts';
import { H264Reader } from '../../../firmware/core/h264/H264Reader.ts';
import { ChunkFramer } from '../../../firmware/core/http/ChunkFramer.ts';
import { HttpResponseParser } from '../../../firmware/core/http/HttpResponseParser.ts';
import { AckObjectReader } from '../../../firmware/core/kvs/AckObjectReader.ts';
import { AckParser } from '../../../firmware/core/kvs/AckParser.ts';
import { ConnectionSupervisor } from '../../../firmware/core/kvs/ConnectionSupervisor.ts';
import { InFlightSet } from '../../../firmware/core/kvs/InFlightSet.ts';
import { LatencyStats } from '../../../firmware/core/kvs/LatencyStats.ts';
import { PoolFragmentSource } from '../../../firmware/core/kvs/PoolFragmentSource.ts';
import { PutMediaConnection } from '../../../firmware/core/kvs/PutMediaConnection.ts';
import { PutMediaSession } from '../../../firmware/core/kvs/PutMediaSession.ts';
import { Frame } from '../../../firmware/core/media/Frame.ts';
import { FrameInput } from '../../../firmware/core/media/FrameInput.ts';
import { StreamCursor } from '../../../firmware/core/media/StreamCursor.ts';
import { ViewList } from '../../../firmware/core/media/ViewList.ts';
import { MkvWriter } from '../../../firmware/core/mkv/MkvWriter.ts';
import { Backoff } from '../../../firmware/core/net/Backoff.ts';
import { PhaseDeadline } from '../../../firmware/core/net/PhaseDeadline.ts';
import { ServerClock } from '../../../firmware/core/net/ServerClock.ts';
import { FragmentQueue } from '../../../firmware/core/pool/FragmentQueue.ts';
import { FramePool } from '../../../firmware/core/pool/FramePool.ts';
import { SigV4Signer } from '../../../firmware/core/sigv4/SigV4Signer.ts';
import type { Board } from '../../../firmware/io/Board.ts';
import type { SocketFactory } from '../../../firmware/io/Socket.ts';
import { MethodProfiler } from './methodProfiler.ts';

const profiler = new MethodProfiler(() => host().computrons());
for (const cls of [
  CameraUploader,
  AnnexBReader,
  H264Reader,
  ChunkFramer,
  HttpResponseParser,
  AckObjectReader,
  AckParser,
  ConnectionSupervisor,
  InFlightSet,
  LatencyStats,
  PoolFragmentSource,
  PutMediaConnection,
  PutMediaSession,
  Frame,
  FrameInput,
  StreamCursor,
  ViewList,
  MkvWriter,
  Backoff,
  PhaseDeadline,
  ServerClock,
  FragmentQueue,
  FramePool,
  SigV4Signer,
])
  profiler.wrapClass(cls);

// The XS socket's class is private to xsSocket.ts: its prototype is wrapped when the first socket is made.
let socketWrapped = false;
const sockets: SocketFactory = (options) => {
  const socket = xsBoard.sockets(options);
  if (!socketWrapped) {
    socketWrapped = true;
    profiler.wrapPrototype(Object.getPrototypeOf(socket) as object, 'XsSocket');
  }
  return socket;
};
const p = (f: unknown, label: string) => profiler.wrapped(f as (...a: never[]) => unknown, label);
const board: Board = Object.freeze({
  ...xsBoard,
  sockets,
  timers: Object.freeze({ set: p(xsBoard.timers.set, 'xsTimers.set'), clear: p(xsBoard.timers.clear, 'xsTimers.clear') }) as Board['timers'],
  clock: Object.freeze({ now: p(xsBoard.clock.now, 'xsClock.now'), monotonic: p(xsBoard.clock.monotonic, 'xsClock.monotonic') }) as Board['clock'],
});

function option(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at >= 0 && at + 1 < argv.length ? argv[at + 1] : undefined;
}

const t0 = host().computrons();
void Promise.resolve(host().argv)
  .then((argv) => runDevice(board, option(argv, '--config')!))
  .then((code) => {
    const total = host().computrons() - t0;
    host().print(JSON.stringify({ type: 'profile', total, wrapperPerCall: profiler.perCall, insidePerCall: profiler.inside, rows: profiler.rows() }));
    host().exit(code);
  });
