import { checkTopicFilter, checkTopicName } from '../../../../firmware/core/mqtt/checkTopic.ts';
import { assert, suite } from '../../../harness/index.ts';
import { codeOf } from './mqttKit.ts';

const test = suite('MQTT topics');

test('topic names and filters: the §4.7 rules', () => {
  for (const name of ['a', '/', 'a/b', '/finance', 'sport/tennis/player1', '$SYS/x', 'a//b', ' ', 'caf\u00e9/\u{1F600}', 'fieldcam/cam-1/cmd']) {
    assert.is(
      codeOf(() => checkTopicName(name)),
      undefined,
      name,
    );
    assert.is(
      codeOf(() => checkTopicFilter(name)),
      undefined,
      name,
    );
  }
  assert.is(checkTopicName('caf\u00e9'), 5);
  for (const name of ['', 'a/+', '+', '#', 'a/#', 'a+b', 'x\u0000', '\udc00', 'x'.repeat(65536)]) {
    assert.is(
      codeOf(() => checkTopicName(name)),
      'MQTT_TOPIC_INVALID',
      JSON.stringify(name.slice(0, 10)),
    );
  }
  for (const filter of ['#', '+', '+/+', '/+', 'sport/#', 'sport/tennis/+', '+/tennis/#', 'a/+/b/+/#', '$SYS/#', '/#', '+/']) {
    assert.is(
      codeOf(() => checkTopicFilter(filter)),
      undefined,
      filter,
    );
  }
  for (const filter of ['', 'sport/tennis#', 'sport/tennis/#/ranking', 'sport+', 'a/b+/c', '#/', '##', '++', 'a/#b', '+a']) {
    assert.is(
      codeOf(() => checkTopicFilter(filter)),
      'MQTT_TOPIC_INVALID',
      filter,
    );
  }
});

test.run();
