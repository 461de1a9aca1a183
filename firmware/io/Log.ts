/** Structured log lines; secrets are never passed here. */
export interface LogPort {
  (level: 'debug' | 'info' | 'warn' | 'error', event: string, fields?: Readonly<Record<string, string | number | boolean>>): void;
}
