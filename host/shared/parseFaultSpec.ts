import { FieldcamError } from './hostErrors.ts';

/**
 * One scheduled fault of a profile run, on the device's clock (seconds since boot). Each maps onto the local
 * cloud's existing knobs (sim/cloud/types.ts `Faults`, kvs-reference.md §4.8 item 10):
 *   drop@T            the PutMedia connection is cut at its next body byte (`dropAfterBytes`);
 *   outage@T:D        every PutMedia request is refused for D seconds (`throttle`, 400 ClientLimitExceeded) and
 *                     the open connection is cut, as a regional outage looks behind the load balancer;
 *   ack-delay@T:D=MS  every ACK is held back MS real milliseconds for D seconds (`ackDelayMs`);
 *   error@T           the next fragment is answered ERROR 5000 instead of PERSISTED (`errorAck`).
 */
export interface FaultStep {
  readonly kind: 'drop' | 'outage' | 'ack-delay' | 'error';
  readonly atS: number;
  readonly forS: number;
  readonly value: number;
}

const KINDS = Object.freeze(['drop', 'outage', 'ack-delay', 'error'] as const);
const SPEC = /^([a-z-]+)@(\d+(?:\.\d+)?)s?(?::(\d+(?:\.\d+)?)s?)?(?:=(\d+))?$/;
const MAX_FAULTS = 64;

/** `outage@30s:15s,drop@20s,ack-delay@40s:10s=2000` → steps sorted by time; bad input is CLI_USAGE with the grammar. */
export function parseFaultSpec(text: string): FaultStep[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length > MAX_FAULTS) throw new FieldcamError('CLI_USAGE', `--faults: at most ${MAX_FAULTS} faults`);
  const steps = parts.map((part): FaultStep => {
    const m = SPEC.exec(part);
    const kind = m?.[1] as FaultStep['kind'] | undefined;
    if (!m || !kind || !KINDS.includes(kind)) {
      throw new FieldcamError('CLI_USAGE', `--faults: '${part}' is not one of drop@T, outage@T:D, ack-delay@T:D=MS, error@T (T, D in seconds)`);
    }
    const forS = m[3] === undefined ? 0 : Number(m[3]);
    if ((kind === 'outage' || kind === 'ack-delay') && !(forS > 0)) throw new FieldcamError('CLI_USAGE', `--faults: '${part}' needs a duration (${kind}@T:D)`);
    if (kind === 'ack-delay' && m[4] === undefined) throw new FieldcamError('CLI_USAGE', `--faults: '${part}' needs the delay in ms (ack-delay@T:D=MS)`);
    return { kind, atS: Number(m[2]), forS, value: m[4] === undefined ? 0 : Number(m[4]) };
  });
  return steps.sort((a, b) => a.atS - b.atS);
}
