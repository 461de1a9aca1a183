import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FieldcamError } from '../../firmware/core/errors.ts';
import type { BootImage } from '../board/bootBoard.ts';
import { writeDeviceConfig } from '../board/writeDeviceConfig.ts';
import { mediaRoutes } from '../cloud/kvs/media/index.ts';
import { fragmentStoreFor } from '../cloud/kvs/media/fragmentStoreFor.ts';
import { putMediaConnections } from '../cloud/kvs/media/putMediaRoute.ts';
import { startCloud, type RunningCloud } from '../cloud/startCloud.ts';
import type { BoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { measureQemuOverhead } from './measureQemuOverhead.ts';
import { instructionsPerFrame } from './instructionsPerFrame.ts';
import { observeDevice } from './observeDevice.ts';
import type { FaultStep } from '../../host/shared/parseFaultSpec.ts';
import {
  percentile,
  type BudgetVerdict,
  type ProfileEvent,
  type ProfileFragment,
  type ProfileReport,
  type ProfileSample,
} from '../../host/shared/ProfileReport.ts';
import type { CodecId } from '../../firmware/core/media/codecs.ts';
import { localCloudTarget } from '../cloud/localCloudTarget.ts';

/** Budget overrides (`--budget heap=…,app-heap=…,pool=…,latency-p99=…`); absent ones come from the board. */
export interface BudgetOverrides {
  readonly heapBytes?: number;
  readonly appHeapBytes?: number;
  readonly poolSlots?: number;
  readonly latencyP99Ms?: number;
}

export interface ProfileOptions {
  readonly board: BoardManifest;
  /** `target`: the runtime's architecture (image.json `target`, e.g. armv6), for the CPU split by stage. */
  readonly image: BootImage & { readonly heapLimitBytes: number; readonly poolBytes: number; readonly target?: string };
  /** The native x86-64 runtime, for the QEMU overhead measurement of an ARM board. */
  readonly nativeRuntime?: string;
  readonly video: string;
  readonly codec: CodecId;
  /** The clip's real-time byte rate (0: as fast as the board reads). */
  readonly bytesPerSecond: number;
  /** The clip's frame period in ms (its frame rate), to tell which frame ends each stored fragment. */
  readonly frameMs: number;
  /** The camera's frame rate for a stream that carries none (MJPEG). */
  readonly fps?: { readonly num: number; readonly den: number };
  readonly durationS: number;
  readonly timeScale: number;
  readonly faults: readonly FaultStep[];
  readonly stateDir: string;
  readonly budgets?: BudgetOverrides;
  readonly countInstructions?: boolean;
  readonly cwd: string;
  /** Called at each status line (the CLI's progress line). */
  readonly onProgress?: (p: { t: number; sample: ProfileSample; fragments: number }) => void;
}

/** Wall time an image has to print its boot line (QEMU on a loaded host boots in seconds). */
const BOOT_DEADLINE_MS = 120_000;

/** Device status lines during the run: a few hundred samples whatever the duration (device ms, 100-1000). */
function statusIntervalMs(durationS: number): number {
  return Math.min(1000, Math.max(100, Math.round((durationS * 1000) / 300 / 50) * 50));
}

const num = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

/** Sets the cloud's knobs at a fault's start and puts them back at its end (sim/cloud/types.ts `Faults`). */
function applyFault(cloud: RunningCloud, f: FaultStep, on: boolean): void {
  const knobs = cloud.ctx.faults;
  switch (f.kind) {
    case 'drop':
      if (on) knobs.dropAfterBytes = 1;
      return;
    case 'outage':
      if (on) {
        knobs.throttle = Number.MAX_SAFE_INTEGER;
        knobs.dropAfterBytes = 1;
      } else {
        delete knobs.throttle;
        delete knobs.dropAfterBytes;
      }
      return;
    case 'ack-delay':
      if (on) knobs.ackDelayMs = f.value;
      else delete knobs.ackDelayMs;
      return;
    case 'error':
      if (on) knobs.errorAck = { errorId: 5000, remaining: 1 };
  }
}

/**
 * Fragment end → PERSISTED. The fragment's end is when the device read its last frame from the camera, found on
 * the device's own status lines (frames read over time, interpolated between two lines): not its producer
 * timestamp, which the device counts from the frame rate and which runs ahead of the clock by what the camera
 * pipe held while the device booted. Its last frame's index comes from its timestamps (the first fragment
 * starts at frame 0).
 */
function fragmentLatencies(
  stored: readonly { number: string; endMs: number; producerMs: number; persistedT: number; bytes: number }[],
  samples: readonly ProfileSample[],
  frameMs: number,
): ProfileFragment[] {
  if (stored.length === 0 || !(frameMs > 0)) return [];
  const start = Math.min(...stored.map((f) => f.producerMs));
  const readAt = (frames: number): number => {
    const k = samples.findIndex((s) => s.framesIn >= frames);
    if (k < 0) return Number.NaN;
    const b = samples[k]!;
    const a = k > 0 ? samples[k - 1]! : { t: 0, framesIn: 0 };
    return b.framesIn === a.framesIn ? b.t : a.t + ((frames - a.framesIn) / (b.framesIn - a.framesIn)) * (b.t - a.t);
  };
  return stored.map((f) => {
    const endT = readAt(Math.round((f.endMs - start) / frameMs));
    return {
      number: f.number,
      endT: Number.isFinite(endT) ? endT : f.persistedT,
      persistedT: f.persistedT,
      latencyMs: Number.isFinite(endT) ? Math.max(0, Math.round((f.persistedT - endT) * 1000)) : 0,
      bytes: f.bytes,
    };
  });
}

/**
 * The profiler's runner: the local cloud, the board's real image booted with the clip as its camera (looped,
 * paced at the clip's bitrate unless as fast as possible) for `durationS` device seconds, then stopped the
 * way systemd stops it (SIGTERM: the last fragment is sent and PERSISTED). Samples come from the device's
 * own status lines (heap, pool, computrons), /proc (RSS), the cloud's fragment store (PERSISTED per fragment)
 * and its PutMedia connections (first byte). The same clock drives both ends (--time-origin).
 */
export async function runProfile(o: ProfileOptions): Promise<ProfileReport> {
  const origin = Date.now();
  const scaled = o.timeScale > 1 ? ['--time-scale', String(o.timeScale), '--time-origin', String(origin)] : [];
  const cloud = await startCloud({
    stateDir: o.stateDir,
    port: 0,
    routes: [...mediaRoutes],
    ...(o.timeScale > 1 ? { config: { timeScale: o.timeScale, timeOrigin: origin } } : {}),
  });
  const stream = `${o.board.name}-profile-${origin}`;
  const interval = statusIntervalMs(o.durationS);
  const configFor = (name: string) => {
    const path = join(o.stateDir, `${name}.json`);
    writeDeviceConfig(path, {
      board: o.board,
      streamName: name,
      ...localCloudTarget(cloud),
      codec: o.codec,
      live: o.bytesPerSecond > 0,
      createRetentionHours: 24,
      statusIntervalMs: interval,
      ...(o.fps ? { fps: o.fps } : {}),
    });
    return path;
  };
  const missing: string[] = [
    'pool frame records in use (the pool also fills when its frame records run out with slots to spare): the status line carries slots in use only; drops by reason show it',
    ...(o.bytesPerSecond > 0 ? [] : ['capture → socket per frame: a camera fed as fast as the board reads has no capture time (use --realtime)']),
    ...(o.countInstructions ? [] : ['ARM instructions per frame and CPU by stage (scan, JS, TLS, rest): run with --count-instructions (ARM boards)']),
  ];
  try {
    const qemuOverhead =
      o.image.qemuCpu && o.nativeRuntime
        ? await measureQemuOverhead({
            qemuCpu: o.image.qemuCpu,
            armRuntime: join(o.image.dir, 'fieldcam-runtime'),
            nativeRuntime: o.nativeRuntime,
            runtimeFlags: o.image.runtimeFlags.slice(0, 8),
          })
        : 0;
    const samples: ProfileSample[] = [];
    const events: ProfileEvent[] = [];
    const fragments: ProfileFragment[] = [];
    let last: Record<string, unknown> | undefined;
    let lastWindow: ProfileSample | undefined;
    const seen = new Set<string>();
    const stored: { number: string; endMs: number; producerMs: number; persistedT: number; bytes: number }[] = [];
    let stopAt: NodeJS.Timeout | undefined;
    const t0 = cloud.ctx.now();
    const since = () => (cloud.ctx.now() - t0) / 1000;
    const device = observeDevice({
      cloud,
      image: {
        dir: o.image.dir,
        runtimeFlags: [...o.image.runtimeFlags, ...scaled],
        ...(o.image.qemuCpu ? { qemuCpu: o.image.qemuCpu } : {}),
        ...(o.image.qemu ? { qemu: o.image.qemu } : {}),
      },
      config: configFor(stream),
      stream,
      video: o.video,
      loop: true,
      bytesPerSecond: o.bytesPerSecond,
      rate: o.timeScale,
      cwd: o.cwd,
      onRecord: (r, rssNow) => {
        // The duration counts from boot: how long an emulated board takes to boot depends on the host's load.
        if (r.type === 'boot' && !stopAt) stopAt = setTimeout(() => device.board.stop(), (o.durationS * 1000) / o.timeScale);
        if (r.type === 'status' || r.type === 'summary') {
          const t = since();
          // An exiting process has no /proc entry left: its last reading stands.
          const rss = rssNow || (samples.at(-1)?.rssBytes ?? 0);
          const prev = last;
          const frames = num(r.framesIn) - num(prev?.framesIn);
          const sample: ProfileSample = {
            t,
            framesIn: num(r.framesIn),
            framesDropped: num(r.framesDropped),
            fragmentsPersisted: num(r.fragmentsPersisted),
            heapBytes: num(r.heapBytes),
            peakHeapBytes: num(r.peakHeapBytes),
            appHeapBytes: num(r.baselineHeapBytes) > 0 ? num(r.heapBytes) - num(r.baselineHeapBytes) : 0,
            poolSlotsInUse: num(r.poolSlotsInUse),
            heapChunkBytes: num(r.heapChunkBytes, -1),
            heapSlotBytes: num(r.heapSlotBytes, -1),
            captureToSocketFrames: num(r.captureToSocketFrames),
            captureToSocketP50Ms: num(r.captureToSocketP50Ms, -1),
            captureToSocketP99Ms: num(r.captureToSocketP99Ms, -1),
            captureToSocketMaxMs: num(r.captureToSocketMaxMs, -1),
            rssBytes: rss,
            deviceRssBytes: rss > 0 ? Math.max(0, rss - qemuOverhead) : 0,
            computronsPerFrame: frames > 0 ? Math.round((num(r.computrons) - num(prev?.computrons)) / frames) : -1,
            connected: r.connected === true,
          };
          // The summary comes after the process let go of most of its memory: it counts, but not its RSS; its
          // capture → socket window (the frames since the last status line) is kept apart.
          if (r.type === 'status') samples.push(sample);
          else lastWindow = sample;
          last = r;
          if (r.type === 'status') o.onProgress?.({ t, sample, fragments: stored.length });
        } else if (r.type === 'event' || r.type === 'error') {
          events.push({
            t: since(),
            event: r.type === 'error' ? 'error' : String(r.event),
            ...(typeof r.code === 'string' ? { code: r.code } : {}),
            ...(typeof r.message === 'string' ? { detail: r.message.slice(0, 200) } : {}),
          });
        }
      },
      // The cloud's view: each fragment as it is stored (PERSISTED).
      onPoll: () => {
        const record = cloud.ctx.streams.get(stream);
        if (!record) return;
        for (const f of fragmentStoreFor(cloud.ctx, record).list()) {
          if (seen.has(f.fragmentNumber)) continue;
          seen.add(f.fragmentNumber);
          stored.push({
            number: f.fragmentNumber,
            endMs: f.producerTimestampMs + f.durationMs,
            producerMs: f.producerTimestampMs,
            persistedT: (cloud.ctx.now() - t0) / 1000,
            bytes: f.size,
          });
        }
      },
    });
    const timers: NodeJS.Timeout[] = [];
    for (const f of o.faults) {
      timers.push(
        setTimeout(
          () => {
            applyFault(cloud, f, true);
            events.push({ t: since(), event: 'fault', code: f.kind, detail: f.forS ? `${f.forS} s` : '' });
          },
          (f.atS * 1000) / o.timeScale,
        ),
      );
      if (f.forS > 0) timers.push(setTimeout(() => applyFault(cloud, f, false), ((f.atS + f.forS) * 1000) / o.timeScale));
    }
    // A runtime that neither boots nor exits within two minutes is stopped (it then fails as not booted).
    const bootDeadline = setTimeout(() => {
      if (!stopAt) device.board.stop();
    }, BOOT_DEADLINE_MS);
    const observed = await device.done;
    clearTimeout(stopAt);
    clearTimeout(bootDeadline);
    for (const t of timers) clearTimeout(t);
    const { exit, summary, booted, firstByteMs, peakRssBytes: peakRss } = observed;
    if (!booted) {
      throw new FieldcamError(
        'CONFIG_INVALID',
        `the ${o.board.name} image exited ${exit.code} before booting (heap limit, initial sizes, pool?): ${exit.stderr.trim().split('\n').slice(-3).join(' | ')}`,
      );
    }

    fragments.push(...fragmentLatencies(stored, samples, o.frameMs));
    const instructions =
      o.countInstructions && o.image.qemuCpu
        ? await instructionsPerFrame({ image: { ...o.image, qemuCpu: o.image.qemuCpu }, config: configFor, clip: readFileSync(o.video), cwd: o.cwd })
        : null;
    if (instructions?.missing) missing.push(`CPU by stage: ${instructions.missing}`);
    if (o.countInstructions && !o.image.qemuCpu) missing.push('ARM guest instructions: this board runs natively (no QEMU plugin)');
    const end = summary ?? last ?? {};
    const latencies = fragments.map((f) => f.latencyMs).sort((a, b) => a - b);
    const conns = putMediaConnections(cloud.ctx);
    const mine = [...conns.active, ...conns.recent].filter((c) => c.stream === stream);
    const drops: Record<string, number> = {};
    const kinds: Record<string, number> = {};
    const errorCodes: Record<string, number> = {};
    for (const e of events) {
      kinds[e.event] = (kinds[e.event] ?? 0) + 1;
      if (e.code && e.event !== 'fault') errorCodes[e.code] = (errorCodes[e.code] ?? 0) + 1;
    }
    const windows = [...samples, ...(lastWindow ? [lastWindow] : [])].filter((s) => s.captureToSocketFrames > 0);
    // Frames dropped by the pool's reason (firmware status `drops`: poolFull, awaitKeyFrame, truncated, latency, …).
    const by = end.drops;
    if (by && typeof by === 'object') for (const [reason, n] of Object.entries(by)) if (num(n) > 0) drops[reason] = num(n);
    const recoveries = o.faults.map((f) => {
      const after = f.atS + f.forS;
      const first = fragments.filter((x) => x.persistedT > after).sort((a, b) => a.persistedT - b.persistedT)[0];
      return { fault: `${f.kind}@${f.atS}s`, atS: after, firstPersistedAfterMs: first ? Math.round((first.persistedT - after) * 1000) : -1 };
    });
    const computrons = num(end.computrons);
    const framesIn = num(end.framesIn);
    const heapLimit = o.budgets?.heapBytes ?? o.image.heapLimitBytes;
    const appBudget = o.budgets?.appHeapBytes ?? o.board.memory.appHeapBudgetBytes;
    const poolSlots = num(end.poolSlots);
    const poolBudget = o.budgets?.poolSlots ?? poolSlots;
    const peakApp = Math.max(0, ...samples.map((s) => s.appHeapBytes));
    const highWater = Math.max(0, ...samples.map((s) => s.poolSlotsInUse));
    const p99 = percentile(latencies, 99);
    const budgets: BudgetVerdict[] = [
      {
        name: 'peak XS heap',
        measured: num(end.peakHeapBytes),
        budget: heapLimit,
        unit: 'bytes',
        ok: num(end.peakHeapBytes) <= heapLimit,
        source: o.budgets?.heapBytes ? '--budget heap' : 'image heap limit (jsBudgetBytes)',
      },
      ...(appBudget !== undefined
        ? [
            {
              name: 'app heap after boot',
              measured: peakApp,
              budget: appBudget,
              unit: 'bytes' as const,
              ok: peakApp <= appBudget,
              source: o.budgets?.appHeapBytes ? '--budget app-heap' : 'board memory.appHeapBudgetBytes',
            },
          ]
        : []),
      // A pool that filled dropped frames (a live camera cannot wait): high-water must stay below the slots.
      {
        name: 'pool high-water',
        measured: highWater,
        budget: poolBudget,
        unit: 'slots',
        ok: highWater < poolBudget && !drops.poolFull,
        source: o.budgets?.poolSlots ? '--budget pool' : 'board pool sizing',
        ...(drops.poolFull ? { note: `${drops.poolFull} frames dropped with the pool full` } : {}),
      },
      ...(o.budgets?.latencyP99Ms !== undefined
        ? [
            {
              name: 'fragment end → PERSISTED p99',
              measured: Number.isFinite(p99) ? p99 : 0,
              budget: o.budgets.latencyP99Ms,
              unit: 'ms' as const,
              ok: Number.isFinite(p99) && p99 <= o.budgets.latencyP99Ms,
              source: '--budget latency-p99',
            },
          ]
        : []),
    ];
    return {
      version: 1,
      board: o.board.name,
      run: o.image.qemuCpu ? `qemu-arm -cpu ${o.image.qemuCpu}` : 'native x86-64',
      video: o.video,
      durationS: o.durationS,
      timeScale: o.timeScale,
      realtime: o.bytesPerSecond > 0,
      faults: o.faults,
      stream,
      exitCode: exit.code,
      limits: {
        heapLimitBytes: o.image.heapLimitBytes,
        appHeapBudgetBytes: o.board.memory.appHeapBudgetBytes ?? null,
        poolSlots,
        poolBytes: o.image.poolBytes,
      },
      qemu: o.image.qemuCpu
        ? {
            overheadBytes: qemuOverhead,
            method:
              'peak RSS of an idle script under qemu-arm minus the same on the native x86-64 runtime, same heap flags (a lower bound: the translation cache grows with the code run)',
          }
        : null,
      samples,
      fragments,
      events,
      latency: {
        count: latencies.length,
        p50: percentile(latencies, 50),
        p99,
        max: latencies.length ? latencies[latencies.length - 1]! : Number.NaN,
        deviceAckP50Ms: num(end.ackLatencyP50Ms, -1),
        deviceAckP99Ms: num(end.ackLatencyP99Ms, -1),
      },
      bootToFirstByteMs: firstByteMs,
      recoveries,
      totals: {
        framesIn,
        framesDropped: num(end.framesDropped),
        fragmentsIn: num(end.fragmentsIn),
        fragmentsPersisted: num(end.fragmentsPersisted),
        connections: num(end.connections),
        peakHeapBytes: num(end.peakHeapBytes),
        peakAppHeapBytes: peakApp,
        poolHighWater: highWater,
        peakRssBytes: peakRss,
        computronsPerFrame: framesIn > 0 ? Math.round(computrons / framesIn) : 0,
        instructionsPerFrame: instructions?.total ?? null,
        instructionsPerFrameByStage: instructions?.byStage ?? null,
        peakHeapChunkBytes: num(end.peakHeapChunkBytes, -1),
        peakHeapSlotBytes: num(end.peakHeapSlotBytes, -1),
        captureToSocket: {
          frames: windows.reduce((n, w) => n + w.captureToSocketFrames, 0),
          worstIntervalP99Ms: windows.length ? Math.max(...windows.map((w) => w.captureToSocketP99Ms)) : -1,
          maxMs: windows.length ? Math.max(...windows.map((w) => w.captureToSocketMaxMs)) : -1,
        },
        tlsRecords: num(end.tlsRecords, -1),
        tlsBytes: num(end.tlsBytes, -1),
        tlsHandshakes: num(end.tlsHandshakes, -1),
        errorsByCode: errorCodes,
        cloudFragmentsStored: fragments.length,
        cloudPersistedAcks: mine.reduce((s, c) => s + c.stats.acks.PERSISTED, 0),
        dropsByReason: drops,
        eventsByKind: kinds,
      },
      budgets,
      missing,
    };
  } finally {
    await cloud.close();
  }
}
