// Types for host code (TypeScript) that builds runtimes through toolchain/xs/build.mjs.
export declare const ENGINE: Readonly<{ spec: string; tarball: string; integrity: string; moddable: string }>;
export declare const TARGETS: readonly string[];
/** Builds (or brings up to date) build/xs/<arch>/fieldcam-runtime; returns its path. Throws with the reason. */
export declare function buildRuntime(arch: string, options?: { log?: (line: string) => void }): string;
