// The firmware core (and the offline Muxer over it) needs nothing from Node at run time: bundled by esbuild into one module, it runs in a
// bare V8 context holding only ECMAScript built-ins (no console, timers, Buffer, TextEncoder or modules),
// which is what XS offers, and produces byte-identical Matroska to the same code running under Node.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { Muxer } from '../../host/lib/Muxer.ts';
import { PREPARE } from '../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../firmware/core/pool/FramePool.ts';
import { assert, suite } from '../harness/index.ts';
import { FIXTURES, ROOT } from './tools.ts';

const test = suite('firmware core bundle (esbuild, bare context)');

// The same driver runs in both worlds, as plain source text: read the input in 4 KiB reads into the pool,
// mux it with a pinned SegmentUID and clock, and collect the output bytes.
const DRIVER = `
  const out = [];
  const muxer = new core.Muxer({
    codec: 'h264',
    pool: new core.FramePool({ slotCount: 6, slotBytes: 65536, maxFrames: 32 }),
    fragmentMs: 1000,
    maxFragmentMs: 10000,
    startTimecode: 1700000000000,
    endOfFragment: true,
    segmentUid: new Uint8Array([0, 17, 34, 51, 68, 85, 102, 119, 136, 153, 170, 187, 204, 221, 238, 255]),
    sink(views) {
      for (let i = 0; i < views.count; i++) {
        const src = views.sources[i];
        for (let k = 0; k < views.lengths[i]; k++) out.push(src[views.offsets[i] + k]);
      }
    },
  });
  let at = 0;
  while (at < input.length) {
    if (muxer.prepare() !== core.PREPARE.OK) throw new Error('pool exhausted');
    const n = Math.min(4096, muxer.targetSpace, input.length - at);
    for (let k = 0; k < n; k++) muxer.target[muxer.targetOffset + k] = input[at + k];
    muxer.push(n);
    at += n;
  }
  muxer.end();
  return out;
`;

test('bundles to one module with no imports, runs without Node, output identical to Node', async () => {
  const result = await build({
    // The core's public surface plus the offline Muxer (host/lib, pure ECMAScript) that drives the core pipeline.
    stdin: {
      contents: "export * from './firmware/core/index.ts'; export { Muxer } from './host/lib/Muxer.ts';",
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'FieldcamCore',
    platform: 'neutral',
    target: 'es2022',
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  assert.ok(!/\brequire\(|\bimport\(|from\s+['"]/.test(code), 'the bundle imports nothing');

  const sandbox = createContext({}); // ECMAScript built-ins only…
  runInContext('delete globalThis.console', sandbox); // …except the console V8 adds to every context
  for (const name of ['console', 'setTimeout', 'Buffer', 'TextEncoder', 'process']) {
    assert.is(runInContext(`typeof ${name}`, sandbox), 'undefined', `${name} is absent in the sandbox`);
  }
  runInContext(code, sandbox);
  const input = Array.from(readFileSync(join(FIXTURES, 'h264-320x240-10fps-gop10.h264')));
  sandbox.input = input;
  const inside = runInContext(`((core, input) => {${DRIVER}})(FieldcamCore, input)`, sandbox) as number[];
  const outside = new Function('core', 'input', DRIVER)({ Muxer, FramePool, PREPARE }, input) as number[];
  assert.ok(outside.length > input.length, 'Matroska was produced');
  assert.is(inside.length, outside.length);
  assert.equal(Array.from(inside), outside, 'byte-identical Matroska');
});

test.run();
