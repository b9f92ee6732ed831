import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startOutrigger } from '../helpers/outrigger.js';
import { startBackend, rawExchange, closedPort } from '../helpers/http.js';

const HANDSHAKE = 'GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

function openTunnel(port: number): Promise<{ socket: net.Socket; head: string; next: () => Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const queue: Array<(b: Buffer) => void> = [];
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0 && !(socket as net.Socket & { opened?: boolean }).opened) {
        (socket as net.Socket & { opened?: boolean }).opened = true;
        const head = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        resolve({ socket, head, next: () => new Promise((r) => queue.push(r)) });
        if (buf.length > 0) { queue.shift()?.(buf); buf = Buffer.alloc(0); }
        return;
      }
      if ((socket as net.Socket & { opened?: boolean }).opened) { const w = queue.shift(); if (w) { w(buf); buf = Buffer.alloc(0); } }
    });
    socket.write(HANDSHAKE);
  });
}

test('WebSocket upgrade becomes a tunnel; bytes flow both ways; metrics count it', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const { socket, head, next } = await openTunnel(lb.proxyPort);
  t.after(() => socket.destroy());
  assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(head, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
  assert.match(head, /\r\nUpgrade: websocket/i);
  const frame = Buffer.from([0x81, 0x85, 1, 2, 3, 4, 0x69, 0x67, 0x6f, 0x68, 0x6e]); // masked "hello"
  socket.write(frame);
  assert.deepEqual(await next(), frame, 'the echo backend returns the frame bytes unchanged');
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, /^outrigger_tunnels 1$/m);
});

test('shutdown closes open WebSocket tunnels with a 1001 close frame after DRAIN_TIMEOUT_MS', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', SHUTDOWN_DELAY_MS: '0', DRAIN_TIMEOUT_MS: '200' });
  t.after(() => lb.stop('SIGKILL'));
  const { socket } = await openTunnel(lb.proxyPort);
  const received: Buffer[] = [];
  socket.on('data', (d: Buffer) => received.push(d));
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  lb.child.kill('SIGTERM');
  await closed;
  assert.deepEqual(Buffer.concat(received).subarray(-4), Buffer.from([0x88, 0x02, 0x03, 0xe9]));
  assert.equal(await lb.exited, 0);
});

test('an upgrade to a dead backend answers 502 connect_failed', async (t) => {
  const port = await closedPort();
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const out = await rawExchange(lb.proxyPort, HANDSHAKE);
  assert.match(out, /^HTTP\/1\.1 502 Bad Gateway\r\n[\s\S]*x-outrigger-error: connect_failed/);
});
