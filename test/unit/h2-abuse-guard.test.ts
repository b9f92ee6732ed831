import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headerListSize, TokenBucket } from '../../src/proxy/h2-abuse-guard.js';

test('TokenBucket: a burst, then the steady rate, on a fake clock', () => {
  let now = 0;
  const bucket = new TokenBucket(3, 2, () => now);
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
  now = 499;
  assert.equal(bucket.take(), false, 'under one token refilled');
  now = 500;
  assert.equal(bucket.take(), true, 'two a second: one token after 500 ms');
  now = 60_000;
  assert.equal(bucket.take(3), true, 'refill is capped at the burst');
  assert.equal(bucket.take(), false);
  now = 61_000;
  assert.equal(bucket.take(3), false, 'taking more than is left takes nothing');
  assert.equal(bucket.take(2), true);
});

test('headerListSize counts name + value + 32 per field', () => {
  assert.equal(headerListSize([':method', 'GET', ':path', '/']), 7 + 3 + 32 + 5 + 1 + 32);
  assert.equal(headerListSize([]), 0);
});
