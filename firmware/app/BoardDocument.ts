// board.json, the board manifest format (manifests/boards/<name>.json; an image carries its board's as board.json):
// the one validator of it. The device reads its image's copy with it (loadDeviceBundle); the host's
// loadBoardManifest (host/shared) reads the file, runs this, and adds only what the host alone knows (the runtime
// build targets, the camera and microphone adapters) with the same error shape. The JSON configuration's `board`
// (DeviceConfig.ts) is another format, but its sections (pool, stream, control, net, spool) follow the same rules,
// written here once. Pure ECMAScript: it runs inside XS.
import type { PoolBudget } from '../core/config/derivePoolSizing.ts';
import { parseSpoolBudget, type SpoolBudget } from '../core/config/spoolBudget.ts';
import { CONTROL_LIMITS } from '../core/control/controlLimits.ts';
import { FieldcamError } from '../core/errors.ts';
import { codecChoices, isCodecId, type CodecId } from '../core/media/codecs.ts';
import type { NetDeadlines } from '../core/net/PhaseDeadline.ts';

/** Throws CONFIG_INVALID saying what `field` must be; each format words its own prefix (file name, "config"). */
export type Fail = (field: string, want: string) => never;

/**
 * What the control channel allocates at start, as board data: the MQTT client takes `maxQueued` QoS 1 slots
 * of `maxPacketBytes` each plus three buffers of that size (scratch, receive, decoder body), all fixed, so a
 * small board states smaller values rather than the firmware branching on its name.
 */
export interface ControlBoard {
  /** Largest MQTT packet either way: commands and desired documents are ≤ 1 KiB, telemetry and results < 2 KiB. */
  readonly maxPacketBytes: number;
  /** QoS 1 messages (results, reported, health) kept until their PUBACK or for a broker that is away. */
  readonly maxQueued: number;
  /** The state file's encode buffer, allocated once; absent = CONTROL_LIMITS.stateBytes (16 KiB). */
  readonly stateBytes?: number;
  /** Commands running or answered but not yet queued in the client before CONTROL_BUSY; absent = CONTROL_LIMITS.pendingResults (32). */
  readonly pendingResults?: number;
}

export const CONTROL_BOARD_DEFAULTS: ControlBoard = Object.freeze({ maxPacketBytes: 4096, maxQueued: 8 });
/** Below this a 1 KiB command plus its topic (a 128-character thing name) and MQTT headers cannot arrive whole. */
export const CONTROL_MIN_PACKET_BYTES = 2048;

/**
 * The board's memory budget. The JS machine may hold at most the frame pool plus `jsBudgetBytes` (the runtime's
 * hard limit, --heap-limit); the initial sizes are what the machine takes at boot.
 */
export interface BoardMemory {
  readonly ramBytes: number;
  readonly jsBudgetBytes: number;
  readonly initialChunkBytes: number;
  readonly initialSlots: number;
  readonly stackSlots: number;
  /** What the app may allocate after boot (ESP32 profile: ~162 KiB; built-ins and bytecode live in flash there). */
  readonly appHeapBudgetBytes?: number;
  /**
   * The most the frame pools of all the board's cameras may take together (a device with several cameras, docs/boards.md);
   * absent: one camera's pool. The firmware refuses to start past it (CONFIG_INVALID naming the numbers).
   */
  readonly poolBudgetBytes?: number;
}

/** A board manifest as the format defines it (docs/boards.md). */
export interface BoardDocument {
  readonly name: string;
  readonly description: string;
  readonly arch: string;
  /** The runtime build target (firmware/runtime/Makefile): x86_64, armv6, armv7, aarch64 (the host checks the list). */
  readonly target: string;
  /** `-cpu` model for the target's QEMU user-mode emulator (qemu-arm, qemu-aarch64); absent for x86_64. */
  readonly qemuCpu?: string;
  readonly memory: BoardMemory;
  readonly pool: PoolBudget;
  readonly camera: { readonly codec: CodecId; readonly width: number; readonly height: number; readonly fps: number };
  readonly stream: { readonly fragmentMs: number; readonly maxFragmentMs: number };
  /** The control channel's fixed buffers (optional; the firmware's defaults are CONTROL_BOARD_DEFAULTS and CONTROL_LIMITS). */
  readonly control?: ControlBoard;
  /** Per-phase connection deadlines in ms (optional, each key optional; docs/reliability.md "Device: connections"). */
  readonly net?: Readonly<Partial<NetDeadlines>>;
  /** The crash-safe spool's budget (optional; absent or maxBytes 0: the RAM pool only; docs/spool.md). */
  readonly spool?: SpoolBudget;
}

