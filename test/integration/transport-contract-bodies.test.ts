/**
 * The transport contract for requests with a body framed by Content-Length,
 * which both HTTP/1.1 engines take (undici for POST, PUT and PATCH with Host
 * first; node:http for the rest): the same rows run against each engine,
 * called directly, with a real node:http backend on loopback. The body comes
 * from a source that writes planned chunks with backpressure, as
 * proxy/request-body does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { Backend } from '../../src/upstream/backend.js';
import { parseBackendEntry } from '../../src/upstream/backend-address.js';
import { UpstreamPool } from '../../src/transport/pool.js';
import { sendWithNodeHttp } from '../../src/transport/engine-node.js';
import { sendWithUndici } from '../../src/transport/engine-undici.js';
import type { ExchangeRequest, RequestBodySink, RequestBodySource } from '../../src/transport/contract.js';
import { runExchange as run, type ContractEngine, type Outcome } from '../helpers/contract-run.js';
import { sleep, startServer } from '../helpers/http.js';

const ENGINES: Record<string, ContractEngine> = {
  undici: (b, pool, r, onCall) => sendWithUndici(b, pool, r, onCall, () => Promise.reject(new Error('undici refused the request'))),
  'node:http': sendWithNodeHttp,
};

/** Writes `chunks` one after the other, `gapMs` apart, waiting for 'drain' when told to; ends unless `stall`. */
class PlannedBody implements RequestBodySource {
  sink: RequestBodySink | undefined;
  /** Settles once the writer is done: every chunk written and the sink ended, or the sink found destroyed. */
  readonly released: Promise<'ended' | 'sink destroyed'>;
  private release: (how: 'ended' | 'sink destroyed') => void = () => undefined;

  constructor(private readonly chunks: readonly Buffer[], private readonly gapMs = 0, private readonly stall = false) {
    this.released = new Promise((resolve) => (this.release = resolve));
  }

