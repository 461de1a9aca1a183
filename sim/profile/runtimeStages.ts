import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { StageRange } from '../../toolchain/qemu/build.mjs';

/** The stages the profile splits the runtime's instructions into (the plugin adds `rest` for the others). */
export const STAGES = Object.freeze(['scan', 'JS', 'TLS', 'SHA-256'] as const);

/** The cross toolchain of each runtime target (firmware/runtime/Makefile) and where its mbedTLS archives are. */
const TARGETS: Readonly<Record<string, { readonly nm: string; readonly libDir: string }>> = Object.freeze({
  armv6: { nm: 'arm-linux-gnueabi-nm', libDir: '/usr/lib/arm-linux-gnueabi' },
  armv7: { nm: 'arm-linux-gnueabihf-nm', libDir: '/usr/lib/arm-linux-gnueabihf' },
});

/**
 * The stage of the code an object file holds: the XS engine's objects (xs*.o) run JS; scan.o is the camera
 * readers' byte scan; tls.o and mbedTLS's TLS and X.509 code are TLS; SHA-256 and HMAC (mbedTLS's sha256.o
 * and md.o, our hash.c) serve SigV4 signing and the TLS handshake alike, so they are a stage of their own.
 * Everything else (libc, the loop, sockets, the resolver) is `rest`.
 */
function stageOf(object: string, archive: string | undefined): string | undefined {
  const name = basename(object).replace(/(\.c)?\.o$/, '');
  if (archive === undefined) {
    if (name.startsWith('xs')) return 'JS';
    if (name === 'scan') return 'scan';
    if (name === 'tls') return 'TLS';
    if (name === 'hash') return 'SHA-256';
    return undefined;
  }
  if (name === 'sha256' || name === 'md') return 'SHA-256';
  return 'TLS';
}

function nm(tool: string, args: string[]): string {
  const r = spawnSync(tool, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${r.error?.message ?? r.stderr.trim()}`);
  return r.stdout;
}

/**
 * Address ranges of a static ARM fieldcam-runtime by stage, for the instruction counter (toolchain/qemu
 * insncount.c `stages=`): the binary's functions (its symbol table, `nm -S`), each given the stage of the
 * object file that defines a function of that name (the runtime's objects in build/xs/<target>/obj and the
 * mbedTLS archives it links). A name defined in objects of two stages is left to `rest`. Returns undefined,
 * with the reason, when the binary is stripped or the objects or tools are missing.
 */
export function runtimeStages(runtime: string, target: string, objDir: string): { ranges: StageRange[] } | { missing: string } {
  const t = TARGETS[target];
  if (!t) return { missing: `no stage map for target ${target}` };
  if (!existsSync(objDir)) return { missing: `the runtime's objects are not in ${objDir} (node toolchain/xs/build.mjs ${target})` };
  const byName = new Map<string, string | null>();
  const define = (name: string, stage: string | undefined) => {
    if (stage === undefined) return;
    const seen = byName.get(name);
    byName.set(name, seen === undefined || seen === stage ? stage : null);
  };
  const textSymbol = /^[0-9a-f]+ [TtWw] (\S+)$/;
  try {
    for (const file of readdirSync(objDir).filter((f) => f.endsWith('.o'))) {
      for (const line of nm(t.nm, ['--defined-only', join(objDir, file)]).split('\n')) {
        const m = textSymbol.exec(line);
        if (m) define(m[1]!, stageOf(file, undefined));
      }
    }
    for (const lib of ['libmbedtls.a', 'libmbedx509.a', 'libmbedcrypto.a']) {
      // `nm -A` names each line's member: "archive:member.o:address type name".
      for (const line of nm(t.nm, ['-A', '--defined-only', join(t.libDir, lib)]).split('\n')) {
        const at = line.lastIndexOf(':');
        const m = textSymbol.exec(line.slice(at + 1));
        if (m) define(m[1]!, stageOf(line.slice(line.indexOf(':') + 1, at), lib));
      }
    }
    const ranges: StageRange[] = [];
    for (const line of nm(t.nm, ['-S', '--defined-only', runtime]).split('\n')) {
      const m = /^([0-9a-f]+) ([0-9a-f]+) [TtWw] (\S+)$/.exec(line);
      const stage = m ? byName.get(m[3]!) : undefined;
      if (m && stage) ranges.push({ start: parseInt(m[1]!, 16), size: parseInt(m[2]!, 16), stage });
    }
    if (ranges.length === 0) return { missing: `${runtime} has no symbol table (stripped)` };
    return { ranges };
  } catch (err) {
    return { missing: (err as Error).message };
  }
}
