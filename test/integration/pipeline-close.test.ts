/**
 * An answer that closes the connection ends what the connection may ask for
 * (RFC 9112 §9.6): requests pipelined behind it are never forwarded, since
 * no answer could reach the client: an HTTP/1.0 client whose answer has no
 * length, MAX_CONNECTION_AGE_MS, and the drain (SIGTERM). Bytes in the same
 * read as a request with `Connection: close` make the whole read invalid, as
 * the conformance vectors (llhttp's "data after close") require: 400.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startOutrigger } from '../helpers/outrigger.js';
import { sleep } from '../helpers/http.js';

/** A backend that records each request line and answers it: with a length, or `chunked` (no length). */
async function recordingBackend(t: { after(fn: () => unknown): void }, chunked = false) {
  const lines: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    let data = '';
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      for (let end = data.indexOf('\r\n\r\n'); end >= 0; end = data.indexOf('\r\n\r\n')) {
        const head = data.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (data.length < end + 4 + length) return;
        data = data.slice(end + 4 + length);
        lines.push(head.split('\r\n')[0]!);
        socket.write(chunked ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' : 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, lines };
}

/** Opens a connection; `send` writes and collects until the connection closes (or `ms`). */
async function connection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let got = '';
  let closed = false;
  socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
  socket.on('close', () => (closed = true));
  return {
    socket,
    got: () => got,
    closed: () => closed,
    async untilClosed(ms = 3000) {
      const end = Date.now() + ms;
      while (!closed && Date.now() < end) await sleep(20);
      return closed;
    },
  };
}

const answers = (text: string) => text.match(/HTTP\/1\.1 \d{3}/g) ?? [];
const PIPELINED_POST = 'POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc';

test('Connection: close with a pipelined request in the same read: an invalid stream (llhttp\'s "data after close"): 400, nothing forwarded', async (t) => {
  const backend = await recordingBackend(t);
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const c = await connection(lb.proxyPort);
  c.socket.write(`GET /first HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n${PIPELINED_POST}`);
  assert.ok(await c.untilClosed(), 'the connection closed');
  assert.deepEqual(answers(c.got()), ['HTTP/1.1 400'], c.got());
  await sleep(200);
  assert.deepEqual(backend.lines, [], 'neither request reached the backend');
});

test('an HTTP/1.0 keep-alive client whose first answer has no length: answered, closed, and its pipelined POST never forwarded', async (t) => {
  const backend = await recordingBackend(t, true);
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const c = await connection(lb.proxyPort);
  c.socket.write('GET /first HTTP/1.0\r\nConnection: keep-alive\r\n\r\nPOST /second HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc');
  assert.ok(await c.untilClosed(), 'the connection closed');
  assert.deepEqual(answers(c.got()), ['HTTP/1.1 200'], c.got());
  await sleep(200);
  assert.deepEqual(backend.lines, ['GET /first HTTP/1.1']);
});

for (const [name, env] of [
  ['MAX_CONNECTION_AGE_MS', { MAX_CONNECTION_AGE_MS: '300' }],
  ['the drain (SIGTERM, SHUTDOWN_DELAY_MS)', { SHUTDOWN_DELAY_MS: '3000' }],
] as const) {
  test(`${name}: the answer that closes the connection is the last; what was pipelined behind it is never forwarded`, async (t) => {
    const backend = await recordingBackend(t);
    const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', ...env });
    t.after(() => lb.stop('SIGKILL'));
    const c = await connection(lb.proxyPort);
    c.socket.write('GET /warm HTTP/1.1\r\nHost: x\r\n\r\n');
    while (answers(c.got()).length < 1) await sleep(10);
    if ('MAX_CONNECTION_AGE_MS' in env) await sleep(500);
    else {
      lb.child.kill('SIGTERM');
      await lb.waitForLog((l) => l.msg === 'shutdown: draining, readiness now 503');
    }
    c.socket.write(`GET /first HTTP/1.1\r\nHost: x\r\n\r\n${PIPELINED_POST}`);
    assert.ok(await c.untilClosed(), 'the connection closed');
    assert.deepEqual(answers(c.got()), ['HTTP/1.1 200', 'HTTP/1.1 200'], c.got());
    assert.match(c.got(), /Connection: close\r\n/i);
    await sleep(200);
    assert.deepEqual(backend.lines, ['GET /warm HTTP/1.1', 'GET /first HTTP/1.1']);
  });
}