  attach(sink: RequestBodySink): void {
    this.sink = sink;
    let i = 0;
    const later = (fn: () => void) => (this.gapMs > 0 ? setTimeout(fn, this.gapMs) : setImmediate(fn));
    const step = (): void => {
      if (sink.destroyed) return this.release('sink destroyed');
      if (i === this.chunks.length) {
        if (!this.stall) {
          sink.end();
          this.release('ended');
        }
        return;
      }
      if (sink.write(this.chunks[i++]!)) later(step);
      else sink.once('drain', () => later(step));
    };
    step();
  }
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const MIB2 = Buffer.alloc(2 * 1024 * 1024, 7);
const pieces = (b: Buffer, n: number) => Array.from({ length: n }, (_, i) => b.subarray((i * b.length) / n, ((i + 1) * b.length) / n));

interface Row {
  readonly name: string;
  readonly path: string;
  readonly body: () => PlannedBody;
  /** The Content-Length the head announces. */
  readonly length: number;
  readonly timeouts?: { upstreamTimeoutMs?: number; idleTimeoutMs?: number };
  readonly expect: Outcome;
  /**
   * Engines whose body writer must be let go (not left waiting for 'drain') once the exchange is
   * over. node:http is not among them: its ClientRequest stays open, not destroyed, when the
   * backend stops reading after an early answer, and never drains (the Forwarder cuts an HTTP/1.1
   * client's upload when the answer ends; an HTTP/2 client's stream waits for the client).
   */
  readonly releasedBy?: readonly string[];
  /** Played by the raw backend (answers 401 `No` to any head, 300 ms later, without reading on). */
  readonly raw?: true;
}

const ROWS: Row[] = [
  { name: 'a 2 MiB body arrives whole', path: '/echo', body: () => new PlannedBody(pieces(MIB2, 32)), length: MIB2.length,
    expect: { answer: 200, body: `${MIB2.length} ${md5(MIB2)}`, trailers: [], informational: [] } },
  { name: 'a backend that reads late holds the body back, then gets it whole', path: '/late-reader', body: () => new PlannedBody(pieces(MIB2, 32)), length: MIB2.length,
    expect: { answer: 200, body: `${MIB2.length} ${md5(MIB2)}`, trailers: [], informational: [] } },
  // Eight chunks 100 ms apart: longer in all than both timeouts, never silent for IDLE_TIMEOUT_MS.
  { name: 'an upload slower than UPSTREAM_TIMEOUT_MS and IDLE_TIMEOUT_MS, never silent: the head is timed from the body\'s end', path: '/echo',
    body: () => new PlannedBody(pieces(Buffer.alloc(8, 1), 8), 100), length: 8, timeouts: { upstreamTimeoutMs: 400, idleTimeoutMs: 300 },
    expect: { answer: 200, body: `8 ${md5(Buffer.alloc(8, 1))}`, trailers: [], informational: [] } },
  // With IDLE_TIMEOUT_MS a minute, only the head's own deadline can end it within the test's time.
  { name: 'no head within UPSTREAM_TIMEOUT_MS once the body is out', path: '/silent', body: () => new PlannedBody([Buffer.alloc(1024, 1)]), length: 1024,
    timeouts: { upstreamTimeoutMs: 300, idleTimeoutMs: 60_000 }, expect: { error: 'UpstreamTimeoutError', kind: 'timeout', during: 'head' } },
  { name: 'a body that stops for IDLE_TIMEOUT_MS', path: '/echo', body: () => new PlannedBody([Buffer.alloc(1024, 1)], 0, true), length: 10_240,
    timeouts: { upstreamTimeoutMs: 5000, idleTimeoutMs: 300 }, expect: { error: 'UpstreamTimeoutError', kind: 'timeout', during: 'head' } },
  // The raw backend reads the head, stops reading, and answers 300 ms later (the upload is stuck on
  // backpressure by then) without closing: undici drops the connection, and the writer must not wait on.
  { name: 'an answer while the upload is held back, connection kept: relayed, and the body\'s writer let go', path: '/early-keepalive', raw: true,
    body: () => new PlannedBody(pieces(Buffer.alloc(8 * 1024 * 1024, 2), 64)), length: 8 * 1024 * 1024, releasedBy: ['undici'],
    expect: { answer: 401, body: 'No', trailers: [], informational: [] } },
  { name: 'an answer before the body was read is relayed', path: '/early', body: () => new PlannedBody(pieces(MIB2, 32), 20), length: MIB2.length,
    expect: { answer: 413, body: 'too big', trailers: [], informational: [] } },
];

function post(path: string, length: number, body: PlannedBody, timeouts: Row['timeouts']): ExchangeRequest {
  return {
    method: 'POST', path, headers: ['Host', 'contract.test', 'Content-Length', String(length)], body, exactHeaders: false,
    connectTimeoutMs: 1000, upstreamTimeoutMs: timeouts?.upstreamTimeoutMs ?? 5000, idleTimeoutMs: timeouts?.idleTimeoutMs ?? 5000,
    onInformational: () => undefined,
  };
}

for (const [engineName, engine] of Object.entries(ENGINES)) {
  test(`transport contract with a request body, ${engineName} engine: every row gives the outcome the contract states`, { timeout: 30_000 }, async (t) => {
    const firstHeaders: string[] = [];
    const server = await startServer((req, res) => {
      firstHeaders.push(req.rawHeaders[0]!);
      if (req.url === '/early') {
        res.writeHead(413, { 'content-length': 7, connection: 'close' });
        return res.end('too big');
      }
      if (req.url === '/silent') return void req.resume();
      const chunks: Buffer[] = [];
      const read = () => req.on('data', (c: Buffer) => chunks.push(c));
      if (req.url === '/late-reader') setTimeout(read, 300);
      else read();
      req.on('end', () => {
        const all = Buffer.concat(chunks);
        res.end(`${all.length} ${md5(all)}`);
      });
    });
    t.after(() => server.close());
    const pool = new UpstreamPool({ keepaliveMs: 1000, connectTimeoutMs: 1000 });
    t.after(() => pool.close());
    const backend = new Backend(parseBackendEntry(`127.0.0.1:${server.port}`), true, Date.now());
    const raw = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => {
        socket.pause();
        setTimeout(() => socket.write('HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\nNo'), 300);
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', () => resolve()));
    t.after(() => new Promise<void>((resolve) => { raw.close(() => resolve()); for (const c of rawSockets) c.destroy(); }));
    const rawSockets = new Set<net.Socket>();
    raw.on('connection', (c: net.Socket) => { rawSockets.add(c); c.once('close', () => rawSockets.delete(c)); });
    const rawBackend = new Backend(parseBackendEntry(`127.0.0.1:${(raw.address() as net.AddressInfo).port}`), true, Date.now());
    for (const row of ROWS) {
      await t.test(row.name, async () => {
        const body = row.body();
        const outcome = await run(engine, row.raw ? rawBackend : backend, pool, post(row.path, row.length, body, row.timeouts), []);
        assert.deepEqual(outcome, row.expect);
        if (row.releasedBy?.includes(engineName) === true) assert.notEqual(await Promise.race([body.released, sleep(5000).then(() => 'still waiting')]), 'still waiting');
      });
    }
    // The backend saw each engine as itself: undici names Host `host`, node:http keeps `Host`.
    assert.ok(firstHeaders.length > 0 && firstHeaders.every((h) => h === (engineName === 'undici' ? 'host' : 'Host')), firstHeaders.join());
  });

  test(`transport contract with a request body, ${engineName} engine: abort() mid-body ends the backend's request`, async (t) => {
    let closed!: () => void;
    const gone = new Promise<void>((resolve) => (closed = resolve));
    let received = 0;
    const server = await startServer((req) => {
      req.on('data', (c: Buffer) => (received += c.length));
      req.on('close', () => closed());
    });
    t.after(() => server.close());
    const pool = new UpstreamPool({ keepaliveMs: 1000, connectTimeoutMs: 1000 });
    t.after(() => pool.close());
    const backend = new Backend(parseBackendEntry(`127.0.0.1:${server.port}`), true, Date.now());
    let abort = () => {};
    const body = new PlannedBody([Buffer.alloc(1024, 1)], 0, true);
    const answer = engine(backend, pool, post('/hold', 4096, body, undefined), (call) => (abort = () => call.abort()));
    answer.catch(() => undefined);
    for (let i = 0; i < 50 && received === 0; i++) await sleep(20);
    assert.equal(received, 1024, 'the first chunk reached the backend');
    abort();
    const outcome = await Promise.race([gone.then(() => 'closed'), sleep(3000).then(() => 'still open')]);
    assert.equal(outcome, 'closed');
    await assert.rejects(answer);
  });
}
