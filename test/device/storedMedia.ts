// What the local cloud stored for a stream, as device tests judge it: the fragment records, their distinct
// producer timestamps, and GetMedia through the real CLI (AWS SDK client) into one file.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { ROOT } from '../e2e/tools.ts';
import { assert } from '../harness/index.ts';

export function storedFragments(cloud: RunningCloud, name: string) {
  const record = cloud.ctx.streams.get(name);
  assert.ok(record, `stream ${name} exists`);
  return fragmentStoreFor(cloud.ctx, record!).list();
}

/** Distinct producer timestamps of the stored fragments (replays counted once), ascending. */
export function distinctTimestamps(cloud: RunningCloud, name: string): number[] {
  return [...new Set(storedFragments(cloud, name).map((f) => f.producerTimestampMs))].sort((a, b) => a - b);
}

/** GetMedia through the CLI into `<dir>/<name>.mkv`, asynchronously: the cloud serves from this process. */
export function getMedia(cloud: RunningCloud, name: string, dir: string): Promise<string> {
  const out = join(dir, `${name}.mkv`);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'host', 'cli', 'bin.mjs'), 'get-media', '--stream', name, '-o', out, '--endpoint-url', cloud.endpoint, '--region', 'us-east-1'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          PATH: process.env.PATH ?? '',
          HOME: dir,
          AWS_CA_BUNDLE: cloud.caFile,
          AWS_ACCESS_KEY_ID: EXAMPLE_ACCESS_KEY_ID,
          AWS_SECRET_ACCESS_KEY: EXAMPLE_SECRET_ACCESS_KEY,
        },
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`get-media exited ${code}: ${stderr}`))));
  });
}
