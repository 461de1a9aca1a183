import { FieldcamError } from '../shared/hostErrors.ts';

/** Exit statuses of every fieldcam command. */
export const EXIT = Object.freeze({
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  /** `fieldcam device`: the device answered ok: false (or rejected configuration keys). */
  DEVICE_REFUSED: 3,
  /** `fieldcam device`: no answer within --timeout (device offline?). */
  DEVICE_NO_ANSWER: 4,
  INTERNAL: 70,
} as const);

/**
 * Prints an error for a person: a FieldcamError as `error CODE: message` plus its remedy, never a stack;
 * anything else is a bug in fieldcam and keeps its stack. Returns the exit status to use.
 */
export function reportError(err: unknown, write: (line: string) => void = (l) => process.stderr.write(l + '\n')): number {
  if (err instanceof FieldcamError) {
    write(`fieldcam: error ${err.code}: ${err.message}`);
    write(`  → ${err.remedy}`);
    return err.code === 'CLI_USAGE' ? EXIT.USAGE : EXIT.FAILED;
  }
  write(`fieldcam: internal error (please report it): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return EXIT.INTERNAL;
}
