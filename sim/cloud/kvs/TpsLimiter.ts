import { CloudError } from '../types.ts';

/** Control-plane quotas, calls per second (kvs-reference.md §6.1): account-wide, and per stream where one applies. */
export const CONTROL_PLANE_TPS = Object.freeze({
  CreateStream: { account: 50 },
  DescribeStream: { account: 300, stream: 5 },
  GetDataEndpoint: { account: 300, stream: 5 },
  DeleteStream: { account: 50, stream: 5 },
  TagStream: { account: 50, stream: 5 },
  UntagStream: { account: 50, stream: 5 },
  ListTagsForStream: { account: 50, stream: 5 },
  UpdateDataRetention: { account: 50, stream: 5 },
  ListStreams: { account: 50 },
} as const);

export type ControlPlaneApi = keyof typeof CONTROL_PLANE_TPS;

const WINDOW_MS = 1000;

/**
 * Sliding one-second windows of call times, per API and per (API, stream). A call over a quota is refused
 * with 400 ClientLimitExceededException and not counted, as KVS throttles.
 */
export class TpsLimiter {
  private readonly calls = new Map<string, number[]>();
  private readonly now: () => number;
  private readonly enabled: () => boolean;

  constructor(now: () => number = () => performance.now(), enabled: () => boolean = () => true) {
    this.now = now;
    this.enabled = enabled;
  }

  /** Counts a call of `api` (on `streamArn`, for the per-stream quota) or throws when over quota. */
  admit(api: ControlPlaneApi, streamArn?: string): void {
    if (!this.enabled()) return;
    const limits: { account: number; stream?: number } = CONTROL_PLANE_TPS[api];
    const t = this.now();
    const account = this.window(api, t);
    if (account.length >= limits.account) throw this.refuse(api, `${limits.account} calls per second per account`);
    let stream: number[] | undefined;
    if (streamArn !== undefined && limits.stream !== undefined) {
      stream = this.window(`${api} ${streamArn}`, t);
      if (stream.length >= limits.stream) throw this.refuse(api, `${limits.stream} calls per second per stream`);
    }
    account.push(t);
    stream?.push(t);
  }

  private window(key: string, t: number): number[] {
    let times = this.calls.get(key);
    if (!times) {
      times = [];
      this.calls.set(key, times);
    }
    let drop = 0;
    while (drop < times.length && times[drop]! <= t - WINDOW_MS) drop++;
    if (drop) times.splice(0, drop);
    return times;
  }

  private refuse(api: string, quota: string): CloudError {
    return new CloudError(400, 'ClientLimitExceededException', `${api} is throttled: the limit is ${quota}. Try the call later.`);
  }
}
