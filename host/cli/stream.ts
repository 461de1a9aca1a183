import { AUDIO_CODEC_IDS, isAudioCodecId, type AudioCodecId } from '../../firmware/core/audio/audioCodecs.ts';
import { audioCodecOfFile } from '../lib/muxFile.ts';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { FieldcamError } from '../shared/hostErrors.ts';
import type { KvsCredentials } from '../../firmware/core/kvs/KvsControlClient.ts';
import type { SessionStats } from '../../firmware/core/kvs/PutMediaSession.ts';
import { FragmentMetadata } from '../../firmware/core/mkv/FragmentMetadata.ts';
import { EXIT } from '../lib/CliError.ts';
import { listBoards, loadBoardManifest } from '../shared/loadBoardManifest.ts';
import { sniffCodecOfFile } from '../lib/sniffCodecOfFile.ts';
import { numberFlag, readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import { resolveAwsTarget } from '../lib/resolveAwsTarget.ts';
import { streamFile } from '../lib/streamFile.ts';
import type { Command } from './fieldcam.ts';
import { CODEC_IDS, codecChoices, isCodecId, type CodecId } from '../../firmware/core/media/codecs.ts';
import { playbackWarnings } from '../../firmware/core/media/playbackWarnings.ts';

const spec: CommandSpec = {
  name: 'stream',
  usage: 'stream --video <file.h264|file.mjpeg|-> --stream <name> [options]',
  summary:
    "Runs the device pipeline on this machine: reads the video into the board's frame pool and uploads it to\n" +
    'Kinesis Video Streams with PutMedia, creating the stream if needed. Exits 0 only when every fragment sent\n' +
    'was PERSISTED. Credentials come from the usual AWS environment variables or profile.',
  options: {
    video: { type: 'string', value: 'file', help: 'raw Annex-B H.264, H.265 or MJPEG (- for stdin)' },
    stream: { type: 'string', value: 'name', help: 'KVS stream name' },
    'endpoint-url': { type: 'string', value: 'URL', help: 'KVS endpoint (default: AWS_ENDPOINT_URL or the regional endpoint); e.g. the local cloud' },
    region: { type: 'string', value: 'region', help: 'AWS region (default: AWS_REGION)' },
    realtime: { type: 'boolean', help: 'pace frames at their timestamps, as a camera would (a full pool drops old fragments)' },
    'as-fast-as-possible': { type: 'boolean', help: 'send as fast as the link allows (default; a full pool waits for ACKs)' },
    codec: { type: 'string', value: CODEC_IDS.join('|'), help: 'input codec (default: detected)' },
    fps: { type: 'string', value: 'N', help: 'frame rate (default: from the bitstream, else 25)' },
    board: { type: 'string', value: 'name', help: 'board whose frame pool and defaults to use (default: sim-x86)' },
    'fragment-metadata': { type: 'string', multiple: true, value: 'name=value', help: 'metadata tag on every fragment (max 10)' },
    'connection-staleness': { type: 'string', value: 'seconds', help: 'reset the connection when a fragment gets no BUFFERING ACK this long (default 30)' },
    'retention-hours': { type: 'string', value: 'hours', help: 'retention when the stream is created (default 24; 0 = no retention, RECEIVED releases)' },
    'no-create': { type: 'boolean', help: 'fail instead of creating a missing stream' },
    audio: { type: 'string', value: 'file', help: "an audio track from the video's start: AAC ADTS (.aac) or raw G.711 8 kHz mono (.alaw, .ulaw)" },
    'audio-codec': { type: 'string', value: AUDIO_CODEC_IDS.join('|'), help: 'codec of the --audio file (default: from the extension)' },
    json: { type: 'boolean', help: 'print the summary as JSON' },
  },
  details: () =>
    `boards: ${listBoards().join(', ')}\n\nexample (local cloud):\n` +
    '  fieldcam cloud --state-dir .state/cloud &   # prints the environment to export\n' +
    '  fieldcam stream --video test/fixtures/h264-320x240-10fps-gop10.h264 --stream demo --endpoint-url https://127.0.0.1:4590',
};

function parseMetadata(items: string[] | undefined): FragmentMetadata | undefined {
  let metadata: FragmentMetadata | undefined;
  for (const item of items ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new FieldcamError('CLI_USAGE', `stream: --fragment-metadata wants name=value, got '${item}'`);
    metadata ??= new FragmentMetadata();
    metadata.put(item.slice(0, eq), item.slice(eq + 1), true);
  }
  return metadata;
}

async function loadCredentials(): Promise<KvsCredentials> {
  try {
    // A fresh provider that re-reads the shared files: refreshed credentials on disk are picked up.
    const c = await defaultProvider({ ignoreCache: true })();
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) };
  } catch (err) {
    throw new FieldcamError(
      'UPLOAD_NO_CREDENTIALS',
      `no AWS credentials found (${(err as Error).message}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE`,
    );
  }
}

