import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the process sees at /etc/resolv.conf and, optionally, /etc/hosts. */
export interface NamespaceFiles {
  /** A folder that outlives the process: the two files are written there and bind-mounted from it. */
  readonly dir: string;
  readonly resolvConf: string;
  readonly hosts?: string;
}

/** resolv.conf naming one nameserver; glibc's defaults otherwise (timeout 5 s, 2 attempts), as a deployed board has them. */
export function resolvConfFor(nameserver: string, options = ''): string {
  return `nameserver ${nameserver}\n${options ? `options ${options}\n` : ''}`;
}

let files = 0;

/**
 * The command line that runs `command args…` in a fresh mount namespace (`unshare -m`, private propagation,
 * so nothing leaks to the host) whose /etc/resolv.conf — and /etc/hosts when given — are bind-mounted from
 * `files`: the resolver a deployed camera meets, without touching the machine's own. Needs root (CAP_SYS_ADMIN),
 * as the fault suites run. The process is exec'd, so its pid, signals and exit code are the command's.
 */
export function namespaceCommand(ns: NamespaceFiles, command: string, args: readonly string[]): { command: string; args: string[] } {
  const n = ++files;
  const resolv = join(ns.dir, `resolv-${process.pid}-${n}.conf`);
  writeFileSync(resolv, ns.resolvConf);
  let hosts = '';
  if (ns.hosts !== undefined) {
    hosts = join(ns.dir, `hosts-${process.pid}-${n}`);
    writeFileSync(hosts, ns.hosts);
  }
  const script = 'mount --bind "$1" /etc/resolv.conf || exit 125; if [ -n "$2" ]; then mount --bind "$2" /etc/hosts || exit 125; fi; shift 2; exec "$@"';
  return { command: 'unshare', args: ['-m', '--propagation', 'private', '--', 'sh', '-c', script, 'fieldcam-namespace', resolv, hosts, command, ...args] };
}
