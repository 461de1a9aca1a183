// The names a camera is known by in AWS IoT, checked the same way by the device, the CLI and doctor
// (kvs-reference.md §9.1; AWS IoT API reference, CreateThing and CreateRoleAlias). Neither regex has the
// g or y flag, so `test` keeps no state and one instance is safely shared.

/** AWS IoT thing names: 1-128 of [a-zA-Z0-9:_-]. */
export const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/** AWS IoT role alias names: 1-128 of [\w=,@-]. */
export const ROLE_ALIAS = /^[\w=,@-]{1,128}$/;
