/**
 * The two GOAWAYs of an HTTP/2 drain (RFC 9113 §6.8, SPEC §8), seen by a
 * raw client that controls when its frames go out: a stream sent before the
 * client read the first GOAWAY (here: after it, which the server cannot tell
 * apart) is served, and the last GOAWAY names it. Node's own GOAWAY refuses
 * such a stream (REFUSED_STREAM); proxy/h2-drain writes the first one itself,
 * except over TLS, where Node's is sent (and nothing else may write).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOutrigger } from '../helpers/outrigger.js';
import { startBackend } from '../helpers/http.js';
import { connectH2, errorName, headers, requestBlock, type RawH2 } from '../helpers/h2-frames.js';
import { TestPki } from '../helpers/certs.js';
import { h2Connect, h2Get } from '../helpers/tls-client.js';

const MAX_STREAM_ID = 2 ** 31 - 1;

async function get(conn: RawH2, streamId: number): Promise<{ status: number | undefined; reset: string | undefined }> {
  await conn.send(headers(streamId, requestBlock('/ping')));
  await conn.waitFor(() => conn.statuses.has(streamId) || conn.resets.has(streamId) || !conn.alive(), 5000);
  const code = conn.resets.get(streamId);
  return { status: conn.statuses.get(streamId), reset: code === undefined ? undefined : errorName(code) };
}

test('SIGTERM: a stream sent after the first GOAWAY (max stream id) is served; the last GOAWAY, a grace later, names it; exit 0', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', SHUTDOWN_DELAY_MS: '1500', DRAIN_TIMEOUT_MS: '5000' });
  t.after(() => lb.stop('SIGKILL'));
  const conn = await connectH2(lb.proxyPort);
  t.after(() => conn.close());
  assert.deepEqual(await get(conn, 1), { status: 200, reset: undefined });
  lb.child.kill('SIGTERM');
  assert.ok(await conn.waitFor(() => conn.goaways().length > 0, 3000), 'a GOAWAY at the SIGTERM');
  const first = conn.goaways()[0]!;
  assert.deepEqual([first.lastStreamId, errorName(first.code)], [MAX_STREAM_ID, 'NO_ERROR']);
  assert.deepEqual(await get(conn, 3), { status: 200, reset: undefined }, 'the stream that crossed the first GOAWAY is served, not refused');
  assert.ok(await conn.waitFor(() => conn.goaways().length > 1, 3000), 'the last GOAWAY follows');
  const last = conn.goaways()[1]!;
  assert.deepEqual([last.lastStreamId, errorName(last.code)], [3, 'NO_ERROR']);
  assert.ok(last.at - first.at >= 900, `a grace between the two (${last.at - first.at} ms)`);
  assert.equal(await lb.exited, 0);
});

test('a session that had no GOAWAY when listening stops gets its first then; a stream it sends in the grace is served; the drain waits for it', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', SHUTDOWN_DELAY_MS: '300', DRAIN_TIMEOUT_MS: '5000' });
  t.after(() => lb.stop('SIGKILL'));
  lb.child.kill('SIGTERM');
  await lb.waitForLog((l) => l.msg === 'shutdown: draining, readiness now 503');
  // Opened during the delay, no request yet: nothing has told it to go away.
  const conn = await connectH2(lb.proxyPort);
  t.after(() => conn.close());
  await lb.waitForLog((l) => l.msg === 'shutdown: stopped listening, waiting for in-flight work');
  assert.ok(await conn.waitFor(() => conn.goaways().length > 0, 3000), 'a GOAWAY once listening stopped');
  assert.equal(conn.goaways()[0]!.lastStreamId, MAX_STREAM_ID);
  assert.deepEqual(await get(conn, 1), { status: 200, reset: undefined });
  assert.ok(await conn.waitFor(() => conn.goaways().length > 1, 3000), 'the last GOAWAY follows');
  assert.equal(conn.goaways()[1]!.lastStreamId, 1);
  assert.equal(await lb.exited, 0);
});

test('over TLS (ALPN h2) the first GOAWAY is Node\'s: the drain runs its course, a stream open at the SIGTERM finishes, exit 0', async (t) => {
  const pki = new TestPki();
  t.after(() => pki.close());
  const ca = await pki.ca('Drain Test CA');
  const server = await pki.server(ca, '2001');
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', SHUTDOWN_DELAY_MS: '1200', DRAIN_TIMEOUT_MS: '5000',
    TLS_CERT_FILE: server.cert, TLS_KEY_FILE: server.key,
  });
  t.after(() => lb.stop('SIGKILL'));
  const session = await h2Connect(lb.proxyPort, { ca: pki.read(ca.cert) });
  t.after(() => session.destroy());
  session.on('error', () => undefined);
  assert.equal((await h2Get(session, '/ping')).status, 200);
  const goaways: number[] = [];
  session.on('goaway', (_code: number, lastStreamId: number) => goaways.push(lastStreamId));
  const long = h2Get(session, '/delay?ms=800');
  await new Promise((r) => setTimeout(r, 100));
  lb.child.kill('SIGTERM');
  assert.equal((await long).status, 200);
  assert.equal(goaways[0], MAX_STREAM_ID);
  assert.equal(await lb.exited, 0);
});
