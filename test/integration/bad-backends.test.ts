/**
 * Hostile backends: a scripted raw backend plays every bad answer of RFC 9112
 * §6–§7 we could think of, once through each upstream client (the lean
 * engine serves a bodiless GET or HEAD; undici a POST or PUT with a
 * Content-Length body; node:http a chunked POST or PUT; the backend sees
 * which by the case of the first header name and node:http's `Connection`).
 * Each row checks three things: what the client gets (the answer relayed
 * when it is valid, `502 upstream_reset` when it is unusable, a cut when the
 * body breaks after the head went out), that the backend slot is free again
 * (in-flight back to 0, and with MAX_REQUESTS_PER_BACKEND=1 a good request
 * right after gets 200), and for floods that the proxy's RSS stays bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOutrigger, type Outrigger } from '../helpers/outrigger.js';
import { flood, startScriptedBackend, type Play } from '../helpers/scripted-backend.js';
import { exchange, type RawAnswer } from '../helpers/raw-response.js';
import { sleep } from '../helpers/http.js';

/** `undici-body`: the undici engine with a request body (POST or PUT framed by Content-Length). */
type Engine = 'lean' | 'undici-body' | 'node';
type Expect = { readonly status: number; readonly body?: string } | { readonly error: 'protocol' | 'reset' } | 'cut';

interface Row {
  readonly name: string;
  readonly play: Play;
  readonly expect: Expect;
  /** When the lean engine's answer differs (and why, in the row's name). */
  readonly lean?: Expect;
  readonly engines?: readonly Engine[];
  /** Rows with a body send POST (chunked for node:http, with a Content-Length for undici-body) unless told otherwise. */
  readonly method?: 'PUT' | 'HEAD';
  /** The client's bytes, when not the engine's usual request. */
  readonly request?: (path: string) => string;
  readonly check?: (a: RawAnswer) => void;
  /** A flood: the client does not read for this long while the proxy's RSS is sampled. */
  readonly floodMs?: number;
  /** A metric (series as printed on /metrics) and how much the row adds to it. */
  readonly counts?: readonly [string, number];
  /** Wait before the good request (for late bytes to reach an idle pooled connection first). */
  readonly idleMs?: number;
}

const OK = 'HTTP/1.1 200 OK\r\n';
const abc = (head: string) => ({ bytes: `${head}\r\n\r\nabc`, close: true });
const PROTOCOL = { error: 'protocol' } as const;
/** Bytes the proxy's RSS may grow by during a flood (the cap is 10 informational answers of at most 16 KiB heads). */
const FLOOD_RSS_BOUND = 64 * 1024 * 1024;

