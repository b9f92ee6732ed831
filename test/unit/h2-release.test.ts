/** releaseClosedStream (src/transport/h2-release.ts) on real streams of a loopback HTTP/2 pair. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { quietStreamListeners, releaseClosedStream } from '../../src/transport/h2-release.js';

/** Listens on loopback and opens a client session to it; both go when the test ends. */
async function connectTo(server: http2.Http2Server, t: { after(fn: () => unknown): void }): Promise<http2.ClientHttp2Session> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  t.after(() => {
    session.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return session;
}

test('a closed stream keeps only an error listener after the close (its close listeners all run first); a later error is harmless', async (t) => {
  const server = http2.createServer();
  const serverSide: Promise<string[]> = new Promise((resolve) => {
    server.on('stream', (stream) => {
      const ran: string[] = [];
      stream.on('close', () => {
        ran.push('first');
        releaseClosedStream(stream);
      });
      stream.on('close', () => ran.push('second'));
      stream.on('close', () => {
        ran.push(`listeners in the same emit: ${stream.listenerCount('close')}`);
        setImmediate(() => {
          ran.push(`listeners after: ${stream.eventNames().map(String).join(',')}`);
          ran.push(`sent head after: ${JSON.stringify(stream.sentHeaders)}`);
          resolve(ran);
        });
      });
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
  });
  const session = await connectTo(server, t);
  const req = session.request({ ':path': '/' });
  req.resume();
  let clientData = 0;
  req.on('data', (chunk: Buffer) => (clientData += chunk.length));
  const clientClosed = new Promise<void>((resolve) => req.on('close', () => {
    releaseClosedStream(req);
    resolve();
  }));
  assert.equal(typeof req.sentHeaders, 'object', 'the request head is there while the stream is open');
  assert.deepEqual(await serverSide, ['first', 'second', 'listeners in the same emit: 3', 'listeners after: error', 'sent head after: undefined']);
  await clientClosed;
  await new Promise((r) => setImmediate(r));
  assert.equal(req.sentHeaders, undefined, 'the request head is let go with the listeners');
  assert.equal(clientData, 2);
  assert.deepEqual(req.eventNames(), ['error']);
  assert.doesNotThrow(() => req.emit('error', new Error('a write after the close')));
});

test('quietStreamListeners: Node\'s listener bookkeeping is off the stream, which still serves and releases normally', async (t) => {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    quietStreamListeners(stream);
    assert.deepEqual([stream.listenerCount('newListener'), stream.listenerCount('removeListener')], [0, 0]);
    stream.on('close', () => releaseClosedStream(stream));
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  const session = await connectTo(server, t);
  const req = session.request({ ':path': '/' });
  quietStreamListeners(req);
  assert.deepEqual([req.listenerCount('newListener'), req.listenerCount('removeListener')], [0, 0]);
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  await new Promise<void>((resolve) => req.on('close', () => {
    releaseClosedStream(req);
    resolve();
  }));
  await new Promise((r) => setImmediate(r));
  assert.equal(body, 'ok');
  assert.deepEqual(req.eventNames(), ['error']);
});
