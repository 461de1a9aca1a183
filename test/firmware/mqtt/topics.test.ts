import { checkTopicFilter, checkTopicName } from '../../../firmware/core/mqtt/checkTopic.ts';
import { topicMatches } from '../../../firmware/core/mqtt/topicMatches.ts';
import { assert, suite } from '../../harness/index.ts';
import { codeOf } from './mqttKit.ts';

const test = suite('MQTT topics');

test('topic names and filters: the §4.7 rules', () => {
  for (const name of ['a', '/', 'a/b', '/finance', 'sport/tennis/player1', '$SYS/x', 'a//b', ' ', 'caf\u00e9/\u{1F600}', 'fieldcam/cam-1/cmd']) {
    assert.is(codeOf(() => checkTopicName(name)), undefined, name);
    assert.is(codeOf(() => checkTopicFilter(name)), undefined, name);
  }
  assert.is(checkTopicName('caf\u00e9'), 5);
  for (const name of ['', 'a/+', '+', '#', 'a/#', 'a+b', 'x\u0000', '\udc00', 'x'.repeat(65536)]) {
    assert.is(codeOf(() => checkTopicName(name)), 'MQTT_TOPIC_INVALID', JSON.stringify(name.slice(0, 10)));
  }
  for (const filter of ['#', '+', '+/+', '/+', 'sport/#', 'sport/tennis/+', '+/tennis/#', 'a/+/b/+/#', '$SYS/#', '/#', '+/']) {
    assert.is(codeOf(() => checkTopicFilter(filter)), undefined, filter);
  }
  for (const filter of ['', 'sport/tennis#', 'sport/tennis/#/ranking', 'sport+', 'a/b+/c', '#/', '##', '++', 'a/#b', '+a']) {
    assert.is(codeOf(() => checkTopicFilter(filter)), 'MQTT_TOPIC_INVALID', filter);
  }
});

// The non-normative examples of §4.7.1.2, §4.7.1.3 and §4.7.2, plus edges.
const MATCHES: readonly [string, string, boolean][] = [
  ['sport/tennis/player1/#', 'sport/tennis/player1', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
  ['sport/#', 'sport', true],
  ['#', 'sport/tennis', true],
  ['#', '/', true],
  ['sport/tennis/+', 'sport/tennis/player1', true],
  ['sport/tennis/+', 'sport/tennis/player2', true],
  ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
  ['sport/+', 'sport', false],
  ['sport/+', 'sport/', true],
  ['+/+', '/finance', true],
  ['/+', '/finance', true],
  ['+', '/finance', false],
  ['+/tennis/#', 'sport/tennis', true],
  ['+/tennis/#', 'sport/tennis/x/y', true],
  ['+/tennis/#', 'sport/golf', false],
  ['#', '$SYS/x', false],
  ['+/monitor/Clients', '$SYS/monitor/Clients', false],
  ['$SYS/#', '$SYS/monitor/Clients', true],
  ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
  ['a/b', 'a/b', true],
  ['a/b', 'A/b', false],
  ['a/b', 'a/b/', false],
  ['a/b/', 'a/b', false],
  ['a//b', 'a//b', true],
  ['a/+/b', 'a//b', true],
  ['a/b', 'a/bc', false],
  ['a/bc', 'a/b', false],
  ['fieldcam/+/cmd/#', 'fieldcam/cam-1/cmd', true],
  ['fieldcam/+/cmd/#', 'fieldcam/cam-1/cmd/start', true],
  ['fieldcam/+/cmd/#', 'fieldcam/cam-1/result', false],
  ['/#', '/a', true],
  ['/#', 'a', false],
];

test('topicMatches: §4.7 examples and edges', () => {
  for (const [filter, topic, expected] of MATCHES) assert.is(topicMatches(filter, topic), expected, `${filter} vs ${topic}`);
});

test.run();
