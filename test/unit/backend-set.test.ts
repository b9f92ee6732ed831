/** BackendSet: membership, health flags and the precomputed eligible view, on a fake clock. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { BackendSet, type BackendEvent } from '../../src/upstream/backend-set.js';
import { parseBackendList } from '../../src/upstream/backend-address.js';
import { FakeClock } from '../helpers/backends.js';

interface Harness {
  readonly set: BackendSet;
  readonly clock: FakeClock;
  readonly events: Array<[string, BackendEvent, Record<string, unknown> | undefined]>;
}

function harness(t: TestContext, list = 'a.local:1,b.local:2;weight=2,c.local:3', startHealthy = true): Harness {
  const clock = new FakeClock();
  const set = new BackendSet({ startHealthy, now: clock.now });
  t.after(() => set.close());
  const events: Harness['events'] = [];
  set.onChange((b, event, detail) => events.push([b.id, event, detail]));
  set.replace(parseBackendList(list));
  return { set, clock, events };
}

const ids = (list: readonly { id: string }[]) => list.map((b) => b.id);

test('replace() adds the backends in configuration order and emits "added" with the weight', (t) => {
  const { set, events } = harness(t);
  assert.deepEqual(ids(set.all()), ['a.local:1', 'b.local:2', 'c.local:3']);
  assert.equal(set.size, 3);
  assert.deepEqual(events, [
    ['a.local:1', 'added', { weight: 1 }],
    ['b.local:2', 'added', { weight: 2 }],
    ['c.local:3', 'added', { weight: 1 }],
  ]);
});

test('replace() removes, adds and re-weights in one go, keeping surviving Backend objects', (t) => {
  const { set, events } = harness(t);
  const b = set.get('b.local:2')!;
  b.requests = 42;
  events.length = 0;
  set.replace(parseBackendList('b.local:2;weight=5,d.local:4'));
  assert.deepEqual(ids(set.all()), ['b.local:2', 'd.local:4']);
  assert.equal(set.get('b.local:2'), b, 'same object: counters and flags survive a reload');
  assert.equal(b.weight, 5);
  assert.equal(b.requests, 42);
  assert.equal(set.get('a.local:1'), undefined);
  assert.deepEqual(events, [
    ['a.local:1', 'removed', undefined],
    ['c.local:3', 'removed', undefined],
    ['d.local:4', 'added', { weight: 1 }],
  ]);
  assert.deepEqual(ids(set.eligible()), ['b.local:2', 'd.local:4']);
});

test('replace() treats a scheme change for the same host:port as a new backend', (t) => {
  const { set, events } = harness(t, 'http://a.local:1,b.local:2');
  const old = set.get('a.local:1')!;
  events.length = 0;
  set.replace(parseBackendList('https://a.local:1,b.local:2'));
  const now = set.get('a.local:1')!;
  assert.equal(now.scheme, 'https');
  assert.notEqual(now, old, 'new connections and new health state');
  assert.deepEqual(events.map(([id, e]) => [id, e]), [['a.local:1', 'removed'], ['a.local:1', 'added']]);
  assert.deepEqual(ids(set.all()).sort(), ['a.local:1', 'b.local:2']);
  assert.ok(set.eligible().includes(now) && !set.eligible().includes(old));
});

test('after a reload, all() follows the new configuration order', (t) => {
  const { set } = harness(t, 'a.local:1,b.local:2');
  set.replace(parseBackendList('c.local:3,a.local:1,b.local:2'));
  assert.deepEqual(ids(set.all()), ['c.local:3', 'a.local:1', 'b.local:2']);
});

test('a re-added backend after removal starts fresh', (t) => {
  const { set } = harness(t);
  const old = set.get('a.local:1')!;
  old.failures = 9;
  set.replace(parseBackendList('b.local:2'));
  set.replace(parseBackendList('a.local:1,b.local:2'));
  assert.notEqual(set.get('a.local:1'), old);
  assert.equal(set.get('a.local:1')!.failures, 0);
});

test('with probing, new backends wait for their first verdict; the first verdict always applies', (t) => {
  const { set, events } = harness(t, 'a.local:1,b.local:2', false);
  assert.deepEqual(ids(set.eligible()), []);
  assert.deepEqual(set.countByState(), { healthy: 0, unhealthy: 2, ejected: 0, drained: 0 });
  const [a, b] = set.all();
  set.setHealthy(a!, true);
  set.setHealthy(b!, false);
  assert.deepEqual(ids(set.eligible()), ['a.local:1']);
  assert.deepEqual(events.slice(2).map(([id, e]) => [id, e]), [['a.local:1', 'healthy'], ['b.local:2', 'unhealthy']]);
});

test('the eligible view excludes unhealthy, drained and ejected backends', (t) => {
  const { set, clock } = harness(t, 'a.local:1,b.local:2,c.local:3,d.local:4');
  const [a, b, c] = set.all();
  set.setHealthy(a!, false);
  set.setDrained(b!, true);
  set.eject(c!, clock.t + 10_000, {});
  assert.deepEqual(ids(set.eligible()), ['d.local:4']);
  assert.deepEqual(set.countByState(), { healthy: 1, unhealthy: 1, ejected: 1, drained: 1 });
});

test('drain wins over ejection and health in the reported state', (t) => {
  const { set, clock } = harness(t, 'a.local:1');
  const [a] = set.all();
  set.eject(a!, clock.t + 1000, {});
  set.setHealthy(a!, false);
  set.setDrained(a!, true);
  assert.equal(a!.state(clock.t), 'drained');
});

test('the view is precomputed: the same frozen array until something changes', (t) => {
  const { set } = harness(t);
  const first = set.eligible();
  assert.ok(Object.isFrozen(first));
  assert.equal(set.eligible(), first);
  set.setDrained(set.all()[0]!, true);
  const second = set.eligible();
  assert.notEqual(second, first);
  assert.deepEqual(ids(second), ['b.local:2', 'c.local:3']);
  assert.deepEqual(ids(first), ['a.local:1', 'b.local:2', 'c.local:3'], 'an earlier view is not mutated under a caller');
});

test('the view is rebuilt when an ejection expires, without any other change', (t) => {
  const { set, clock } = harness(t);
  const b = set.get('b.local:2')!;
  set.eject(b, clock.t + 30_000, { durationMs: 30_000 });
  assert.deepEqual(ids(set.eligible()), ['a.local:1', 'c.local:3']);
  clock.advance(29_999);
  assert.deepEqual(ids(set.eligible()), ['a.local:1', 'c.local:3']);
  clock.advance(1);
  assert.deepEqual(ids(set.eligible()), ['a.local:1', 'b.local:2', 'c.local:3']);
});

test('the earliest of several ejections triggers the first rebuild', (t) => {
  const { set, clock } = harness(t);
  const [a, b] = set.all();
  set.eject(a!, clock.t + 5_000, {});
  set.eject(b!, clock.t + 1_000, {});
  assert.deepEqual(ids(set.eligible()), ['c.local:3']);
  assert.deepEqual(ids(set.eligible(clock.t + 1_000)), ['b.local:2', 'c.local:3']);
  assert.deepEqual(ids(set.eligible(clock.t + 5_000)), ['a.local:1', 'b.local:2', 'c.local:3']);
});

test('an ejection end becomes visible without traffic: "returned" event, slow start restarts', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { set, clock, events } = harness(t);
  const a = set.get('a.local:1')!;
  set.eject(a, clock.t + 1_000, { durationMs: 1_000 });
  assert.equal(a.ejections, 1);
  assert.deepEqual(events.at(-1), ['a.local:1', 'ejected', { durationMs: 1_000 }]);
  clock.advance(1_001);
  t.mock.timers.tick(1_001);
  assert.deepEqual(events.at(-1)!.slice(0, 2), ['a.local:1', 'returned']);
  assert.equal(a.ejectedUntil, 0);
  assert.equal(a.healthySince, clock.t);
  assert.equal(a.state(clock.t), 'healthy');
});

test('setHealthy and setDrained emit once per change, and restart slow start on return', (t) => {
  const { set, clock, events } = harness(t, 'a.local:1');
  const [a] = set.all();
  events.length = 0;
  set.setHealthy(a!, true); // already healthy
  clock.advance(500);
  set.setDrained(a!, true);
  set.setDrained(a!, true);
  clock.advance(500);
  set.setDrained(a!, false);
  assert.equal(a!.healthySince, clock.t);
  set.setHealthy(a!, false);
  set.setHealthy(a!, false);
  clock.advance(500);
  set.setHealthy(a!, true);
  assert.equal(a!.healthySince, clock.t);
  assert.deepEqual(events.map(([, e]) => e), ['drained', 'enabled', 'unhealthy', 'healthy']);
});

test('flags written for a backend no longer in the set are ignored', (t) => {
  const { set, events } = harness(t, 'a.local:1,b.local:2', false);
  const [a] = set.all();
  set.replace(parseBackendList('b.local:2'));
  events.length = 0;
  set.setHealthy(a!, true);
  assert.deepEqual(events, []);
  assert.deepEqual(ids(set.eligible()), []);
});
