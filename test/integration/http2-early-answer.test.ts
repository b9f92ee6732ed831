/**
 * An HTTP/2 client's upload that the answer overtakes: the backend answers
 * before it read the request body (a 401 to an upload, say) and stops reading.
 * The answer reaches the client whole, and then Outrigger asks the client to
 * stop sending with RST_STREAM NO_ERROR (RFC 9113 §8.1), so the stream ends
 * instead of staying half-open for an upload nobody reads. Client: Node's
 * http2, by prior knowledge (it keeps its own stream open until its upload
 * ends, so the proxy's side is what is checked: its access line); backends: a raw one that stops reading, and a node:http one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { startOutrigger } from '../helpers/outrigger.js';
import { sleep, startServer } from '../helpers/http.js';

interface Upload { status: number; body: string }

/**
 * POSTs a body announced as 8 MiB, sends 1 MiB of it and then nothing: only the proxy can end the
 * stream. Resolves once the answer has ended; the session stays open (closed with the test).
 */
async function stalledUpload(port: number, t: { after(fn: () => void): void }): Promise<Upload> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  t.after(() => session.destroy());
  const stream = session.request({ ':method': 'POST', ':path': '/upload', 'content-length': String(8 * 1024 * 1024) });
  stream.on('error', () => undefined);
  let status = 0;
  let body = '';
  stream.on('response', (h) => (status = Number(h[':status'])));
  stream.on('data', (d: Buffer) => (body += d.toString()));
  const ended = new Promise<void>((resolve) => stream.once('end', () => resolve()));
  stream.write(Buffer.alloc(1024 * 1024, 'u'));
  await Promise.race([ended, sleep(5000)]);
  return { status, body };
}

/** The proxy's side of the stream ended: its access line is written when the stream closes, which without the reset waits for the client. */
async function proxySideEnded(lb: Awaited<ReturnType<typeof startOutrigger>>): Promise<void> {
  const line = await lb.waitForLog((l) => l.msg === 'request' && l.path === '/upload', 5000);
  assert.equal(line.status, 401);
  assert.equal(line.aborted, undefined, 'the answer went out whole');
}

test('HTTP/2: a backend that answers before reading the upload and stops reading: the answer, then RST_STREAM NO_ERROR', async (t) => {
  const backend = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => {
      socket.pause();
      setTimeout(() => socket.write('HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\nNo'), 200);
    });
  });
  const sockets = new Set<net.Socket>();
  backend.on('connection', (s: net.Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); backend.close(() => resolve()); }));
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${(backend.address() as net.AddressInfo).port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());

  assert.deepEqual(await stalledUpload(lb.proxyPort, t), { status: 401, body: 'No' });
  await proxySideEnded(lb);
});

test('HTTP/2: a node:http backend that answers an upload at once: the answer, then RST_STREAM NO_ERROR', async (t) => {
  const origin = await startServer((_req, res) => void res.writeHead(401, { 'content-length': 2 }).end('No'));
  t.after(() => origin.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());

  assert.deepEqual(await stalledUpload(lb.proxyPort, t), { status: 401, body: 'No' });
  await proxySideEnded(lb);
});
