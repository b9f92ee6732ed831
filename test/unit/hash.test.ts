/** ip-hash and hash: weighted rendezvous hashing on the client address or HASH_KEY value. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashPicker, IpHashPicker, fnv1a, rendezvous } from '../../src/balancer/hash.js';
import { mulberry32 } from '../helpers/rng.js';
import { context, makeBackends } from '../helpers/backends.js';

test('fnv1a matches the published FNV-1a 32-bit test vectors', () => {
  assert.equal(fnv1a(''), 0x811c9dc5);
  assert.equal(fnv1a('a'), 0xe40c292c);
  assert.equal(fnv1a('foobar'), 0xbf9cf968);
});

test('ip-hash keys on the client address and ignores the hash key', () => {
  const backends = makeBackends([1, 1, 1, 1, 1]);
  const picker = new IpHashPicker();
  const rng = mulberry32(1);
  for (let i = 0; i < 100; i++) {
    const clientIp = `198.51.100.${i}`;
    const first = picker.pick(backends, context(rng, { clientIp, hashKey: 'a' }));
    assert.equal(picker.pick(backends, context(rng, { clientIp, hashKey: `other-${i}` })), first);
  }
});

test('hash keys on the HASH_KEY value, whatever the client address', () => {
  const backends = makeBackends([1, 1, 1, 1, 1]);
  const picker = new HashPicker();
  const rng = mulberry32(1);
  let differs = 0;
  for (let i = 0; i < 100; i++) {
    const hashKey = `session-${i}`;
    const first = picker.pick(backends, context(rng, { clientIp: '10.0.0.1', hashKey }))!;
    assert.equal(picker.pick(backends, context(rng, { clientIp: `203.0.113.${i}`, hashKey })), first);
    if (picker.pick(backends, context(rng, { clientIp: '10.0.0.1' })) !== first) differs += 1;
  }
  assert.ok(differs > 0, 'the key, not the address, decided');
});

test('hash falls back to the client address when the request has no key', () => {
  const backends = makeBackends([1, 2, 3]);
  const rng = mulberry32(1);
  for (let i = 0; i < 100; i++) {
    const clientIp = `192.0.2.${i}`;
    assert.equal(new HashPicker().pick(backends, context(rng, { clientIp, hashKey: undefined })), new IpHashPicker().pick(backends, context(rng, { clientIp })));
  }
});

test('the choice does not depend on list order', () => {
  const backends = makeBackends([1, 2, 3, 4]);
  const reversed = [...backends].reverse();
  const rng = mulberry32(1);
  for (let i = 0; i < 200; i++) {
    const ctx = context(rng, { clientIp: `192.0.2.${i}` });
    assert.equal(rendezvous(reversed, `k${i}`, ctx), rendezvous(backends, `k${i}`, ctx));
  }
});

test('a weight change moves keys only to or from the re-weighted backend', () => {
  const backends = makeBackends([1, 1, 1, 1]);
  const rng = mulberry32(1);
  const keys = Array.from({ length: 3000 }, (_, i) => `key-${i}`);
  const before = keys.map((k) => rendezvous(backends, k, context(rng)));
  backends[1]!.weight = 3;
  const after = keys.map((k) => rendezvous(backends, k, context(rng)));
  let gained = 0;
  keys.forEach((_, i) => {
    if (after[i] !== before[i]) {
      assert.equal(after[i], backends[1], 'a key moved between backends whose weights did not change');
      gained += 1;
    }
  });
  assert.ok(gained > 0);
});
