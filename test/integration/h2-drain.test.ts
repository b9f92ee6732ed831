/**
 * An HTTP/2 drain (SIGTERM, MAX_CONNECTION_AGE_MS) seen by a raw client that
 * controls when its frames go out and when it reads (SPEC §8, RFC 9113 §6.8).
 * Node sends every GOAWAY through nghttp2, which from the first one on
 * ignores new streams: a stream that crossed it is never processed, the last
 * GOAWAY's id says so, and the client may retry it anywhere (clients report
 * it as REFUSED_STREAM; docs/security.md, "HTTP/2 drain").
 * Nothing but Node may write to a session's socket: a write of ours finishing
 * late aborts the process, so a slow reader during the drain is a test here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startOutrigger } from '../helpers/outrigger.js';
import { sleep } from '../helpers/http.js';
import net, { type AddressInfo } from 'node:net';
import { connectH2, decodeStatus, errorName, Flag, FrameReader, FrameType, headers, PREFACE, requestBlock, settings, settingsAck, windowUpdate, type RawH2 } from '../helpers/h2-frames.js';

const MAX_STREAM_ID = 2 ** 31 - 1;
const BIG = 32 * 1024 * 1024;

/** An HTTP/1.1 backend: `/big` answers BIG bytes, anything else 200 "ok"; it remembers the paths it was asked for. */
async function startBackend(t: { after(fn: () => unknown): void }): Promise<{ port: number; paths: string[] }> {
  const paths: string[] = [];
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    if (req.url !== '/big') return void res.end('ok');
    res.writeHead(200, { 'content-length': String(BIG) });
    let sent = 0;
    const pump = (): void => {
      while (sent < BIG) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, paths };
}

async function get(conn: RawH2, streamId: number, path = '/ping'): Promise<{ status: number | undefined; reset: string | undefined }> {
  await conn.send(headers(streamId, requestBlock(path)));
  await conn.waitFor(() => conn.statuses.has(streamId) || conn.resets.has(streamId) || !conn.alive(), 5000);
  const code = conn.resets.get(streamId);
  return { status: conn.statuses.get(streamId), reset: code === undefined ? undefined : errorName(code) };
}

test('SIGTERM: the first GOAWAY has the highest stream id; a stream sent after it is not processed (above the last GOAWAY\'s id) and never reaches a backend; exit 0', async (t) => {
  const backend = await startBackend(t);
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', SHUTDOWN_DELAY_MS: '1500', DRAIN_TIMEOUT_MS: '5000' });
  t.after(() => lb.stop('SIGKILL'));
  const conn = await connectH2(lb.proxyPort);
  t.after(() => conn.close());
  assert.deepEqual(await get(conn, 1), { status: 200, reset: undefined });
  lb.child.kill('SIGTERM');
  assert.ok(await conn.waitFor(() => conn.goaways().length > 0, 3000), 'a GOAWAY at the SIGTERM');
  const first = conn.goaways()[0]!;
  assert.deepEqual([first.lastStreamId, errorName(first.code)], [MAX_STREAM_ID, 'NO_ERROR']);
  // A stream the client sent before it read that GOAWAY: nghttp2 ignores it; the last GOAWAY tells the client.
  await conn.send(headers(3, requestBlock('/crossed')));
  assert.ok(await conn.waitFor(() => conn.goaways().length > 1, 3000), 'the last GOAWAY follows');
  assert.equal(conn.goaways()[1]!.lastStreamId, 1, 'stream 3 is above the last stream id: not processed, safe to retry');
  assert.equal(conn.statuses.has(3), false, 'no answer to stream 3');
  assert.equal(await lb.exited, 0);
  assert.deepEqual(backend.paths, ['/ping'], 'the refused stream was never forwarded');
});

