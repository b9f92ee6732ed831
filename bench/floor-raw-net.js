/**
 * BENCH-ONLY PROTOTYPE, NOT PRODUCT CODE. It answers one question of issue 13:
 * what an HTTP/1.1 proxy costs per request when its data plane is raw
 * `node:net` instead of a node:http server and an undici client. It is not
 * behind Outrigger's request guard, has no health checks, retries, routing,
 * TLS or HTTP/2, and its parser is far from llhttp's refusals
 * (docs/benchmarks.md, "Flame graphs and the lean path", lists what it does not do).
 *
 *   node bench/floor-raw-net.js [--features]        (or RAW_NET_FEATURES=1)
 *
 * Speaks the variant contract of bench/run.js: BACKENDS (host:port or
 * http://host:port, comma-separated), PROXY_HOST/PROXY_PORT, and 200 on
 * ADMIN_HOST/ADMIN_PORT (GET /metrics there with --features).
 *
 * Per request: the client's head is parsed minimally (request line, headers
 * up to CRLFCRLF; Content-Length bodies only; anything else is answered 400
 * and the connection closed), the upstream request is written as one buffer
 * on a pooled keep-alive socket, the response head is parsed and its body
 * framed by Content-Length, chunked or the connection's end, and head + body
 * go to the client in one write (Content-Length framing; the body is
 * buffered, never streamed). Pipelined requests are served one after the
 * other. --features adds what Outrigger does per request at the least:
 * X-Forwarded-For/-Proto/-Host and X-Request-Id, round robin over the
 * backends, a prom-client counter and histogram, and a pino access line on
 * stdout with src/log.ts's pino options.
 */
import net from 'node:net';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { Counter, Histogram, Registry } from 'prom-client';

const FEATURES = process.argv.includes('--features') || process.env.RAW_NET_FEATURES === '1';
const MAX_HEAD = 16 * 1024;
const MAX_BODY = 8 * 1024 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n]/;
const REQUEST_LINE = /^([A-Z]+) ([^\s]+) HTTP\/1\.([01])$/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?$/;
/** Never forwarded in either direction (plus whatever Connection names). */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

const backends = (process.env.BACKENDS ?? '').split(',').filter(Boolean).map((b) => {
  const u = new URL(b.includes('://') ? b : `http://${b}`);
  return { host: u.hostname, port: Number(u.port || 80), label: u.host, idle: [] };
});
if (backends.length === 0) throw new Error('BACKENDS is empty');
let next = 0;

const registry = new Registry();
const requests = new Counter({ name: 'raw_http_requests_total', help: 'Requests answered.', labelNames: ['method', 'code'], registers: [registry] });
const duration = new Histogram({
  name: 'raw_http_request_duration_seconds', help: 'Head to response end.', labelNames: ['method', 'code_class'], registers: [registry],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});
// src/log.ts's options; its per-turn batching is approximated by a buffered (async) destination.
const log = pino({
  level: 'info', base: { name: 'outrigger' }, timestamp: pino.stdTimeFunctions.epochTime,
  redact: { paths: ['headers', 'req.headers', 'res.headers'], remove: true },
}, pino.destination({ dest: 1, sync: false, minLength: 4096 }));

/** Parses header lines[1..]: { ok, fields: [lowerName, line], byName } or ok false. */
function parseFields(lines) {
  const fields = [];
  const byName = new Map();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) return null; // also obs-fold: a line starting with a space has no token before ':'
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (!TOKEN.test(name) || BAD_VALUE.test(line)) return null;
    const lower = name.toLowerCase();
    fields.push(lower, line);
    if (byName.has(lower)) byName.get(lower).push(value);
    else byName.set(lower, [value]);
  }
  return { fields, byName };
}

/** The Content-Length of a message: a number, -1 when absent, null when invalid or ambiguous. */
function contentLength(byName) {
  const v = byName.get('content-length');
  if (v === undefined) return -1;
  if (v.length !== 1 || !/^\d{1,15}$/.test(v[0])) return null;
  return Number(v[0]);
}

