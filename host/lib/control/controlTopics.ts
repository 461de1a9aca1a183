// The control channel's topics (docs/control-channel.md §Topics): the device's own builder (firmware/core), so
// the device, the CLI and its tests cannot disagree on a spelling, plus what only an operator needs.

export { controlTopics, type ControlTopics } from '../../../firmware/core/control/controlTopics.ts';

/** The fleet-wide filters `fieldcam devices` subscribes to (one level per thing, §4.7.1.3 single-level '+'). */
export const FLEET_FILTERS = Object.freeze({ health: 'fieldcam/+/health', telemetry: 'fieldcam/+/telemetry' } as const);

export type ControlLeaf = 'cmd' | 'result' | 'config/desired' | 'config/reported' | 'telemetry' | 'health';

const LEAVES: ReadonlySet<string> = new Set<ControlLeaf>(['cmd', 'result', 'config/desired', 'config/reported', 'telemetry', 'health']);

/** `fieldcam/<thing>/<leaf>` split into its thing and leaf; undefined for any other topic. */
export function parseControlTopic(topic: string): { thing: string; leaf: ControlLeaf } | undefined {
  if (!topic.startsWith('fieldcam/')) return undefined;
  const rest = topic.slice('fieldcam/'.length);
  const cut = rest.indexOf('/');
  if (cut <= 0) return undefined;
  const leaf = rest.slice(cut + 1);
  return LEAVES.has(leaf) ? { thing: rest.slice(0, cut), leaf: leaf as ControlLeaf } : undefined;
}
