// The fault matrix (issue 11, Proof): the pi-zero-w image under `qemu-arm -cpu arm1176`, fed the fixture camera
// at a time scale, meets one fault at a time mid-run; the fault ends; the device recovers; the camera file ends
// and the device stops cleanly. Each row is judged from what the local cloud STORED (GetMedia through the CLI,
// counted by ffprobe; fragment records for duplicates and persist times), set beside what the device claims
// (its summary and status lines), and a disagreement between the two is flagged in the row.
//
// The harnesses are the device suites' own: sim/faults (FaultProxy in a network namespace; a black-holed
// nameserver in a mount namespace), sim/board/feedCamera (pause, cut), the cloud's fault knobs (ACK delay) and
// closing/restarting the cloud on its port.
//
//   node --import tsx test/bench/faultMatrix.ts [--faults stall,throttle,...]
// `npm run bench` prints the whole matrix; test/device/faultMatrix.test.ts runs a few rows and asserts them.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, imageDir, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard, type BootedBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { TEST_HOST_NAME } from '../../sim/cloud/tls/ensureCertificates.ts';
import { startFaultNetns, type FaultNetns } from '../../sim/faults/faultNetns.ts';
import { namespaceCommand, resolvConfFor } from '../../sim/faults/namespaceCommand.ts';
import { startNameserver } from '../../sim/faults/startNameserver.ts';
import { FIXTURES, framePts, ROOT, tempDir, tool } from '../e2e/tools.ts';
import { getMedia } from '../device/storedMedia.ts';
import { loopedClip } from '../device/loopedClip.ts';

const BOARD = 'pi-zero-w';
/** Device seconds per real second for the rows behind the proxy (as test/device/connections.test.ts). */
export const SCALE = 4;
/** The camera: the 10-second 320x240 fixture (10 fps, a key frame every 10 frames: 1-second fragments). */
const FIXTURE = readFileSync(join(FIXTURES, 'h264-320x240-10fps-gop10.h264'));
/**
 * Device seconds after the device first streams (its first `connected`) when every fault starts: mid-run, past
 * boot, stream creation and the first fragments. Times are counted from that event, not from the harness's
 * start, because boot under a loaded QEMU takes anywhere from 2 to 35 device-seconds.
 */
const FAULT_AT = 10;

type Rec = Record<string, unknown>;

/** What a fault does to a running board, in device seconds; `end` is when the fault is over. */
interface FaultContext {
  readonly board: BootedBoard;
  readonly net?: FaultNetns;
  cloud(): RunningCloud;
  /** Closes the cloud (every connection dropped) and starts it again on its port with its state. */
  restartCloud(downSeconds: number): Promise<void>;
  at(deviceSeconds: number, action: () => void | Promise<void>): void;
}

export interface FaultSpec {
  readonly name: string;
  readonly label: string;
  /** Camera seconds (whole copies of the 10-second fixture). */
  readonly seconds: number;
  /**
   * Device seconds after the anchor (the first `connected`; the `boot` line for the DNS row) when the fault is
   * over (for `fault end → next PERSISTED`).
   */
  readonly end: number;
  readonly apply: (f: FaultContext) => void;
  /** The DNS row runs in a mount namespace with a black-holed nameserver instead of behind the proxy. */
  readonly dns?: boolean;
}

const proxied = (name: string, label: string, seconds: number, end: number, apply: (f: FaultContext) => void): FaultSpec => ({
  name,
  label,
  seconds,
  end,
  apply,
});

/** Bytes per device-second of the camera (the fixture's bitrate). */
const CAMERA_RATE = FIXTURE.length / 10;

