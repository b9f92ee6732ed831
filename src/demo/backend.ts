/**
 * A demo backend: `node dist/demo/backend.js PORT [HOST]`.
 *
 *   GET /ping                   → "pong from backend :PORT"
 *   GET /health                 → 200 (503 after POST /health/fail, 200 again after POST /health/ok)
 *   ANY /echo, /echo/…          → JSON: method, url, raw headers, body size and sha256, trailers
 *   GET /delay?ms=N             → answers after N ms
 *   GET /status?code=N          → answers with status N
 *   GET /close                  → closes the socket without answering
 *   GET /hang                   → never answers
 *   GET /bytes?n=N              → N deterministic bytes, streamed (sha256 in x-sha256)
 *   GET /sse?events=N&gap=MS    → text/event-stream, one event every MS
 *   GET /early-hints            → 103 Early Hints, then 200
 *   GET /trailers               → chunked body followed by a trailer
 *   GET /cookies                → three Set-Cookie headers
 *   Upgrade: websocket          → 101, then echoes every byte back
 */
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function createDemoBackend(configuredPort: number): http.Server {
  let healthy = true;
  let port = configuredPort;
  const server = http.createServer((req, res) => {
    // The target is a path: `//host/…` must not read as another host, nor `//%zz` throw (Invalid URL).
    let url: URL;
    try {
      url = new URL(`http://backend${(req.url ?? '/').startsWith('/') ? '' : '/'}${req.url ?? ''}`);
    } catch {
      return text(res, 400, 'bad request target\n');
    }
    const q = (name: string, def: number) => {
      const v = Number(url.searchParams.get(name));
      return Number.isFinite(v) && url.searchParams.has(name) ? v : def;
    };
    res.setHeader('x-backend', String(port));
    if (url.pathname.startsWith('/echo/')) return echo(req, res, port);
    switch (url.pathname) {
      case '/ping':
        return text(res, 200, `pong from backend :${port}\n`);
      case '/health':
        if (req.method === 'POST') return text(res, 405, 'use /health/ok or /health/fail\n');
        return text(res, healthy ? 200 : 503, healthy ? 'ok\n' : 'failing\n');
      case '/health/fail':
      case '/health/ok':
        healthy = url.pathname === '/health/ok';
        return text(res, 200, `health now ${healthy ? 'ok' : 'failing'}\n`);
      case '/echo':
        return echo(req, res, port);
      case '/delay':
        setTimeout(() => text(res, 200, `delayed ${q('ms', 0)} ms by :${port}\n`), q('ms', 0));
        return;
      case '/status':
        return text(res, Math.min(599, Math.max(200, q('code', 200))), `status ${q('code', 200)} from :${port}\n`);
      case '/close':
        req.socket.destroy();
        return;
      case '/hang':
        return;
      case '/bytes':
        return bytes(res, q('n', 0));
      case '/sse':
        return sse(res, q('events', 3), q('gap', 100));
      case '/early-hints':
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        setTimeout(() => text(res, 200, 'after early hints\n'), 20);
        return;
      case '/trailers':
        res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
        res.write('body with a trailer\n');
        res.addTrailers({ 'x-checksum': 'abc123' });
        res.end();
        return;
      case '/cookies':
        res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/', 'c=3; HttpOnly']);
        return text(res, 200, 'three cookies\n');
      default:
        return text(res, 404, `not found on :${port}\n`);
    }
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const key = req.headers['sec-websocket-key'];
    socket.on('error', () => socket.destroy());
    if (typeof key !== 'string') return void socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nx-backend: ${port}\r\n\r\n`);
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('listening', () => {
    const address = server.address();
    if (typeof address === 'object' && address !== null) port = address.port;
  });
  return server;
}

function text(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function echo(req: http.IncomingMessage, res: http.ServerResponse, port: number): void {
  const hash = createHash('sha256');
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    hash.update(chunk);
  });
  req.on('end', () => {
    const body = JSON.stringify({
      backend: port, method: req.method, url: req.url, httpVersion: req.httpVersion,
      rawHeaders: req.rawHeaders, bodyBytes: size, bodySha256: hash.digest('hex'), rawTrailers: req.rawTrailers,
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}

/** Deterministic content: byte i is (i * 31 + 7) mod 251. */
export function patternBytes(offset: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buf[i] = ((offset + i) * 31 + 7) % 251;
  return buf;
}

function bytes(res: http.ServerResponse, n: number): void {
  const total = Math.max(0, Math.floor(n));
  const hash = createHash('sha256');
  for (let off = 0; off < total; off += 65536) hash.update(patternBytes(off, Math.min(65536, total - off)));
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total, 'x-sha256': hash.digest('hex') });
  let offset = 0;
  const pump = () => {
    while (offset < total) {
      const chunk = patternBytes(offset, Math.min(65536, total - offset));
      offset += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

function sse(res: http.ServerResponse, events: number, gapMs: number): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const tick = () => {
    if (res.destroyed) return;
    if (i >= events) return void res.end();
    res.write(`id: ${i}\ndata: event ${i} at ${Date.now()}\n\n`);
    i += 1;
    setTimeout(tick, gapMs);
  };
  tick();
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const port = Number(process.argv[2] ?? '8081');
  const host = process.argv[3] ?? '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write('usage: node dist/demo/backend.js PORT [HOST]\n');
    process.exit(2);
  }
  const server = createDemoBackend(port);
  server.once('error', (err: NodeJS.ErrnoException) => {
    process.stderr.write(`demo backend cannot listen on ${host}:${port}: ${err.code ?? err.message}\n`);
    process.exit(1);
  });
  server.listen(port, host, () => {
    const address = server.address();
    const actual = typeof address === 'object' && address !== null ? address.port : port;
    process.stdout.write(`demo backend listening on ${host}:${actual}\n`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
