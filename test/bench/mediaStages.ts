// The media path's ARM1176 instructions per frame split by where they run (a probe for issue 12's work, ~2 s):
// test/bench/xs/mediaCost.ts on the reference clip under qemu-arm with the instruction counter's stages, one
// stage per object file of interest (XS engine files by name: xsRun is the bytecode loop, xsType the ordinary
// objects' property lookups; the runtime's C files by name; libc), everything else `rest`. Per frame = the clip
// twice minus once, as in the bench. Usage:
//   nice node --import tsx test/bench/mediaStages.ts [h264|mjpeg320|mjpeg640]
// FIELDCAM_STAGES_C / FIELDCAM_STAGES_XS: comma lists of the runtime's and the engine's objects to name (15 stages
// at most, the counter's limit). FIELDCAM_STAGES_FN: functions to count apart from their object (the runtime and
// the engine are built with -ffunction-sections: a name such as fieldcamFindFields or fxGetDataViewSize), and libc
// members as libc:<member> (libc:memset). FIELDCAM_STAGES_RUNTIME: another armv6 build directory (its
// fieldcam-runtime and map).
//   FIELDCAM_STAGES_FN=fieldcamFindFields,fieldcamViewData,libc:memset nice node --import tsx test/bench/mediaStages.ts
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import { countInstructions } from '../../toolchain/qemu/build.mjs';
import { type Clip, mjpeg640, referenceClip } from './clips.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const MJPEG320: Clip = { label: 'MJPEG 320x240 10 fps (fixture)', file: join(ROOT, 'test/fixtures/mjpeg-320x240-10fps.mjpeg'), codec: 'mjpeg', fps: 10 };
const which = process.argv[2] ?? 'h264';
const clip = which === 'mjpeg640' ? mjpeg640() : which === 'mjpeg320' ? MJPEG320 : referenceClip();
const cNames = (process.env.FIELDCAM_STAGES_C ?? 'scan,accessunits,images,records,block,release,fields,natives').split(',');
const xsNames = (process.env.FIELDCAM_STAGES_XS ?? 'xsRun,xsType,xsDataView,xsAPI,xsFunction').split(',');
const functions = (process.env.FIELDCAM_STAGES_FN ?? '').split(',').filter(Boolean);

const dir = mkdtempSync(join(tmpdir(), 'fieldcam-stages-'));
const bundle = join(dir, 'media-cost.js');
await build({
  entryPoints: [join(ROOT, 'test/bench/xs/mediaCost.ts')],
  outfile: bundle,
  bundle: true,
  format: 'iife',
  platform: 'neutral',
  target: 'es2022',
  charset: 'ascii',
  logLevel: 'warning',
});
const RUNTIME_DIR = process.env.FIELDCAM_STAGES_RUNTIME ?? join(ROOT, 'build/xs/armv6');
const map = readFileSync(join(RUNTIME_DIR, 'fieldcam-runtime.map'), 'utf8');
const ranges: { start: number; size: number; stage: string }[] = [];
// " .text.name  0xADDR  0xSIZE  file" (sim/profile/runtimeStages.ts reads the same map).
for (const m of map.slice(map.indexOf('Linker script and memory map')).matchAll(/^ (\.text[^\s]*)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S[^\n]*)$/gm)) {
  const size = parseInt(m[3]!, 16);
  const file = m[4]!.trim();
  const name = basename(file.replace(/\)$/, ''), '.o');
  const section = m[1]!.replace(/^\.text\.?/, '');
  const member = `libc:${name.slice(name.indexOf('(') + 1)}`; // "libc.a(memset" -> libc:memset
  let stage: string | undefined;
  if (/libc\.a/.test(file)) stage = functions.includes(member) ? member : 'libc';
  else if (section && functions.includes(section)) stage = section;
  else if (file.includes('(')) stage = undefined;
  else if (name.startsWith('xs')) stage = xsNames.includes(name) ? name : 'xs-other';
  else if (cNames.includes(name)) stage = `${name}.c`;
  if (size > 0 && stage) ranges.push({ start: parseInt(m[2]!, 16), size, stage });
}
const twice = join(dir, 'twice');
writeFileSync(twice, Buffer.concat([readFileSync(clip.file), readFileSync(clip.file)]));
const run = async (file: string) => {
  const r = await countInstructions({
    cpu: 'arm1176',
    program: join(RUNTIME_DIR, 'fieldcam-runtime'),
    args: [bundle, clip.codec, String(clip.fps), 'native'],
    cwd: ROOT,
    stdinFile: file,
    stages: ranges,
  });
  if (r.code !== 0) throw new Error(`media-cost under qemu exited ${r.code}: ${r.stderr}`);
  return {
    out: JSON.parse(r.stdout.trim()) as { frames: number; computrons: number },
    instructions: Number(r.instructions),
    stages: r.stages as Record<string, bigint>,
  };
};
const once = await run(clip.file);
const double = await run(twice);
const frames = double.out.frames - once.out.frames;
const per = (a: number, b: number) => Math.round((b - a) / frames);
console.log(
  `${clip.label}: ${frames} frames; per frame ${per(once.out.computrons, double.out.computrons)} computrons, ${per(once.instructions, double.instructions)} instructions`,
);
const split = Object.entries(double.stages).map(([stage, n]) => [stage, per(Number(once.stages[stage] ?? 0), Number(n))] as const);
for (const [stage, n] of split.sort((a, b) => b[1] - a[1])) console.log(`  ${stage.padEnd(14)} ${String(n).padStart(8)}`);
