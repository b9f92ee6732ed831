/**
 * HTTP/1.1 Upgrade tunnels and HTTP/2 backends: an `h2c` backend cannot take
 * a WebSocket (HTTP/2 has no Upgrade), so it is never chosen for one, never
 * blamed for one, and so never ejected because clients open WebSockets.
 * Real `ws` clients and server, real Node HTTP/2 backends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { startOutrigger } from '../helpers/outrigger.js';
import { startH2Backend, type H2Backend } from '../helpers/h2-backend.js';

interface WsResult {
  /** 101 when the tunnel opened, else the status Outrigger (or a backend) answered. */
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The echo of 'ping' over an open tunnel. */
  readonly echo?: string;
}

/** One `ws` connect: open, one echo, close; or the non-101 answer. Bounded. */
function wsConnect(port: number): Promise<WsResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`);
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('ws connect timed out')); }, 5000);
    let headers: http.IncomingHttpHeaders = {};
    ws.on('upgrade', (res) => (headers = res.headers));
    ws.on('open', () => ws.send('ping'));
    ws.on('message', (data) => {
      clearTimeout(timer);
      ws.close(1000);
      resolve({ status: 101, headers, echo: String(data) });
    });
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      ws.terminate();
    });
    ws.on('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

/** A `ws` echo server on 127.0.0.1:0 whose 101 names it (`x-backend: <port>`). */
async function wsBackend(): Promise<{ port: number; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  server.on('headers', (headers) => headers.push(`x-backend: ${port}`));
  server.on('connection', (socket) => socket.on('message', (data, binary) => socket.send(data, { binary })));
  return { port, close: () => new Promise<void>((resolve) => { for (const c of server.clients) c.terminate(); server.close(() => resolve()); }) };
}

/** An h2c backend answering every stream 200 and counting the streams it saw. */
async function h2cBackend(): Promise<H2Backend & { streams: () => number }> {
  let streams = 0;
  const b = await startH2Backend((stream) => {
    streams += 1;
    stream.respond({ ':status': 200 });
    stream.end('h2');
  });
  return { ...b, streams: () => streams };
}

test('a mixed pool (one http, one h2c): every WebSocket goes to the HTTP/1.1 backend', async (t) => {
  const http1 = await wsBackend();
  t.after(() => http1.close());
  const h2 = await h2cBackend();
  t.after(() => h2.close());
  const lb = await startOutrigger({ BACKENDS: `http://127.0.0.1:${http1.port},h2c://127.0.0.1:${h2.port}`, HEALTH_CHECK_TYPE: 'none', LB_ALGORITHM: 'round-robin' });
  t.after(() => lb.stop());
  for (let i = 0; i < 10; i += 1) {
    const r = await wsConnect(lb.proxyPort);
    assert.equal(r.status, 101, `connect ${i} opened a tunnel`);
    assert.equal(r.headers['x-backend'], String(http1.port));
    assert.equal(r.echo, 'ping');
  }
  assert.equal(h2.streams(), 0, 'the h2c backend never saw an upgrade');
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.doesNotMatch(metrics, /^outrigger_upstream_errors_total\{[^}]*\} [1-9]/m);
});

test('an all-h2c pool: WebSockets get 503 no_healthy_backend; no backend is blamed or ejected', async (t) => {
  const a = await h2cBackend();
  t.after(() => a.close());
  const b = await h2cBackend();
  t.after(() => b.close());
  const lb = await startOutrigger({ BACKENDS: `h2c://127.0.0.1:${a.port},h2c://127.0.0.1:${b.port}`, HEALTH_CHECK_TYPE: 'none', OUTLIER_CONSECUTIVE_FAILURES: '5' });
  t.after(() => lb.stop());
  for (let i = 0; i < 12; i += 1) {
    const r = await wsConnect(lb.proxyPort);
    assert.equal(r.status, 503, `connect ${i}`);
    assert.equal(r.headers['x-outrigger-error'], 'no_healthy_backend');
  }
  assert.equal(a.streams() + b.streams(), 0, 'no backend was asked');
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, new RegExp(`^outrigger_backend_up\\{backend="127.0.0.1:${a.port}"\\} 1$`, 'm'));
  assert.match(metrics, new RegExp(`^outrigger_backend_up\\{backend="127.0.0.1:${b.port}"\\} 1$`, 'm'));
  assert.doesNotMatch(metrics, /^outrigger_upstream_errors_total\{[^}]*\} [1-9]/m);
  assert.equal(lb.logs.find((l) => l.msg.includes('ejected')), undefined, 'no ejection logged');
  // The pool still serves what it speaks: a plain request goes through to an h2c backend.
  const res = await fetch(`http://127.0.0.1:${lb.proxyPort}/`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'h2');
});
