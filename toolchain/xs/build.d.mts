// Types for host code (TypeScript) that builds runtimes through toolchain/xs/build.mjs.
export declare const ENGINE: Readonly<{ spec: string; tarball: string; integrity: string; moddable: string }>;
export declare const TARGETS: readonly string[];
/** The QEMU user-mode emulator per cross-built target (x86_64 runs natively and is absent). */
export declare const QEMU_USER: Readonly<Record<string, string | undefined>>;
export declare const MAX_SHIPPED_RUNTIME_BYTES: number;
/** Builds (or brings up to date) build/xs/<arch>/fieldcam-runtime; returns its path. Throws with the reason. */
export declare function buildRuntime(arch: string, options?: { log?: (line: string) => void }): string;
