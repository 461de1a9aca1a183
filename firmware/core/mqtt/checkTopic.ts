import { FieldcamError } from '../errors.ts';
import { mqttStringLength } from './mqttString.ts';

const SLASH = 0x2f;
const HASH = 0x23;

/**
 * Validates a Topic Name to publish to (§4.7) and returns its UTF-8 length: at least one character
 * ([MQTT-4.7.3-1]), no U+0000 ([MQTT-4.7.3-2]), at most 65,535 bytes ([MQTT-4.7.3-3]) and no wildcard
 * ([MQTT-3.3.2-2]). Throws MQTT_TOPIC_INVALID.
 */
export function checkTopicName(topic: string): number {
  const n = measure(topic, 'the topic name');
  if (topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0) {
    throw new FieldcamError('MQTT_TOPIC_INVALID', `the topic name ${JSON.stringify(topic)} holds a wildcard ([MQTT-3.3.2-2])`);
  }
  return n;
}

/**
 * Validates a Topic Filter to subscribe to (§4.7.1) and returns its UTF-8 length: the string rules of
 * checkTopicName, "#" only as the whole last level ([MQTT-4.7.1-2]) and "+" only as a whole level
 * ([MQTT-4.7.1-3]). Throws MQTT_TOPIC_INVALID.
 */
export function checkTopicFilter(filter: string): number {
  const n = measure(filter, 'the topic filter');
  const last = filter.length - 1;
  // Only the wildcards are looked at, found with indexOf: indexing a long string is slow inside XS.
  for (let i = nextWildcard(filter, 0); i >= 0; i = nextWildcard(filter, i + 1)) {
    const c = filter.charCodeAt(i);
    const wholeLevel = (i === 0 || filter.charCodeAt(i - 1) === SLASH) && (i === last || filter.charCodeAt(i + 1) === SLASH);
    if (!wholeLevel || (c === HASH && i !== last)) {
      const rule = c === HASH ? '"#" must be the whole last level ([MQTT-4.7.1-2])' : '"+" must be a whole level ([MQTT-4.7.1-3])';
      throw new FieldcamError('MQTT_TOPIC_INVALID', `the topic filter ${JSON.stringify(filter)}: ${rule}`);
    }
  }
  return n;
}

function nextWildcard(s: string, from: number): number {
  const plus = s.indexOf('+', from);
  const hash = s.indexOf('#', from);
  return plus < 0 ? hash : hash < 0 ? plus : Math.min(plus, hash);
}

function measure(topic: string, what: string): number {
  if (topic.length === 0) throw new FieldcamError('MQTT_TOPIC_INVALID', `${what} is empty ([MQTT-4.7.3-1])`);
  return mqttStringLength(topic, `${what} ${JSON.stringify(topic.length > 64 ? `${topic.slice(0, 64)}…` : topic)}`, 'MQTT_TOPIC_INVALID');
}