/** Header lines to forward: hop-by-hop and Connection-named ones left out, and Content-Length (the proxy writes its own). */
function endToEnd(fields, byName) {
  const named = byName.has('connection') ? new Set(byName.get('connection').flatMap((v) => v.split(',').map((t) => t.trim().toLowerCase()))) : null;
  let out = '';
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    if (!HOP.has(name) && name !== 'content-length' && !named?.has(name)) out += `${fields[i + 1]}\r\n`;
  }
  return out;
}

/** One client connection: requests are read, forwarded and answered one at a time. */
class Client {
  constructor(socket) {
    this.socket = socket;
    this.pending = Buffer.alloc(0);
    this.busy = false;
    this.closed = false;
    socket.setTimeout(60_000, () => socket.destroy());
    socket.on('data', (chunk) => {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      if (this.pending.length > MAX_HEAD + MAX_BODY) socket.pause(); // a pipelining client far ahead of us
      if (!this.busy) this.nextRequest();
    });
    socket.on('drain', () => { if (!this.busy) this.nextRequest(); });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => { this.closed = true; });
  }

  refuse(status, text) {
    this.busy = true; // nothing more is read from this connection
    this.socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  }

  nextRequest() {
    if (this.closed || this.pending.length === 0 || this.socket.writableNeedDrain) return;
    const end = this.pending.indexOf(CRLF2);
    if (end < 0) {
      if (this.pending.length > MAX_HEAD) this.refuse(431, 'Request Header Fields Too Large');
      return;
    }
    const lines = this.pending.latin1Slice(0, end).split('\r\n');
    const m = REQUEST_LINE.exec(lines[0]);
    const parsed = m === null ? null : parseFields(lines);
    const length = parsed === null ? null : contentLength(parsed.byName);
    const host = parsed?.byName.get('host');
    if (parsed === null || length === null || parsed.byName.has('transfer-encoding') || parsed.byName.has('expect')
      || (m[3] === '1' && host?.length !== 1) || (host !== undefined && host.length > 1)) return this.refuse(400, 'Bad Request');
    if (length > MAX_BODY) return this.refuse(413, 'Content Too Large');
    const bodyStart = end + 4;
    if (this.pending.length < bodyStart + Math.max(length, 0)) return; // the body is not all here yet
    const body = length > 0 ? this.pending.subarray(bodyStart, bodyStart + length) : null;
    this.pending = this.pending.subarray(bodyStart + Math.max(length, 0));
    const connection = parsed.byName.get('connection')?.join(',').toLowerCase() ?? '';
    const keepAlive = m[3] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    this.busy = true;
    forward(this, { method: m[1], target: m[2], parsed, body, keepAlive, host: host?.[0], started: performance.now() });
  }

  /** The answer (status line and headers, then body) to the current request in one write; then the next pipelined request. */
  answer(head, body, keepAlive, length) {
    if (this.closed) return;
    const text = `${head}${length === null ? '' : `Content-Length: ${length}\r\n`}${keepAlive ? '' : 'Connection: close\r\n'}\r\n`;
    const out = body.length === 0 ? Buffer.from(text, 'latin1') : Buffer.concat([Buffer.from(text, 'latin1'), body]);
    if (!keepAlive) {
      this.socket.end(out);
      return;
    }
    this.socket.write(out);
    this.busy = false;
    if (this.socket.isPaused()) this.socket.resume();
    this.nextRequest();
  }
}

