import { FieldcamError, isFieldcamError } from '../shared/hostErrors.ts';
import { EXIT, reportError } from '../lib/CliError.ts';
import type { ControlDocument } from '../lib/control/controlCbor.ts';
import { CONTROL_COMMANDS, isControlCommand, parseCommandArgs } from '../lib/control/controlCommands.ts';
import { CONTROL_SETTINGS, parseSetting, type SettingName, type SettingValue } from '../lib/control/controlSettings.ts';
import { readConfigDocument, readRetainedConfig, updateConfig, type ConfigDocument } from '../lib/control/deviceConfig.ts';
import { formatTable, formatTelemetry, wantsColour } from '../lib/control/formatControl.ts';
import type { OperatorConnection } from '../lib/control/OperatorConnection.ts';
import { OPERATOR_OPTIONS, OperatorTarget, operatorFlags } from '../lib/control/OperatorTarget.ts';
import { parseAssignments } from '../lib/control/parseAssignments.ts';
import { describeHealth, readRetainedHealth } from '../lib/control/readRetainedHealth.ts';
import { MessageRouter } from '../lib/control/MessageRouter.ts';
import { sendCommand, type CommandResult } from '../lib/control/sendCommand.ts';
import { eventLine, watchEvent, watchTopics, WatchScreen } from '../lib/control/watchDevice.ts';
import { numberFlag, readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import { profileFromTelemetry } from '../lib/profile/profileFromTelemetry.ts';
import { renderReport } from '../lib/profile/renderReport.ts';
import { writeFileAtomic } from '../shared/writeFileAtomic.ts';
import { CAMERA_NAME, THING_NAME } from '../../firmware/core/iot/iotNames.ts';
import { telemetryOfCamera } from '../lib/control/telemetryOfCamera.ts';
import type { Command } from './fieldcam.ts';

const DEFAULT_TIMEOUT_S = 20;
/** `stop` answers once its last fragment is PERSISTED and `tag` once its fragment is sent, each within 30 s. */
const SLOW_COMMANDS: Readonly<Record<string, number>> = Object.freeze({ stop: 40, tag: 40 });

const spec: CommandSpec = {
  name: 'device',
  usage:
    'device <thing> (watch | config [name=value …] | profile [--duration S] [-o report.html] | event [--pre T] [--post T] [name=value …] | status [--camera NAME] | <command> [name=value …]) [--timeout S] [--json]',
  summary:
    'Steer and observe one camera over its control channel (docs/control-channel.md): send a command and wait\n' +
    'for its result, show or change its desired configuration, or watch what it publishes. Connects to the MQTT\n' +
    'endpoint over WebSockets with your AWS credentials (SigV4), as AWS IoT allows IAM principals.',
  options: {
    timeout: { type: 'string', value: 'S', help: `seconds to wait for the device's answer (default ${DEFAULT_TIMEOUT_S}; stop and tag ${SLOW_COMMANDS.stop})` },
    json: { type: 'boolean', help: "print the result (watch: one JSON line per message; profile: the report's numbers)" },
    duration: { type: 'string', value: 'S', help: 'profile: seconds to record (default 60)' },
    pre: { type: 'string', value: 'T', help: "event: video before the event to upload, e.g. 10s (default: the device's recording.preRollMs, at most that)" },
    post: { type: 'string', value: 'T', help: "event: video after the event to upload, e.g. 20s, at most 10m (default: the device's recording.postMs)" },
    interval: { type: 'string', value: 'S', help: 'profile: seconds between two `status` requests (default 1)' },
    output: { type: 'string', short: 'o', value: 'file', help: 'profile: the HTML report (default: profile-<thing>.html)' },
    camera: {
      type: 'string',
      value: 'NAME',
      help: "status: one camera of a device with several (its frames, fragments, pool, last PERSISTED, stream, spool and events in place of the device's sums)",
    },
    ...OPERATOR_OPTIONS,
  },
  details: () =>
    [
      'commands:',
      ...formatTable([
        ['', ''],
        ...Object.entries(CONTROL_COMMANDS).map(([n, h]) => [n, h]),
        ['watch', 'live telemetry, health, reported configuration and results (Ctrl-C ends)'],
        ['profile', "the fieldcam profile report from the device's telemetry (a status request each --interval, for --duration)"],
        ['config', 'show desired/reported configuration; with name=value …, write a new desired version'],
      ])
        .slice(1)
        .map((l) => `  ${l}`),
      '',
      'settings (set, config):',
      ...Object.entries(CONTROL_SETTINGS).map(([n, s]) => `  ${n}=${s.type === 'bool' ? 'true|false' : `${s.min}-${s.max} (${s.unit})`}`),
      '',
      `exit status: 0 ok, ${EXIT.DEVICE_REFUSED} the device refused (its code and message are printed), ${EXIT.DEVICE_NO_ANSWER} no answer in time,`,
      `${EXIT.USAGE} usage, ${EXIT.FAILED} other errors (unknown thing, broker unreachable or refused).`,
      '',
      'examples (local cloud, AWS_CA_BUNDLE=<state>/ca.pem):',
      '  fieldcam device cam-1 status --endpoint-url https://127.0.0.1:4590',
      '  fieldcam device gate status --camera front --endpoint-url https://127.0.0.1:4590',
      '  fieldcam device cam-1 set fragmentMs=4000 --endpoint-url https://127.0.0.1:4590',
      '  fieldcam device cam-1 tag name=event value=door-open --endpoint-url https://127.0.0.1:4590',
      '  fieldcam device cam-1 event --pre 10s --post 20s motion=front --endpoint-url https://127.0.0.1:4590',
    ].join('\n'),
};

function write(lines: readonly string[]): void {
  process.stdout.write(lines.join('\n') + '\n');
}

function settingsLines(doc: ConfigDocument | undefined, label: string): string[] {
  if (!doc) return [`${label}: none retained`];
  const rows = Object.entries(doc.settings).map(([k, v]) => [
    `  ${k}`,
    v === null ? 'device default' : String(v),
    doc.rejected?.[k] ? `rejected: ${doc.rejected[k]}` : '',
  ]);
  for (const [k, code] of Object.entries(doc.rejected ?? {})) if (!(k in doc.settings)) rows.push([`  ${k}`, '-', `rejected: ${code}`]);
  return [`${label} (version ${doc.version}):`, ...(rows.length ? formatTable(rows) : ['  (no settings)'])];
}

/** What an ok result's `data` means, per command (docs/control-channel.md, "result data"). */
function resultLines(thing: string, name: string, result: CommandResult): string[] {
  const head = `${thing}: ${name} ok`;
  const data = result.data;
  if (!data || Object.keys(data).length === 0) return [head];
  if (name === 'status') return [head, ...formatTelemetry(data, wantsColour(process.stdout))];
  if (name === 'set') return [head, ...settingsLines(readConfigDocument(data), 'reported')];
  if (name === 'tag' && typeof data.fragment === 'number')
    return [`${head}: on the fragment at ${new Date(data.fragment).toISOString()} (timecode ${data.fragment})`];
  if (name === 'event' && typeof data.clip === 'number') {
    const at = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString() : '?');
    return [
      `${head}: ${data.merged ? 'joined' : 'opened'} clip ${data.clip}, window ${at(data.from)} → ${at(data.to)}; ${String(data.fragments)} fragment(s) of pre-roll sent, ${String(data.tagsKept)} tag(s) kept`,
    ];
  }
  if (name === 'reload-credentials' && typeof data.expiration === 'string') return [`${head}: new credentials expire ${data.expiration}`];
  return [head, JSON.stringify(data)];
}

