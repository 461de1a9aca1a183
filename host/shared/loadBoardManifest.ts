import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PoolBudget } from '../../firmware/core/config/derivePoolSizing.ts';
import { parseSpoolBudget, type SpoolBudget } from '../../firmware/core/config/spoolBudget.ts';
import { CONTROL_MIN_PACKET_BYTES, type ControlBoard } from '../../firmware/app/DeviceConfig.ts';
import { CONTROL_LIMITS } from '../../firmware/core/control/controlLimits.ts';
import { FieldcamError } from './hostErrors.ts';
import type { NetDeadlines } from '../../firmware/core/net/PhaseDeadline.ts';
import { QEMU_USER, TARGETS } from '../../toolchain/xs/build.mjs';
import { readCameraSource, type CameraSource } from './cameraSource.ts';
import type { AudioSource } from './audioSource.ts';
import { codecChoices, isCodecId, type CodecId } from '../../firmware/core/media/codecs.ts';

type NetDeadlineKey = keyof NetDeadlines;
const NET_DEADLINE_KEYS: readonly NetDeadlineKey[] = Object.freeze(['connectMs', 'tlsMs', 'headMs', 'firstAckMs', 'connackMs']);

export const BOARDS_DIR = resolve(import.meta.dirname, '..', '..', 'manifests', 'boards');

export interface BoardManifest {
  readonly name: string;
  readonly description: string;
  readonly arch: string;
  /** The runtime build target (firmware/runtime/Makefile): x86_64, armv6, armv7, aarch64. */
  readonly target: string;
  /** `-cpu` model for the target's QEMU user-mode emulator (qemu-arm, qemu-aarch64); absent for x86_64. */
  readonly qemuCpu?: string;
  readonly memory: BoardMemory;
  readonly pool: PoolBudget;
  readonly camera: {
    readonly codec: CodecId;
    readonly width: number;
    readonly height: number;
    readonly fps: number;
    /** The camera adapter (host/shared/cameraSource.ts); absent: rpicam with the SoC's encoder. */
    readonly source?: CameraSource;
    /** The microphone (host/shared/audioSource.ts): only from flash --audio-source, per device; never in a manifest. */
    readonly audioSource?: AudioSource;
  };
  readonly stream: { readonly fragmentMs: number; readonly maxFragmentMs: number };
  /** The control channel's fixed buffers (optional; the firmware's defaults are 4096-byte packets × 8 queued, 16 KiB state, 32 pending results). */
  readonly control?: ControlBoard;
  /** Per-phase connection deadlines in ms (optional, each key optional; docs/reliability.md "Device: connections"). */
  readonly net?: Readonly<Partial<NetDeadlines>>;
  /** The crash-safe spool's budget (optional; absent or maxBytes 0: the RAM pool only; docs/spool.md). */
  readonly spool?: SpoolBudget;
}

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

/** The runtime build targets (toolchain/xs/build.mjs, firmware/runtime/Makefile). */
export const RUNTIME_TARGETS: readonly string[] = TARGETS;

