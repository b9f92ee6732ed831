#!/usr/bin/env node
// Runs the compiled test files (dist-test/) with node's test runner. Works on
// Node 20, 22 and 24 (Node 20's --test takes no glob patterns, so we list files).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['unit', 'simulation', 'integration'].map((d) => join('dist-test', 'test', d));
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = [];
function walk(dir) {
  let entries;
  try { entries = readdirSync(dir); } catch { return; }
  for (const name of entries.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.js') && (only.length === 0 || only.some((o) => path.includes(o)))) files.push(path);
  }
}
roots.forEach(walk);
if (files.length === 0) {
  console.error('no test files found under dist-test/test; did the build run?');
  process.exit(1);
}
const args = ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files];
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