export const FAULTS: readonly FaultSpec[] = Object.freeze([
  proxied('stall', 'link stall (black hole) 20 s', 60, FAULT_AT + 20, (f) => {
    f.at(FAULT_AT, () => void f.net!.setMode({ kind: 'stall' }));
    f.at(FAULT_AT + 20, () => void f.net!.setMode({ kind: 'pass' }));
  }),
  proxied('stall5', 'link stall (black hole) 5 s', 60, FAULT_AT + 5, (f) => {
    f.at(FAULT_AT, () => void f.net!.setMode({ kind: 'stall' }));
    f.at(FAULT_AT + 5, () => void f.net!.setMode({ kind: 'pass' }));
  }),
  proxied('throttle', 'link throttled to 1/8 of the camera rate 30 s', 60, FAULT_AT + 30, (f) => {
    f.at(FAULT_AT, () => void f.net!.setMode({ kind: 'throttle', bytesPerSecond: Math.round((CAMERA_RATE / 8) * SCALE) }));
    f.at(FAULT_AT + 30, () => void f.net!.setMode({ kind: 'pass' }));
  }),
  proxied('resets', 'connection resets ×5 (every 4 s)', 60, FAULT_AT + 16.5, (f) => {
    for (let i = 0; i < 5; i++) {
      f.at(FAULT_AT + 4 * i, () => void f.net!.setMode({ kind: 'reset' }));
      f.at(FAULT_AT + 4 * i + 0.5, () => void f.net!.setMode({ kind: 'pass' }));
    }
  }),
  proxied('outage', 'cloud outage (process closed, restarted on its port) 20 s', 60, FAULT_AT + 20, (f) => {
    f.at(FAULT_AT, () => f.restartCloud(20));
  }),
  { name: 'dns', label: 'DNS black-holed at boot 10 s (mount namespace, no time scale)', seconds: 30, end: 10, dns: true, apply: () => {} },
  proxied('pause', 'camera pause 5 s', 60, FAULT_AT + 5, (f) => {
    f.at(FAULT_AT, () => f.board.camera.pause());
    f.at(FAULT_AT + 5, () => f.board.camera.resume());
  }),
  proxied('cut', 'camera cut mid-frame (25 s into the stream)', 60, 25, (f) => {
    f.at(25, () => f.board.camera.cutAt(midFrameAfter(f.board.camera.written)));
  }),
  proxied('ackdelay', 'ACK delay 10 s (for 10 s)', 60, FAULT_AT + 10, (f) => {
    f.at(FAULT_AT, () => {
      f.cloud().ctx.faults.ackDelayMs = 10_000 / SCALE;
    });
    f.at(FAULT_AT + 10, () => {
      f.cloud().ctx.faults.ackDelayMs = 0;
    });
  }),
]);

/**
 * Short rows for the CI test (test/device/faultMatrix.test.ts): a 30-second camera, faults from 5 s, so each
 * row takes under 10 s of real time at the time scale. Same harnesses, same judging as the matrix.
 */
export const SHORT_FAULTS: readonly FaultSpec[] = Object.freeze([
  proxied('resets', 'connection resets ×3 (every 3 s)', 30, 11.5, (f) => {
    for (let i = 0; i < 3; i++) {
      f.at(5 + 3 * i, () => void f.net!.setMode({ kind: 'reset' }));
      f.at(5 + 3 * i + 0.5, () => void f.net!.setMode({ kind: 'pass' }));
    }
  }),
  proxied('cut', 'camera cut mid-frame (12 s into the stream)', 30, 12, (f) => {
    f.at(12, () => f.board.camera.cutAt(midFrameAfter(f.board.camera.written)));
  }),
  proxied('ackdelay', 'ACK delay 5 s (for 5 s)', 30, 10, (f) => {
    f.at(5, () => {
      f.cloud().ctx.faults.ackDelayMs = 5_000 / SCALE;
    });
    f.at(10, () => {
      f.cloud().ctx.faults.ackDelayMs = 0;
    });
  }),
]);

const { framesFed, midFrameAfter } = loopedClip(FIXTURE);

export interface FaultRow {
  readonly fault: string;
  readonly exitCode: number;
  readonly fed: number;
  readonly stored: number;
  readonly dropped: number;
  readonly drops: Readonly<Record<string, number>>;
  /** Fragments stored more than once (the same producer timestamp). */
  readonly duplicated: number;
  readonly fragmentsResentWhole: number;
  /** fed − stored − dropped: 0 when every frame is accounted for. */
  readonly balance: number;
  /** Device seconds from the fault's end to the next fragment the cloud stored (undefined: none). */
  readonly recoveryStored: number | undefined;
  /** The same as the device saw it (its status lines: fragmentsPersisted and lastPersistedAgeMs). */
  readonly recoveryDevice: number | undefined;
  /** PutMedia connections that were up after the first one (the device's `connected` events). */
  readonly reconnects: number;
  /** Fragments the device counted PERSISTED, and the distinct fragments the cloud stored. */
  readonly persistedClaimed: number;
  readonly storedFragments: number;
  /** Where the cloud and the device disagree, or the row breaks a guarantee. */
  readonly flags: readonly string[];
}

/** Builds the pi-zero-w image once (the suites' way). */
export async function buildPiZero(): Promise<ImageManifest> {
  return buildImage(loadBoardManifest(BOARD), { typecheck: false });
}

