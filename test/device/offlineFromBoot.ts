// The spool device suites' outage from boot: the board has just been started with no cloud listening. Waits for its
// boot line, then for `deviceSeconds` of its time-scaled clock, and returns the last status line it printed then
// (what the spool held at the end of the outage). The caller starts the cloud next.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function offlineFromBoot(records: readonly Record<string, unknown>[], deviceSeconds: number, scale: number): Promise<Record<string, unknown>> {
  for (let waited = 0; !records.some((r) => r.type === 'boot') && waited < 60_000; waited += 50) await sleep(50);
  await sleep((deviceSeconds * 1000) / scale);
  return records.filter((r) => r.type === 'status').pop() ?? {};
}
