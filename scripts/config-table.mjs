#!/usr/bin/env node
// Prints the README's configuration table from the code's CONFIG_VARIABLES
// (run after `npm run build`). test/unit/readme.test.ts checks that the
// README holds exactly this table.
import { CONFIG_VARIABLES } from '../dist/config.js';

export function configTable(variables) {
  const rows = variables.map((v) => `| \`${v.name}\` | ${v.default === undefined ? '—' : `\`${v.default}\``} | ${v.description} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(configTable(CONFIG_VARIABLES));
