import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startOutrigger } from '../helpers/outrigger.js';
import { request } from '../helpers/http.js';

test('an IPv6 literal backend ([::1]:port) is probed, proxied to and named with brackets', async (t) => {
  const server = http.createServer((_req, res) => res.end('pong over v6'));
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => resolve(true));
  });
  if (!listening) return t.skip('no IPv6 loopback on this machine');
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const lb = await startOutrigger({ BACKENDS: `http://[::1]:${port};weight=2` });
  t.after(() => lb.stop());
  const r = await request(lb.proxyPort, '/');
  assert.equal(r.status, 200);
  assert.equal(r.text, 'pong over v6');
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, new RegExp(`outrigger_backend_up\\{backend="\\[::1\\]:${port}"\\} 1`));
});
