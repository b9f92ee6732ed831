/**
 * The Node runtimes the footprint benchmarks run Outrigger on, and the
 * flags "as the image runs it": the node flags of the Dockerfile's CMD and
 * its ENV lines, read from the Dockerfile itself so the bench follows the
 * image. A flag a runtime rejects (Node 20 has no --disable-sigusr1) is
 * dropped for that runtime, and the run says so.
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** `CMD ["node", …flags, "dist/main.js"]` and `ENV A=B …` of the Dockerfile. */
export function imageRuntime(root) {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const cmdLine = text.split('\n').filter((l) => /^CMD\s+\[/.test(l)).pop();
  if (cmdLine === undefined) throw new Error('Dockerfile: no exec-form CMD');
  const cmd = JSON.parse(cmdLine.replace(/^CMD\s+/, ''));
  const main = cmd.indexOf('dist/main.js');
  if (cmd[0] !== 'node' || main < 0) throw new Error(`Dockerfile CMD is not node … dist/main.js: ${cmdLine}`);
  const env = {};
  for (const line of text.split('\n').filter((l) => /^ENV\s/.test(l))) {
    for (const m of line.replace(/^ENV\s+/, '').matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]] = m[2].replace(/^"|"$/g, '');
  }
  return { flags: cmd.slice(1, main), env };
}

/** `--node-bin LABEL=PATH` values (default: this bench's own node, labelled with its major version). */
export function runtimes(specs) {
  const own = { label: process.versions.node.split('.')[0], bin: process.execPath };
  if (specs.length === 0) return [own];
  return specs.map((spec) => {
    const eq = spec.indexOf('=');
    const [label, bin] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [null, spec];
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (version.status !== 0) throw new Error(`--node-bin ${spec}: ${bin} --version failed`);
    return { label: label ?? version.stdout.trim().replace(/^v(\d+).*/, '$1'), bin, version: version.stdout.trim() };
  });
}

/** The flags this runtime accepts (each tried alone with `-e 0`), and the ones it rejects. */
export function acceptedFlags(bin, flags) {
  const ok = [];
  const dropped = [];
  for (const f of flags) (spawnSync(bin, [f, '-e', '0'], { stdio: 'ignore' }).status === 0 ? ok : dropped).push(f);
  return { ok, dropped };
}
