import { playbackWarnings } from '../../../../firmware/core/media/playbackWarnings.ts';
import { assert, suite } from '../../../harness/index.ts';

const test = suite('playbackWarnings');

test('H.264 (+AAC) plays everywhere: no warning', () => {
  assert.equal(playbackWarnings('h264'), []);
  assert.equal(playbackWarnings('h264', ['aac']), []);
});

test('MJPEG, G.711 and H.265 each get one warning naming the codec and why', () => {
  const mjpeg = playbackWarnings('mjpeg');
  assert.is(mjpeg.length, 1);
  assert.ok(/^MJPEG: .*HLS.*H\.264/.test(mjpeg[0]!), mjpeg[0]);
  const g711 = playbackWarnings('h264', ['alaw']);
  assert.is(g711.length, 1);
  assert.ok(/^G\.711 A-law: .*HLS/.test(g711[0]!), g711[0]);
  assert.ok(/^H\.265: .*browsers/.test(playbackWarnings('h265')[0]!));
  assert.is(playbackWarnings('mjpeg', ['mulaw', 'mulaw']).length, 2);
});

test.run();
