/**
 * HTTP/2 from clients (SPEC §8): h2c by prior knowledge on the traffic port,
 * next to HTTP/1.1; every stream balanced on its own; translation to
 * HTTP/1.1 backends; trailers; the preface under the head deadline;
 * MAX_CONNECTION_AGE_MS; the drain's GOAWAY. Clients: curl and Node's http2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startOutrigger } from '../helpers/outrigger.js';
import { request, startBackend, sleep } from '../helpers/http.js';

const run = promisify(execFile);

interface H2Reply { status: number; headers: http2.IncomingHttpHeaders; body: string; trailers: http2.IncomingHttpHeaders }

function h2request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string, trailers?: http2.OutgoingHttpHeaders): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined, waitForTrailers: trailers !== undefined });
    if (trailers !== undefined) stream.once('wantTrailers', () => stream.sendTrailers(trailers));
    let status = 0;
    let head: http2.IncomingHttpHeaders = {};
    let got: http2.IncomingHttpHeaders = {};
    let text = '';
    stream.on('response', (h) => { status = Number(h[':status']); head = h; });
    stream.on('trailers', (t) => { got = t; });
    stream.on('data', (d: Buffer) => (text += d.toString()));
    stream.on('end', () => resolve({ status, headers: head, body: text, trailers: got }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

test('curl --http2-prior-knowledge and HTTP/1.1 on the same port, to an HTTP/1.1 backend', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const { stdout } = await run('curl', ['-s', '--http2-prior-knowledge', '-w', '\\n%{http_version} %{http_code}', `http://127.0.0.1:${lb.proxyPort}/ping`]);
  assert.equal(stdout, `pong from backend :${backend.port}\n\n2 200`);
  assert.equal((await request(lb.proxyPort, '/ping')).status, 200, 'HTTP/1.1 still served on the same port');
  const line = await lb.waitForLog((l) => l.msg === 'request' && l.protocol === 'HTTP/2');
  assert.equal(line.status, 200);
  await lb.waitForLog((l) => l.msg === 'request' && l.protocol === 'HTTP/1.1');
});

test('300 requests on one HTTP/2 connection spread per request over three backends', async (t) => {
  const backends = await Promise.all([startBackend(), startBackend(), startBackend()]);
  t.after(() => Promise.all(backends.map((b) => b.close())));
  const lb = await startOutrigger({ BACKENDS: backends.map((b) => `127.0.0.1:${b.port}`).join(','), HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false' });
  t.after(() => lb.stop());
  const session = http2.connect(`http://127.0.0.1:${lb.proxyPort}`);
  t.after(() => session.close());
  const counts = new Map<string, number>();
  for (let batch = 0; batch < 30; batch++) {
    const replies = await Promise.all(Array.from({ length: 10 }, () => h2request(session, { ':path': '/ping' })));
    for (const r of replies) counts.set(String(r.headers['x-backend']), (counts.get(String(r.headers['x-backend'])) ?? 0) + 1);
  }
  assert.deepEqual([...counts.values()].sort(), [100, 100, 100], JSON.stringify([...counts]));
});

test('an HTTP/2 POST with a body and request trailers reaches an HTTP/1.1 backend whole; response trailers come back', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const session = http2.connect(`http://127.0.0.1:${lb.proxyPort}`);
  t.after(() => session.close());
  const echo = await h2request(session, { ':method': 'POST', ':path': '/echo', 'content-type': 'text/plain', te: 'trailers' }, 'x'.repeat(100_000), { 'x-sum': 'abc' });
  assert.equal(echo.status, 200);
  const seen = JSON.parse(echo.body) as { method: string; bodyBytes: number; rawHeaders: string[]; rawTrailers: string[] };
  assert.equal(seen.method, 'POST');
  assert.equal(seen.bodyBytes, 100_000);
  assert.equal(seen.rawHeaders[0], 'host', 'Host first, from :authority');
  assert.ok(!seen.rawHeaders.some((h) => h.startsWith(':')), 'no pseudo-header reaches an HTTP/1.1 backend');
  assert.deepEqual(seen.rawTrailers, ['x-sum', 'abc']);
  const withTrailer = await h2request(session, { ':path': '/trailers', te: 'trailers' });
  assert.equal(withTrailer.status, 200);
  assert.equal(typeof withTrailer.trailers['x-checksum'], 'string');
});

test('the HTTP/2 preface is bound by CLIENT_HEADERS_TIMEOUT_MS: a stalled preface and a silent session are cut, the latter with no HTTP/1.1 bytes', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', CLIENT_HEADERS_TIMEOUT_MS: '400' });
  t.after(() => lb.stop());
  const received: Buffer[] = [];
  const closedAfter = (bytes: string, keep = false) => new Promise<number>((resolve) => {
    const started = Date.now();
    const s = net.connect(lb.proxyPort, '127.0.0.1', () => s.write(bytes));
    s.on('error', () => undefined);
    s.on('data', (chunk: Buffer) => keep && received.push(chunk));
    s.on('close', () => resolve(Date.now() - started));
    setTimeout(() => s.destroy(), 5000);
  });
  const [partial, prefaceOnly] = await Promise.all([closedAfter('PRI * HTTP/2.0\r\n'), closedAfter('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', true)]);
  assert.ok(partial < 2000, `a partial preface was cut after ${partial} ms`);
  assert.ok(prefaceOnly < 2000, `a preface without SETTINGS was cut after ${prefaceOnly} ms`);
  // The whole preface went to HTTP/2: what came back is its SETTINGS frame (type 4), never an HTTP/1.1 408.
  const reply = Buffer.concat(received);
  assert.ok(reply.length >= 9 && reply[3] === 4, 'the server\'s SETTINGS frame came first');
  assert.ok(!reply.includes('HTTP/1.1'), `HTTP/1.1 bytes on an HTTP/2 connection: ${JSON.stringify(reply.toString('latin1'))}`);
});

test('HTTP2=false: the preface gets an HTTP/1.1 400, the process keeps serving', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', HTTP2: 'false' });
  t.after(() => lb.stop());
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    const s = net.connect(lb.proxyPort, '127.0.0.1', () => s.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
    s.on('data', (d) => (text += d));
    s.on('error', () => undefined);
    s.on('close', () => resolve(text));
    setTimeout(() => s.destroy(), 3000);
  });
  assert.match(answer, /^HTTP\/1\.1 4\d\d /);
  assert.equal((await request(lb.proxyPort, '/ping')).status, 200);
});

test('MAX_CONNECTION_AGE_MS: an old HTTP/1.1 connection gets Connection: close on its next answer; an old HTTP/2 session a GOAWAY', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', MAX_CONNECTION_AGE_MS: '300' });
  t.after(() => lb.stop());
  const text = await new Promise<string>((resolve) => {
    let got = '';
    const s = net.connect(lb.proxyPort, '127.0.0.1', () => s.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.on('data', (d) => (got += d));
    setTimeout(() => s.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n'), 500);
    s.on('close', () => resolve(got));
    s.on('error', () => undefined);
    setTimeout(() => s.destroy(), 3000);
  });
  const heads = text.split('HTTP/1.1 200').slice(1);
  assert.equal(heads.length, 2, text);
  assert.doesNotMatch(heads[0]!, /connection: close/i, 'young: kept alive');
  assert.match(heads[1]!, /connection: close/i, 'aged: closed after its answer');

  const session = http2.connect(`http://127.0.0.1:${lb.proxyPort}`);
  session.on('error', () => undefined);
  const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
  const slow = h2request(session, { ':path': '/delay?ms=600' });
  await goaway;
  assert.equal((await slow).status, 200, 'the stream open at the GOAWAY finishes');
  session.close();
});

test('SIGTERM: HTTP/2 clients get a GOAWAY during SHUTDOWN_DELAY_MS, open streams finish, exit 0', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', SHUTDOWN_DELAY_MS: '300', DRAIN_TIMEOUT_MS: '5000' });
  t.after(() => lb.stop('SIGKILL'));
  const session = http2.connect(`http://127.0.0.1:${lb.proxyPort}`);
  session.on('error', () => undefined);
  assert.equal((await h2request(session, { ':path': '/ping' })).status, 200);
  const goaway = new Promise<number>((resolve) => session.once('goaway', (_code: number, lastStreamId: number) => resolve(lastStreamId)));
  const long = h2request(session, { ':path': '/delay?ms=1200' });
  await sleep(100);
  lb.child.kill('SIGTERM');
  await goaway;
  const reply = await long;
  assert.equal(reply.status, 200);
  assert.match(reply.body, /delayed 1200 ms/);
  assert.equal(await lb.exited, 0);
});

test('SIGTERM: the old session is sent away and closed at once; a session opened during SHUTDOWN_DELAY_MS is served until listening stops, then gets its GOAWAY; exit 0', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', SHUTDOWN_DELAY_MS: '2500', DRAIN_TIMEOUT_MS: '5000' });
  t.after(() => lb.stop('SIGKILL'));
  const old = http2.connect(`http://127.0.0.1:${lb.proxyPort}`);
  old.on('error', () => undefined);
  assert.equal((await h2request(old, { ':path': '/ping' })).status, 200);
  const oldClosed = new Promise<void>((resolve) => old.once('close', () => resolve()));
  lb.child.kill('SIGTERM');
  const draining = Date.now();
  await lb.waitForLog((l) => l.msg === 'shutdown: draining, readiness now 503');
  // A client that waits for the server's SETTINGS and only then sends its requests.
  const late = http2.connect(`http://127.0.0.1:${lb.proxyPort}`);
  late.on('error', () => undefined);
  const events: string[] = [];
  let goawayAfter = -1;
  late.on('goaway', () => {
    events.push('goaway');
    goawayAfter = Date.now() - draining;
  });
  late.once('close', () => events.push('close'));
  await new Promise<void>((resolve) => late.once('remoteSettings', () => resolve()));
  for (let i = 0; i < 4; i++) {
    const reply = await h2request(late, { ':path': '/ping' });
    events.push(`answer ${reply.status}`);
    await sleep(100);
  }
  await oldClosed; // its GOAWAY came at the SIGTERM; it did not wait for the end of the delay to close
  assert.equal(lb.child.exitCode, null, 'the old session closed within the delay');
  await new Promise<void>((resolve) => (late.closed || late.destroyed ? resolve() : late.once('close', () => resolve())));
  assert.deepEqual(events.slice(0, 4), Array(4).fill('answer 200'), `served, on one session, with no GOAWAY between: ${events.join(', ')}`);
  assert.ok(events.includes('goaway'), `then told to go away: ${events.join(', ')}`);
  assert.ok(goawayAfter >= 2000, `not before the end of the delay (${goawayAfter} ms after the SIGTERM)`);
  assert.equal(await lb.exited, 0);
});

test('an h2c session outlives CLIENT_HEADERS_TIMEOUT_MS: the head clock stops once the client\'s SETTINGS arrived', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', CLIENT_HEADERS_TIMEOUT_MS: '300' });
  t.after(() => lb.stop());
  const session = http2.connect(`http://127.0.0.1:${lb.proxyPort}`);
  t.after(() => session.close());
  let closed = false;
  session.once('close', () => (closed = true));
  session.on('error', () => undefined);
  for (let i = 0; i < 6; i++) {
    assert.equal((await h2request(session, { ':path': '/ping' })).status, 200);
    await sleep(200);
  }
  assert.equal(closed, false, 'the session was cut by the head deadline');
});
