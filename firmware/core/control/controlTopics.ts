/** The control channel's topics for one thing (docs/control-channel.md, "Topics"). */
export interface ControlTopics {
  readonly cmd: string;
  readonly result: string;
  readonly desired: string;
  readonly reported: string;
  readonly telemetry: string;
  readonly health: string;
}

/** `fieldcam/<thing>/…`; the thing name is the MQTT client id and the only prefix the IoT policy allows. */
export function controlTopics(thing: string): ControlTopics {
  const base = `fieldcam/${thing}/`;
  return Object.freeze({
    cmd: `${base}cmd`,
    result: `${base}result`,
    desired: `${base}config/desired`,
    reported: `${base}config/reported`,
    telemetry: `${base}telemetry`,
    health: `${base}health`,
  });
}