function ms(v: number): string {
  return Number.isNaN(v) ? '-' : `${Math.round(v)} ms`;
}

export const streamCommand: Command = {
  summary: 'upload a video file to Kinesis Video Streams with the device pipeline (PutMedia)',
  async run(argv) {
    const parsed = readCommandLine(spec, argv);
    if (!parsed) return EXIT.OK;
    const { values } = parsed;
    const video = values.video;
    const streamName = values.stream;
    if (typeof video !== 'string') throw new FieldcamError('CLI_USAGE', 'stream: --video <file> is required');
    if (typeof streamName !== 'string' || !/^[a-zA-Z0-9_.-]{1,256}$/.test(streamName)) {
      throw new FieldcamError('CLI_USAGE', 'stream: --stream <name> is required (1-256 of a-z A-Z 0-9 _ . -)');
    }
    if (values.realtime && values['as-fast-as-possible']) throw new FieldcamError('CLI_USAGE', 'stream: choose --realtime or --as-fast-as-possible');
    const codec = values.codec;
    if (codec !== undefined && !isCodecId(codec)) throw new FieldcamError('CLI_USAGE', `stream: --codec must be ${codecChoices()}`);
    const fpsN = numberFlag(spec, 'fps', values.fps, 1, 240);
    const retention = numberFlag(spec, 'retention-hours', values['retention-hours'], 0, 87600);
    const aws = resolveAwsTarget({
      ...(typeof values.region === 'string' ? { region: values.region } : {}),
      ...(typeof values['endpoint-url'] === 'string' ? { endpointUrl: values['endpoint-url'] } : {}),
    });
    const board = loadBoardManifest(typeof values.board === 'string' ? values.board : 'sim-x86');
    const metadata = parseMetadata(values['fragment-metadata'] as string[] | undefined);
    const stalenessS = numberFlag(spec, 'connection-staleness', values['connection-staleness'], 1, 3600);
    // Static credentials from the environment or a profile. When the service says they expired, load them
    // again (a profile file may have been refreshed by another process); the session keeps buffering.
    let credentials = await loadCredentials();
    let refreshing = false;
    const refresh = () => {
      if (refreshing) return;
      refreshing = true;
      loadCredentials()
        .then(
          (c) => {
            credentials = c;
          },
          () => {},
        )
        .finally(() => {
          refreshing = false;
        });
    };
    const progress = process.stderr.isTTY && !values.json;
    let lastShown = 0;
    const show = (s: SessionStats, framesIn: number) => {
      const now = Date.now();
      if (!progress || now - lastShown < 250) return;
      lastShown = now;
      process.stderr.write(
        `\rstream: ${framesIn} frames in, ${s.fragmentsSent} fragments sent, ${s.fragmentsPersisted} persisted, ${s.connections} connection(s)\x1b[K`,
      );
    };
    const chosen: CodecId = (codec as CodecId | undefined) ?? (video === '-' ? board.camera.codec : (sniffCodecOfFile(video) ?? 'h264'));
    let audio: { path: string; codec: AudioCodecId } | undefined;
    if (typeof values.audio === 'string') {
      const given = values['audio-codec'];
      if (given !== undefined && !isAudioCodecId(given)) throw new FieldcamError('CLI_USAGE', `stream: --audio-codec must be ${AUDIO_CODEC_IDS.join(', ')}`);
      const audioCodec = (given as AudioCodecId | undefined) ?? audioCodecOfFile(values.audio);
      if (!audioCodec) {
        throw new FieldcamError(
          'CLI_USAGE',
          `stream: cannot tell the codec of ${values.audio} from its extension; give --audio-codec ${AUDIO_CODEC_IDS.join('|')}`,
        );
      }
      audio = { path: values.audio, codec: audioCodec };
    }
    if (!values.json) for (const w of playbackWarnings(chosen, audio ? [audio.codec] : [])) process.stderr.write(`stream: warning: ${w}\n`);
    const result = await streamFile({
      video,
      codec: chosen,
      streamName,
      board,
      aws,
      credentials: () => credentials,
      realtime: values.realtime === true,
      ...(audio ? { audio } : {}),
      ...(stalenessS ? { stalenessMs: stalenessS * 1000 } : {}),
      ...(fpsN ? { fps: { num: fpsN, den: 1 } } : {}),
      ...(metadata ? { metadata } : {}),
      ...(values['no-create'] ? {} : { createRetentionHours: retention ?? 24 }),
      onEvent: (e) => {
        if (e.type === 'retry' && (e.code === 'UPLOAD_NO_CREDENTIALS' || e.code === 'UPLOAD_AUTH_FAILED')) refresh();
        if (e.type === 'retry' && !values.json) process.stderr.write(`\nstream: ${e.code}: ${e.message}; retrying in ${e.delayMs} ms\n`);
        if (e.type === 'dropped' && !values.json) process.stderr.write(`\nstream: ${e.code}: ${e.message} (${e.frames} frames dropped)\n`);
      },
      onProgress: show,
    });
    if (progress) process.stderr.write('\r\x1b[K');
    const s = result.stats;
    // A fragment whose RECEIVED arrived but whose PERSISTED went with a dropped connection is not re-sent (KVS
    // holds it whole; docs/reliability.md "Device: connections"): it counts as delivered, and is reported apart.
    const settled = s.fragmentsPersisted + s.fragmentsReceivedUnconfirmed;
    const ok = !result.error && s.fragmentsRejected === 0 && settled >= result.fragmentsIn && result.fragmentsIn > 0;
    const summary = {
      stream: streamName,
      endpoint: aws.endpointUrl,
      framesIn: result.framesIn,
      fragmentsIn: result.fragmentsIn,
      fragmentsSent: s.fragmentsSent,
      fragmentsReplayed: s.fragmentsReplayed,
      fragmentsPersisted: s.fragmentsPersisted,
      fragmentsReceivedUnconfirmed: s.fragmentsReceivedUnconfirmed,
      fragmentsRejected: s.fragmentsRejected,
      ...(result.audio
        ? {
            audioPacketsIn: result.audio.packetsIn,
            audioPacketsQueued: result.audio.packetsQueued,
            audioSilencePackets: result.audio.silencePackets,
          }
        : {}),
      connections: s.connections,
      bytesSent: s.bytesSent,
      errors: s.errors,
      ackLatencyP50Ms: Number.isNaN(s.latency.percentile(50)) ? null : Math.round(s.latency.percentile(50)),
      ackLatencyP99Ms: Number.isNaN(s.latency.percentile(99)) ? null : Math.round(s.latency.percentile(99)),
      ok,
      ...(result.error ? { error: { code: result.error.code, message: result.error.message } } : {}),
    };
    if (values.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else {
      const errs =
        Object.entries(s.errors)
          .map(([k, v]) => `${k}×${v}`)
          .join(', ') || 'none';
      process.stdout.write(
        `${streamName}: ${result.framesIn} frames in ${result.fragmentsIn} fragments; sent ${s.fragmentsSent} (${s.fragmentsReplayed} replayed) ` +
          `over ${s.connections} connection(s); PERSISTED ${s.fragmentsPersisted}` +
          `${s.fragmentsReceivedUnconfirmed ? ` (+${s.fragmentsReceivedUnconfirmed} RECEIVED, PERSISTED ack lost with its connection)` : ''}; errors: ${errs}; ` +
          `ACK latency p50 ${ms(s.latency.percentile(50))}, p99 ${ms(s.latency.percentile(99))}\n`,
      );
    }
    if (result.error) throw result.error;
    return ok ? EXIT.OK : EXIT.FAILED;
  },
};
