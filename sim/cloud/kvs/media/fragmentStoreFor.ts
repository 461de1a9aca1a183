import type { CloudContext, StreamRecord } from '../../types.ts';
import { FragmentStore } from './FragmentStore.ts';

const stores = new WeakMap<CloudContext, Map<string, FragmentStore>>();

/**
 * The fragment store of a stream, opened once per running cloud (a restart reopens it from disk). Keyed by
 * ARN: a stream deleted and created again under the same name has a new ARN and a new directory.
 */
export function fragmentStoreFor(ctx: CloudContext, stream: StreamRecord): FragmentStore {
  let byArn = stores.get(ctx);
  if (!byArn) stores.set(ctx, (byArn = new Map()));
  let store = byArn.get(stream.StreamARN);
  if (!store) {
    store = new FragmentStore(ctx.streams.dir(stream.StreamName));
    byArn.set(stream.StreamARN, store);
  }
  return store;
}