function makeVideo(dir: string, seconds: number): string {
  const path = join(dir, `camera-${seconds}s.h264`);
  writeFileSync(path, Buffer.concat(Array.from({ length: seconds / 10 }, () => FIXTURE)));
  return path;
}

/** Runs one fault; never throws for a bad outcome (that is a flag in the row), only for a broken harness. */
export async function runFault(spec: FaultSpec, image: ImageManifest, root: string): Promise<FaultRow> {
  const dir = join(root, spec.name);
  mkdirSync(dir, { recursive: true });
  const video = makeVideo(dir, spec.seconds);
  const scale = spec.dns ? 1 : SCALE;
  const origin = Date.now();
  const deviceSeconds = () => ((Date.now() - origin) * scale) / 1000;
  const cloudConfig = { timeScale: scale, timeOrigin: origin };
  const stateDir = join(dir, 'cloud');
  let cloud = await startCloud({ stateDir, port: 0, routes: [...mediaRoutes], config: cloudConfig });
  const port = Number(new URL(cloud.endpoint).port);
  const net = spec.dns ? undefined : await startFaultNetns({ cloudPort: port, dir, root: ROOT });
  const nameserver = spec.dns ? await startNameserver() : undefined;
  const config = join(dir, 'device.json');
  // A deployed camera (live, not a recording: its cut last frame is dropped, docs/reliability.md "Device: frames
  // and time"), a status line every 500 device-ms for the device's side of "next PERSISTED".
  writeDeviceConfig(config, {
    board: loadBoardManifest(BOARD),
    streamName: spec.name,
    region: 'us-east-1',
    endpoint: { host: spec.dns ? TEST_HOST_NAME : '127.0.0.1', port, caFile: cloud.caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec: 'h264',
    live: true,
    recorded: false,
    createRetentionHours: 24,
    statusIntervalMs: 500,
  });
  const records: Rec[] = [];
  const when = new Map<Rec, number>();
  // The cloud's side of "next PERSISTED": when the count of stored fragments grew, polled in real time.
  const storedAt: { at: number; count: number }[] = [];
  let restarting = false;
  const sample = (): void => {
    if (restarting) return;
    const record = cloud.ctx.streams.get(spec.name);
    if (!record) return;
    const count = fragmentStoreFor(cloud.ctx, record).list().length;
    if (count !== storedAt[storedAt.length - 1]?.count) storedAt.push({ at: deviceSeconds(), count });
  };
  const poll = setInterval(sample, 50);
  const timers: NodeJS.Timeout[] = [];
  let pending: Promise<void> = Promise.resolve();
  const flags: string[] = [];
  /** Device seconds (from origin) of the event the fault times count from. */
  let anchor: number | undefined;
  /** When a fault that takes its own time to end (the cloud's restart) really ended, device seconds from origin. */
  let endedAt: number | undefined;
  if (nameserver) nameserver.blackhole();
  const board = bootBoard({
    image: {
      dir: imageDir(BOARD),
      qemuCpu: image.qemuCpu!,
      runtimeFlags: spec.dns
        ? [...image.runtimeFlags, '--dns-timeout', '1500']
        : [...image.runtimeFlags, '--time-scale', String(scale), '--time-origin', String(origin)],
    },
    config,
    video,
    loop: false,
    cwd: ROOT,
    bytesPerSecond: statSync(video).size / spec.seconds,
    rate: scale,
    onRecord: (r) => {
      records.push(r);
      when.set(r, deviceSeconds());
      if (anchor === undefined && (spec.dns ? r.type === 'boot' : r.type === 'event' && r.event === 'connected')) startFaults(when.get(r)!);
    },
    ...(spec.dns
      ? { wrap: (command: string, args: readonly string[]) => namespaceCommand({ dir, resolvConf: resolvConfFor(nameserver!.address) }, command, args) }
      : { wrap: net!.wrap }),
  });
  const context: FaultContext = {
    board,
    ...(net ? { net } : {}),
    cloud: () => cloud,
    restartCloud: async (downSeconds) => {
      restarting = true;
      await cloud.close();
      await new Promise((r) => setTimeout(r, (downSeconds * 1000) / scale));
      cloud = await startCloud({ stateDir, port, routes: [...mediaRoutes], config: cloudConfig });
      restarting = false;
      // The outage ends when the cloud listens again (closing and starting take real time of their own).
      endedAt = deviceSeconds();
    },
    at: (t, action) => {
      timers.push(
        setTimeout(
          () => {
            pending = pending.then(async () => action()).catch((err: unknown) => void flags.push(`harness: ${String(err)}`));
          },
          ((anchor! + t - deviceSeconds()) * 1000) / scale,
        ),
      );
    },
  };
  function startFaults(at: number): void {
    anchor = at;
    spec.apply(context);
    if (nameserver) context.at(spec.end, () => nameserver.answer({ [TEST_HOST_NAME]: '127.0.0.1' }));
  }
  const guard = setTimeout(() => {
    flags.push('HANG: killed after 240 s real');
    board.child.kill('SIGKILL');
  }, 240_000);
  const { code } = await board.exited;
  clearTimeout(guard);
  for (const t of timers) clearTimeout(t);
  await pending;
  // A fragment stored in the last 50 ms before the device exited is seen here (its time: an upper bound).
  sample();
  clearInterval(poll);
  const written = board.camera.written;
  // FIELDCAM_FAULT_MATRIX_RECORDS=DIR keeps each row's device lines (with their device-second arrival times).
  const keep = process.env.FIELDCAM_FAULT_MATRIX_RECORDS;
  if (keep) writeFileSync(join(keep, `${spec.name}.json`), JSON.stringify({ storedAt, records: records.map((r) => ({ at: when.get(r), ...r })) }, null, 1));
  try {
    return await judge();
  } finally {
    await net?.close();
    await nameserver?.close();
    await cloud.close();
  }

  async function judge(): Promise<FaultRow> {
    const summary = records.find((r) => r.type === 'summary') ?? {};
    if (!records.some((r) => r.type === 'summary')) flags.push('no summary line');
    if (code !== 0) flags.push(`exit ${code}`);
    const fed = framesFed(written);
    const drops = (summary.drops ?? {}) as Record<string, number>;
    // framesIn counts whole frames read; the camera's cut last frame is counted only as `truncated`.
    const read = Number(summary.framesIn ?? 0) + (drops.truncated ?? 0);
    if (read !== fed) flags.push(`device read ${read} frames (framesIn + truncated), camera fed ${fed}`);
    const dropped = Number(summary.framesDropped ?? 0);
    const reasons = Object.values(drops).reduce((a, b) => a + b, 0);
    if (reasons !== dropped) flags.push(`framesDropped ${dropped} ≠ sum of reasons ${reasons}`);
    const record = cloud.ctx.streams.get(spec.name);
    const fragments = record ? fragmentStoreFor(cloud.ctx, record).list() : [];
    const stamps = fragments.map((f) => f.producerTimestampMs);
    const distinct = new Set(stamps).size;
    for (let i = 1; i < stamps.length; i++) {
      if (stamps[i]! < stamps[i - 1]!) {
        flags.push(`stored out of order at fragment ${i}`);
        break;
      }
    }
    let stored = 0;
    if (fragments.length > 0) {
      const media = await getMedia(cloud, spec.name, dir);
      // ffprobe decodes every frame and reports only decoding problems. (ffmpeg's null muxer would also object
      // to capture-clock timestamps off the 10 fps grid it rounds to; the order is checked on the pts instead.)
      const probe = tool('ffprobe', [
        '-v',
        'error',
        '-count_frames',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=nb_read_frames',
        '-of',
        'csv=p=0',
        media,
      ]);
      if (probe.status !== 0 || probe.stderr.trim()) flags.push(`decode errors: ${probe.stderr.trim().slice(0, 200)}`);
      stored = Number(probe.stdout.trim());
      const pts = framePts(media);
      const back = pts.findIndex((t, i) => i > 0 && t <= pts[i - 1]!);
      if (back > 0) flags.push(`stored frame ${back} at ${pts[back]} s does not follow ${pts[back - 1]} s`);
    }
    // The device counts the PERSISTED ACKs it received; a fragment persisted whose ACK was lost with its
    // connection is stored but not counted, so the cloud may hold more. Never fewer: that would be a claim of
    // a fragment that is not there.
    const persisted = Number(summary.fragmentsPersisted ?? 0);
    if (persisted > distinct) flags.push(`device says ${persisted} fragments persisted, cloud holds only ${distinct} distinct`);
    const duplicated = stamps.length - distinct;
    const resentWhole = Number(summary.fragmentsResentWhole ?? 0);
    if (duplicated > resentWhole) flags.push(`duplicates ${duplicated} > fragments resent whole ${resentWhole}`);
    if (anchor === undefined) flags.push('never streamed: no fault applied');
    const end = endedAt ?? (anchor ?? 0) + spec.end;
    const before = [...storedAt].reverse().find((s) => s.at <= end)?.count ?? 0;
    const next = storedAt.find((s) => s.at > end && s.count > before);
    const recoveryStored = next ? next.at - end : undefined;
    const recoveryDevice = devicePersistAfter(records, when, end);
    if (recoveryStored !== undefined && recoveryDevice !== undefined && Math.abs(recoveryStored - recoveryDevice) > 2) {
      flags.push(`next PERSISTED: cloud ${recoveryStored.toFixed(1)} s, device ${recoveryDevice.toFixed(1)} s`);
    }
    return {
      fault: spec.label,
      exitCode: code,
      fed,
      stored,
      dropped,
      drops,
      duplicated,
      fragmentsResentWhole: resentWhole,
      balance: fed - stored - dropped,
      recoveryStored,
      recoveryDevice,
      persistedClaimed: persisted,
      storedFragments: distinct,
      reconnects: Math.max(0, records.filter((r) => r.type === 'event' && r.event === 'connected').length - 1),
      flags,
    };
  }
}

/**
 * When the device saw its first PERSISTED after `end`, in device seconds after `end`: the first status line
 * whose fragmentsPersisted grew past the last one before `end`, less its lastPersistedAgeMs.
 */
function devicePersistAfter(records: Rec[], when: Map<Rec, number>, end: number): number | undefined {
  const status = records.filter((r) => r.type === 'status' || r.type === 'summary');
  const before = [...status].reverse().find((r) => when.get(r)! <= end);
  const base = Number(before?.fragmentsPersisted ?? 0);
  const after = status.find((r) => when.get(r)! > end && Number(r.fragmentsPersisted ?? 0) > base);
  if (!after) return undefined;
  const age = Number(after.lastPersistedAgeMs ?? 0) / 1000;
  return Math.max(0, when.get(after)! - age - end);
}

const fmt = (s: number | undefined) => (s === undefined ? 'none' : s.toFixed(1));

export function rowCells(r: FaultRow): (string | number)[] {
  const reasons =
    Object.entries(r.drops)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || '0';
  return [
    r.fault,
    r.fed,
    r.stored,
    `${r.dropped}${r.dropped ? ` (${reasons})` : ''}`,
    `${r.duplicated} (≤ ${r.fragmentsResentWhole} resent whole)`,
    r.balance,
    `${fmt(r.recoveryStored)} (device: ${fmt(r.recoveryDevice)})`,
    `${r.persistedClaimed} / ${r.storedFragments}`,
    r.reconnects,
    r.flags.length ? r.flags.join('; ') : 'ok',
  ];
}

export const HEADERS = [
  'fault',
  'frames fed',
  'stored (GetMedia, ffprobe)',
  'dropped (by reason)',
  'duplicated fragments',
  'fed − stored − dropped',
  'fault end → next PERSISTED, device s: cloud (device)',
  'fragments PERSISTED: device ACKs / cloud stored',
  'reconnects',
  'checks',
];

export function table(rows: readonly FaultRow[]): string {
  const lines = [`| ${HEADERS.join(' | ')} |`, `|${HEADERS.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${rowCells(r).join(' | ')} |`);
  return lines.join('\n');
}

/** The matrix for `names` (all faults by default), one row at a time (the machine is shared). */
export async function faultMatrix(names?: readonly string[]): Promise<string> {
  const chosen = names ? FAULTS.filter((f) => names.includes(f.name)) : FAULTS;
  const unknown = (names ?? []).filter((n) => !FAULTS.some((f) => f.name === n));
  if (unknown.length) throw new Error(`unknown faults ${unknown.join(', ')}; known: ${FAULTS.map((f) => f.name).join(', ')}`);
  const image = await buildPiZero();
  const tmp = tempDir('fieldcam-fault-matrix-');
  const rows: FaultRow[] = [];
  try {
    for (const spec of chosen) {
      const row = await runFault(spec, image, tmp.dir);
      rows.push(row);
      process.stderr.write(`fault matrix: ${rowCells(row).join(' | ')}\n`);
    }
  } finally {
    tmp.remove();
  }
  return table(rows);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const i = process.argv.indexOf('--faults');
  const names = i > 0 ? process.argv[i + 1]!.split(',') : undefined;
  console.log(`# Fault matrix: ${BOARD} under qemu-arm -cpu arm1176, time scale ${SCALE} (${new Date().toISOString()})\n`);
  console.log(await faultMatrix(names));
}