export function listBoards(dir = BOARDS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Reads and validates `manifests/boards/<name>.json`; every problem names the file and field. */
export function loadBoardManifest(name: string, dir = BOARDS_DIR): BoardManifest {
  const boards = listBoards(dir);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name) || !boards.includes(name)) {
    throw new FieldcamError('CONFIG_BOARD_UNKNOWN', `unknown board '${name}'; known boards: ${boards.join(', ')}`);
  }
  const file = join(dir, `${name}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FieldcamError('CONFIG_INVALID', `${file}: not valid JSON (${(err as Error).message})`);
  }
  const bad = (field: string, want: string): never => {
    throw new FieldcamError('CONFIG_INVALID', `${file}: ${field} must be ${want}`);
  };
  const obj = (v: unknown, field: string): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : bad(field, 'an object');
  const pos = (o: Record<string, unknown>, field: string, key: string): number => {
    const v = o[key];
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : bad(`${field}.${key}`, 'a positive number');
  };
  const str = (o: Record<string, unknown>, key: string): string => {
    const v = o[key];
    return typeof v === 'string' && v.length > 0 ? v : bad(key, 'a non-empty string');
  };
  const m = obj(raw, '(top level)');
  if (m.name !== name) bad('name', `"${name}" (the file name)`);
  const pool = obj(m.pool, 'pool');
  const camera = obj(m.camera, 'camera');
  const stream = obj(m.stream, 'stream');
  const memory = obj(m.memory, 'memory');
  const target = str(m, 'target');
  if (!RUNTIME_TARGETS.includes(target)) bad('target', `one of ${RUNTIME_TARGETS.join(', ')}`);
  const qemu = QEMU_USER[target];
  if (qemu && typeof m.qemuCpu !== 'string') bad('qemuCpu', `the ${qemu} CPU model for target ${target}`);
  const whole = (field: string) => {
    const v = pos(memory, 'memory', field);
    return Number.isInteger(v) ? v : bad(`memory.${field}`, 'a whole number');
  };
  if (!isCodecId(camera.codec)) bad('camera.codec', codecChoices('"'));
  const maxFragmentMs = pos(stream, 'stream', 'maxFragmentMs');
  let control: ControlBoard | undefined;
  if (m.control !== undefined) {
    const c = obj(m.control, 'control');
    const within = (key: string, min: number, max: number, why: string): number => {
      const v = c[key];
      return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : bad(`control.${key}`, `a whole number in [${min}, ${max}] (${why})`);
    };
    control = Object.freeze({
      maxPacketBytes: within('maxPacketBytes', CONTROL_MIN_PACKET_BYTES, 131_072, 'a 1 KiB command with its topic must fit; AWS IoT allows 128 KiB'),
      maxQueued: within('maxQueued', 1, 64, 'QoS 1 messages awaiting PUBACK'),
      // Optional: the firmware's defaults (CONTROL_LIMITS) apply when absent.
      ...(c.stateBytes !== undefined
        ? {
            stateBytes: within(
              'stateBytes',
              CONTROL_LIMITS.stateBytesMin,
              CONTROL_LIMITS.stateBytesMax,
              "the state file's encode buffer; the device reads at most 32 KiB",
            ),
          }
        : {}),
      ...(c.pendingResults !== undefined
        ? { pendingResults: within('pendingResults', 1, 256, 'commands running or awaiting the MQTT client before CONTROL_BUSY') }
        : {}),
    });
  }
  let net: Partial<Record<NetDeadlineKey, number>> | undefined;
  if (m.net !== undefined) {
    const n = obj(m.net, 'net');
    net = {};
    for (const key of Object.keys(n)) {
      if (!(NET_DEADLINE_KEYS as readonly string[]).includes(key)) bad(`net.${key}`, `one of ${NET_DEADLINE_KEYS.join(', ')}`);
      const v = n[key];
      net[key as NetDeadlineKey] =
        typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 600_000 ? v : bad(`net.${key}`, 'a whole number of ms in [100, 600000]');
    }
    net = Object.freeze(net);
  }
  if (maxFragmentMs > 20000) bad('stream.maxFragmentMs', 'at most 20000 (the KVS hard limit)');
  return Object.freeze({
    name,
    description: str(m, 'description'),
    arch: str(m, 'arch'),
    target,
    ...(typeof m.qemuCpu === 'string' ? { qemuCpu: m.qemuCpu } : {}),
    memory: Object.freeze({
      ramBytes: whole('ramBytes'),
      jsBudgetBytes: whole('jsBudgetBytes'),
      initialChunkBytes: whole('initialChunkBytes'),
      initialSlots: whole('initialSlots'),
      stackSlots: whole('stackSlots'),
      ...(memory.appHeapBudgetBytes !== undefined ? { appHeapBudgetBytes: whole('appHeapBudgetBytes') } : {}),
      ...(memory.poolBudgetBytes !== undefined ? { poolBudgetBytes: whole('poolBudgetBytes') } : {}),
    }),
    pool: Object.freeze({
      bitrateKbps: pos(pool, 'pool', 'bitrateKbps'),
      bufferSeconds: pos(pool, 'pool', 'bufferSeconds'),
      fps: pos(pool, 'pool', 'fps'),
      maxFrameBytes: pos(pool, 'pool', 'maxFrameBytes'),
    }),
    camera: Object.freeze({
      codec: camera.codec as CodecId,
      width: pos(camera, 'camera', 'width'),
      height: pos(camera, 'camera', 'height'),
      fps: pos(camera, 'camera', 'fps'),
      ...(camera.source !== undefined ? { source: readCameraSource(camera.source, bad) } : {}),
    }),
    stream: Object.freeze({ fragmentMs: stream.fragmentMs === 0 ? 0 : pos(stream, 'stream', 'fragmentMs'), maxFragmentMs }),
    ...(control ? { control } : {}),
    ...(net ? { net } : {}),
    ...(m.spool !== undefined ? { spool: parseSpoolBudget(obj(m.spool, 'spool'), `${file} spool`) } : {}),
  });
}
