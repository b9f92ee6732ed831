/**
 * The answers an HTTP/2 client gets on its stream (SPEC §3, §8), which
 * Outrigger writes on Node's core stream API: HEAD and 204 without a body,
 * 103 Early Hints relayed before the head, Outrigger's own error answer
 * (x-outrigger-error and a one-line text body, no connection-level field),
 * a backend that breaks off mid-body: the client's answer is cut, never
 * complete; and a HEAD stream the client resets before its answer (the
 * compatibility layer lost its 'close': the backend request ran on, the
 * stream stayed counted, nothing was logged). Each is access-logged, as HTTP/2.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { startOutrigger, type Outrigger } from '../helpers/outrigger.js';
import { closedPort, startServer } from '../helpers/http.js';

interface Got { status: number; headers: http2.IncomingHttpHeaders; informational: number[]; links: string[]; body: string; reset: boolean }

function get(session: http2.ClientHttp2Session, path: string, method = 'GET'): Promise<Got> {
  return new Promise((resolve) => {
    const got: Got = { status: 0, headers: {}, informational: [], links: [], body: '', reset: false };
    const stream = session.request({ ':method': method, ':path': path });
    stream.on('headers', (h) => {
      got.informational.push(Number(h[':status']));
      if (h.link !== undefined) got.links.push(String(h.link));
    });
    stream.on('response', (h) => { got.status = Number(h[':status']); got.headers = h; });
    stream.on('data', (d: Buffer) => (got.body += d.toString()));
    stream.on('error', () => (got.reset = true));
    stream.on('close', () => {
      got.reset ||= stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR;
      resolve(got);
    });
  });
}

/** Outrigger in front of the HTTP/1.1 backend on `port`, and an HTTP/2 client session to it; both go after the test. */
async function throughOutrigger(t: TestContext, port: number, env: Record<string, string> = {}): Promise<{ lb: Outrigger; session: http2.ClientHttp2Session }> {
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${port}`, HEALTH_CHECK_TYPE: 'none', ...env });
  t.after(() => lb.stop());
  const session = http2.connect(`http://127.0.0.1:${lb.proxyPort}`);
  t.after(() => session.close());
  session.on('error', () => undefined);
  return { lb, session };
}