function forward(client, req) {
  const backend = FEATURES ? backends[next++ % backends.length] : backends[0];
  let extra = '';
  let reqId = '';
  let fields = req.parsed.fields;
  if (FEATURES) {
    const by = req.parsed.byName;
    const xff = by.get('x-forwarded-for');
    const ip = client.socket.remoteAddress ?? '';
    if (xff !== undefined) fields = fields.filter((_, i, all) => all[i - (i % 2)] !== 'x-forwarded-for');
    extra += `X-Forwarded-For: ${xff === undefined ? '' : `${xff.join(', ')}, `}${ip}\r\n`;
    if (!by.has('x-forwarded-proto')) extra += 'X-Forwarded-Proto: http\r\n';
    if (!by.has('x-forwarded-host') && req.host !== undefined) extra += `X-Forwarded-Host: ${req.host}\r\n`;
    reqId = by.get('x-request-id')?.[0] ?? randomUUID();
    if (!by.has('x-request-id')) extra += `X-Request-Id: ${reqId}\r\n`;
  }
  const host = req.host === undefined ? `Host: ${backend.label}\r\n` : '';
  const lengthLine = req.body === null ? '' : `Content-Length: ${req.body.length}\r\n`;
  const headText = `${req.method} ${req.target} HTTP/1.1\r\n${host}${endToEnd(fields, req.parsed.byName)}${extra}${lengthLine}\r\n`;
  const wire = req.body === null ? Buffer.from(headText, 'latin1') : Buffer.concat([Buffer.from(headText, 'latin1'), req.body]);
  /** length: the Content-Length to send (null: none, for 204 and 304). */
  const done = (status, head, body, length = body.length) => {
    client.answer(head, body, req.keepAlive, length);
    if (!FEATURES) return;
    const seconds = (performance.now() - req.started) / 1000;
    requests.inc({ method: req.method, code: String(status) });
    duration.observe({ method: req.method, code_class: `${String(status)[0]}xx` }, seconds);
    log.info({ reqId, client: client.socket.remoteAddress, method: req.method, path: req.target, backend: backend.label, status, durationMs: Math.round(seconds * 1e5) / 100, attempts: 1, protocol: 'HTTP/1.1' }, 'request');
  };
  const idempotent = req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS';
  new Exchange(backend, wire, req.method === 'HEAD', idempotent, done).send(true);
}

/** One request on one upstream socket and its response, parsed as it arrives. */
class Exchange {
  constructor(backend, wire, isHead, idempotent, done) {
    Object.assign(this, { backend, wire, isHead, idempotent, done });
  }

  send(mayReuse) {
    const reused = mayReuse ? this.backend.idle.pop() : undefined;
    this.reused = reused !== undefined;
    const socket = reused ?? net.connect({ host: this.backend.host, port: this.backend.port, noDelay: true });
    if (!this.reused) {
      const { idle } = this.backend;
      socket.on('error', () => {}); // errors are reported through 'close' below
      socket.on('timeout', () => socket.destroy()); // armed only while a request is in flight
      socket.on('close', () => { const at = idle.indexOf(socket); if (at >= 0) idle.splice(at, 1); });
    }
    Object.assign(this, { socket, buf: Buffer.alloc(0), status: 0, head: '', chunks: [], bodyBytes: 0, framing: null, got: false });
    this.onData = (chunk) => this.data(chunk);
    this.onClose = () => this.closed();
    socket.on('data', this.onData);
    socket.once('close', this.onClose);
    socket.setTimeout(30_000);
    socket.write(this.wire);
  }

