// The upload path on loopback: the device pipeline (FrameInput → PutMediaSession over nodeSocket/TLS) in
// this process against `fieldcam cloud` in a child process, so CPU per frame counts the device side only.
//   throughput: a 4 Mbit/s 1080p stream sent as fast as possible (pool backpressure, no drops);
//   latency: the same stream paced at 30 fps: capture-to-wire (queued → chunk handed to the socket),
//   sent-to-PERSISTED and BUFFERING-to-PERSISTED per fragment, p50/p99.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeClock } from '../../firmware/boards/node/nodeTime.ts';
import { LatencyStats } from '../../firmware/core/kvs/LatencyStats.ts';
import type { PutMediaSession } from '../../firmware/core/kvs/PutMediaSession.ts';
import { ServerClock } from '../../firmware/core/net/ServerClock.ts';
import { FrameInput } from '../../firmware/core/media/FrameInput.ts';
import { PREPARE } from '../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../firmware/core/pool/FramePool.ts';
import { nodeUploadSession } from '../e2e/nodeUploadSession.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

async function startCloudProcess(stateDir: string): Promise<{ child: ChildProcess; endpoint: string; ca: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'host', 'cli', 'bin.mjs'), 'cloud', '--state-dir', stateDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'ignore'], // its request log would interleave with the tables
  });
  let out = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /endpoint-url: (https:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`fieldcam cloud exited ${code}: ${out}`)));
  });
  return { child, endpoint, ca: readFileSync(join(stateDir, 'ca.pem'), 'utf8') };
}

interface UploadRun {
  frames: number;
  bytes: number;
  seconds: number;
  cpuUsPerFrame: number;
  captureToWire: LatencyStats;
  sentToPersisted: LatencyStats;
  bufferingToPersisted: LatencyStats;
  completeToPersisted: LatencyStats;
  persisted: number;
  fragments: number;
}

async function upload(endpoint: string, ca: string, stream: string, input: Uint8Array, loops: number, paceFps: number | undefined): Promise<UploadRun> {
  const url = new URL(endpoint);
  const target = { host: url.hostname, port: Number(url.port), tls: { ca } };
  const clock = new ServerClock(nodeClock);
  const pool = new FramePool({ slotCount: 48, slotBytes: 1 << 20, maxFrames: 1200 });
  const captureToWire = new LatencyStats(4096);
  const bufferingToPersisted = new LatencyStats(1024);
  const queuedAt = new Map<number, number>();
  const bufferingAt = new Map<number, number>();
  const completeToPersisted = new LatencyStats(1024);
  const lastSentAt = new Map<number, number>();
  let openFragment = 0;
  let session: PutMediaSession | undefined;
  let fragments = 0;
  const t0 = clock.now() - loops * 10_000; // producer timestamps in the past: never "in the future" (4007)
  const frameInput = new FrameInput({
    codec: 'h264',
    pool,
    fps: { num: 30, den: 1 },
    fragmentMs: 1000,
    startTimecode: t0,
    onQueued: (frame) => {
      if (frame.fragmentStart) fragments++;
      queuedAt.set(frame.seq, nodeClock.monotonic());
      session?.framesQueued();
    },
  });
  const credentials = () => CREDENTIALS;
  session = nodeUploadSession(frameInput, {
    target,
    clock,
    streamName: stream,
    credentials,
    dataTls: { ca },
    createStream: { retentionHours: 24 },
    maxFragmentMs: 10_000,
    endOfFragment: true,
    userAgent: 'bench',
    onFrameSent: (frame) => {
      if (frame.fragmentStart) openFragment = frame.pts;
      lastSentAt.set(openFragment, nodeClock.monotonic());
      const q = queuedAt.get(frame.seq);
      if (q !== undefined) captureToWire.add(nodeClock.monotonic() - q);
      queuedAt.delete(frame.seq);
    },
    onEvent: (e) => {
      if (e.type !== 'ack') return;
      if (e.ack.eventType === 'BUFFERING') bufferingAt.set(e.ack.fragmentTimecode, nodeClock.monotonic());
      if (e.ack.eventType === 'PERSISTED') {
        const b = bufferingAt.get(e.ack.fragmentTimecode);
        if (b !== undefined) bufferingToPersisted.add(nodeClock.monotonic() - b);
        const last = lastSentAt.get(e.ack.fragmentTimecode);
        if (last !== undefined) completeToPersisted.add(nodeClock.monotonic() - last);
      }
    },
  });
  session.start();
  const cpu0 = process.cpuUsage();
  const start = nodeClock.monotonic();
  let bytes = 0;
  for (let loop = 0; loop < loops; loop++) {
    for (let at = 0; at < input.length; ) {
      const ready = frameInput.prepare();
      if (ready !== PREPARE.OK) {
        await new Promise((r) => setTimeout(r, 2)); // pool full: wait for PERSISTED acknowledgements
        continue;
      }
      const n = Math.min(frameInput.targetSpace, input.length - at, paceFps ? 16_384 : 1 << 20);
      frameInput.target.set(input.subarray(at, at + n), frameInput.targetOffset);
      frameInput.push(n);
      at += n;
      bytes += n;
      if (paceFps) {
        const due = (frameInput.stats.frames * 1000) / paceFps - (nodeClock.monotonic() - start);
        if (due > 0) await new Promise((r) => setTimeout(r, due));
      } else {
        await new Promise((r) => setImmediate(r));
      }
    }
  }
  frameInput.end();
  session.framesQueued();
  await session.stop();
  const seconds = (nodeClock.monotonic() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    frames: frameInput.stats.frames,
    bytes,
    seconds,
    cpuUsPerFrame: (cpu.user + cpu.system) / frameInput.stats.frames,
    captureToWire,
    sentToPersisted: session.stats.latency,
    bufferingToPersisted,
    completeToPersisted,
    persisted: session.stats.fragmentsPersisted,
    fragments,
  };
}

