/**
 * Issue 12, item 5: when a backend leaves the set (pods rolling behind a
 * headless Service, a config reload), its series leave every per-backend
 * metric, so that /metrics stays bounded however often the set changes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOutrigger } from '../helpers/outrigger.js';
import { request, startBackend } from '../helpers/http.js';

const ROLLS = 30;

test(`backends replaced ${ROLLS} times: /metrics names only the current backend and does not grow`, { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-churn-'));
  const file = join(dir, 'config.json');
  const write = (port: number) => {
    writeFileSync(`${file}.tmp`, JSON.stringify({ servers: [{ url: `http://127.0.0.1:${port}` }] }));
    renameSync(`${file}.tmp`, file);
  };
  let backend = await startBackend();
  write(backend.port);
  t.after(() => backend.close());
  const lb = await startOutrigger({ CONFIG_FILE: file, HEALTH_CHECK_TYPE: 'http', HEALTH_CHECK_PATH: '/health', ACCESS_LOG: 'false', MAX_REQUESTS_PER_BACKEND: '5' });
  t.after(() => lb.stop());
  const scrape = async () => (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  const backendsIn = (text: string) => new Set([...text.matchAll(/backend="([^"]+)"/g)].map((m) => m[1]));
  let sizeAfterFirst = 0;
  for (let roll = 0; roll < ROLLS; roll++) {
    const next = await startBackend();
    const reloads = lb.logs.filter((l) => l.msg === 'config reloaded').length;
    write(next.port);
    lb.child.kill('SIGHUP');
    await lb.waitForLog(() => lb.logs.filter((l) => l.msg === 'config reloaded').length > reloads, 5000);
    await backend.close();
    backend = next;
    // Traffic and probes create series for the new backend.
    await waitHealthy(lb.adminPort, `127.0.0.1:${backend.port}`);
    for (let i = 0; i < 3; i++) assert.equal((await request(lb.proxyPort, '/ping')).status, 200);
    if (roll === 0) sizeAfterFirst = (await scrape()).length;
  }
  const text = await scrape();
  assert.deepEqual([...backendsIn(text)], [`127.0.0.1:${backend.port}`], 'only the current backend has series');
  assert.ok(text.length < sizeAfterFirst * 1.1, `/metrics grew from ${sizeAfterFirst} to ${text.length} bytes`);
});

/** The new backend's first probe decides its state: wait until it is healthy. */
async function waitHealthy(adminPort: number, id: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const status = await (await fetch(`http://127.0.0.1:${adminPort}/api/status`)).json() as { backends: Array<{ id: string; state: string }> };
    if (status.backends.some((b) => b.id === id && b.state === 'healthy')) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${id} not healthy in time`);
}
