// `fieldcam flash --image raspios.img [-o camera.img]`: fieldcam written into a Raspberry Pi OS disk image
// without booting or mounting it. Everything that can refuse is checked on the input, read-only, before a
// byte is written: the bundle (the device's own reader, the board's camera), the Wi-Fi settings (by the CLI),
// the image (openRaspiosImage), the board already in it, the free space. Then the input is copied to a
// temporary file beside the output, edited there (debugfs on the root partition, mtools on the boot
// partition, both addressed by offset), read back with verifyImage, fsynced and renamed over the output: a
// failure at any step leaves the input untouched and no half-written image at the output path.
import type { AudioSource } from '../../shared/audioSource.ts';
import { closeSync, constants, copyFileSync, fsyncSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FieldcamError } from '../../shared/hostErrors.ts';
import { imageDir, type ImageManifest } from '../buildImage.ts';
import type { CheckRow } from '../doctor/runDoctor.ts';
import type { BoardManifest } from '../../shared/loadBoardManifest.ts';
import { IMAGE_DIR } from './deviceTree.ts';
import { Ext4Edit, Ext4Image } from './Ext4Image.ts';
import { FatImage } from './FatImage.ts';
import { validateBundle } from './flashTree.ts';
import { imageFiles, TIMESYNCD_MASK, TIMESYNCD_UNIT } from './imageFiles.ts';
import { openRaspiosImage, type RaspiosImage } from './openRaspiosImage.ts';
import { hostnameFor, withCountry, type WifiSettings } from './renderWifi.ts';
import { verifyImage } from './verifyImage.ts';

/** Room left on the root file system after fieldcam's files: the state file, the journal until the first-boot resize. */
export const FREE_MARGIN_BYTES = 4 * 1024 * 1024;

export interface ImageFlashResult {
  readonly board: string;
  readonly input: string;
  readonly output: string;
  readonly version: string;
  readonly os: string;
  readonly thingName: string;
  readonly streamName: string;
  readonly hostname: string;
  readonly wifi?: { readonly ssid: string; readonly country: string };
  readonly files: readonly { readonly path: string; readonly bytes: number; readonly mode: string }[];
  readonly freeBytes: number;
  readonly checks: readonly CheckRow[];
}

/**
 * The checks that need only the input image, run before the board's image is built: Raspberry Pi OS
 * Bookworm, not already holding another board's fieldcam (unless `force`), with systemd-timesyncd for NTP.
 */
export function openImageTarget(input: string, board: string, force: boolean): RaspiosImage {
  const src = openRaspiosImage(input);
  const there = src.root.readText(`/${IMAGE_DIR}/image.json`);
  if (there !== undefined && !force) {
    let name = '(unreadable image.json)';
    try {
      name = (JSON.parse(there) as { board?: string }).board ?? '(unknown)';
    } catch {
      // named as unreadable
    }
    if (name !== board)
      throw new FieldcamError(
        'FLASH_TARGET_CONFLICT',
        `flash: ${input} holds the ${name} image, not ${board}; pass --force to replace it (nothing was written)`,
      );
  }
  if (!src.root.stat(TIMESYNCD_UNIT) && !src.root.stat(`/usr${TIMESYNCD_UNIT}`)) {
    throw new FieldcamError('FLASH_IMAGE_NOT_RASPIOS', `flash: ${input} has no ${TIMESYNCD_UNIT}: Raspberry Pi OS Lite sets its clock with systemd-timesyncd`);
  }
  return src;
}

export function flashImage(o: {
  board: BoardManifest;
  image: ImageManifest;
  bundle: string;
  src: RaspiosImage;
  output: string;
  wifi?: WifiSettings;
  cameraUrl?: string;
  microphones?: Readonly<Record<string, AudioSource>>;
}): ImageFlashResult {
  const summary = validateBundle(o.bundle, join(imageDir(o.board.name), 'board.json'));
  const src = o.src;
  const input = src.path;
  const hostname = hostnameFor(summary.thingName);
  const plan = imageFiles({
    board: o.board,
    image: o.image,
    bundle: o.bundle,
    hostname,
    hosts: src.root.readText('/etc/hosts') ?? '127.0.0.1\tlocalhost\n',
    ...(o.wifi ? { wifi: o.wifi } : {}),
    ...(o.cameraUrl !== undefined ? { cameraUrl: o.cameraUrl } : {}),
    ...(o.microphones !== undefined ? { microphones: o.microphones } : {}),
  });
  const bytes = plan.files.reduce((n, f) => n + f.data.length, 0);
  const reclaimed = plan.files.reduce((n, f) => n + (src.root.stat(`/${f.path}`)?.size ?? 0), 0);
  const free = src.root.freeBytes();
  if (free + reclaimed < bytes + FREE_MARGIN_BYTES) {
    throw new FieldcamError(
      'FLASH_IMAGE_TOO_SMALL',
      `flash: the root partition of ${input} has ${(free / 1048576).toFixed(1)} MiB free; fieldcam needs ` +
        `${((bytes + FREE_MARGIN_BYTES - reclaimed) / 1048576).toFixed(1)} MiB (${(bytes / 1048576).toFixed(1)} MiB of files and a ${FREE_MARGIN_BYTES / 1048576} MiB margin); nothing was written`,
    );
  }

  const tmp = join(dirname(o.output), `.${basename(o.output)}.${process.pid}.tmp`);
  try {
    copyFileSync(input, tmp, constants.COPYFILE_FICLONE);
    const root = new Ext4Image(tmp, src.rootPartition.offset);
    const edit = new Ext4Edit(root);
    for (const d of plan.dirs) edit.dir(`/${d.path}`, d.mode);
    for (const f of plan.files) {
      edit.dir(`/${dirname(f.path)}`);
      edit.file(`/${f.path}`, f.data, f.mode);
    }
    const mask = root.stat(`/${TIMESYNCD_MASK}`);
    if (mask?.type === 'symlink' && mask.target === '/dev/null') edit.remove(`/${TIMESYNCD_MASK}`);
    for (const l of plan.links) {
      edit.dir(`/${dirname(l.path)}`);
      edit.symlink(`/${l.path}`, l.target);
    }
    edit.apply();
    if (o.wifi) new FatImage(tmp, src.bootPartition.offset).write('cmdline.txt', new TextEncoder().encode(withCountry(src.cmdline, o.wifi.country)));
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const checks = verifyImage(tmp);
    const failed = checks.filter((c) => c.status === 'FAIL');
    if (failed.length > 0) {
      throw new FieldcamError(
        'CLI_OUTPUT_FAILED',
        `flash: the written image does not read back as written (${failed.map((c) => `${c.check}: ${c.cause}`).join('; ')}); ${o.output} was not written`,
      );
    }
    const freeBytes = root.freeBytes();
    renameSync(tmp, o.output);
    return {
      board: o.board.name,
      input,
      output: o.output,
      version: o.image.version,
      os: `${src.os.prettyName || src.os.id}`,
      thingName: summary.thingName,
      streamName: summary.streamName,
      hostname,
      ...(o.wifi ? { wifi: { ssid: o.wifi.ssid, country: o.wifi.country } } : {}),
      files: plan.files.map((f) => ({ path: f.path, bytes: f.data.length, mode: `0${f.mode.toString(8)}` })),
      freeBytes,
      checks,
    };
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing left behind
    }
    if (err instanceof FieldcamError) throw err;
    throw new FieldcamError('CLI_OUTPUT_FAILED', `flash: cannot write ${o.output}: ${(err as Error).message}`);
  }
}
