import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { StageRange } from '../../toolchain/qemu/build.mjs';

/** The stages the profile splits the runtime's instructions into (the plugin adds `rest` for the others). */
export const STAGES = Object.freeze(['scan', 'JS', 'TLS', 'SHA-256'] as const);

/**
 * The stage of the code an object file holds: the XS engine's objects (xs*.o) run JS; scan.o and
 * accessunits.o, images.o, records.o and cursor.o are the camera readers' byte scan, access units, JPEG images, frame
 * records and reads;
 * tls.o and mbedTLS's TLS, X.509 and cipher code are TLS; SHA-256 and HMAC (mbedTLS's
 * sha256 and md members, our hash.c) serve SigV4 signing and the TLS handshake alike, so they are a stage of
 * their own. Everything else (libc, the loop, sockets, the resolver, the Matroska blocks of block.c, the frame stamp and
 * queue append of frames.c, the release of release.c) is `rest`.
 */
function stageOf(file: string): string | undefined {
  const member = /\(([^()]+)\)$/.exec(file);
  if (member) {
    if (!/libmbed(tls|x509|crypto)\.a\(/.test(file)) return undefined;
    const name = member[1]!.replace(/(\.c)?\.o$/, '');
    return name === 'sha256' || name === 'md' ? 'SHA-256' : 'TLS';
  }
  const name = basename(file, '.o');
  if (name.startsWith('xs')) return 'JS';
  // The camera readers' work in C: the byte scan and the access units closed around it.
  if (name === 'scan' || name === 'accessunits' || name === 'images' || name === 'records' || name === 'cursor') return 'scan';
  if (name === 'tls') return 'TLS';
  if (name === 'hash') return 'SHA-256';
  return undefined;
}

/**
 * Code address ranges of a static fieldcam-runtime by stage, for the instruction counter (toolchain/qemu
 * insncount.c `stages=`), from the linker's map that firmware/runtime/Makefile writes beside the binary
 * (build/xs/<target>/fieldcam-runtime.map): every `.text` input section (one per function: -ffunction-sections)
 * with its address, size and the object or archive member it came from. The shipped binary is stripped, so
 * the map is the only record; it applies only to that exact binary, so the image's runtime must be the build's.
 */
export function runtimeStages(runtime: string, target: string, buildDir: string): { ranges: StageRange[] } | { missing: string } {
  const built = join(buildDir, 'fieldcam-runtime');
  const mapFile = `${built}.map`;
  if (!existsSync(mapFile)) return { missing: `no linker map at ${mapFile} (node toolchain/xs/build.mjs ${target})` };
  if (!existsSync(runtime) || !readFileSync(runtime).equals(readFileSync(built))) {
    return { missing: `${runtime} is not the ${target} runtime in ${buildDir}, whose linker map names the stages (rebuild the image)` };
  }
  const text = readFileSync(mapFile, 'utf8');
  // Discarded sections come first, at address 0: the memory map starts after this line.
  const start = text.indexOf('Linker script and memory map');
  if (start < 0) return { missing: `${mapFile} has no memory map` };
  const ranges: StageRange[] = [];
  // " .text.name  0xADDR  0xSIZE  file", the name alone on its line when it is long.
  const section = /^ (\.text[^\s]*)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S[^\n]*)$/gm;
  for (const m of text.slice(start).matchAll(section)) {
    const size = parseInt(m[3]!, 16);
    const stage = stageOf(m[4]!.trim());
    if (size > 0 && stage) ranges.push({ start: parseInt(m[2]!, 16), size, stage });
  }
  if (ranges.length === 0) return { missing: `${mapFile} lists no code of the stages` };
  return { ranges };
}
