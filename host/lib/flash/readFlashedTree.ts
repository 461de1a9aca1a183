// What `fieldcam sim --image DIR` needs of a flashed tree: how to start it (image.json, board.json) and where
// its bundle says the cloud is (device.cbor endpoints), checked against the local cloud's state directory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FieldcamError } from '../../shared/hostErrors.ts';
import type { ImageManifest } from '../buildImage.ts';
import type { BoardManifest } from '../../shared/loadBoardManifest.ts';
import { treePaths } from './deviceTree.ts';
import { validateBundle, type BundleSummary } from './flashTree.ts';

export interface FlashedTree {
  readonly root: string;
  readonly paths: ReturnType<typeof treePaths>;
  readonly image: ImageManifest;
  readonly board: BoardManifest;
  readonly thingName: string;
  readonly streamName: string;
  /** The local cloud the bundle was provisioned against: its KVS port and its credentials provider port. */
  readonly port: number;
  readonly credentialsPort: number;
  /** Its MQTT broker port (endpoints.iotData), when the bundle has a control channel. */
  readonly mqttPort?: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost']);

function json<T>(path: string, what: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new FieldcamError(
      'CLI_INPUT_NOT_FOUND',
      `sim --image: ${path} (${what}) cannot be read: ${(err as Error).message}; is this a tree fieldcam flash wrote?`,
    );
  }
}

export function readFlashedTree(root: string): FlashedTree {
  const paths = treePaths(root);
  const image = json<ImageManifest>(paths.imageJson, 'image.json');
  const board = json<BoardManifest>(paths.board, 'board.json');
  let bundle: BundleSummary;
  try {
    bundle = validateBundle(paths.bundle, paths.board);
  } catch (err) {
    throw new FieldcamError('FLASH_BUNDLE_INVALID', `sim --image: ${(err as Error).message.replace(/^flash: /, '')}`);
  }
  if (!LOOPBACK.has(bundle.kvs.host) || !LOOPBACK.has(bundle.credentials.host) || (bundle.mqtt && !LOOPBACK.has(bundle.mqtt.host))) {
    throw new FieldcamError(
      'CLI_USAGE',
      `sim --image: the bundle points at ${bundle.kvs.host} and ${bundle.credentials.host}, not at a local cloud; ` +
        'sim boots trees provisioned against the local cloud (fieldcam provision --endpoint-url https://127.0.0.1:<port>)',
    );
  }
  return {
    root,
    paths,
    image,
    board,
    thingName: bundle.thingName,
    streamName: bundle.streamName,
    port: bundle.kvs.port,
    credentialsPort: bundle.credentials.port,
    ...(bundle.mqtt ? { mqttPort: bundle.mqtt.port } : {}),
  };
}

/**
 * The local cloud's CA lives in its state directory (ca.pem, made on first start): the bundle trusts only the
 * CA of the cloud it was provisioned against, whose registry also holds the device's certificate. So the state
 * directory must be that cloud's: an empty one would make a new CA, another cloud's CA would fail TLS.
 */
export function checkStateDirCa(tree: FlashedTree, stateDir: string): void {
  const bundleCa = readFileSync(join(tree.paths.bundle, 'ca.pem'), 'utf8');
  let stateCa: string;
  try {
    stateCa = readFileSync(join(stateDir, 'ca.pem'), 'utf8');
  } catch {
    throw new FieldcamError(
      'CLI_USAGE',
      `sim --image: the state directory ${stateDir} holds no local cloud (no ca.pem), so it cannot be the cloud ` +
        `that issued ${tree.thingName}'s certificate: pass the --state-dir of the cloud fieldcam provision ran against`,
    );
  }
  if (stateCa.trim() !== bundleCa.trim()) {
    throw new FieldcamError(
      'CLI_USAGE',
      `sim --image: the bundle's ca.pem is not the CA of the local cloud in ${stateDir}: the device would refuse ` +
        `its TLS certificate; pass the --state-dir of the cloud fieldcam provision ran against`,
    );
  }
}
