// Desired / reported configuration (docs/control-channel.md §Desired and reported configuration): read the
// retained documents, and write a new desired document whose version is one above any seen, then wait for
// the device's reported document with that version.
import { FieldcamError } from '../../shared/hostErrors.ts';
import { decodeControl, encodeControl, type ControlDocument } from './controlCbor.ts';
import { knownSettings, type SettingName, type SettingValue } from './controlSettings.ts';
import { controlTopics } from './controlTopics.ts';
import type { OperatorConnection } from './OperatorConnection.ts';
import type { MessageRouter } from './MessageRouter.ts';

export interface ConfigDocument {
  readonly version: number;
  /** null: the device's own default (e.g. the camera's frame rate). */
  readonly settings: Partial<Record<SettingName, SettingValue | null>>;
  /** Reported only: key → error code. */
  readonly rejected?: Readonly<Record<string, string>>;
}

/** A desired or reported document, or undefined when it has no whole `version`. */
export function readConfigDocument(doc: ControlDocument | undefined): ConfigDocument | undefined {
  if (!doc || typeof doc.version !== 'number' || !Number.isInteger(doc.version) || doc.version < 0) return undefined;
  const rejected: Record<string, string> = {};
  if (typeof doc.rejected === 'object' && doc.rejected !== null) {
    for (const [k, v] of Object.entries(doc.rejected)) rejected[k] = typeof v === 'string' ? v : String(v);
  }
  return { version: doc.version, settings: knownSettings(doc.settings), ...(Object.keys(rejected).length > 0 ? { rejected } : {}) };
}

export interface ConfigContext {
  readonly connection: OperatorConnection;
  readonly router: MessageRouter;
  readonly thing: string;
}

export interface RetainedConfig {
  desired?: ConfigDocument;
  reported?: ConfigDocument;
}

/**
 * The retained desired and reported documents. A broker sends retained messages right after the SUBACK;
 * that none exists can only be told by their absence, so this waits up to `graceMs` for the missing ones.
 */
export async function readRetainedConfig(ctx: ConfigContext, graceMs: number): Promise<RetainedConfig> {
  const topics = controlTopics(ctx.thing);
  const seen: RetainedConfig = {};
  let both = (): void => {};
  const complete = new Promise<void>((done) => (both = done));
  const stop = ctx.router.on((m) => {
    if (!m.retain) return;
    if (m.topic === topics.desired) seen.desired = readConfigDocument(decodeControl(m.payload));
    else if (m.topic === topics.reported) seen.reported = readConfigDocument(decodeControl(m.payload));
    else return;
    if (seen.desired && seen.reported) both();
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await ctx.connection.subscribe([topics.desired, topics.reported]);
    await Promise.race([complete, new Promise<void>((done) => (timer = setTimeout(done, graceMs)))]);
    return seen;
  } finally {
    clearTimeout(timer);
    stop();
  }
}

export interface ConfigUpdate {
  readonly desired: ConfigDocument;
  readonly reported: ConfigDocument;
}

/**
 * Publishes `{ version: max(desired, reported) + 1, settings: desired's merged with `changes` }` retained at
 * QoS 1 and waits for the reported document of that version. The desired document stays retained: a device
 * that is offline applies it when it connects, which the timeout message says.
 */
export async function updateConfig(
  ctx: ConfigContext,
  changes: Partial<Record<SettingName, SettingValue>>,
  options: { readonly graceMs: number; readonly timeoutMs: number },
): Promise<ConfigUpdate> {
  const topics = controlTopics(ctx.thing);
  let answer = (_: ConfigDocument): void => {};
  let wantVersion = Infinity;
  const reported = new Promise<ConfigDocument>((done) => (answer = done));
  // Listening before the publish: the device may report before PUBACK reaches us.
  const stop = ctx.router.on((m) => {
    if (m.topic !== topics.reported) return;
    const doc = readConfigDocument(decodeControl(m.payload));
    if (doc && doc.version >= wantVersion) answer(doc);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const current = await readRetainedConfig(ctx, options.graceMs);
    const version = Math.max(current.desired?.version ?? 0, current.reported?.version ?? 0) + 1;
    // Only values an operator wrote are carried over: a null in a desired document would be refused.
    const kept = Object.entries(current.desired?.settings ?? {}).filter(([, v]) => v !== null);
    const desired: ConfigDocument = { version, settings: { ...Object.fromEntries(kept), ...changes } };
    wantVersion = version;
    await ctx.connection.publish(topics.desired, encodeControl({ version, settings: desired.settings }), true);
    const timedOut = new Promise<never>((_, fail) => {
      timer = setTimeout(
        () =>
          fail(
            new FieldcamError(
              'CLI_DEVICE_NO_ANSWER',
              `${ctx.thing} did not report configuration version ${version} within ${options.timeoutMs / 1000} s; it may be offline (try \`fieldcam devices\`). ` +
                'The desired document is retained: the device applies it when it connects',
            ),
          ),
        options.timeoutMs,
      );
    });
    return { desired, reported: await Promise.race([reported, timedOut, ctx.connection.lost.then((err) => Promise.reject(err))]) };
  } finally {
    clearTimeout(timer);
    stop();
  }
}
