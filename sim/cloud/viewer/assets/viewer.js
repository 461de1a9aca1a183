// The fieldcam viewer (served by the local cloud at /viewer). Plain browser JavaScript, no build step:
// it reads the cloud's /viewer/api JSON, plays HLS sessions with hls.js (served from the same origin) and
// never writes untrusted text as HTML (stream names and tag values arrive as data: textContent only).
'use strict';

const state = { stream: undefined, hls: undefined, fragments: [], streams: new Map() };
const $ = (id) => document.getElementById(id);

async function getJson(path) {
  const res = await fetch(path, { cache: 'no-store' });
  const body = await res.json();
  if (!res.ok) throw new Error(body.Message || body.message || `HTTP ${res.status}`);
  return body;
}

function age(ms) {
  if (ms === null || ms === undefined) return 'never';
  if (ms < 1000) return 'just now';
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.append(td);
}

async function refreshStreams() {
  const { now, streams } = await getJson('/viewer/api/streams');
  $('clock').textContent = new Date(now).toISOString().replace('T', ' ').slice(0, 19) + ' UTC (cloud clock)';
  const body = $('streams').tBodies[0];
  body.replaceChildren();
  state.streams = new Map(streams.map((s) => [s.name, s]));
  for (const s of streams) {
    const row = document.createElement('tr');
    row.dataset.stream = s.name;
    if (s.name === state.stream) row.className = 'selected';
    cell(row, s.name);
    cell(row, s.codec ?? '-', s.playable === true ? '' : 'unplayable');
    if (s.playable !== true && s.codec) row.title = s.playable;
    cell(row, String(s.fragments));
    cell(row, age(s.lastPersistedAgeMs), s.lastPersistedAgeMs !== null && s.lastPersistedAgeMs < 10_000 ? 'fresh' : 'stale');
    row.addEventListener('click', () => select(s.name));
    body.append(row);
  }
  if (!state.stream && streams.length > 0) {
    // /viewer?stream=NAME (what `fieldcam play --open` opens) picks that stream first.
    const wanted = new URLSearchParams(location.search).get('stream');
    select(streams.some((s) => s.name === wanted) ? wanted : streams[0].name);
  }
}

async function refreshTimeline() {
  if (!state.stream) return;
  const { fragments, total } = await getJson(`/viewer/api/fragments?stream=${encodeURIComponent(state.stream)}`);
  state.fragments = fragments;
  $('timeline-summary').textContent = `${total} fragment(s)${total > fragments.length ? `, the newest ${fragments.length} shown` : ''}`;
  const line = $('timeline');
  line.replaceChildren();
  const events = $('events');
  events.replaceChildren();
  for (const f of fragments) {
    const bar = document.createElement('div');
    bar.className = f.tags.length > 0 ? 'fragment tagged' : 'fragment';
    bar.style.width = `${Math.max(4, Math.round(f.durationMs / 100))}px`;
    bar.title = `${new Date(f.producerMs).toISOString()} · ${f.durationMs} ms · ${f.size} B` + f.tags.map((t) => `\n${t.name}=${t.value}`).join('');
    bar.addEventListener('click', () => play(f.producerMs, f.producerMs + 60_000));
    line.append(bar);
    for (const t of f.tags) {
      const li = document.createElement('li');
      li.textContent = `${new Date(f.producerMs).toISOString()} ${t.name} = ${t.value}`;
      events.append(li);
    }
  }
  line.scrollLeft = line.scrollWidth;
  updateClipLink();
}

function toLocalInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
}

function updateClipLink() {
  const last = state.fragments.at(-1);
  if (last && !$('clip-start').value) {
    $('clip-start').value = toLocalInput(Math.max(state.fragments[0].producerMs, last.producerMs - 30_000));
    $('clip-end').value = toLocalInput(last.producerMs + last.durationMs);
  }
  const start = Date.parse($('clip-start').value);
  const end = Date.parse($('clip-end').value);
  const link = $('clip');
  if (state.stream && Number.isFinite(start) && Number.isFinite(end)) {
    link.href = `/viewer/api/clip?stream=${encodeURIComponent(state.stream)}&start=${start}&end=${end}`;
  } else {
    link.removeAttribute('href');
  }
}

function status(text) {
  $('player-status').textContent = text;
}

async function play(startMs, endMs) {
  if (!state.stream) return;
  const query = startMs === undefined ? '' : `&start=${startMs}&end=${endMs}`;
  let session;
  try {
    session = await getJson(`/viewer/api/hls?stream=${encodeURIComponent(state.stream)}${query}`);
  } catch (err) {
    status(`Cannot play ${state.stream}: ${err.message}`);
    return;
  }
  if (state.hls) state.hls.destroy();
  const video = $('video');
  if (!window.Hls || !Hls.isSupported()) {
    status('This browser has no Media Source Extensions; open the HLS URL in a native player: ' + session.url);
    return;
  }
  const hls = new Hls({ liveSyncDurationCount: 2 });
  state.hls = hls;
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (data.fatal) status(`Playback error: ${data.type} ${data.details}`);
  });
  hls.loadSource(session.url);
  hls.attachMedia(video);
  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    video.play().catch(() => {});
  });
  status(`${session.mode === 'LIVE' ? 'Live' : 'Replay'}: ${state.stream}`);
}

function select(name) {
  state.stream = name;
  $('player-title').textContent = `Player: ${name}`;
  $('live').disabled = false;
  $('clip-start').value = '';
  for (const row of $('streams').tBodies[0].rows) row.className = row.dataset.stream === name ? 'selected' : '';
  refreshTimeline().then(
    () => playDefault(),
    (err) => status(err.message),
  );
}

/** KVS opens a LIVE session only with a fragment from the last 30 s: older streams replay their last minute. */
function playDefault() {
  const s = state.streams.get(state.stream);
  const last = state.fragments.at(-1);
  if (!s || !last) return status(`${state.stream}: no fragments yet.`);
  if (s.playable !== true) return status(`${state.stream} cannot be played as HLS: ${s.playable}`);
  if (s.lastPersistedAgeMs !== null && s.lastPersistedAgeMs < 25_000) return play();
  const end = last.producerMs + last.durationMs;
  return play(Math.max(state.fragments[0].producerMs, end - 60_000), end);
}

function tick() {
  refreshStreams()
    .then(refreshTimeline)
    .catch((err) => status(`Cloud unreachable: ${err.message}`));
}

$('live').addEventListener('click', () => play());
window.fieldcamViewer = { state, play, select };
$('clip-start').addEventListener('change', updateClipLink);
$('clip-end').addEventListener('change', updateClipLink);
tick();
setInterval(tick, 2000);
