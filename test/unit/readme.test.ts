import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CONFIG_VARIABLES } from '../../src/config.js';
import { ROOT } from '../helpers/outrigger.js';

test('the README configuration table is exactly the code\'s variable table', () => {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
  const start = readme.indexOf('<!-- config-table:start');
  const end = readme.indexOf('<!-- config-table:end -->');
  assert.ok(start >= 0 && end > start, 'README has the config-table markers');
  const rows = readme.slice(readme.indexOf('\n', start) + 1, end).trim().split('\n').slice(2);
  const parsed = rows.map((row) => {
    const cells = row.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, '').trim());
    return { name: cells[0]!.replace(/`/g, ''), default: cells[1] === '—' ? undefined : cells[1]!.replace(/`/g, ''), description: cells.slice(2).join(' | ') };
  });
  assert.deepEqual(parsed, CONFIG_VARIABLES.map((v) => ({ ...v })));
});

test('every SPEC §2 variable is in the code\'s table', () => {
  let spec: string;
  try {
    spec = readFileSync(`${ROOT}/../shared/SPEC.md`, 'utf8');
  } catch {
    return; // shared/ is beside the repo in CI and on developer machines; nothing to compare without it
  }
  const section = spec.slice(spec.indexOf('## 2.'), spec.indexOf('## 3.'));
  const names = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)`/gm)].map((m) => m[1]!);
  const slashed = [...section.matchAll(/^\| `([A-Z_]+)` \/ `([A-Z_]+)`/gm)].flatMap((m) => [m[1]!, m[2]!]);
  const ours = new Set(CONFIG_VARIABLES.map((v) => v.name));
  for (const name of [...names, ...slashed]) assert.ok(ours.has(name), name);
  const defaults = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| `([^`]+)` \|/gm)];
  for (const [, name, def] of defaults) assert.equal(CONFIG_VARIABLES.find((v) => v.name === name)?.default, def, name);
});
