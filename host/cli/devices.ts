import { FieldcamError } from '../shared/hostErrors.ts';
import { EXIT } from '../lib/CliError.ts';
import { formatMs, formatTable, paintHealth, wantsColour } from '../lib/control/formatControl.ts';
import { OPERATOR_OPTIONS, OperatorTarget, operatorFlags } from '../lib/control/OperatorTarget.ts';
import { HEALTH_STATES, readFleet, type FleetRow, type HealthState } from '../lib/control/readFleet.ts';
import { MessageRouter } from '../lib/control/MessageRouter.ts';
import { numberFlag, readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import type { Command } from './fieldcam.ts';

const spec: CommandSpec = {
  name: 'devices',
  usage: 'devices [--wait S] [--json] [--fail-on amber|red|offline] [--endpoint-url URL] [--mqtt-endpoint host[:port]]',
  summary:
    'The fleet table: every camera provision created (IoT things of type fieldcam-camera) with its health\n' +
    '(retained on fieldcam/<thing>/health), the reason, the age of its last PERSISTED acknowledgement, and from\n' +
    'the telemetry seen within --wait: frames in/out, drops, pool fill and ACK latency. Connects to the MQTT\n' +
    'endpoint over WebSockets with your AWS credentials (SigV4), as AWS IoT allows IAM principals.',
  options: {
    wait: { type: 'string', value: 'S', help: 'seconds to listen for telemetry (default 2; health is retained and arrives at once)' },
    json: { type: 'boolean', help: 'print the rows and the summary as JSON' },
    'fail-on': { type: 'string', value: 'state', help: 'exit 1 if a camera is at this state or worse (amber < red < offline), for scripts' },
    ...OPERATOR_OPTIONS,
  },
  details:
    "health: green / amber / red from the last PERSISTED age (docs/control-channel.md), offline (the device's\n" +
    'Will: its connection dropped), unknown (never published: not booted with the control channel).\n\n' +
    'example (local cloud, AWS_CA_BUNDLE=<state>/ca.pem):\n  fieldcam devices --endpoint-url https://127.0.0.1:4590',
};

/** Severity for --fail-on: unknown counts as nothing known, not as a failure. */
const SEVERITY: Readonly<Record<HealthState, number>> = Object.freeze({ unknown: 0, green: 0, amber: 1, red: 2, offline: 3 });
const FAIL_ON = Object.freeze(['amber', 'red', 'offline'] as const);

function summary(rows: readonly FleetRow[]): Record<HealthState, number> {
  const counts = Object.fromEntries(HEALTH_STATES.map((s) => [s, 0])) as Record<HealthState, number>;
  for (const r of rows) counts[r.health]++;
  return counts;
}

function tableLines(rows: readonly FleetRow[], colour: boolean): string[] {
  const cell = (v: number | undefined): string => (v === undefined ? '-' : String(v));
  return formatTable([
    ['THING', 'HEALTH', 'REASON', 'PERSISTED', 'FRAMES IN/OUT', 'DROPS', 'POOL', 'ACK p50/p99'],
    ...rows.map((r) => [
      r.thing,
      paintHealth(r.health, colour),
      r.reason ?? '-',
      r.lastPersistedAgeMs === undefined ? '-' : r.lastPersistedAgeMs < 0 ? 'never' : `${formatMs(r.lastPersistedAgeMs)} ago`,
      r.framesIn === undefined ? '-' : `${r.framesIn}/${cell(r.framesOut)}`,
      cell(r.drops),
      r.poolSlots === undefined ? '-' : `${cell(r.poolSlotsInUse)}/${r.poolSlots}`,
      r.ackLatencyP50Ms === undefined ? '-' : `${formatMs(r.ackLatencyP50Ms)}/${formatMs(r.ackLatencyP99Ms)}`,
    ]),
  ]);
}

export const devicesCommand: Command = {
  summary: "the fleet table: each camera's health, last PERSISTED age, frames, drops, pool fill and ACK latency",
  async run(argv) {
    const parsed = readCommandLine(spec, argv, { positionals: 'none', hint: ' (for one camera: fieldcam device <thing> …)' });
    if (!parsed) return EXIT.OK;
    const { values } = parsed;
    const waitMs = (numberFlag(spec, 'wait', values.wait, 0, 600) ?? 2) * 1000;
    const failOn = values['fail-on'];
    if (failOn !== undefined && !(FAIL_ON as readonly unknown[]).includes(failOn)) {
      throw new FieldcamError('CLI_USAGE', `devices: --fail-on must be one of ${FAIL_ON.join(', ')}, got '${String(failOn)}'`);
    }
    const target = new OperatorTarget(operatorFlags(values));
    try {
      const things = await target.listThings();
      let rows: FleetRow[] = things.map((thing) => ({ thing, health: 'unknown', live: false }));
      if (things.length > 0) {
        const router = new MessageRouter();
        const connection = await target.connect({ onMessage: router.dispatch });
        try {
          rows = await readFleet({ connection, router, things, waitMs });
        } finally {
          await connection.close();
        }
      }
      const counts = summary(rows);
      if (values.json) {
        process.stdout.write(JSON.stringify({ region: target.region, things: rows, summary: counts }, null, 2) + '\n');
      } else if (rows.length === 0) {
        process.stdout.write(`no cameras in ${target.region} (things of type fieldcam-camera); create some with fieldcam provision\n`);
      } else {
        const colour = wantsColour(process.stdout);
        const line = HEALTH_STATES.filter((s) => counts[s] > 0)
          .map((s) => `${counts[s]} ${paintHealth(s, colour)}`)
          .join(', ');
        process.stdout.write([...tableLines(rows, colour), `${rows.length} camera${rows.length === 1 ? '' : 's'}: ${line}`].join('\n') + '\n');
      }
      const threshold = failOn === undefined ? Infinity : SEVERITY[failOn as HealthState];
      return rows.some((r) => SEVERITY[r.health] >= threshold) ? EXIT.FAILED : EXIT.OK;
    } finally {
      target.destroy();
    }
  },
};
