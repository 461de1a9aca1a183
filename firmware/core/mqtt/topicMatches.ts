const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;

/**
 * True when the Topic Name `topic` matches the Topic Filter `filter` (§4.7): levels are separated by "/"
 * (§4.7.1.1), "+" matches exactly one level, an empty one included (§4.7.1.3), "#" as the last level
 * matches its parent and any number of child levels (§4.7.1.2), and a filter starting with a wildcard
 * never matches a topic starting with "$" ([MQTT-4.7.2-1]). Matching is exact otherwise (case-sensitive,
 * no normalisation, §4.7.3). `filter` must be valid (checkTopicFilter); nothing is allocated.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const fl = filter.length;
  const tl = topic.length;
  if (tl > 0 && topic.charCodeAt(0) === DOLLAR && fl > 0) {
    const first = filter.charCodeAt(0);
    if (first === PLUS || first === HASH) return false;
  }
  let f = 0; // start of the current filter level
  let t = 0; // start of the current topic level; tl + 1 once the topic has no more levels
  for (;;) {
    const fEnd = levelEnd(filter, f);
    if (fEnd - f === 1 && filter.charCodeAt(f) === HASH) return true;
    if (t > tl) return false;
    const tEnd = levelEnd(topic, t);
    if (!(fEnd - f === 1 && filter.charCodeAt(f) === PLUS)) {
      if (fEnd - f !== tEnd - t) return false;
      for (let i = 0; i < fEnd - f; i++) if (filter.charCodeAt(f + i) !== topic.charCodeAt(t + i)) return false;
    }
    const filterDone = fEnd === fl;
    const topicDone = tEnd === tl;
    if (filterDone) return topicDone;
    f = fEnd + 1;
    t = tEnd + 1;
  }
}

function levelEnd(s: string, from: number): number {
  const i = s.indexOf('/', from);
  return i < 0 ? s.length : i;
}
