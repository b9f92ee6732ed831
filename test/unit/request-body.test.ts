import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import type { IncomingMessage, ClientRequest } from 'node:http';
import { RequestBody, RETRY_BODY_LIMIT } from '../../src/proxy/request-body.js';

/** A readable body with rawTrailers, standing in for IncomingMessage (the class only streams it). */
function body(): PassThrough & { rawTrailers: string[] } {
  return Object.assign(new PassThrough(), { rawTrailers: [] as string[] });
}

function sink(): { stream: ClientRequest; data: () => Buffer } {
  const chunks: Buffer[] = [];
  const w = new Writable({ write(chunk: Buffer, _e, cb) { chunks.push(chunk); cb(); } });
  return { stream: Object.assign(w, { addTrailers: () => undefined }) as unknown as ClientRequest, data: () => Buffer.concat(chunks) };
}

test('a body up to the limit stays replayable and is replayed whole to a second sink', async () => {
  const req = body();
  const rb = new RequestBody(req as unknown as IncomingMessage, RETRY_BODY_LIMIT);
  const first = sink();
  rb.attach(first.stream);
  req.end(Buffer.from('hello world'));
  await new Promise((r) => setImmediate(r));
  assert.equal(rb.replayable, true);
  rb.detach();
  const second = sink();
  rb.attach(second.stream);
  await new Promise((r) => setImmediate(r));
  assert.equal(second.data().toString(), 'hello world');
});

test('over the limit, or with limit 0 (RETRIES=0), nothing is held', async () => {
  for (const [limit, size] of [[RETRY_BODY_LIMIT, RETRY_BODY_LIMIT + 1], [0, 1]] as const) {
    const req = body();
    const rb = new RequestBody(req as unknown as IncomingMessage, limit);
    const s = sink();
    rb.attach(s.stream);
    req.end(Buffer.alloc(size, 1));
    await new Promise((r) => setImmediate(r));
    assert.equal(rb.replayable, false, `limit ${limit}`);
    assert.equal(s.data().length, size, 'still streamed to the current sink');
  }
});

test('stopHolding drops the copy once an answer is being relayed', async () => {
  const req = body();
  const rb = new RequestBody(req as unknown as IncomingMessage, RETRY_BODY_LIMIT);
  rb.attach(sink().stream);
  req.write(Buffer.from('abc'));
  await new Promise((r) => setImmediate(r));
  rb.stopHolding();
  assert.equal(rb.replayable, false);
});

test('trailers a body framed by Content-Length cannot carry are all counted as dropped, none added', async () => {
  const req = body();
  req.rawTrailers = ['x-sum', 'abc', 'Host', 'evil.example'];
  const counted: number[] = [];
  const rb = new RequestBody(req as unknown as IncomingMessage, RETRY_BODY_LIMIT, (n) => counted.push(n));
  const added: unknown[] = [];
  const s = sink();
  Object.assign(s.stream, { chunkedEncoding: false, addTrailers: (p: unknown) => added.push(p) });
  rb.attach(s.stream);
  req.end(Buffer.from('hello'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(counted, [2]);
  assert.deepEqual(added, []);
});
