/** FrameBoundary: frame boundaries of a WebSocket byte stream, whatever the chunking (seeded, no clock). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameBoundary } from '../../src/proxy/ws-frame-boundary.js';
import { mulberry32, randomInt } from '../helpers/rng.js';

/** One frame with a `length`-byte payload: the 7-, 16- or 64-bit length form, masked or not. */
function frame(length: number, masked: boolean, opcode = 0x2): Buffer {
  const mask = masked ? 0x80 : 0;
  let head: Buffer;
  if (length < 126) head = Buffer.from([0x80 | opcode, mask | length]);
  else if (length <= 0xffff) { head = Buffer.from([0x80 | opcode, mask | 126, 0, 0]); head.writeUInt16BE(length, 2); }
  else { head = Buffer.alloc(10); head[0] = 0x80 | opcode; head[1] = mask | 127; head.writeUInt32BE(Math.floor(length / 2 ** 32), 2); head.writeUInt32BE(length >>> 0, 6); }
  return Buffer.concat([head, masked ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0), Buffer.alloc(length, 0x61)]);
}

/** A stream of frames and the offsets where each one ends. */
function stream(frames: Buffer[]): { bytes: Buffer; ends: Set<number> } {
  const ends = new Set<number>([0]);
  let at = 0;
  for (const f of frames) ends.add((at += f.length));
  return { bytes: Buffer.concat(frames), ends };
}

const FRAMES = [frame(0, false), frame(5, false), frame(125, true), frame(126, false), frame(200, true), frame(0xffff, false), frame(0x10000, true), frame(1, false, 0x9), frame(2, false, 0x8)];

test('byte by byte: at a boundary exactly where a frame ends (every header form, masked or not, empty payloads)', () => {
  const { bytes, ends } = stream(FRAMES);
  const b = new FrameBoundary();
  for (let i = 0; i < bytes.length; i += 1) {
    b.feed(bytes.subarray(i, i + 1));
    if (b.atBoundary !== ends.has(i + 1)) assert.fail(`after byte ${i + 1}: atBoundary ${b.atBoundary}`);
  }
  assert.equal(b.atBoundary, true);
});

test('random chunkings (seeded) agree with the frame ends, headers split across chunks included', () => {
  const { bytes, ends } = stream(FRAMES);
  const rng = mulberry32(42);
  for (let round = 0; round < 200; round += 1) {
    const b = new FrameBoundary();
    let at = 0;
    while (at < bytes.length) {
      const size = Math.min(bytes.length - at, rng() < 0.5 ? randomInt(rng, 1, 16) : randomInt(rng, 1, 70_000));
      b.feed(bytes.subarray(at, (at += size)));
      if (b.atBoundary !== ends.has(at)) assert.fail(`round ${round}, after ${at} bytes: atBoundary ${b.atBoundary}`);
    }
  }
});

test('half of a 200-byte frame is not a boundary; the rest of it is', () => {
  const f = frame(200, false);
  const b = new FrameBoundary();
  b.feed(f.subarray(0, 104));
  assert.equal(b.atBoundary, false);
  b.feed(f.subarray(104));
  assert.equal(b.atBoundary, true);
});

test('a 64-bit length above 2^32 is counted, not truncated', () => {
  const b = new FrameBoundary();
  b.feed(Buffer.from([0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0])); // 2^32 bytes of payload to come
  b.feed(Buffer.alloc(1000));
  assert.equal(b.atBoundary, false);
});
