// InFlightSet's count of fragments without RECEIVED (kept as a count since the session asks at every fragment it might
// send) against a count made from the set's own rules over 2,000 random adds, BUFFERING, RECEIVED, landings and clears.
import { InFlightSet } from '../../../../firmware/core/kvs/InFlightSet.ts';
import { assert, scaled, suite } from '../../../harness/index.ts';
import { rng } from './ackKit.ts';

const test = suite('InFlightSet');

test('unreceived() is the number of fragments in flight without RECEIVED, whatever the order of events', () => {
  const next = rng(0x1f1_6475);
  for (let run = 0; run < scaled(20); run++) {
    const set = new InFlightSet(8);
    set.start();
    const model: { pts: number; received: boolean }[] = [];
    let pts = 0;
    for (let step = 0; step < 100; step++) {
      const op = next() % 6;
      if (op <= 1 && model.length < 8) {
        pts += 1 + (next() % 3);
        set.add(pts, step);
        model.push({ pts, received: false });
      } else if (op === 2 && model.length > 0) {
        const through = model[next() % model.length]!.pts + (next() % 2);
        set.markReceived(through);
        for (const m of model) if (m.pts <= through) m.received = true;
      } else if (op === 3 && model.length > 0) {
        const through = model[next() % model.length]!.pts - (next() % 2);
        set.land(through);
        while (model.length > 0 && model[0]!.pts <= through) model.shift();
      } else if (op === 4 && model.length > 0) {
        set.markBuffered(model[next() % model.length]!.pts);
      } else if (op === 5 && next() % 10 === 0) {
        set.clear();
        model.length = 0;
      }
      assert.is(set.unreceived(), model.filter((m) => !m.received).length, `run ${run}, step ${step}`);
      assert.is(set.count, model.length, `run ${run}, step ${step}: count`);
    }
    set.close();
    assert.throws(() => set.unreceived(), /closed/);
  }
});

test.run();
