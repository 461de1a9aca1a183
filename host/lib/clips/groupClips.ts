// Event clips from fragment metadata (docs/events.md): every fragment tagged FIELDCAM_CLIP belongs to that clip; a
// clip's start is its first fragment's producer timestamp, its end the last one's end; its tags are the union of its
// fragments' event tags (a later fragment's value wins: a merged event may change one).
import { CLIP_TAG } from '../../../firmware/core/events/eventLimits.ts';

export interface ClipFragment {
  readonly fragmentNumber: string;
  readonly producerMs: number;
  readonly durationMs: number;
  readonly tags: readonly (readonly [string, string])[];
}

export interface Clip {
  /** FIELDCAM_CLIP: the stream timecode (ms) of the clip's first event. */
  readonly id: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly fragments: number;
  /** FIELDCAM_EVENTS at its largest: the events merged into the clip. */
  readonly events: number;
  readonly tags: Readonly<Record<string, string>>;
}

/** Clips in order of their start; fragments without FIELDCAM_CLIP are not part of any. Each fragment counted once (a replayed one may be stored twice). */
export function groupClips(fragments: readonly ClipFragment[]): Clip[] {
  const byId = new Map<string, { start: number; end: number; fragments: Set<number>; events: number; tags: Record<string, string> }>();
  const ordered = [...fragments].sort((a, b) => a.producerMs - b.producerMs);
  for (const f of ordered) {
    const id = f.tags.find(([n]) => n === CLIP_TAG.clip)?.[1];
    if (id === undefined) continue;
    let clip = byId.get(id);
    if (!clip) byId.set(id, (clip = { start: f.producerMs, end: f.producerMs + f.durationMs, fragments: new Set(), events: 0, tags: {} }));
    clip.start = Math.min(clip.start, f.producerMs);
    clip.end = Math.max(clip.end, f.producerMs + f.durationMs);
    clip.fragments.add(f.producerMs);
    for (const [name, value] of f.tags) {
      if (name === CLIP_TAG.events) clip.events = Math.max(clip.events, Number(value) || 0);
      else if (!name.startsWith(CLIP_TAG.prefix) && !name.startsWith('AWS_')) clip.tags[name] = value;
    }
  }
  return [...byId.entries()]
    .map(([id, c]) => ({ id, startMs: c.start, endMs: c.end, fragments: c.fragments.size, events: c.events, tags: c.tags }))
    .sort((a, b) => a.startMs - b.startMs);
}