const f = (n: number, d = 1) => (Number.isNaN(n) ? '-' : n.toFixed(d));

/** Runs both scenarios and returns the markdown tables. */
export async function uploadBench(input1080p: string): Promise<string> {
  const stateDir = mkdtempSync(join(tmpdir(), 'fieldcam-bench-cloud-'));
  const cloud = await startCloudProcess(stateDir);
  try {
    const input = new Uint8Array(readFileSync(input1080p));
    const fast = await upload(cloud.endpoint, cloud.ca, 'bench-fast', input, 8, undefined);
    const paced = await upload(cloud.endpoint, cloud.ca, 'bench-paced', input, 2, 30);
    const rows = [
      ['as fast as possible', fast],
      ['paced at 30 fps', paced],
    ] as const;
    const lines = [
      '| run | frames | fragments PERSISTED | MB/s | frames/s | device CPU µs/frame | capture→wire p50 / p99 (ms) | last frame sent→PERSISTED p50 / p99 (ms) | BUFFERING→PERSISTED p50 / p99 (ms) |',
      '|---|---|---|---|---|---|---|---|---|',
    ];
    for (const [label, r] of rows) {
      // As fast as possible, frames queue in the pool behind the link by design: capture→wire is queueing time.
      const c2w = r === fast ? 'n/a (queued)' : `${f(r.captureToWire.percentile(50), 2)} / ${f(r.captureToWire.percentile(99), 2)}`;
      lines.push(
        `| ${label} | ${r.frames} | ${r.persisted}/${r.fragments} | ${f(r.bytes / r.seconds / 1e6)} | ${Math.round(r.frames / r.seconds)} | ` +
          `${Math.round(r.cpuUsPerFrame)} | ${c2w} | ` +
          `${f(r.completeToPersisted.percentile(50))} / ${f(r.completeToPersisted.percentile(99))} | ` +
          `${f(r.bufferingToPersisted.percentile(50))} / ${f(r.bufferingToPersisted.percentile(99))} |`,
      );
    }
    return lines.join('\n');
  } finally {
    cloud.child.kill('SIGTERM');
    await new Promise((r) => cloud.child.on('exit', r));
    rmSync(stateDir, { recursive: true, force: true });
  }
}
