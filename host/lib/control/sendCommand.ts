// One command round trip (docs/control-channel.md §Command): subscribe to the result topic FIRST (a fast
// device could answer before a late subscription exists), publish the command at QoS 1 with a random UUID
// id, and wait for the result carrying that id. Other results on the topic (other operators, re-published
// duplicates of older ids) are ignored.
import { randomUUID } from 'node:crypto';
import { FieldcamError } from '../../shared/hostErrors.ts';
import { decodeControl, encodeControl, type ControlDocument } from './controlCbor.ts';
import { controlTopics } from './controlTopics.ts';
import type { MessageRouter } from './MessageRouter.ts';
import type { OperatorConnection } from './OperatorConnection.ts';

export interface CommandResult {
  readonly id: string;
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
  readonly data?: ControlDocument;
}

/** A result document, or undefined when it lacks the contract's `id` and `ok`. */
export function readResult(doc: ControlDocument | undefined): CommandResult | undefined {
  if (!doc || typeof doc.id !== 'string' || typeof doc.ok !== 'boolean') return undefined;
  return {
    id: doc.id,
    ok: doc.ok,
    ...(typeof doc.code === 'string' ? { code: doc.code } : {}),
    ...(typeof doc.message === 'string' ? { message: doc.message } : {}),
    ...(typeof doc.data === 'object' && doc.data !== null && !Array.isArray(doc.data) ? { data: doc.data as ControlDocument } : {}),
  };
}

export interface SendCommandOptions {
  readonly connection: OperatorConnection;
  readonly router: MessageRouter;
  readonly thing: string;
  readonly name: string;
  readonly args?: ControlDocument;
  readonly timeoutMs: number;
  /** Default: a random UUID. */
  readonly id?: string;
}

export async function sendCommand(options: SendCommandOptions): Promise<CommandResult> {
  const topics = controlTopics(options.thing);
  const id = options.id ?? randomUUID();
  let stop = (): void => {};
  const answered = new Promise<CommandResult>((done) => {
    stop = options.router.on((m) => {
      if (m.topic !== topics.result) return;
      const result = readResult(decodeControl(m.payload));
      if (result?.id === id) done(result);
    });
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await options.connection.subscribe([topics.result]);
    await options.connection.publish(topics.cmd, encodeControl({ id, name: options.name, ...(options.args ? { args: options.args } : {}) }));
    const timedOut = new Promise<never>((_, fail) => {
      timer = setTimeout(
        () =>
          fail(
            new FieldcamError(
              'CLI_DEVICE_NO_ANSWER',
              `${options.thing} did not answer '${options.name}' (id ${id}) within ${options.timeoutMs / 1000} s; it may be offline (try \`fieldcam devices\`)`,
            ),
          ),
        options.timeoutMs,
      );
    });
    return await Promise.race([answered, timedOut, options.connection.lost.then((err) => Promise.reject(err))]);
  } finally {
    clearTimeout(timer);
    stop();
  }
}
