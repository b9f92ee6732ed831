/** transport/gather: tiny chunks gathered, order kept, large ones and a body's first chunks passed at once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Gather } from '../../src/transport/gather.js';

const tick = () => new Promise((r) => setImmediate(r));

test('the first 8 small chunks pass at once; later small ones are passed together once the I/O phase ends', async () => {
  const out: string[] = [];
  const g = new Gather((piece) => out.push(piece.toString()));
  for (let i = 0; i < 8; i++) g.push(Buffer.from(String(i)));
  assert.deepEqual(out, ['0', '1', '2', '3', '4', '5', '6', '7']);
  for (const c of 'abcdef') g.push(Buffer.from(c));
  assert.equal(out.length, 8, 'held');
  await tick();
  assert.deepEqual(out.slice(8), ['abcdef']);
});

test('a large chunk passes at once, after what was held; flush() passes the rest now; drop() forgets it', async () => {
  const out: string[] = [];
  const g = new Gather((piece) => out.push(piece.length > 100 ? `big${piece.length}` : piece.toString()));
  for (let i = 0; i < 10; i++) g.push(Buffer.from('x'));
  g.push(Buffer.alloc(5000, 0x41));
  assert.deepEqual(out, [...Array(8).fill('x'), 'xx', 'big5000']);
  g.push(Buffer.from('y'));
  g.flush();
  assert.deepEqual(out.at(-1), 'y');
  g.push(Buffer.from('z'));
  g.drop();
  await tick();
  assert.equal(out.at(-1), 'y', 'dropped, not passed');
});

test('16 KiB of held chunks pass without waiting for the phase to end', () => {
  const out: number[] = [];
  const g = new Gather((piece) => out.push(piece.length));
  for (let i = 0; i < 8 + 16 * 1024; i++) g.push(Buffer.from('x'));
  assert.deepEqual(out, [...Array(8).fill(1), 16 * 1024]);
});

test('Gather.into: a full sink pauses the source once, and its drain resumes it', async () => {
  let paused = 0;
  let resumed = 0;
  const written: number[] = [];
  const sink = new Writable({ highWaterMark: 4, write(chunk: Buffer, _e, cb) { written.push(chunk.length); setImmediate(cb); } });
  const g = Gather.into(sink, () => (paused += 1), () => (resumed += 1));
  g.push(Buffer.alloc(5000));
  assert.equal(g.waiting, true);
  g.push(Buffer.alloc(5000));
  assert.equal(paused, 1, 'paused once while waiting');
  await new Promise((r) => sink.once('drain', r));
  await tick();
  assert.equal(resumed, 1);
  assert.equal(g.waiting, false);
  assert.deepEqual(written, [5000, 5000]);
});

test('passFirst 0 (the caller passed a body\'s first chunks itself): small chunks are gathered from the first', async () => {
  const out: string[] = [];
  const g = new Gather((piece) => out.push(piece.toString()), 0);
  for (const c of 'abc') g.push(Buffer.from(c));
  assert.deepEqual(out, []);
  await tick();
  assert.deepEqual(out, ['abc']);
});