type Json = Readonly<Record<string, unknown>>;

/**
 * The keys of each object of board.json. camera.source and camera.audioSource are the host's (the camera and
 * microphone adapters the run script starts; the device reads neither), checked by host/shared/loadBoardManifest.ts.
 */
export const BOARD_KEYS = Object.freeze({
  top: Object.freeze(['name', 'description', 'arch', 'target', 'qemuCpu', 'memory', 'pool', 'camera', 'stream', 'control', 'net', 'spool']),
  memory: Object.freeze(['ramBytes', 'jsBudgetBytes', 'initialChunkBytes', 'initialSlots', 'stackSlots', 'appHeapBudgetBytes', 'poolBudgetBytes']),
  pool: Object.freeze(['bitrateKbps', 'bufferSeconds', 'fps', 'maxFrameBytes']),
  camera: Object.freeze(['codec', 'width', 'height', 'fps', 'source', 'audioSource']),
  stream: Object.freeze(['fragmentMs', 'maxFragmentMs']),
  control: Object.freeze(['maxPacketBytes', 'maxQueued', 'stateBytes', 'pendingResults']),
  net: Object.freeze(['connectMs', 'tlsMs', 'headMs', 'firstAckMs', 'connackMs']),
});

/** The Fail of board.json: `<file>: <field> must be <want>`. */
export function boardFail(source: string): Fail {
  return (field, want) => {
    throw new FieldcamError('CONFIG_INVALID', `${source}: ${field} must be ${want}`);
  };
}

function objectOf(v: unknown, field: string, bad: Fail): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : bad(field, 'an object');
}

/** A misspelt key is refused by name, never ignored (a silently ignored `fragmentMS` would stream with the default). */
function onlyBoardKeys(o: Json, field: string, allowed: readonly string[], bad: Fail): void {
  for (const key of Object.keys(o)) if (!allowed.includes(key)) bad(field === '' ? key : `${field}.${key}`, `one of ${allowed.join(', ')}`);
}

/** `why` says where the bounds come from, so the message is also the remedy. */
function numberIn(o: Json, field: string, key: string, min: number, max: number, bad: Fail, why = ''): number {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : bad(`${field}.${key}`, `a number in [${min}, ${max}]${why}`);
}

function wholeIn(o: Json, field: string, key: string, min: number, max: number, bad: Fail, why = ''): number {
  const v = o[key];
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : bad(`${field}.${key}`, `a whole number in [${min}, ${max}]${why}`);
}

/** A board's `pool` (manifest or JSON configuration). */
export function parsePoolBudget(o: Json, field: string, bad: Fail): PoolBudget {
  return Object.freeze({
    bitrateKbps: numberIn(o, field, 'bitrateKbps', 1, 1e6, bad),
    bufferSeconds: numberIn(o, field, 'bufferSeconds', 1, 3600, bad),
    fps: numberIn(o, field, 'fps', 1, 1000, bad),
    maxFrameBytes: numberIn(o, field, 'maxFrameBytes', 1024, 64 * 1024 * 1024, bad),
  });
}

/** A board's `stream` timing: fragmentMs 0 cuts at every key frame; 20 s is the KVS limit on a fragment. */
export function parseBoardStream(o: Json, field: string, bad: Fail): BoardDocument['stream'] {
  return Object.freeze({
    fragmentMs: numberIn(o, field, 'fragmentMs', 0, 20_000, bad),
    maxFragmentMs: numberIn(o, field, 'maxFragmentMs', 1, 20_000, bad, ' (at most 20000: the KVS hard limit on a fragment)'),
  });
}

/** A board's `control` section; maxPacketBytes and maxQueued are required, the others default (CONTROL_LIMITS). */
export function parseControlBoard(o: Json, field: string, bad: Fail): ControlBoard {
  return Object.freeze({
    maxPacketBytes: wholeIn(
      o,
      field,
      'maxPacketBytes',
      CONTROL_MIN_PACKET_BYTES,
      131_072,
      bad,
      ' (a 1 KiB command with its topic must fit; AWS IoT allows 128 KiB)',
    ),
    maxQueued: wholeIn(o, field, 'maxQueued', 1, 64, bad, ' (QoS 1 messages awaiting PUBACK)'),
    ...(o.stateBytes !== undefined
      ? {
          stateBytes: wholeIn(
            o,
            field,
            'stateBytes',
            CONTROL_LIMITS.stateBytesMin,
            CONTROL_LIMITS.stateBytesMax,
            bad,
            " (the state file's encode buffer; the device reads at most 32 KiB)",
          ),
        }
      : {}),
    ...(o.pendingResults !== undefined
      ? { pendingResults: wholeIn(o, field, 'pendingResults', 1, 256, bad, ' (commands running or awaiting the MQTT client before CONTROL_BUSY)') }
      : {}),
  });
}

