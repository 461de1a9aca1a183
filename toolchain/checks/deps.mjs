// The dependency rule of design.md §1, checked on every `npm test`:
//  - firmware/core imports only firmware/core, plus firmware/io as types (`import type`);
//  - nothing under firmware/ imports host/, sim/, npm packages or `node:` modules, except firmware/boards/node
//    which adapts Node's modules to the io ports;
//  - core test suites (test/firmware/) import only the harness and firmware code, so they can run inside XS.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
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

for (const file of files(join(root, 'firmware'))) {
  const at = rel(file);
  const inCore = at.startsWith('firmware/core/');
  const inNodeBoard = at.startsWith('firmware/boards/node/');
  check(file, (target, typeOnly, relative) => {
    if (!relative) {
      if (inNodeBoard && target.startsWith('node:')) return '';
      return 'firmware may not import packages or Node modules (only firmware/boards/node may use node:)';
    }
    if (!target.startsWith('firmware/')) return 'firmware may not import host/, sim/ or test/';
    if (inCore) {
      if (target.startsWith('firmware/core/')) return '';
      if (target.startsWith('firmware/io/') && typeOnly) return '';
      return 'firmware/core may import only firmware/core and firmware/io types';
    }
    return '';
  });
}

for (const file of files(join(root, 'test', 'firmware'))) {
  check(file, (target, _typeOnly, relative) => {
    if (!relative) return 'core suites run inside XS: no packages or Node modules';
    if (target.startsWith('firmware/') && !target.startsWith('firmware/boards/node/')) return '';
    if (/^test\/harness\/(index|assert|support)\b/.test(target) || target.startsWith('test/firmware/')) return '';
    return 'core suites may import only firmware code and test/harness/{index,assert,support}.ts';
  });
}

if (violations.length) {
  console.error(`dependency rule: ${violations.length} violation(s)`);
  for (const v of violations) console.error(`  ${v}`);
  process.exit(1);
}
console.log('dependency rule: ok');