for (const [name, env] of [['SIGTERM', {}], ['MAX_CONNECTION_AGE_MS', { MAX_CONNECTION_AGE_MS: '700' }]] as const) {
  test(`${name} while an h2c client reads a 32 MiB answer slowly (its socket full): the answer arrives whole, framed, and the process lives on or exits 0`, async (t) => {
    const backend = await startBackend(t);
    const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', SHUTDOWN_DELAY_MS: '200', DRAIN_TIMEOUT_MS: '10000', ...env });
    t.after(() => lb.stop('SIGKILL'));
    const conn = await connectH2(lb.proxyPort);
    t.after(() => conn.close());
    let data = 0;
    let ended = false;
    let badFrame = false;
    const reader = new FrameReader();
    conn.socket.on('data', (chunk: Buffer) => {
      for (const f of reader.push(chunk)) {
        if (f.type > FrameType.CONTINUATION) badFrame = true;
        if (f.type !== FrameType.DATA || f.streamId !== 1) continue;
        data += f.payload.length;
        if ((f.flags & Flag.END_STREAM) !== 0) ended = true;
      }
      if (data > 4 * 1024 * 1024 && !ended && !resumed) conn.socket.pause();
    });
    let resumed = false;
    // Windows wide open, so that only the socket holds the answer back.
    await conn.send(Buffer.concat([settings([[4, MAX_STREAM_ID]]), windowUpdate(0, MAX_STREAM_ID - 65_535), headers(1, requestBlock('/big'))]));
    assert.ok(await conn.waitFor(() => conn.socket.isPaused(), 5000), 'the client stopped reading');
    await sleep(300); // Outrigger's writes back up in its socket
    if (name === 'SIGTERM') lb.child.kill('SIGTERM');
    await sleep(1200); // the first GOAWAY (SIGTERM, or the connection's age) goes out while they are queued
    resumed = true;
    conn.socket.resume();
    assert.ok(await conn.waitFor(() => ended || !conn.alive(), 10_000), 'the answer ended');
    assert.equal(data, BIG, 'every byte arrived');
    assert.equal(badFrame, false, 'no unknown frame type: the framing held');
    assert.ok(conn.goaways().length > 0 && conn.goaways()[0]!.lastStreamId === MAX_STREAM_ID, 'the drain\'s first GOAWAY arrived');
    if (name === 'SIGTERM') assert.equal(await lb.exited, 0);
    else assert.equal(lb.child.exitCode, null, 'still running');
  });
}

test('a connection accepted before listening stops whose preface and first request come after it: the request is served, the session gets its last GOAWAY, and the drain does not wait DRAIN_TIMEOUT_MS for it; exit 0', async (t) => {
  const backend = await startBackend(t);
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', SHUTDOWN_DELAY_MS: '300', DRAIN_TIMEOUT_MS: '10000' });
  t.after(() => lb.stop('SIGKILL'));
  // A slow answer keeps the drain going after listening stops (the 32 MiB answer to a client that reads it late).
  const busy = await connectH2(lb.proxyPort);
  t.after(() => busy.close());
  await busy.send(Buffer.concat([settings([[4, MAX_STREAM_ID]]), windowUpdate(0, MAX_STREAM_ID - 65_535), headers(1, requestBlock('/big'))]));
  assert.ok(await busy.waitFor(() => busy.statuses.has(1), 5000), 'the answer started');
  busy.socket.pause();
  // Accepted now; the front door waits for its first bytes (up to CLIENT_HEADERS_TIMEOUT_MS, 10 s).
  const socket = net.connect(lb.proxyPort, '127.0.0.1');
  socket.on('error', () => undefined);
  t.after(() => socket.destroy());
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const reader = new FrameReader();
  const goaways: number[] = [];
  let status: number | undefined;
  socket.on('data', (chunk: Buffer) => {
    for (const f of reader.push(chunk)) {
      if (f.type === FrameType.GOAWAY) goaways.push(f.payload.readUInt32BE(0) & 0x7fffffff);
      if (f.type === FrameType.HEADERS && f.streamId === 1) status = decodeStatus(f.payload);
    }
  });
  lb.child.kill('SIGTERM');
  await lb.waitForLog((l) => l.msg === 'shutdown: stopped listening, waiting for in-flight work');
  const stopped = Date.now();
  socket.write(Buffer.concat([PREFACE, settings(), settingsAck(), headers(1, requestBlock('/late'))]));
  await sleep(500);
  busy.socket.resume(); // the answer goes on; the drain can end once it has
  assert.equal(await lb.exited, 0);
  assert.ok(Date.now() - stopped < 5000, `exited ${Date.now() - stopped} ms after listening stopped (DRAIN_TIMEOUT_MS is 10 s)`);
  assert.equal(status, 200, 'the request that came with the preface was served');
  assert.ok(goaways.length > 0 && goaways.every((id) => id === 1), `then the last GOAWAY, its id the served stream: ${goaways.join(', ')}`);
  assert.ok(backend.paths.includes('/late'));
  assert.equal(lb.logs.some((l) => l.msg === 'shutdown: closing what is still in flight'), false, 'the drain ended by itself');
});
