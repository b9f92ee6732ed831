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

/** Resolves with the bytes received and how long the connection stayed open (bounded by `limitMs`). */
function holdOpen(port: number, opts: { send?: (s: net.Socket) => void; limitMs: number }): Promise<{ bytes: number; closedAfterMs: number | null }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let bytes = 0;
    const s = net.connect(port, '127.0.0.1', () => opts.send?.(s));
    const limit = setTimeout(() => { s.destroy(); resolve({ bytes, closedAfterMs: null }); }, opts.limitMs);
    s.on('data', (d) => { bytes += d.length; });
    s.on('error', () => undefined);
    s.on('close', () => { clearTimeout(limit); resolve({ bytes, closedAfterMs: Date.now() - started }); });
  });
}

async function metric(adminPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return m === null ? NaN : Number(m[1]);
}

test('MODE=tcp: a tunnel silent both ways for IDLE_TIMEOUT_MS is closed; bytes either way keep it open', async (t) => {
  // The backend streams a byte every 100 ms on its own on connections that say "stream", and stays silent otherwise.
  const server = net.createServer((s) => {
    s.on('error', () => s.destroy());
    s.once('data', (d) => {
      if (String(d) !== 'stream') return;
      const timer = setInterval(() => s.write('x'), 100);
      s.once('close', () => clearInterval(timer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const lb = await startOutrigger({ MODE: 'tcp', BACKENDS: `127.0.0.1:${port}`, HEALTH_CHECK_TYPE: 'none', IDLE_TIMEOUT_MS: '500' });
  t.after(() => lb.stop());

  const [silent, fromBackend, fromClient] = await Promise.all([
    holdOpen(lb.proxyPort, { send: (s) => s.write('quiet'), limitMs: 10_000 }),
    holdOpen(lb.proxyPort, { send: (s) => s.write('stream'), limitMs: 2_000 }),
    holdOpen(lb.proxyPort, {
      send: (s) => {
        s.write('quiet');
        const timer = setInterval(() => s.write('y'), 100);
        s.once('close', () => clearInterval(timer));
      },
      limitMs: 2_000,
    }),
  ]);
  assert.ok(silent.closedAfterMs !== null && silent.closedAfterMs >= 450, `the silent tunnel closed after ${silent.closedAfterMs} ms`);
  assert.equal(fromBackend.closedAfterMs, null, 'a tunnel the backend keeps writing to stays open past IDLE_TIMEOUT_MS');
  assert.ok(fromBackend.bytes >= 10, `${fromBackend.bytes} bytes relayed`);
  assert.equal(fromClient.closedAfterMs, null, 'a tunnel the client keeps writing to stays open past IDLE_TIMEOUT_MS');
  // Every tunnel and connection is counted out again.
  const deadline = Date.now() + 5_000;
  while ((await metric(lb.adminPort, 'outrigger_tunnels')) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await metric(lb.adminPort, 'outrigger_tunnels'), 0);
  assert.equal(await metric(lb.adminPort, 'outrigger_downstream_connections'), 0);
});

test('MODE=tcp: megabytes both ways through a slow reader arrive whole (backpressure) and half-close still answers', async (t) => {
  const backend = await echoServer();
  t.after(() => backend.close());
  const lb = await startOutrigger({ MODE: 'tcp', BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const payload = Buffer.alloc(16 * 1024 * 1024, 'abcdefghijklmnopqrstuvwxyz');
  const received = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(lb.proxyPort, '127.0.0.1', () => s.end(payload));
    // Reads in bursts with pauses, so that the proxy's buffers fill and it must wait.
    const pacer = setInterval(() => { s.isPaused() ? s.resume() : s.pause(); }, 20);
    const limit = setTimeout(() => s.destroy(new Error(`no end after 20 s; ${chunks.reduce((n, c) => n + c.length, 0)} bytes back`)), 20_000);
    const done = () => { clearInterval(pacer); clearTimeout(limit); };
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => { done(); resolve(Buffer.concat(chunks)); });
    s.on('error', (err) => { done(); reject(err); });
  });
  assert.equal(received.length, payload.length);
  assert.ok(received.equals(payload), 'the bytes are the ones sent, in order');
});