interface Session {
  readonly thing: string;
  readonly target: OperatorTarget;
  readonly json: boolean;
  /** undefined: the command's default. */
  readonly timeoutMs: number | undefined;
  /** `status --camera NAME`: that camera's telemetry (telemetryOfCamera). */
  readonly camera?: string;
}

async function runCommand(s: Session, name: string, args: ControlDocument | undefined): Promise<number> {
  const router = new MessageRouter();
  const connection = await s.target.connect({ onMessage: router.dispatch });
  try {
    const timeoutMs = s.timeoutMs ?? (SLOW_COMMANDS[name] ?? DEFAULT_TIMEOUT_S) * 1000;
    const result = await sendCommand({ connection, router, thing: s.thing, name, ...(args ? { args } : {}), timeoutMs }).catch(async (err: unknown) => {
      if (!isFieldcamError(err, 'CLI_DEVICE_NO_ANSWER')) throw err;
      // Say why, if the broker knows: offline (Will / shutdown) or never connected.
      const health = await readRetainedHealth(connection, router, s.thing, 1500).catch(() => undefined);
      throw new FieldcamError('CLI_DEVICE_NO_ANSWER', `${err.message}; ${describeHealth(health)}`);
    });
    if (s.camera !== undefined && result.ok && result.data) Object.assign(result, { data: telemetryOfCamera(result.data, s.thing, s.camera) });
    if (s.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    if (!result.ok) {
      process.stderr.write(`fieldcam: ${s.thing} refused '${name}': ${result.code ?? 'no code'}: ${result.message ?? 'no message'}\n`);
      return EXIT.DEVICE_REFUSED;
    }
    if (!s.json) write(resultLines(s.thing, name, result));
    return EXIT.OK;
  } finally {
    await connection.close();
  }
}

async function runConfig(s: Session, assignments: readonly string[]): Promise<number> {
  const where = `device ${s.thing} config`;
  const changes: Partial<Record<SettingName, SettingValue>> = {};
  for (const [name, raw] of parseAssignments(where, assignments)) changes[name as SettingName] = parseSetting(where, name, raw);
  const router = new MessageRouter();
  const connection: OperatorConnection = await s.target.connect({ onMessage: router.dispatch });
  const ctx = { connection, router, thing: s.thing };
  try {
    if (assignments.length === 0) {
      const current = await readRetainedConfig(ctx, 1500);
      if (s.json)
        process.stdout.write(JSON.stringify({ thing: s.thing, desired: current.desired ?? null, reported: current.reported ?? null }, null, 2) + '\n');
      else write([...settingsLines(current.desired, 'desired'), ...settingsLines(current.reported, 'reported')]);
      return EXIT.OK;
    }
    const update = await updateConfig(ctx, changes, { graceMs: 1500, timeoutMs: s.timeoutMs ?? DEFAULT_TIMEOUT_S * 1000 });
    const rejected = Object.entries(update.reported.rejected ?? {});
    if (s.json) process.stdout.write(JSON.stringify({ thing: s.thing, ...update }, null, 2) + '\n');
    else write([`${s.thing}: desired version ${update.desired.version} published`, ...settingsLines(update.reported, 'reported')]);
    if (rejected.length > 0) {
      process.stderr.write(`fieldcam: ${s.thing} rejected ${rejected.map(([k, code]) => `${k} (${code})`).join(', ')}\n`);
      return EXIT.DEVICE_REFUSED;
    }
    return EXIT.OK;
  } finally {
    await connection.close();
  }
}

async function runWatch(s: Session): Promise<number> {
  const tty = process.stdout.isTTY === true && !s.json;
  const screen = new WatchScreen(s.thing, wantsColour(process.stdout));
  const draw = (): void => void process.stdout.write(screen.render(Date.now()));
  const connection = await s.target.connect({
    reconnect: true,
    onMessage: (m) => {
      const event = watchEvent(s.thing, m.topic, m.payload, m.retain, Date.now());
      if (!event) return;
      if (!tty) return void process.stdout.write(eventLine(event, s.json) + '\n');
      screen.add(event);
      draw();
    },
    onState: (state) => {
      if (!tty) return void process.stderr.write(`fieldcam: ${state === 'offline' ? 'connection lost, reconnecting' : 'reconnected'}\n`);
      screen.connection(state === 'offline' ? 'reconnecting' : 'connected');
      draw();
    },
  });
  screen.connection('connected');
  if (tty) draw();
  else process.stderr.write(`fieldcam: watching ${s.thing} (Ctrl-C ends)\n`);
  // Refresh the ages shown on a terminal once a second; a pipe gets only messages.
  const ticker = tty ? setInterval(draw, 1000) : undefined;
  try {
    await connection.subscribe(watchTopics(s.thing));
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    return EXIT.OK;
  } finally {
    clearInterval(ticker);
    await connection.close();
  }
}

/**
 * `device <thing> profile`: a `status` request every interval (its answer is a telemetry record) and any
 * telemetry the device publishes, for the duration; then the profile report (docs/profiling.md §Field devices).
 */
async function runProfile(s: Session, durationS: number, intervalS: number, output: string): Promise<number> {
  const router = new MessageRouter();
  const records: { at: number; doc: ControlDocument }[] = [];
  router.on((m) => {
    const event = watchEvent(s.thing, m.topic, m.payload, m.retain, Date.now());
    if (event?.leaf === 'telemetry' && !event.retained) records.push({ at: event.at, doc: event.document });
  });
  const connection = await s.target.connect({ onMessage: router.dispatch });
  try {
    await connection.subscribe(watchTopics(s.thing));
    process.stderr.write(`fieldcam: profiling ${s.thing} for ${durationS} s\n`);
    const end = Date.now() + durationS * 1000;
    while (Date.now() < end) {
      const asked = Date.now();
      const result = await sendCommand({ connection, router, thing: s.thing, name: 'status', timeoutMs: Math.max(1000, end - asked) }).catch((err: unknown) => {
        if (isFieldcamError(err, 'CLI_DEVICE_NO_ANSWER')) return undefined;
        throw err;
      });
      if (result?.ok && result.data) records.push({ at: Date.now(), doc: result.data });
      const wait = asked + intervalS * 1000 - Date.now();
      if (wait > 0 && Date.now() + wait < end) await new Promise((done) => setTimeout(done, wait));
      else if (wait > 0) break;
    }
  } finally {
    await connection.close();
  }
  if (records.length === 0) throw new FieldcamError('CLI_DEVICE_NO_ANSWER', `${s.thing} sent no telemetry and answered no status request in ${durationS} s`);
  records.sort((a, b) => a.at - b.at);
  const report = profileFromTelemetry(s.thing, records, durationS);
  writeFileAtomic(output, renderReport([report]));
  if (s.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else
    write([
      `${s.thing}: ${records.length} telemetry records; report written to ${output}`,
      ...report.budgets.map((b) => `  ${b.name}: ${b.measured} of ${b.budget} ${b.unit}: ${b.ok ? 'within budget' : 'OVER BUDGET'}`),
    ]);
  return EXIT.OK;
}

export const deviceCommand: Command = {
  summary: 'steer one camera: a command (start, stop, set, tag, event, status, reload-credentials, restart), its config, or watch it',
  async run(argv) {
    const parsed = readCommandLine(spec, argv);
    if (!parsed) return EXIT.OK;
    const { values, positionals } = parsed;
    const [thing, verb, ...rest] = positionals;
    if (thing === undefined || verb === undefined) throw new FieldcamError('CLI_USAGE', 'device: usage: fieldcam device <thing> <command> [name=value …]');
    if (!THING_NAME.test(thing)) throw new FieldcamError('CLI_USAGE', `device: '${thing}' is not a thing name (1-128 of a-z A-Z 0-9 : _ -)`);
    const timeoutS = numberFlag(spec, 'timeout', values.timeout, 1, 3600);
    const timeoutMs = timeoutS === undefined ? undefined : timeoutS * 1000;
    const json = values.json === true;
    // Everything about the command line is checked before anything is connected.
    let args: ControlDocument | undefined;
    if (verb === 'watch' || verb === 'profile') {
      if (rest.length > 0) throw new FieldcamError('CLI_USAGE', `device ${thing} ${verb}: unexpected argument '${rest[0]}'`);
    } else if (verb === 'config') {
      for (const [name, raw] of parseAssignments(`device ${thing} config`, rest)) parseSetting(`device ${thing} config`, name, raw);
    } else if (isControlCommand(verb)) {
      args = parseCommandArgs(thing, verb, rest, {
        ...(typeof values.pre === 'string' ? { pre: values.pre } : {}),
        ...(typeof values.post === 'string' ? { post: values.post } : {}),
      }) as ControlDocument | undefined;
    } else {
      throw new FieldcamError(
        'CLI_USAGE',
        `device: unknown command '${verb}'; commands: ${[...Object.keys(CONTROL_COMMANDS), 'watch', 'config', 'profile'].join(', ')}`,
      );
    }
    const durationS = numberFlag(spec, 'duration', values.duration, 1, 86400) ?? 60;
    const intervalS = numberFlag(spec, 'interval', values.interval, 0.2, 3600) ?? 1;
    const output = typeof values.output === 'string' ? values.output : `profile-${thing}.html`;
    const target = new OperatorTarget(operatorFlags(values));
    const camera = typeof values.camera === 'string' ? values.camera : undefined;
    if (camera !== undefined && verb !== 'status')
      throw new FieldcamError('CLI_USAGE', `device ${thing} ${verb}: --camera goes with status (a command applies to every camera of the device)`);
    if (camera !== undefined && !CAMERA_NAME.test(camera)) throw new FieldcamError('CLI_USAGE', `device ${thing}: --camera '${camera}' is not a camera name`);
    const session: Session = { thing, target, json, timeoutMs, ...(camera !== undefined ? { camera } : {}) };
    try {
      await target.requireThing(thing);
      if (verb === 'watch') return await runWatch(session);
      if (verb === 'profile') return await runProfile(session, durationS, intervalS, output);
      if (verb === 'config') return await runConfig(session, rest);
      return await runCommand(session, verb, args);
    } catch (err) {
      if (!isFieldcamError(err, 'CLI_DEVICE_NO_ANSWER')) throw err;
      reportError(err);
      return EXIT.DEVICE_NO_ANSWER;
    } finally {
      target.destroy();
    }
  },
};
