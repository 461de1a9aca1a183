// The retained health record of one thing, read when a device did not answer: it tells an operator whether
// the device is offline (its Will, or a clean shutdown/restart), or has never connected at all — in which
// case nothing was queued for it (docs/control-channel.md §Topics: no session before the first connection).
import { decodeControl, type ControlDocument } from './controlCbor.ts';
import { controlTopics } from './controlTopics.ts';
import type { OperatorConnection } from './OperatorConnection.ts';
import type { MessageRouter } from './MessageRouter.ts';

export async function readRetainedHealth(
  connection: OperatorConnection,
  router: MessageRouter,
  thing: string,
  graceMs: number,
): Promise<ControlDocument | undefined> {
  const topic = controlTopics(thing).health;
  let found = (_: ControlDocument): void => {};
  const arrived = new Promise<ControlDocument>((done) => (found = done));
  const stop = router.on((m) => {
    const doc = m.topic === topic && m.retain ? decodeControl(m.payload) : undefined;
    if (doc) found(doc);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await connection.subscribe([topic]);
    return await Promise.race([arrived, new Promise<undefined>((done) => (timer = setTimeout(() => done(undefined), graceMs)))]);
  } finally {
    clearTimeout(timer);
    stop();
  }
}

/** One sentence about what the retained health says, for a "no answer" message. */
export function describeHealth(doc: ControlDocument | undefined): string {
  if (!doc || typeof doc.state !== 'string') {
    return 'it has never published its health: it has not connected yet, and a command sent before its first connection is not queued for it';
  }
  const reason = typeof doc.reason === 'string' && doc.reason ? ` (${doc.reason})` : '';
  const at = typeof doc.t === 'number' && Number.isFinite(doc.t) ? ` since ${new Date(doc.t).toISOString()}` : '';
  if (doc.state === 'offline') return `its retained health is offline${reason}${at}; the command waits in its persistent session until it reconnects`;
  return `its retained health is ${doc.state}${reason}${at}: it may be busy, or hung`;
}
