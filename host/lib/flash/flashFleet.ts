// `fieldcam flash --count N --prefix P --bundle DIR --image raspios.img -o OUTDIR`: one image per bundle of a
// fleet that `fieldcam provision --count N --prefix P --out DIR` wrote (DIR/<thing>/), each OUTDIR/<thing>.img.
// The bundles are found, not re-derived from a naming rule: the subfolders of DIR whose names start with P and
// hold a device.cbor, which must be exactly N. Every bundle is checked before the first image is written;
// the images then differ only in identity (bundle, hostname).
import type { AudioSource } from '../../shared/audioSource.ts';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FieldcamError } from '../../shared/hostErrors.ts';
import { imageDir, type ImageManifest } from '../buildImage.ts';
import type { BoardManifest } from '../../shared/loadBoardManifest.ts';
import { validateBundle } from './flashTree.ts';
import type { RaspiosImage } from './openRaspiosImage.ts';
import type { WifiSettings } from './renderWifi.ts';
import { flashImage, type ImageFlashResult } from './writeImage.ts';

export function fleetBundles(dir: string, prefix: string, count: number): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new FieldcamError(
      'CLI_INPUT_NOT_FOUND',
      `flash: no fleet folder ${dir} (fieldcam provision --count ${count} --prefix ${prefix} --out ${dir} writes it)`,
    );
  }
  const bundles = names
    .filter((n) => n.startsWith(prefix) && existsSync(join(dir, n, 'device.cbor')))
    .sort()
    .slice(0, 100_001);
  if (bundles.length !== count) {
    throw new FieldcamError(
      'CLI_USAGE',
      `flash: ${dir} holds ${bundles.length} bundle(s) named ${prefix}…, not --count ${count}${bundles.length ? ` (${bundles.slice(0, 5).join(', ')}${bundles.length > 5 ? ', …' : ''})` : ''}`,
    );
  }
  return bundles.map((n) => join(dir, n));
}

export function flashFleet(o: {
  board: BoardManifest;
  image: ImageManifest;
  bundles: readonly string[];
  src: RaspiosImage;
  outDir: string;
  wifi?: WifiSettings;
  cameraUrl?: string;
  microphones?: Readonly<Record<string, AudioSource>>;
  onImage?: (r: ImageFlashResult) => void;
}): ImageFlashResult[] {
  const boardJson = join(imageDir(o.board.name), 'board.json');
  const things = o.bundles.map((b) => validateBundle(b, boardJson).thingName);
  mkdirSync(o.outDir, { recursive: true });
  if (!statSync(o.outDir).isDirectory()) throw new FieldcamError('CLI_USAGE', `flash: -o ${o.outDir} must be a folder with --count`);
  return o.bundles.map((bundle, i) => {
    const r = flashImage({
      board: o.board,
      image: o.image,
      bundle,
      src: o.src,
      output: join(o.outDir, `${things[i]}.img`),
      ...(o.wifi ? { wifi: o.wifi } : {}),
      ...(o.cameraUrl !== undefined ? { cameraUrl: o.cameraUrl } : {}),
      ...(o.microphones !== undefined ? { microphones: o.microphones } : {}),
    });
    o.onImage?.(r);
    return r;
  });
}
