import { join } from 'node:path';
import { bootCommand, type BootImage } from '../board/bootBoard.ts';
import { countInstructions } from '../../toolchain/qemu/build.mjs';
import { runtimeStages } from './runtimeStages.ts';

export interface InstructionCount {
  /** ARM guest instructions per frame. */
  readonly total: number;
  /** The same by stage (scan, JS, TLS, SHA-256, rest), or null when the runtime's stages cannot be told. */
  readonly byStage: Readonly<Record<string, number>> | null;
  /** Why there is no split by stage. */
  readonly missing?: string;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** The runtime flags without the test clock (--time-scale, --time-origin): a counted run is not paced. */
function unscaled(flags: readonly string[]): string[] {
  return flags.filter((a, i, all) => a !== '--time-scale' && all[i - 1] !== '--time-scale' && a !== '--time-origin' && all[i - 1] !== '--time-origin');
}

/**
 * ARM guest instructions per frame of the whole device under the QEMU plugin (toolchain/qemu/insncount.c): the
 * clip played twice and once as the camera, as fast as the board reads, each run counted whole; the difference
 * over the extra frames cancels boot and shutdown. With the image's `target`, each instruction is also counted
 * against its stage (runtimeStages.ts). `config(name)`: a device configuration writing to stream `name`.
 * Shared by `fieldcam profile --count-instructions` and `npm run bench`.
 */
export async function instructionsPerFrame(o: {
  readonly image: BootImage & { readonly qemuCpu: string; readonly target?: string };
  readonly config: (name: string) => string;
  readonly clip: Uint8Array;
  readonly cwd: string;
  /** Stream names for the two runs (default insns-1, insns-2). */
  readonly names?: readonly [string, string];
}): Promise<InstructionCount | null> {
  const split = o.image.target
    ? runtimeStages(join(o.image.dir, 'fieldcam-runtime'), o.image.target, join(o.cwd, 'build', 'xs', o.image.target))
    : { missing: 'the image names no runtime target' };
  const stages = 'ranges' in split ? split.ranges : undefined;
  const runs: { instructions: bigint; frames: number; stages?: Record<string, bigint> }[] = [];
  const [a, b] = o.names ?? ['insns-1', 'insns-2'];
  for (const [name, stdin] of [
    [a, o.clip],
    [b, Buffer.concat([o.clip, o.clip])],
  ] as const) {
    const { args } = bootCommand({ dir: o.image.dir, runtimeFlags: unscaled(o.image.runtimeFlags), qemuCpu: o.image.qemuCpu }, o.config(name));
    const r = await countInstructions({
      ...(o.image.qemu ? { qemu: o.image.qemu } : {}),
      cpu: o.image.qemuCpu,
      program: args[2]!,
      args: args.slice(3),
      cwd: o.cwd,
      stdin,
      ...(stages ? { stages } : {}),
    });
    const summary = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.type === 'summary');
    if (r.code !== 0 || !summary) throw new Error(`instruction count run exited ${r.code}: ${r.stderr.slice(-400)}`);
    runs.push({ instructions: r.instructions, frames: num(summary.framesIn), ...(r.stages ? { stages: r.stages } : {}) });
  }
  const [one, two] = runs as [(typeof runs)[0], (typeof runs)[0]];
  const frames = two.frames - one.frames;
  if (!(frames > 0)) return null;
  const byStage =
    one.stages && two.stages
      ? Object.fromEntries(Object.keys(two.stages).map((k) => [k, Math.round(Number(two.stages![k]! - (one.stages![k] ?? 0n)) / frames)]))
      : null;
  return { total: Math.round(Number(two.instructions - one.instructions) / frames), byStage, ...('missing' in split ? { missing: split.missing } : {}) };
}
