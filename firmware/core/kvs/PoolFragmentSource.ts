import type { Frame } from '../media/Frame.ts';
import type { FrameInput } from '../media/FrameInput.ts';
import type { AudioInput } from '../audio/AudioInput.ts';
import type { AudioTrackSpec, TrackSpec } from '../mkv/MkvWriter.ts';
import type { DropReason } from '../pool/FramePool.ts';
import type { FragmentSource, ReplayCount } from './FragmentSource.ts';

/**
 * The fragments a FrameInput holds in its RAM pool (FragmentQueue), as a FragmentSource: today's upload path,
 * where a frame's bytes stay in their pool slot from the camera read until the fragment is acknowledged.
 */
export class PoolFragmentSource implements FragmentSource {
  private readonly input: FrameInput;
  /** The camera's audio track, placed among the video frames in the same queue (AudioInput); undefined: video only. */
  private readonly audio: AudioInput | undefined;
  private readonly audioSpecs: readonly AudioTrackSpec[];

  constructor(input: FrameInput, audio?: AudioInput) {
    this.input = input;
    this.audio = audio;
    this.audioSpecs = audio ? Object.freeze([audio.trackSpec()]) : Object.freeze([]);
  }

  get ready(): boolean {
    return this.input.ready;
  }

  trackSpec(): TrackSpec {
    return this.input.trackSpec();
  }

  audioTracks(): readonly AudioTrackSpec[] {
    return this.audioSpecs;
  }

  get heldFrames(): number {
    return this.input.queue.length;
  }

  nextUnsent(): Frame | undefined {
    const frame = this.input.queue.nextUnsent();
    // A video frame waits until the audio reached its time (or ended), so no audio can come for a fragment already
    // on the wire: the blocks of a fragment go out in timecode order across tracks.
    const audio = this.audio;
    if (audio !== undefined && frame !== undefined && frame.track === 0 && !audio.ended && frame.pts >= audio.through) return undefined;
    return frame;
  }

  markSent(frame: Frame): void {
    frame.sent = true;
  }

  replay(count: ReplayCount): void {
    const queue = this.input.queue;
    let open = false;
    for (let i = 0; i < queue.length; i++) {
      const f = queue.at(i);
      if (!f.sent || !f.fragmentStart) continue;
      count.fragments++;
      if (open) count.whole++; // the previous one was closed on the wire by this start
      open = true;
    }
    queue.rewind();
  }

  release(timecode: number, landed: (startTimecode: number) => void): number {
    const queue = this.input.queue;
    let frames = 0;
    while (queue.length > 0) {
      const head = queue.at(0);
      if (!head.sent || head.pts > timecode) break;
      landed(head.pts);
      frames += queue.releaseOldestFragment();
    }
    return frames;
  }

  newestPts(): number {
    const queue = this.input.queue;
    return queue.length === 0 ? NaN : queue.at(queue.length - 1).pts;
  }

  dropOldestUnsent(reason: DropReason, startsBefore: number): number {
    return this.input.queue.dropOldestUnsent(reason, startsBefore);
  }

  rebase(deltaMs: number): void {
    this.input.rebase(deltaMs);
    this.audio?.rebase(deltaMs);
  }
}
