import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Peak RSS (VmHWM) of a process run to its end, read from /proc until it exits. */
function peakRss(command: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    let peak = 0;
    const read = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) * 1024);
      } catch {
        // gone between two reads
      }
    };
    const poll = setInterval(read, 2);
    child.on('error', (err) => {
      clearInterval(poll);
      reject(err);
    });
    child.on('exit', () => {
      clearInterval(poll);
      resolve(peak);
    });
  });
}

/**
 * What qemu-arm adds to a board's RSS: the same runtime binary with the same heap flags and a script that waits
 * a moment and returns, once under `qemu-arm -cpu <model>` and once as the native x86-64 build, peak RSS
 * subtracted. Both boot the same XS machine (same initial chunks and slots), so the difference is QEMU's own
 * memory: its binary, its heap and the translation cache for the boot path. The cache grows with the code
 * the firmware later runs, so this is a lower bound of what QEMU adds during streaming (docs/profiling.md).
 */
export async function measureQemuOverhead(o: { qemuCpu: string; armRuntime: string; nativeRuntime: string; runtimeFlags: readonly string[] }): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'fieldcam-qemu-idle-'));
  try {
    const script = join(dir, 'idle.js');
    // Busy for a moment so both processes are sampled at their settled size.
    writeFileSync(script, 'let x = 0; for (let i = 0; i < 2000000; i++) x += i;\n');
    const arm = await peakRss('qemu-arm', ['-cpu', o.qemuCpu, o.armRuntime, ...o.runtimeFlags, script]);
    const native = await peakRss(o.nativeRuntime, [...o.runtimeFlags, script]);
    return Math.max(0, arm - native);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
