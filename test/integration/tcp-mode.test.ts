import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startOutrigger } from '../helpers/outrigger.js';
import { closedPort } from '../helpers/http.js';

async function echoServer(): Promise<{ port: number; close: () => void; accepted: () => number }> {
  let accepted = 0;
  const server = net.createServer((s) => { accepted += 1; s.on('error', () => s.destroy()); s.pipe(s); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close(), accepted: () => accepted };
}

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(text));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

test('MODE=tcp: connections are spread over backends and bytes are echoed back', async (t) => {
  const a = await echoServer();
  const b = await echoServer();
  t.after(() => { a.close(); b.close(); });
  const lb = await startOutrigger({ MODE: 'tcp', BACKENDS: `127.0.0.1:${a.port},127.0.0.1:${b.port}` });
  t.after(() => lb.stop());
  for (let i = 0; i < 4; i++) assert.equal(await roundTrip(lb.proxyPort, `hello ${i}\n`), `hello ${i}\n`);
  assert.deepEqual([a.accepted(), b.accepted()].map((n) => n >= 2), [true, true]);
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, /^outrigger_downstream_connections_total 4$/m);
});

test('MODE=tcp: a refused connect is retried on another backend', async (t) => {
  const dead = await closedPort();
  const good = await echoServer();
  t.after(() => good.close());
  const lb = await startOutrigger({ MODE: 'tcp', BACKENDS: `127.0.0.1:${dead},127.0.0.1:${good.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  for (let i = 0; i < 3; i++) assert.equal(await roundTrip(lb.proxyPort, 'ping'), 'ping');
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, /outrigger_retries_total\{reason="connect_failed"\} [1-9]/);
});