  data(chunk) {
    this.got = true;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.framing === null && !this.parseHead()) return;
    if (this.framing === 'length') {
      if (this.buf.length > this.remaining) return this.fail();
      if (this.buf.length === this.remaining) {
        const body = this.buf;
        this.buf = Buffer.alloc(0);
        this.finish(body);
      }
    } else if (this.framing === 'chunked') {
      this.parseChunks();
    } else if (this.bodyBytes + this.buf.length > MAX_BODY) {
      this.fail();
    } else { // until the connection ends
      this.chunks.push(this.buf);
      this.bodyBytes += this.buf.length;
      this.buf = Buffer.alloc(0);
    }
  }

  /** True when the head is complete and the framing known (1xx heads are skipped); fails the exchange on garbage. */
  parseHead() {
    for (;;) {
      const end = this.buf.indexOf(CRLF2);
      if (end < 0) return this.buf.length > MAX_HEAD ? this.fail() : false;
      const lines = this.buf.latin1Slice(0, end).split('\r\n');
      const m = STATUS_LINE.exec(lines[0]);
      const parsed = m === null ? null : parseFields(lines);
      const length = parsed === null ? null : contentLength(parsed.byName);
      const te = parsed?.byName.get('transfer-encoding');
      if (parsed === null || length === null || (te !== undefined && (te.length !== 1 || te[0].toLowerCase() !== 'chunked' || length >= 0))) return this.fail();
      this.buf = this.buf.subarray(end + 4);
      const status = Number(m[1]);
      if (status === 101) return this.fail();
      if (status < 200) continue;
      this.status = status;
      this.keepAlive = !(parsed.byName.get('connection')?.join(',').toLowerCase().includes('close') ?? false);
      this.head = `HTTP/1.1 ${m[1]} ${m[2] ?? ''}\r\n${endToEnd(parsed.fields, parsed.byName)}`;
      // HEAD keeps the backend's Content-Length; 204 and 304 get none.
      if (this.isHead || status === 204 || status === 304) return this.finish(Buffer.alloc(0), this.isHead && status === 200 && length >= 0 ? length : null) && false;
      if (length === 0) return this.finish(Buffer.alloc(0)) && false;
      if (length > MAX_BODY) return this.fail();
      this.framing = te !== undefined ? 'chunked' : length > 0 ? 'length' : 'close';
      this.remaining = length;
      this.keepAlive &&= this.framing !== 'close';
      return true;
    }
  }

  /** Takes complete chunks off buf; finishes at the last chunk and its (dropped) trailer section. */
  parseChunks() {
    for (;;) {
      const eol = this.buf.indexOf('\r\n');
      if (eol < 0) return this.buf.length > 1024 ? this.fail() : undefined;
      if (this.lastChunk) { // trailer lines until an empty one
        this.buf = this.buf.subarray(eol + 2);
        if (eol === 0) return this.buf.length === 0 ? this.finish(Buffer.concat(this.chunks)) : this.fail();
        continue;
      }
      const sizeText = this.buf.latin1Slice(0, eol).split(';')[0].trim();
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return this.fail();
      const size = parseInt(sizeText, 16);
      if (size === 0) {
        this.lastChunk = true;
        this.buf = this.buf.subarray(eol + 2);
        continue;
      }
      if (this.bodyBytes + size > MAX_BODY) return this.fail();
      if (this.buf.length < eol + 2 + size + 2) return undefined;
      if (this.buf[eol + 2 + size] !== 13 || this.buf[eol + 3 + size] !== 10) return this.fail();
      this.chunks.push(this.buf.subarray(eol + 2, eol + 2 + size));
      this.bodyBytes += size;
      this.buf = this.buf.subarray(eol + 4 + size);
    }
  }

  finish(body, length = body.length) {
    this.release(this.keepAlive && this.buf.length === 0);
    this.done(this.status, this.head, body, length);
    return true;
  }

  /** The socket went away: a close-delimited body ends here; otherwise a reused socket gets one retry, else 502. */
  closed() {
    if (this.framing === 'close') return this.finish(Buffer.concat(this.chunks));
    this.release(false);
    if (this.reused && !this.got && this.idempotent) return this.send(false); // a stale keep-alive socket
    this.done(502, 'HTTP/1.1 502 Bad Gateway\r\n', Buffer.alloc(0));
  }

  fail() {
    this.release(false);
    this.done(502, 'HTTP/1.1 502 Bad Gateway\r\n', Buffer.alloc(0));
    return false;
  }

  /** Detaches from the socket: back to the pool, or destroyed. */
  release(reuse) {
    const s = this.socket;
    s.off('data', this.onData);
    s.off('close', this.onClose);
    if (reuse && !s.destroyed) {
      s.setTimeout(0);
      this.backend.idle.push(s);
    } else s.destroy();
  }
}

const server = net.createServer({ noDelay: true }, (socket) => new Client(socket));
server.on('error', (err) => { console.error(`raw-net proxy: ${err.message}`); process.exit(1); });
server.listen(Number(process.env.PROXY_PORT), process.env.PROXY_HOST ?? '127.0.0.1');
http.createServer(async (req, res) => {
  if (req.url === '/metrics') res.end(await registry.metrics());
  else res.end('ok');
}).listen(Number(process.env.ADMIN_PORT), process.env.ADMIN_HOST ?? '127.0.0.1');
// A normal exit on SIGTERM, so that `node --cpu-prof` writes its profile; the access lines pending go out first.
process.on('SIGTERM', () => { log.flush?.(); process.exit(0); });
