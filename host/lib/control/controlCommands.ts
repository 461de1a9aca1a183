// The commands of docs/control-channel.md §Command, with their arguments parsed and checked on the host:
// a usage error names the argument before any connection is made.
import { FieldcamError, isFieldcamError } from '../../shared/hostErrors.ts';
import { EVENT_LIMITS } from '../../../firmware/core/events/eventLimits.ts';
import { eventRequest } from '../../../firmware/core/events/EventRequest.ts';
import { parseDuration } from '../../../firmware/core/events/parseDuration.ts';
import { parseSetting } from './controlSettings.ts';
import { parseAssignments } from './parseAssignments.ts';

export const CONTROL_COMMANDS = Object.freeze({
  start: 'resume streaming (new session from the next key frame); persisted',
  stop: 'finish the current fragment, wait for its PERSISTED, stop uploading; persisted',
  set: 'change settings now (name=value …); persisted and reported',
  tag: 'add a tag to the next fragment: name=<1-128 bytes> [value=<≤256 bytes>]',
  event: 'an event (recording mode "event", docs/events.md): its pre-roll and post window go up as one clip tagged name=value … [--pre 10s] [--post 20s]',
  status: "print the device's telemetry record",
  'reload-credentials': 'fetch new IoT credentials now',
  restart: 'flush the last fragment and restart the device',
} as const);

export type ControlCommandName = keyof typeof CONTROL_COMMANDS;

export function isControlCommand(name: string): name is ControlCommandName {
  return Object.hasOwn(CONTROL_COMMANDS, name);
}

/** KVS fragment metadata limits (kvs-reference.md §5.6), in UTF-8 bytes. */
const TAG_NAME_MAX_BYTES = 128;
const TAG_VALUE_MAX_BYTES = 256;

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** `--pre`/`--post` of the `event` command, as given on the command line. */
export interface EventFlags {
  readonly pre?: string;
  readonly post?: string;
}

/**
 * The `args` of an `event` command: `{ pre?, post?, tags }` in ms, checked by the device's own rules (the trigger
 * line's durations and tags) so a bad argument is a usage error before anything connects.
 */
function eventArgs(where: string, pairs: readonly (readonly [string, string])[], flags: EventFlags): Record<string, unknown> {
  try {
    const pre = flags.pre === undefined ? undefined : parseDuration(flags.pre, '--pre', EVENT_LIMITS.preMsAnyBoard);
    const post = flags.post === undefined ? undefined : parseDuration(flags.post, '--post', EVENT_LIMITS.postMsMax);
    const request = eventRequest(
      pre,
      post,
      pairs.map(([n]) => n),
      pairs.map(([, v]) => v),
    );
    const tags: Record<string, string> = {};
    request.names.forEach((n, i) => {
      tags[n] = request.values[i]!;
    });
    return { ...(pre !== undefined ? { pre } : {}), ...(post !== undefined ? { post } : {}), tags };
  } catch (err) {
    if (isFieldcamError(err)) throw new FieldcamError('CLI_USAGE', `${where}: ${err.message} (${err.remedy})`);
    throw err;
  }
}

/** The `args` map of a command, from `name=value` arguments; undefined for commands without arguments. */
export function parseCommandArgs(
  thing: string,
  command: ControlCommandName,
  args: readonly string[],
  flags: EventFlags = {},
): Record<string, unknown> | undefined {
  const where = `device ${thing} ${command}`;
  const pairs = parseAssignments(where, args);
  if (command !== 'event' && (flags.pre !== undefined || flags.post !== undefined)) {
    throw new FieldcamError('CLI_USAGE', `${where}: --pre and --post are options of the event command`);
  }
  switch (command) {
    case 'event':
      return eventArgs(where, pairs, flags);
    case 'set': {
      if (pairs.length === 0) throw new FieldcamError('CLI_USAGE', `${where}: name at least one setting, e.g. fragmentMs=4000`);
      return Object.fromEntries(pairs.map(([name, raw]) => [name, parseSetting(where, name, raw)]));
    }
    case 'tag': {
      const map = new Map(pairs);
      for (const name of map.keys()) {
        if (name !== 'name' && name !== 'value') throw new FieldcamError('CLI_USAGE', `${where}: unknown argument '${name}'; tag takes name= and value=`);
      }
      const name = map.get('name');
      if (name === undefined || name === '' || utf8Length(name) > TAG_NAME_MAX_BYTES) {
        throw new FieldcamError('CLI_USAGE', `${where}: name=<tag name> is required, 1-${TAG_NAME_MAX_BYTES} bytes of UTF-8`);
      }
      if (name.startsWith('AWS')) throw new FieldcamError('CLI_USAGE', `${where}: name '${name}' starts with AWS, which Kinesis Video Streams reserves`);
      const value = map.get('value') ?? '';
      if (utf8Length(value) > TAG_VALUE_MAX_BYTES)
        throw new FieldcamError('CLI_USAGE', `${where}: value is ${utf8Length(value)} bytes; at most ${TAG_VALUE_MAX_BYTES}`);
      return { name, value };
    }
    default:
      if (pairs.length > 0) throw new FieldcamError('CLI_USAGE', `${where}: '${command}' takes no arguments, got '${pairs[0]![0]}=…'`);
      return undefined;
  }
}