const ROWS: readonly Row[] = [
  // 1xx misuse (RFC 9110 §15.2)
  { name: '101 to a request without Upgrade', play: `HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n`, expect: PROTOCOL },
  { name: '101 to a PUT', method: 'PUT', engines: ['undici-body', 'node'], play: `HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n`, expect: PROTOCOL },
  { name: '101 to a HEAD', method: 'HEAD', engines: ['lean'], play: `HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n`, expect: PROTOCOL },
  { name: 'endless 103 Early Hints to a client that does not read', play: (s) => flood(s, 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n', 256 * 1024 * 1024, 4000), expect: PROTOCOL, floodMs: 2500 },
  { name: 'three 103 then 200: the hints are relayed', play: `${'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n'.repeat(3)}${OK}Content-Length: 2\r\n\r\nok`, expect: { status: 200, body: 'ok' }, check: (a) => assert.deepEqual(a.informational, [103, 103, 103]) },
  // Through undici this sends the backend's later requests through node:http: unasked-continue.test.ts.
  { name: '100 Continue nobody asked for', engines: ['lean', 'node'], play: `HTTP/1.1 100 Continue\r\n\r\n${OK}Content-Length: 2\r\n\r\nok`, expect: { status: 200, body: 'ok' }, check: (a) => assert.deepEqual(a.informational, []) },
  // Transfer codings (RFC 9112 §6.1, §7): only `chunked`, once, can be re-framed
  { name: 'Transfer-Encoding: gzip, chunked', play: `${OK}Transfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, expect: PROTOCOL },
  { name: 'Transfer-Encoding: gzip (read until close)', play: abc(`${OK}Transfer-Encoding: gzip`), expect: PROTOCOL },
  { name: 'chunked applied twice', play: `${OK}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, expect: PROTOCOL },
  { name: 'Transfer-Encoding: identity', play: `${OK}Transfer-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc`, expect: PROTOCOL },
  // Framing (RFC 9112 §6.2, §6.3)
  { name: 'Content-Length and Transfer-Encoding', play: `${OK}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, expect: PROTOCOL },
  { name: 'two different Content-Lengths', play: `${OK}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`, expect: PROTOCOL },
  { name: 'negative Content-Length', play: `${OK}Content-Length: -1\r\n\r\nabc`, expect: PROTOCOL },
  { name: 'Content-Length with garbage', play: `${OK}Content-Length: 3x\r\n\r\nabc`, expect: PROTOCOL },
  { name: 'Content-Length with a sign', play: `${OK}Content-Length: +3\r\n\r\nabc`, expect: PROTOCOL },
  { name: 'bad chunk size', play: `${OK}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`, expect: 'cut' },
  { name: 'chunk size overflow', play: `${OK}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nabc\r\n0\r\n\r\n`, expect: 'cut' },
  { name: 'truncated chunked body', play: { bytes: `${OK}Transfer-Encoding: chunked\r\n\r\n10\r\nabc`, close: true }, expect: 'cut' },
  { name: 'truncated Content-Length body', play: { bytes: `${OK}Content-Length: 10\r\n\r\nabc`, close: true }, expect: 'cut' },
  { name: 'body longer than Content-Length', play: `${OK}Content-Length: 3\r\n\r\nabcdefgh`, expect: { status: 200, body: 'abc' } },
  { name: 'a second answer right after the first', play: `${OK}Content-Length: 3\r\n\r\nabc${OK}Content-Length: 4\r\n\r\nevil`, expect: { status: 200, body: 'abc' } },
  {
    name: 'a second answer once the connection is idle', expect: { status: 200, body: 'abc' }, idleMs: 150,
    play: (s) => { s.write(`${OK}Content-Length: 3\r\n\r\nabc`); setTimeout(() => s.write(`${OK}Content-Length: 4\r\n\r\nevil`), 30); },
  },
  { name: '204 with a body', play: `HTTP/1.1 204 No Content\r\n\r\nabc`, expect: { status: 204, body: '' } },
  { name: '304 with a Content-Length and a body', play: `HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\nabc`, expect: { status: 304, body: '' } },
  { name: 'HEAD answered with a body', method: 'HEAD', engines: ['lean'], play: `${OK}Content-Length: 3\r\n\r\nabc`, expect: { status: 200, body: '' } },
  {
    name: 'an answer before the request body was sent', engines: ['undici-body', 'node'], expect: { status: 413, body: 'too big' },
    request: (path) => path.endsWith('/node')
      ? `POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n186a0\r\n0123456789`
      : `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789`,
    play: { bytes: 'HTTP/1.1 413 Payload Too Large\r\nContent-Length: 7\r\nConnection: close\r\n\r\ntoo big', close: true },
  },
  { name: 'HTTP/1.0 answer delimited by close', play: abc('HTTP/1.0 200 OK\r\nX-A: 1'), expect: { status: 200, body: 'abc' } },
  // Trailers (RFC 9110 §6.5.1): fields used for framing, routing or authentication are dropped
  {
    name: 'forbidden trailer fields', expect: { status: 200, body: 'abc' }, counts: ['outrigger_trailers_dropped_total{direction="response"}', 4],
    play: `${OK}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nHost: evil.example\r\nX-Ok: 1\r\nAuthorization: Basic eDp5\r\nSet-Cookie: s=1\r\nCache-Control: no-store\r\n\r\n`,
    check: (a) => assert.deepEqual(a.trailers, ['X-Ok', '1']),
  },
  // Field syntax (RFC 9112 §5, §2.2)
  { name: 'NUL in a field value', play: `${OK}X-A: a\0b\r\nContent-Length: 3\r\n\r\nabc`, expect: PROTOCOL },
  { name: 'bare CR in a field value', play: `${OK}X-A: a\rb\r\nContent-Length: 3\r\n\r\nabc`, expect: PROTOCOL },
  { name: 'bare LF line ends', play: 'HTTP/1.1 200 OK\nX-A: a\nContent-Length: 3\n\nabc', expect: PROTOCOL },
  { name: 'obs-fold', play: `${OK}X-A: a\r\n b\r\nContent-Length: 3\r\n\r\nabc`, expect: PROTOCOL },
  { name: 'space before the colon', play: `${OK}Content-Length : 3\r\n\r\nabc`, expect: PROTOCOL },
  { name: 'four-digit status code', play: 'HTTP/1.1 2000 OK\r\nContent-Length: 3\r\n\r\nabc', expect: PROTOCOL },
  { name: 'a 70 KB response head', play: `${OK}X-A: ${'a'.repeat(70_000)}\r\nContent-Length: 3\r\n\r\nabc`, expect: PROTOCOL },
  { name: 'a status line that is not HTTP', play: 'SSH-2.0-OpenSSH_9.6\r\n\r\n', expect: PROTOCOL },
  // llhttp (undici, node:http) reads it with HTTP/1.1 framing, and the proxy re-frames it; the lean engine takes HTTP/1.x only.
  { name: 'HTTP/2.0 in a status line: relayed by llhttp, refused by the lean engine', play: 'HTTP/2.0 200 OK\r\nContent-Length: 3\r\n\r\nabc', expect: { status: 200, body: 'abc' }, lean: PROTOCOL },
  { name: 'binary bytes that are not HTTP, the connection left open', play: (s) => s.write(Buffer.from([0, 0, 0x12, 4, 0, 0, 0, 0, 0])), expect: PROTOCOL },
  { name: 'an empty line before the status line', play: `\r\n${OK}Content-Length: 2\r\n\r\nok`, expect: { status: 200, body: 'ok' } },
  { name: 'a 2000-byte chunk extension', play: `${OK}Transfer-Encoding: chunked\r\n\r\n5;x=${'e'.repeat(2000)}\r\nhello\r\n0\r\n\r\n`, expect: { status: 200, body: 'hello' } },
  { name: 'a close before any byte', play: { bytes: '', close: true }, expect: { error: 'reset' } },
  { name: 'a close after a 103 and nothing else', play: { bytes: 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n', close: true }, expect: { error: 'reset' } },
  { name: 'a close in the middle of the head', play: { bytes: `${OK}Content-Le`, close: true }, expect: { error: 'reset' } },
];

const ENGINES: ReadonlyArray<{ readonly engine: Engine; readonly firstHeader: string }> = [
  { engine: 'lean', firstHeader: 'Host' },
  { engine: 'undici-body', firstHeader: 'host' },
  { engine: 'node', firstHeader: 'Host' },
];

const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-');

function requestFor(engine: Engine, path: string, method?: 'PUT' | 'HEAD'): string {
  if (engine === 'lean' && method !== 'HEAD') return `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
  if (method === 'HEAD') return `HEAD ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
  if (engine === 'undici-body') return `${method ?? 'POST'} ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nConnection: close\r\n\r\npayload`;
  return `${method ?? 'POST'} ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n7\r\npayload\r\n0\r\n\r\n`;
}

async function metrics(lb: Outrigger): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function inFlightSettles(lb: Outrigger, backend: string): Promise<number> {
  let n = -1;
  for (let i = 0; i < 40 && n !== 0; i++) {
    n = (await metrics(lb)).get(`outrigger_upstream_in_flight{backend="${backend}"}`) ?? 0;
    if (n !== 0) await sleep(50);
  }
  return n;
}

function assertAnswer(a: RawAnswer, expect: Expect): void {
  if (expect === 'cut') return assert.equal(a.complete, false, `a cut, not a complete answer (got ${a.status})`);
  if ('error' in expect) {
    assert.equal(a.status, 502);
    const kind = a.headers.findIndex((v, i) => i % 2 === 0 && v.toLowerCase() === 'x-outrigger-error');
    assert.equal(a.headers[kind + 1], 'upstream_reset');
    return;
  }
  assert.equal(a.status, expect.status);
  assert.ok(a.complete, 'complete');
  if (expect.body !== undefined) assert.equal(a.body, expect.body);
}

for (const { engine, firstHeader } of ENGINES) {
  test(`hostile backends through ${engine}: the answer, the slot, the memory`, async (t) => {
    const backend = await startScriptedBackend((path) => ROWS.find((r) => path.startsWith(`/case/${slug(r.name)}/`))?.play ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    t.after(() => backend.close());
    const id = `127.0.0.1:${backend.port}`;
    const lb = await startOutrigger({
      BACKENDS: id, HEALTH_CHECK_TYPE: 'none', MAX_REQUESTS_PER_BACKEND: '1', OUTLIER_CONSECUTIVE_FAILURES: '0', RETRIES: '0', UPSTREAM_TIMEOUT_MS: '3000', ACCESS_LOG: 'false',
    });
    t.after(() => lb.stop());
    for (const row of ROWS.filter((r) => (r.engines ?? ['lean', 'undici-body', 'node']).includes(engine))) {
      await t.test(row.name, async (st) => {
        const path = `/case/${slug(row.name)}/${engine}`;
        const before = await metrics(lb);
        const rss: number[] = [before.get('process_resident_memory_bytes') ?? 0];
        let sampling = row.floodMs !== undefined;
        const sampler = (async () => {
          while (sampling) {
            rss.push((await metrics(lb)).get('process_resident_memory_bytes') ?? 0);
            await sleep(100);
          }
        })();
        const answer = await exchange(lb.proxyPort, row.request?.(path) ?? requestFor(engine, path, row.method), row.method === 'HEAD', 5000, row.floodMs ?? 0);
        sampling = false;
        await sampler;
        assert.equal(backend.firstHeader.get(path), firstHeader, `served by ${engine}`);
        assert.equal(backend.headerNames.get(path)!.includes('Connection'), engine === 'node', `served by ${engine} (node:http's Connection)`);
        if (row.floodMs !== undefined) {
          const growth = Math.max(...rss) - rss[0]!;
          st.diagnostic(`RSS growth during the flood: ${(growth / 1048576).toFixed(1)} MiB`);
          assert.ok(growth < FLOOD_RSS_BOUND, `RSS grew by ${(growth / 1048576).toFixed(0)} MiB during the flood`);
        }
        const expect = engine === 'lean' ? row.lean ?? row.expect : row.expect;
        assertAnswer(answer, expect);
        row.check?.(answer);
        assert.equal(await inFlightSettles(lb, id), 0, 'the backend slot is free again');
        if (row.idleMs !== undefined) await sleep(row.idleMs);
        const good = await exchange(lb.proxyPort, requestFor(engine, '/good'), false);
        assert.equal(`${good.status} ${good.body}`, '200 good', 'the next request gets a good answer on its own connection');
        if (row.counts !== undefined) {
          const [key, by] = row.counts;
          assert.equal(((await metrics(lb)).get(key) ?? 0) - (before.get(key) ?? 0), by, key);
        }
        if (typeof expect === 'object' && 'error' in expect) {
          const key = `outrigger_upstream_errors_total{backend="${id}",kind="${expect.error}"}`;
          assert.ok((( await metrics(lb)).get(key) ?? 0) > (before.get(key) ?? 0), `counted as ${expect.error}`);
        }
      });
    }
  });
}
