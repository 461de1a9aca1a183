// One handler per control command (docs/control-channel.md), in a frozen table keyed by the command's name:
// a new command is one entry here and one name in decodeCommand's COMMAND_NAMES. Handlers see the channel only
// through CommandContext; what they return is the result's `data`, what they throw its error.
import { FieldcamError } from '../errors.ts';
import type { DeviceControls } from './ControlPorts.ts';
import { checkSetting, type SettingsPatch } from './ControlSettings.ts';
import type { CommandName } from './decodeCommand.ts';
import { eventCommandRequest } from './eventCommandRequest.ts';

/** What a command may do to the channel it arrived on. */
export interface CommandContext {
  readonly device: DeviceControls;
  telemetry(): Record<string, unknown>;
  /** Applies a validated patch; the device's promise when streaming was switched. */
  apply(patch: SettingsPatch): Promise<void> | undefined;
  saveState(): void;
  checkHealth(): void;
  publishReported(): void;
  reported(): Record<string, unknown>;
  /** `p`, or `fallback` once the command timeout passed. */
  bounded<T>(p: Promise<T>, fallback: T): Promise<T>;
}

type Args = Record<string, unknown>;
type Data = Record<string, unknown> | undefined;
type Handler = (ctx: CommandContext, args: Args, name: CommandName) => Data | Promise<Data>;

function noArgs(name: string, args: Args): void {
  const keys = Object.keys(args);
  if (keys.length > 0) throw new FieldcamError('CONTROL_ARGUMENT_INVALID', `${name} takes no arguments (got ${keys[0]!.slice(0, 64)})`);
}

async function startStop(ctx: CommandContext, args: Args, name: CommandName): Promise<Data> {
  noArgs(name, args);
  const switched = ctx.apply({ streaming: name === 'start' });
  ctx.saveState();
  ctx.checkHealth();
  if (switched && name === 'stop') await ctx.bounded(switched, undefined); // answered once the last fragment is PERSISTED
  return undefined;
}

export const COMMAND_HANDLERS: Readonly<Record<CommandName, Handler>> = Object.freeze({
  status(ctx: CommandContext, args: Args): Data {
    noArgs('status', args);
    return ctx.telemetry();
  },
  start: startStop,
  stop: startStop,
  set(ctx: CommandContext, args: Args): Data {
    const keys = Object.keys(args);
    if (keys.length === 0) throw new FieldcamError('CONTROL_ARGUMENT_INVALID', 'set needs at least one setting');
    for (const key of keys) {
      const error = checkSetting(key, args[key], ctx.device.capabilities);
      if (error) throw error;
    }
    ctx.apply(args as SettingsPatch);
    ctx.saveState();
    ctx.publishReported();
    ctx.checkHealth();
    return ctx.reported();
  },
  async tag(ctx: CommandContext, args: Args): Promise<Data> {
    for (const key of Object.keys(args)) {
      if (key !== 'name' && key !== 'value') throw new FieldcamError('CONTROL_ARGUMENT_INVALID', `unknown tag argument ${key.slice(0, 64)} (name, value)`);
    }
    const { name, value } = args;
    if (typeof name !== 'string' || name.length < 1 || name.length > 128)
      throw new FieldcamError('CONTROL_ARGUMENT_INVALID', 'tag name must be text of 1-128 characters');
    if (typeof value !== 'string' || value.length > 256)
      throw new FieldcamError('CONTROL_ARGUMENT_INVALID', 'tag value must be text of at most 256 characters');
    const fragment = await ctx.bounded(ctx.device.tagNextFragment(name, value), -1);
    return fragment >= 0 ? { fragment } : {};
  },
  event(ctx: CommandContext, args: Args): Data {
    const o = ctx.device.event(eventCommandRequest(args));
    return { clip: o.clip, merged: o.merged, at: o.at, from: o.from, to: o.to, fragments: o.fragments, tagsKept: o.tagsKept };
  },
  async 'reload-credentials'(ctx: CommandContext, args: Args): Promise<Data> {
    noArgs('reload-credentials', args);
    if (!ctx.device.reloadCredentials) throw new FieldcamError('CONTROL_UNSUPPORTED', 'this device uses static keys: there are no IoT credentials to reload');
    const expiration = await ctx.device.reloadCredentials();
    return { expiration: new Date(expiration).toISOString() };
  },
  restart(_ctx: CommandContext, args: Args): Data {
    noArgs('restart', args); // the channel restarts the device once the result is out
    return undefined;
  },
});
