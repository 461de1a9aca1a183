// The dependency rule of design.md §1 (docs/architecture.md, "Layout"), checked on every `npm test`.
// Ports point down, never up:
//  - firmware/io (the port contracts, Board included) imports nothing outside firmware/io;
//  - firmware/core imports only firmware/core, plus firmware/io as types (`import type`);
//  - a board (firmware/boards/<name>) imports only firmware/io, firmware/core and its own directory — never the
//    app it is plugged into, never another board;
//  - nothing under firmware/ imports host/, sim/, npm packages or `node:` modules, except firmware/boards/node
//    which adapts Node's modules to the io ports;
//  - sim/ imports from host/ only host/shared (the pieces the CLI and the simulator both use);
//  - host/shared imports neither the rest of host/ nor sim/, so both sides may import it;
//  - the rest of host/ reaches the simulator only through its public face, sim/index.ts;
//  - core test suites (test/firmware/) import only the harness and firmware code, so they can run inside XS.
// `--root DIR` checks another tree (test/toolchain/deps.test.ts proves each rule rejects a wrong import).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const rootArg = process.argv.indexOf('--root');
const root = rootArg > 0 ? resolve(process.argv[rootArg + 1]) : resolve(import.meta.dirname, '..', '..');
const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
const DYNAMIC = /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

function files(dir) {
  const out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const rel = (p) => relative(root, p).split(sep).join('/');
const violations = [];

function check(file, allow) {
  const text = readFileSync(file, 'utf8');
  const found = [];
  for (const m of text.matchAll(IMPORT)) found.push({ spec: m[3], typeOnly: Boolean(m[2]) });
  for (const m of text.matchAll(DYNAMIC)) found.push({ spec: m[1], typeOnly: false });
  for (const { spec, typeOnly } of found) {
    const target = spec.startsWith('.') ? rel(resolve(dirname(file), spec)) : spec;
    const why = allow(target, typeOnly, spec.startsWith('.'));
    if (why) violations.push(`${rel(file)}: imports '${spec}' — ${why}`);
  }
}

/** Why `at` (a firmware file) may not import `target`, or '' when it may. */
function firmwareRule(at, target, typeOnly) {
  if (at.startsWith('firmware/io/')) {
    return target.startsWith('firmware/io/') ? '' : 'firmware/io holds the port contracts and imports nothing outside firmware/io';
  }
  if (at.startsWith('firmware/core/')) {
    if (target.startsWith('firmware/core/')) return '';
    if (target.startsWith('firmware/io/') && typeOnly) return '';
    return 'firmware/core may import only firmware/core and firmware/io types';
  }
  const board = /^firmware\/boards\/[^/]+\//.exec(at);
  if (board) {
    if (target.startsWith(board[0]) || target.startsWith('firmware/io/') || target.startsWith('firmware/core/')) return '';
    return 'a board may import only firmware/io, firmware/core and its own directory';
  }
  return '';
}

for (const file of files(join(root, 'firmware'))) {
  const at = rel(file);
  const inNodeBoard = at.startsWith('firmware/boards/node/');
  check(file, (target, typeOnly, relative) => {
    if (!relative) {
      if (inNodeBoard && target.startsWith('node:')) return '';
      return 'firmware may not import packages or Node modules (only firmware/boards/node may use node:)';
    }
    if (!target.startsWith('firmware/')) return 'firmware may not import host/, sim/ or test/';
    return firmwareRule(at, target, typeOnly);
  });
}

for (const file of files(join(root, 'sim'))) {
  check(file, (target, _typeOnly, relative) => {
    if (relative && target.startsWith('host/') && !target.startsWith('host/shared/')) {
      return 'sim may import from host/ only host/shared (move what both use there)';
    }
    return '';
  });
}

for (const file of files(join(root, 'host'))) {
  const inShared = rel(file).startsWith('host/shared/');
  check(file, (target, _typeOnly, relative) => {
    if (!relative) return '';
    if (inShared) {
      if (target.startsWith('sim/') || (target.startsWith('host/') && !target.startsWith('host/shared/'))) {
        return 'host/shared is imported by both host and sim, so it imports neither';
      }
      return '';
    }
    if (target.startsWith('sim/') && target !== 'sim/index.ts') return 'host reaches the simulator only through sim/index.ts';
    return '';
  });
}

for (const file of files(join(root, 'test', 'firmware'))) {
  check(file, (target, _typeOnly, relative) => {
    if (!relative) return 'core suites run inside XS: no packages or Node modules';
    if (target.startsWith('firmware/') && !target.startsWith('firmware/boards/node/')) return '';
    if (/^test\/harness\/(index|assert|support)\b/.test(target) || target.startsWith('test/firmware/')) return '';
    // The offline Muxer is core parts composed for the host (fieldcam mux) and the XS benches; it imports only
    // firmware code, so a core suite may run it inside XS to compare the board's natives with the TS path.
    if (target === 'host/lib/Muxer.ts') return '';
    return 'core suites may import only firmware code, host/lib/Muxer.ts and test/harness/{index,assert,support}.ts';
  });
}

if (violations.length) {
  console.error(`dependency rule: ${violations.length} violation(s)`);
  for (const v of violations) console.error(`  ${v}`);
  process.exit(1);
}
console.log('dependency rule: ok');
