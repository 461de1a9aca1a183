// The Socket contract inside fieldcam-runtime, over the XS board's adapter: bundled and run by
// test/boards/socketContract.test.ts with the peers' ports as arguments (echo, chatter, refused).
import { xsSocket } from '../../../firmware/boards/xs/xsSocket.ts';
import { xsTimers } from '../../../firmware/boards/xs/xsTime.ts';
import { runSocketContract } from '../socketContract.ts';

declare const native: { print(line: string): void; readonly argv: readonly string[] };

const [echo, chatter, refused] = native.argv.map(Number) as [number, number, number];
runSocketContract(
  xsSocket,
  xsTimers,
  { echo, chatter, refused },
  (line) => native.print(line),
  () => native.print('done'),
);
