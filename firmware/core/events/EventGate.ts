import { FieldcamError } from '../errors.ts';
import type { Frame } from '../media/Frame.ts';
import type { FrameGate } from '../media/FrameGate.ts';
import type { FragmentQueue } from '../pool/FragmentQueue.ts';
import { ClipMetadata } from './ClipMetadata.ts';
import { EVENT_LIMITS } from './eventLimits.ts';
import type { EventRequest } from './EventRequest.ts';

export interface EventGateOptions {
  readonly queue: FragmentQueue;
  /** The pre-roll kept in the pool, ms (recording.preRollMs): the longest `pre` an event can have. */
  readonly preRollMs: number;
  /** Post window of an event that names none, ms (recording.postMs). */
  readonly postMs: number;
  /** Held fragments were admitted: the uploader has frames to send. */
  readonly onAdmitted: () => void;
}

/** What an event did, for the control result and the trigger's log line. */
export interface EventOutcome {
  /** The clip it opened or joined (its FIELDCAM_CLIP tag). */
  readonly clip: number;
  /** It joined a clip whose window was still open (overlapping events merge). */
  readonly merged: boolean;
  /** The event's time: the end of the newest frame, in stream timecodes (ms). */
  readonly at: number;
  /** The clip's window now: from the pre-roll of its first event to the end of its latest post window. */
  readonly from: number;
  readonly to: number;
  /** Held fragments it admitted (its pre-roll, as far as the pool still had it). */
  readonly fragments: number;
  /** Tags of this event the clip kept (the clip keeps at most EVENT_LIMITS.tagsMax names). */
  readonly tagsKept: number;
}

export interface EventGateStats {
  events: number;
  clips: number;
  merged: number;
  /** Fragments uploaded because an event's window covered them. */
  fragmentsAdmitted: number;
  /** Clip fragments sent without their tags: their clip record had been reused (more than EVENT_LIMITS.clipRecords clips held). */
  tagsLost: number;
}

/** EventGate stats with its state now (status line, telemetry `events`); built once per report, never per frame. */
export interface EventGateReport extends EventGateStats {
  /** The pre-roll asked for (recording.preRollMs) and how much of it the pool holds now, ms. */
  readonly preRollMs: number;
  readonly preRollFillMs: number;
  /** The open clip's id, 0 outside a window; and how much of its post window is still to come, ms. */
  readonly openClip: number;
  readonly postRemainingMs: number;
  /** No clip open and every admitted fragment PERSISTED: nothing to upload until the next event (health `idle`). */
  readonly idle: boolean;
}

/**
 * Recording mode "event" (docs/events.md). Every fragment is held in the pool as pre-roll; an event admits the held
 * fragments that end after `at - pre` and every fragment that opens before `at + post`, where `at` is the end of the
 * newest frame. An event inside an open window extends it and joins its clip (overlapping events merge into one
 * clip). Decisions are per fragment, so a clip starts at the key frame at or before `at - pre` and ends with the
 * fragment open at `at + post`. Frames keep their original timestamps: the clip goes up as it was captured.
 * Everything is allocated at construction; an event allocates only its own small request.
 */
export class EventGate implements FrameGate {
  readonly holdMs: number;
  readonly stats: EventGateStats = { events: 0, clips: 0, merged: 0, fragmentsAdmitted: 0, tagsLost: 0 };
  private readonly o: EventGateOptions;
  private readonly records: ClipMetadata[] = [];
  private current: ClipMetadata | undefined;
  private nextRecord = 0;
  /** Fragments opening before this timecode are admitted into the current clip. */
  private windowEnd = -1;
  private windowStart = -1;

  constructor(options: EventGateOptions) {
    if (!(Number.isInteger(options.preRollMs) && options.preRollMs >= 0)) throw new RangeError('preRollMs must be a whole number of ms');
    if (!(Number.isInteger(options.postMs) && options.postMs >= 0 && options.postMs <= EVENT_LIMITS.postMsMax)) throw new RangeError('postMs out of range');
    this.o = options;
    this.holdMs = options.preRollMs;
    for (let i = 0; i < EVENT_LIMITS.clipRecords; i++) this.records.push(new ClipMetadata());
  }

  admit(start: Frame): boolean {
    const clip = this.current;
    if (!clip || start.pts >= this.windowEnd) return false;
    start.clip = clip.id;
    this.stats.fragmentsAdmitted++;
    return true;
  }

  /** An event now (control `event`, a trigger line). Throws EVENT_NO_VIDEO before the first frame. */
  event(request: EventRequest): EventOutcome {
    const queue = this.o.queue;
    const at = queue.newestEnd;
    if (at < 0) throw new FieldcamError('EVENT_NO_VIDEO', 'no frame has been captured yet');
    const pre = Math.min(request.preMs ?? this.o.preRollMs, this.o.preRollMs);
    const post = request.postMs ?? this.o.postMs;
    const from = at - pre;
    const merged = this.current !== undefined && from <= this.windowEnd;
    if (!merged) {
      const record = this.records[this.nextRecord]!;
      this.nextRecord = (this.nextRecord + 1) % this.records.length;
      record.reset(at);
      this.current = record;
      this.windowStart = from;
      this.stats.clips++;
    } else {
      this.stats.merged++;
    }
    this.stats.events++;
    const clip = this.current!;
    const tagsKept = clip.addEvent(request.names, request.values);
    if (at + post > this.windowEnd) this.windowEnd = at + post;
    const fragments = queue.admitHeld(from, clip.id);
    this.stats.fragmentsAdmitted += fragments;
    if (fragments > 0) this.o.onAdmitted();
    return { clip: clip.id, merged, at, from: Math.min(this.windowStart, from), to: this.windowEnd, fragments, tagsKept };
  }

  /** The Tags of the clip a fragment belongs to (PutMediaSession, at each fragment start); undefined outside clips. */
  tagsFor(start: Frame): Uint8Array | undefined {
    if (start.clip === 0) return undefined;
    for (let i = 0; i < this.records.length; i++) if (this.records[i]!.id === start.clip) return this.records[i]!.encode();
    this.stats.tagsLost++;
    return undefined;
  }

  /**
   * Stats and state now (status, telemetry): walks the queue's fragment starts once. Pre-roll fill = from the first
   * held fragment to the newest frame; a fragment not held is in a clip and not yet PERSISTED (not idle).
   */
  report(): EventGateReport {
    const queue = this.o.queue;
    const newest = queue.newestEnd;
    let heldFrom = -1;
    let pending = false;
    for (let i = 0; i < queue.length; i++) {
      const f = queue.at(i);
      if (!f.fragmentStart) continue;
      if (!f.held) pending = true;
      else if (heldFrom < 0) heldFrom = f.pts;
    }
    const open = this.current !== undefined && newest < this.windowEnd;
    return {
      ...this.stats,
      preRollMs: this.holdMs,
      preRollFillMs: heldFrom < 0 ? 0 : Math.min(this.holdMs, Math.round(newest - heldFrom)),
      openClip: open ? this.current!.id : 0,
      postRemainingMs: open ? Math.round(this.windowEnd - newest) : 0,
      idle: !open && !pending,
    };
  }

  /** The open clip's tags (status); undefined outside a window. */
  get openClip(): { readonly id: number; readonly until: number; readonly tags: Record<string, string> } | undefined {
    const clip = this.current;
    if (!clip || this.o.queue.newestEnd >= this.windowEnd) return undefined;
    return { id: clip.id, until: this.windowEnd, tags: clip.tags() };
  }
}