/** A board's `net` section: any of the NetDeadlines keys, 100 ms to 10 minutes each (the caller lays them over the defaults). */
export function parseNetBoard(o: Json, field: string, bad: Fail): Readonly<Partial<NetDeadlines>> {
  const out: Partial<Record<keyof NetDeadlines, number>> = {};
  for (const key of Object.keys(o)) {
    if (!BOARD_KEYS.net.includes(key)) bad(`${field}.${key}`, `one of ${BOARD_KEYS.net.join(', ')}`);
    const v = o[key];
    out[key as keyof NetDeadlines] =
      typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 600_000 ? v : bad(`${field}.${key}`, 'a whole number of ms in [100, 600000]');
  }
  return Object.freeze(out);
}

/** memory.appHeapBudgetBytes (the JSON configuration carries it as board.appHeapBudgetBytes). */
export function parseAppHeapBudget(o: Json, field: string, bad: Fail): number {
  return wholeIn(o, field, 'appHeapBudgetBytes', 16_384, 2 ** 30, bad);
}

/** memory.poolBudgetBytes (board.poolBudgetBytes in the JSON configuration). */
export function parsePoolBudgetBytes(o: Json, field: string, bad: Fail): number {
  return wholeIn(o, field, 'poolBudgetBytes', 1024, 2 ** 40, bad);
}

function nonEmpty(o: Json, key: string, bad: Fail): string {
  const v = o[key];
  return typeof v === 'string' && v.length > 0 && v.length <= 4096 ? v : bad(key, 'a non-empty string');
}

/** Validates a parsed board.json; `source` (the file) starts every message. Throws FieldcamError CONFIG_INVALID. */
export function parseBoardDocument(raw: unknown, source: string): BoardDocument {
  const bad = boardFail(source);
  const m = objectOf(raw, '(top level)', bad);
  onlyBoardKeys(m, '', BOARD_KEYS.top, bad);
  const section = (key: keyof typeof BOARD_KEYS): Json => {
    const o = objectOf(m[key], key, bad);
    onlyBoardKeys(o, key, BOARD_KEYS[key], bad);
    return o;
  };
  const memory = section('memory');
  const camera = section('camera');
  const whole = (key: string) => wholeIn(memory, 'memory', key, 1, 2 ** 40, bad);
  if (!isCodecId(camera.codec)) bad('camera.codec', codecChoices('"'));
  if (m.qemuCpu !== undefined && (typeof m.qemuCpu !== 'string' || m.qemuCpu === '')) bad('qemuCpu', 'a QEMU CPU model name');
  return Object.freeze({
    name: nonEmpty(m, 'name', bad),
    description: nonEmpty(m, 'description', bad),
    arch: nonEmpty(m, 'arch', bad),
    target: nonEmpty(m, 'target', bad),
    ...(typeof m.qemuCpu === 'string' ? { qemuCpu: m.qemuCpu } : {}),
    memory: Object.freeze({
      ramBytes: whole('ramBytes'),
      jsBudgetBytes: whole('jsBudgetBytes'),
      initialChunkBytes: whole('initialChunkBytes'),
      initialSlots: whole('initialSlots'),
      stackSlots: whole('stackSlots'),
      ...(memory.appHeapBudgetBytes !== undefined ? { appHeapBudgetBytes: parseAppHeapBudget(memory, 'memory', bad) } : {}),
      ...(memory.poolBudgetBytes !== undefined ? { poolBudgetBytes: parsePoolBudgetBytes(memory, 'memory', bad) } : {}),
    }),
    pool: parsePoolBudget(section('pool'), 'pool', bad),
    camera: Object.freeze({
      codec: camera.codec as CodecId,
      width: wholeIn(camera, 'camera', 'width', 1, 16_384, bad),
      height: wholeIn(camera, 'camera', 'height', 1, 16_384, bad),
      fps: wholeIn(camera, 'camera', 'fps', 1, 1000, bad),
    }),
    stream: parseBoardStream(section('stream'), 'stream', bad),
    ...(m.control !== undefined ? { control: parseControlBoard(section('control'), 'control', bad) } : {}),
    ...(m.net !== undefined ? { net: parseNetBoard(objectOf(m.net, 'net', bad), 'net', bad) } : {}),
    ...(m.spool !== undefined ? { spool: parseSpoolBudget(objectOf(m.spool, 'spool', bad), `${source}: spool`) } : {}),
  });
}
