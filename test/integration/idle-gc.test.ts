/**
 * IDLE_GC_AFTER_MS: after load, once the proxy has been quiet that long, one
 * memory-reducing GC runs (a log line and outrigger_idle_gc_total), once per
 * quiet period, never before any traffic. On this test's node, and on Node 24
 * (the image's runtime) with the image's flags when that runtime is present
 * (scripts/test-node-versions.sh fills the cache).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { startOutrigger, ROOT, type LogLine } from '../helpers/outrigger.js';
import { request, startBackend, sleep } from '../helpers/http.js';

const OPTS = { timeout: 120_000 };
const IDLE_MSG = 'idle: memory-reducing GC';
const QUIET_MS = 500;
const cache = process.env.NODE_VERSIONS_CACHE ?? join(homedir(), '.cache/outrigger-node-versions');
const NODE24 = join(cache, '24/package/bin/node');

/** The node flags of the Dockerfile's CMD (between "node" and "dist/main.js"). */
function imageFlags(): string[] {
  const cmd = /^CMD \[(.*)\]\s*$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1] ?? '';
  const words = [...cmd.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
  return words.slice(1, words.indexOf('dist/main.js'));
}

async function counter(adminPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  return Number(/^outrigger_idle_gc_total (\S+)$/m.exec(text)?.[1] ?? NaN);
}

/** `total` requests, `concurrency` at a time, bounded in count and time. */
async function load(port: number, total: number, concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      next += 1;
      const r = await request(port, '/ping', { timeoutMs: 5000 });
      assert.equal(r.status, 200);
    }
  }));
}

const runtimes: Array<{ name: string; node?: string; nodeArgs: string[] }> = [{ name: `this node (${process.version})`, nodeArgs: [] }];
if (existsSync(NODE24)) runtimes.push({ name: 'Node 24 with the image\'s flags', node: NODE24, nodeArgs: imageFlags() });

for (const rt of runtimes) {
  test(`${rt.name}: after load and IDLE_GC_AFTER_MS of quiet, one memory-reducing GC; none before traffic, none twice`, OPTS, async (t) => {
    const backend = await startBackend();
    t.after(() => backend.close());
    const o = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false', IDLE_GC_AFTER_MS: String(QUIET_MS) }, { node: rt.node, nodeArgs: rt.nodeArgs });
    t.after(() => o.stop('SIGKILL'));
    assert.equal(o.stderr(), '', 'the flags are accepted');
    const collections = () => o.logs.filter((l) => l.msg === IDLE_MSG);

    await sleep(4 * QUIET_MS); // quiet periods without any traffic
    assert.equal(collections().length, 0, 'no collection before any traffic');
    assert.equal(await counter(o.adminPort), 0);

    await load(o.proxyPort, 3000, 50);
    const line: LogLine = await o.waitForLog((l) => l.msg === IDLE_MSG, 30_000);
    for (const k of ['rssBeforeMiB', 'rssAfterMiB', 'heapBeforeMiB', 'heapAfterMiB', 'ms']) assert.equal(typeof line[k], 'number', k);
    assert.ok((line.heapAfterMiB as number) <= (line.heapBeforeMiB as number), `the V8 heap did not grow: ${JSON.stringify(line)}`);

    // A stall of the busy test machine during the load can make a quiet period of its own; count from here.
    const after = collections().length;
    await sleep(4 * QUIET_MS);
    assert.equal(collections().length, after, 'still quiet: no further collection');
    assert.equal(await counter(o.adminPort), after);

    await load(o.proxyPort, 200, 10); // a new load earns another
    await o.waitForLog((l) => l.msg === IDLE_MSG && !collections().slice(0, after).includes(l), 30_000);
    assert.ok(await counter(o.adminPort) > after);
  });
}

test('IDLE_GC_AFTER_MS=0 turns the step off', OPTS, async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const o = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false', IDLE_GC_AFTER_MS: '0' });
  t.after(() => o.stop('SIGKILL'));
  await load(o.proxyPort, 500, 20);
  await sleep(1500);
  assert.equal(o.logs.filter((l) => l.msg === IDLE_MSG).length, 0);
  assert.equal(await counter(o.adminPort), 0);
});
