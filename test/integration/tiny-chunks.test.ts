/**
 * Bodies made of one-byte chunks, both ways, seen on the wire (transport/gather): every byte
 * arrives, in far fewer chunks than were sent. Each chunk Outrigger wrote on costs a write,
 * its framing and objects until the socket takes them: a 6 MB upload of one-byte chunks once
 * held 440 MB and took 4 s (it is a memory attack on a sidecar with a 256Mi limit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { startOutrigger } from '../helpers/outrigger.js';

const CHUNKS = 200_000;

/** Reads a chunked body from `data` (after the head): payload and the number of chunks, or undefined while incomplete. */
function dechunk(data: Buffer): { payload: Buffer; chunks: number } | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  let chunks = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (size === 0) return data.length >= eol + 4 ? { payload: Buffer.concat(parts), chunks } : undefined;
    if (data.length < eol + 2 + size + 2) return undefined;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    chunks += 1;
    at = eol + 2 + size + 2;
  }
}

function oneByteChunks(payload: Buffer): Buffer {
  const out = Buffer.alloc(payload.length * 6 + 5);
  let at = 0;
  for (const byte of payload) {
    out.write('1\r\n', at, 'latin1');
    out[at + 3] = byte;
    out.write('\r\n', at + 4, 'latin1');
    at += 6;
  }
  out.write('0\r\n\r\n', at, 'latin1');
  return out;
}

/** A raw HTTP/1.1 backend: `onRequest` gets the bytes after the request head once `complete` says so. */
async function rawBackend(t: { after(fn: () => unknown): void }, answer: (socket: net.Socket, body: Buffer) => void, complete: (body: Buffer) => boolean) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    let data = Buffer.alloc(0);
    let answered = false;
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      const end = data.indexOf('\r\n\r\n');
      if (answered || end < 0) return;
      const body = data.subarray(end + 4);
      if (!complete(body)) return;
      answered = true;
      answer(socket, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

function exchange(port: number, request: Buffer, complete: (answer: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no complete answer in 20 s: ${data.length} bytes`)); }, 20_000);
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      if (complete(data)) { clearTimeout(timer); socket.destroy(); resolve(data); }
    });
    socket.on('error', (err) => { clearTimeout(timer); reject(err); });
    socket.write(request);
  });
}

const payload = Buffer.from(Array.from({ length: CHUNKS }, (_, i) => (i * 7) % 251));
const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test(`a request body of ${CHUNKS} one-byte chunks reaches the backend whole, re-chunked into far fewer`, async (t) => {
  let seen: { payload: Buffer; chunks: number } | undefined;
  const port = await rawBackend(t, (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'), (body) => (seen = dechunk(body)) !== undefined);
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${port}`, HEALTH_CHECK_TYPE: 'none', RETRIES: '0' });
  t.after(() => lb.stop());
  const head = Buffer.from('POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n', 'latin1');
  const answer = await exchange(lb.proxyPort, Buffer.concat([head, oneByteChunks(payload)]), (a) => a.toString('latin1').endsWith('ok'));
  assert.match(answer.toString('latin1'), /^HTTP\/1\.1 200 /);
  assert.equal(digest(seen!.payload), digest(payload), 'every byte, in order');
  assert.ok(seen!.chunks <= 2_000, `${seen!.chunks} chunks reached the backend`);
});

test(`an answer of ${CHUNKS} one-byte chunks reaches the client whole, re-chunked into far fewer`, async (t) => {
  const port = await rawBackend(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    socket.end(oneByteChunks(payload));
  }, () => true);
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  let got: { payload: Buffer; chunks: number } | undefined;
  await exchange(lb.proxyPort, Buffer.from('GET /down HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'), (a) => {
    const end = a.indexOf('\r\n\r\n');
    return end >= 0 && (got = dechunk(a.subarray(end + 4))) !== undefined;
  });
  assert.equal(digest(got!.payload), digest(payload), 'every byte, in order');
  assert.ok(got!.chunks <= 2_000, `${got!.chunks} chunks reached the client`);
});
