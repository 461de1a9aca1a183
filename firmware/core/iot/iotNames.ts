// The names a camera is known by in AWS IoT, checked the same way by the device, the CLI and doctor
// (kvs-reference.md §9.1; AWS IoT API reference, CreateThing and CreateRoleAlias). Neither regex has the
// g or y flag, so `test` keeps no state and one instance is safely shared.

/** AWS IoT thing names: 1-128 of [a-zA-Z0-9:_-]. */
export const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/** AWS IoT role alias names: 1-128 of [\w=,@-]. */
export const ROLE_ALIAS = /^[\w=,@-]{1,128}$/;

/**
 * A camera's name inside its device (issue 18: several cameras per device): 1-32 of [a-z0-9_-], starting with a
 * letter or digit. Lower case and short so `<thing>-<camera>` stays a valid KVS stream name (STREAM_NAME, ≤ 256)
 * for any thing name without ':' and reads well in the console.
 */
export const CAMERA_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** The most cameras one device runs (one runtime, one memory budget; KVS allows any number of streams). */
export const MAX_CAMERAS = 4;

/**
 * The KVS stream of camera `camera` of thing `thing`: `<thing>-<camera>`. The role policy allows
 * `stream/${credentials-iot:ThingName}-*` beside `stream/${credentials-iot:ThingName}`, so one certificate drives
 * every camera of its device and no other device's streams (user-needs row 14). The one place this rule lives.
 */
export function cameraStreamName(thing: string, camera: string): string {
  return `${thing}-${camera}`;
}
