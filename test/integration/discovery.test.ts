import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, renameSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOutrigger } from '../helpers/outrigger.js';
import { request, startBackend } from '../helpers/http.js';

test('CONFIG_FILE: seed format accepted; a changed file (ConfigMap symlink swap) reloads backends; a bad file keeps the last good one', async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  t.after(() => Promise.all([a.close(), b.close()]));
  // Kubernetes mounts ConfigMaps as ..data -> ..<timestamp>/ with a file symlink into ..data.
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-cm-'));
  const version = (name: string, body: object) => {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'config.json'), JSON.stringify(body));
    symlinkSync(name, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  version('..v1', { port: 8080, servers: [{ url: `http://127.0.0.1:${a.port}` }], healthCheckInterval: 0.2 });
  symlinkSync('..data/config.json', join(dir, 'config.json'));

  const lb = await startOutrigger({ CONFIG_FILE: join(dir, 'config.json'), HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false' });
  t.after(() => lb.stop());
  assert.equal(Number((await request(lb.proxyPort, '/ping')).headers['x-backend']), a.port);
  const status = await (await fetch(`http://127.0.0.1:${lb.adminPort}/api/status`)).json() as { config: { healthCheck: { intervalMs: number } } };
  assert.equal(status.config.healthCheck.intervalMs, 200, 'healthCheckInterval is in seconds in the file');

  // A long request in flight across the reload must complete.
  const inFlight = request(lb.proxyPort, '/delay?ms=500');
  version('..v2', { servers: [{ url: `http://127.0.0.1:${b.port}`, weight: 2 }] });
  await lb.waitForLog((l) => l.msg === 'config reloaded', 7000);
  assert.equal((await inFlight).status, 200);
  for (let i = 0; i < 3; i++) assert.equal(Number((await request(lb.proxyPort, '/ping')).headers['x-backend']), b.port);

  version('..v3', { servers: 'not a list' } as object);
  await lb.waitForLog((l) => l.msg === 'config reload rejected; keeping the last good backends', 7000);
  assert.equal(Number((await request(lb.proxyPort, '/ping')).headers['x-backend']), b.port);
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, /^outrigger_config_reloads_total\{result="success"\} 1$/m);
  assert.match(metrics, /^outrigger_config_reloads_total\{result="failure"\} 1$/m);
});

test('dns+ entries expand to one backend per address (localhost)', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `dns+http://localhost:${backend.port}`, HEALTH_CHECK_TYPE: 'tcp', DNS_REFRESH_MS: '200', ACCESS_LOG: 'false' });
  t.after(() => lb.stop());
  const status = await (await fetch(`http://127.0.0.1:${lb.adminPort}/api/status`)).json() as { backends: Array<{ id: string; state: string }> };
  const ids = status.backends.map((x) => x.id);
  assert.ok(ids.includes(`127.0.0.1:${backend.port}`), ids.join());
  // Whatever else localhost resolves to (::1 here, where nothing listens) is probed and kept out.
  assert.equal((await request(lb.proxyPort, '/ping')).status, 200);
});

test('a dns+ name and an address for the same backend with other settings: the first entry is used, one warn line says so', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${backend.port};weight=2,dns+http://localhost:${backend.port};weight=7`, HEALTH_CHECK_TYPE: 'none', DNS_REFRESH_MS: '200', ACCESS_LOG: 'false',
  });
  t.after(() => lb.stop());
  const line = await lb.waitForLog((l) => l.msg === 'backend listed twice with different settings (a dns+ name and an address, say): the first entry\'s are used', 5000);
  assert.equal(line.level, 40);
  assert.equal(line.backend, `127.0.0.1:${backend.port}`);
  assert.deepEqual([line.used, line.ignored], [{ scheme: 'http', weight: 2 }, { scheme: 'http', weight: 7 }]);
  const status = await (await fetch(`http://127.0.0.1:${lb.adminPort}/api/status`)).json() as { backends: Array<{ id: string; weight: number }> };
  assert.equal(status.backends.find((b) => b.id === `127.0.0.1:${backend.port}`)?.weight, 2);
  await new Promise((r) => setTimeout(r, 500)); // a few DNS refreshes: still one line
  assert.equal(lb.logs.filter((l) => l.msg === line.msg).length, 1);
});
