// A device's telemetry `events` over its cameras' EventGate reports (docs/events.md, several cameras).
import { combineEventReports } from '../../../../firmware/core/events/combineEventReports.ts';
import type { EventGateReport } from '../../../../firmware/core/events/EventGate.ts';
import { assert, suite } from '../../../harness/index.ts';

const test = suite("combineEventReports: a device's event counters over its cameras");

const report = (events: number, preRollFillMs: number, openClip: number, postRemainingMs: number): EventGateReport => ({
  events,
  clips: events,
  merged: 0,
  fragmentsAdmitted: 10 * events,
  tagsLost: 0,
  preRollMs: 10_000,
  preRollFillMs,
  openClip,
  postRemainingMs,
  idle: openClip === 0,
});

test('none and one camera: undefined and its own report', () => {
  assert.is(combineEventReports([undefined]), undefined);
  const one = report(2, 9000, 0, 0);
  assert.is(combineEventReports([one]), one);
});

test('several: counters summed, the least pre-roll held, the open clip with the longest post left, idle only when all are', () => {
  const both = combineEventReports([report(2, 9000, 0, 0), report(3, 7000, 1796649991000, 4000)])!;
  assert.equal(
    [both.events, both.clips, both.fragmentsAdmitted, both.preRollMs, both.preRollFillMs, both.openClip, both.postRemainingMs, both.idle],
    [5, 5, 50, 10_000, 7000, 1796649991000, 4000, false],
  );
  assert.is(combineEventReports([report(1, 10_000, 0, 0), report(1, 10_000, 0, 0)])!.idle, true);
});

test.run();