test('HTTP/2 client: HEAD and 204 carry no body, a 103 comes before the head, a cut answer is not complete', async (t) => {
  const origin = await startServer((req, res) => {
    if (req.url === '/early') {
      res.writeEarlyHints({ link: ['</a.css>; rel=preload; as=style', '</b.js>; rel=preload; as=script'] });
      return void res.end('after hints');
    }
    if (req.url === '/empty') {
      res.writeHead(204, { 'x-kind': 'empty' });
      return void res.end();
    }
    if (req.url === '/broken') {
      res.writeHead(200, { 'content-length': '100000' });
      res.write('x'.repeat(1000));
      return void setTimeout(() => req.socket.destroy(), 50);
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' });
    res.end('hello');
  });
  t.after(() => origin.close());
  const { lb, session } = await throughOutrigger(t, origin.port);

  const head = await get(session, '/page', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '5', 'the backend\'s length is relayed');
  assert.equal(head.body, '');
  assert.equal(head.reset, false);
  const line = await lb.waitForLog((l) => l.msg === 'request' && l.method === 'HEAD');
  assert.equal(line.status, 200);
  assert.equal(line.protocol, 'HTTP/2');

  const empty = await get(session, '/empty');
  assert.deepEqual([empty.status, empty.headers['x-kind'], empty.body, empty.reset], [204, 'empty', '', false]);
  assert.equal((await lb.waitForLog((l) => l.msg === 'request' && l.path === '/empty')).status, 204, 'the access line has the status sent');

  const early = await get(session, '/early');
  assert.deepEqual(early.informational, [103]);
  assert.deepEqual(early.links, ['</a.css>; rel=preload; as=style, </b.js>; rel=preload; as=script']);
  assert.deepEqual([early.status, early.body], [200, 'after hints']);

  const broken = await get(session, '/broken');
  assert.equal(broken.status, 200);
  assert.ok(broken.body.length < 100_000, 'the truncated body is not padded');
  assert.equal(broken.reset, true, 'the stream is reset with an error code, not ended as if whole');
  const cut = await lb.waitForLog((l) => l.msg === 'request' && l.path === '/broken');
  assert.equal(cut.aborted, true, 'logged as an answer that did not go out whole');
  assert.equal(cut.upstreamError, 'reset', 'by the backend\'s doing, not the client\'s');
  assert.equal((await get(session, '/page')).body, 'hello', 'the session is still usable');
});

test('HTTP/2 client: Outrigger\'s own answer has x-outrigger-error, a text body and no connection-level field', async (t) => {
  const port = await closedPort();
  const { lb, session } = await throughOutrigger(t, port, { RETRIES: '0' });
  const got = await get(session, '/x');
  assert.equal(got.status, 502);
  assert.equal(got.headers['x-outrigger-error'], 'connect_failed');
  assert.equal(got.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(got.headers.connection, undefined);
  assert.match(got.body, /^connect_failed: .*\n$/);
  assert.equal(Number(got.headers['content-length']), Buffer.byteLength(got.body));
  assert.equal(got.reset, false);
  const line = await lb.waitForLog((l) => l.msg === 'request' && l.path === '/x');
  assert.deepEqual([line.status, line.protocol], [502, 'HTTP/2']);
});

test('HTTP/2 client resets a HEAD stream before its answer: the backend request is cut, the stream is no longer counted, the request is logged', async (t) => {
  let backendClosed: () => void;
  let backendGot: () => void;
  const closed = new Promise<void>((r) => (backendClosed = r));
  const arrived = new Promise<void>((r) => (backendGot = r));
  const origin = await startServer((req) => {
    backendGot();
    req.socket.once('close', () => backendClosed()); // never answers
  });
  t.after(() => origin.close());
  const { lb, session } = await throughOutrigger(t, origin.port);
  const stream = session.request({ ':method': 'HEAD', ':path': '/slow' });
  stream.on('error', () => undefined);
  const metrics = async () => (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  const deadline = Date.now() + 5000;
  while (!/^outrigger_downstream_streams 1$/m.test(await metrics()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  // Reset only once the backend has the request: a reset before it was sent leaves the backend nothing to see closed.
  await arrived;
  stream.close(http2.constants.NGHTTP2_CANCEL);
  const cutInTime = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
  assert.equal(cutInTime, true, 'the backend request went with the client\'s stream');
  const line = await lb.waitForLog((l) => l.msg === 'request' && l.path === '/slow');
  assert.deepEqual([line.method, line.aborted, line.protocol], ['HEAD', true, 'HTTP/2']);
  assert.match(await metrics(), /^outrigger_downstream_streams 0$/m);
});

test('HTTP/2 client: CONNECT and an unmet Expect are refused as on HTTP/1.1 (405, 417 with x-outrigger-error, logged, never forwarded); 100-continue gets its 100', async (t) => {
  let reached = 0;
  const origin = await startServer((req, res) => {
    reached += 1;
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => res.end(`got ${body}`));
  });
  t.after(() => origin.close());
  const { lb, session } = await throughOutrigger(t, origin.port);

  // Node's client refuses to send CONNECT with :path; it sends :method and :authority only (RFC 9113 §8.5).
  const tunnel = await new Promise<Got>((resolve) => {
    const got: Got = { status: 0, headers: {}, informational: [], links: [], body: '', reset: false };
    const stream = session.request({ ':method': 'CONNECT', ':authority': 'example.test:443' });
    stream.on('response', (h) => { got.status = Number(h[':status']); got.headers = h; });
    stream.on('data', (d: Buffer) => (got.body += d.toString()));
    stream.on('error', () => (got.reset = true));
    stream.on('close', () => resolve(got));
  });
  assert.equal(tunnel.status, 405);
  assert.equal(tunnel.headers['x-outrigger-error'], 'method_not_allowed');
  const connectLine = await lb.waitForLog((l) => l.msg === 'request' && l.method === 'CONNECT');
  assert.deepEqual([connectLine.status, connectLine.protocol], [405, 'HTTP/2']);

  const unmet = await new Promise<Got>((resolve) => {
    const got: Got = { status: 0, headers: {}, informational: [], links: [], body: '', reset: false };
    const stream = session.request({ ':method': 'POST', ':path': '/x', expect: 'extension-token' }, { endStream: false });
    stream.on('response', (h) => { got.status = Number(h[':status']); got.headers = h; });
    stream.on('data', (d: Buffer) => (got.body += d.toString()));
    stream.on('error', () => (got.reset = true));
    stream.on('close', () => resolve(got));
    stream.end('body');
  });
  assert.equal(unmet.status, 417);
  assert.equal(unmet.headers['x-outrigger-error'], 'expectation_failed');

  const continued = await new Promise<{ informational: number[]; status: number; body: string }>((resolve) => {
    const out = { informational: [] as number[], status: 0, body: '' };
    const stream = session.request({ ':method': 'POST', ':path': '/y', expect: '100-continue' }, { endStream: false });
    stream.on('continue', () => {
      out.informational.push(100);
      stream.end('after 100');
    });
    stream.on('response', (h) => (out.status = Number(h[':status'])));
    stream.on('data', (d: Buffer) => (out.body += d.toString()));
    stream.on('close', () => resolve(out));
  });
  assert.deepEqual(continued, { informational: [100], status: 200, body: 'got after 100' });
  assert.equal(reached, 1, 'only the 100-continue request reached the backend');
});

test('HTTP/2 client: a gRPC answer with its status in the head and a body after all (held head) arrives whole, with its trailers', async (t) => {
  const chunk = 'g'.repeat(16 * 1024);
  const chunks = 40;
  const origin = await startServer((req, res) => {
    req.resume();
    // grpc-status already in the head (a trailers-only shape), and yet a body follows, then trailers.
    res.writeHead(200, { 'content-type': 'application/grpc', 'grpc-status': '0', trailer: 'x-end' });
    for (let i = 0; i < chunks; i += 1) res.write(chunk);
    if (req.url === '/pkg.Svc/Broken') return void setTimeout(() => res.socket?.destroy(), 100);
    res.addTrailers({ 'x-end': 'yes' });
    res.end();
  });
  t.after(() => origin.close());
  const { lb, session } = await throughOutrigger(t, origin.port);
  const call = (path: string) => new Promise<{ bytes: number; reset: boolean; hung: boolean; status: string; trailers: http2.IncomingHttpHeaders | undefined }>((resolve) => {
    const r = { bytes: 0, reset: false, hung: false, status: '', trailers: undefined as http2.IncomingHttpHeaders | undefined };
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    const bound = setTimeout(() => {
      r.hung = true;
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }, 15_000);
    stream.on('close', () => clearTimeout(bound));
    stream.on('data', (d: Buffer) => (r.bytes += d.length));
    stream.on('trailers', (h) => (r.trailers = h));
    stream.on('response', (h) => (r.status = String(h['grpc-status'])));
    stream.on('error', () => (r.reset = true));
    stream.on('close', () => {
      r.reset ||= stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR;
      resolve(r);
    });
    stream.end();
  });
  const got = await call('/pkg.Svc/Call');
  assert.equal(got.hung, false, 'the stream ends');
  assert.equal(got.reset, false);
  assert.equal(got.bytes, chunk.length * chunks, 'every body byte');
  assert.equal(got.trailers?.['x-end'], 'yes');
  // The backend breaks off after its body: the call ends (UNAVAILABLE in the trailers, or a reset), never hangs.
  const broken = await call('/pkg.Svc/Broken');
  assert.equal(broken.hung, false, 'the broken call ends');
  assert.ok(broken.bytes > 0, 'the body began');
  assert.ok(broken.reset || broken.trailers?.['grpc-status'] === '14', `a failure the client sees: ${JSON.stringify(broken)}`);
});

test('HTTP/2 client resets a stream mid-answer with NO_ERROR: the backend request is cut, the request is logged as aborted', async (t) => {
  let backendClosed: () => void;
  let backendStreaming: () => void;
  const closed = new Promise<void>((r) => (backendClosed = r));
  const streaming = new Promise<void>((r) => (backendStreaming = r));
  const origin = await startServer((req, res) => {
    req.socket.once('close', () => backendClosed());
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    // A long answer, a chunk every 20 ms (at most 30 s): it only ends early if Outrigger cuts it.
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed || ++sent > 1500) return clearInterval(timer);
      res.write(Buffer.alloc(1024, 0x61));
      if (sent === 3) backendStreaming();
    }, 20);
    res.on('close', () => clearInterval(timer));
  });
  t.after(() => origin.close());
  const { lb, session } = await throughOutrigger(t, origin.port);
  const stream = session.request({ ':path': '/long' });
  stream.on('error', () => undefined);
  stream.resume();
  await streaming;
  // Node's client resets the stream with NO_ERROR on destroy() without an error; the answer was not complete.
  stream.destroy();
  const cutInTime = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
  assert.equal(cutInTime, true, 'the backend request went with the client\'s stream');
  const line = await lb.waitForLog((l) => l.msg === 'request' && l.path === '/long');
  assert.deepEqual([line.status, line.aborted, line.protocol], [200, true, 'HTTP/2']);
});
