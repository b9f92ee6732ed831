/** Discovery diffs (discovery-source.ts) and BackendSet.apply(), on plain values and a fake clock. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { applyDiff, diffAddresses, isEmptyDiff, reorder, type BackendDiff } from '../../src/upstream/discovery-source.js';
import { BackendSet, type BackendEvent } from '../../src/upstream/backend-set.js';
import { parseBackendList } from '../../src/upstream/backend-address.js';
import { FakeClock } from '../helpers/backends.js';

const list = (text: string) => parseBackendList(text);
const ids = (items: readonly { id: string }[]) => items.map((b) => b.id);

test('diffAddresses: additions, removals, weight changes, scheme changes and the new order', () => {
  const diff = diffAddresses(list('a.local:1,b.local:2,http://c.local:3,d.local:4'), list('https://c.local:3,b.local:2;weight=4,e.local:5,d.local:4'));
  assert.deepEqual(diff.removed, ['a.local:1', 'c.local:3']);
  assert.deepEqual(diff.added.map((a) => [a.id, a.scheme, a.weight]), [['c.local:3', 'https', 1], ['b.local:2', 'http', 4], ['e.local:5', 'http', 1]]);
  assert.deepEqual(diff.order, ['c.local:3', 'b.local:2', 'e.local:5', 'd.local:4']);
});

test('diffAddresses from nothing adds everything; to nothing removes everything', () => {
  assert.deepEqual(ids(diffAddresses([], list('a.local:1,b.local:2')).added), ['a.local:1', 'b.local:2']);
  assert.deepEqual(diffAddresses(list('a.local:1,b.local:2'), []), { added: [], removed: ['a.local:1', 'b.local:2'], order: [] });
});

test('isEmptyDiff: nothing added or removed and the same order', () => {
  const before = list('a.local:1,b.local:2');
  assert.equal(isEmptyDiff(diffAddresses(before, list('a.local:1,b.local:2')), before), true);
  assert.equal(isEmptyDiff(diffAddresses(before, list('b.local:2,a.local:1')), before), false, 'a new order is a change');
  assert.equal(isEmptyDiff({ added: [], removed: [] }, before), true, 'a diff without an order');
});

test('applyDiff gives back the target list, order included', () => {
  const before = list('a.local:1,b.local:2,c.local:3');
  const after = list('c.local:3,b.local:2;weight=9,d.local:4');
  assert.deepEqual(applyDiff(before, diffAddresses(before, after)), after);
});

test('applyDiff without an order: survivors keep their place, additions go last, weights change in place', () => {
  const diff: BackendDiff = { added: list('d.local:4,b.local:2;weight=7'), removed: ['a.local:1'] };
  const out = applyDiff(list('a.local:1,b.local:2,c.local:3'), diff);
  assert.deepEqual(out.map((a) => [a.id, a.weight]), [['b.local:2', 7], ['c.local:3', 1], ['d.local:4', 1]]);
});

test('reorder: listed ids first in that order, unknown and repeated ids skipped, the rest after', () => {
  const members = new Map([['a', 1], ['b', 2], ['c', 3], ['d', 4]]);
  assert.deepEqual(reorder(members, ['c', 'x', 'a', 'c']), [3, 1, 2, 4]);
  assert.deepEqual(reorder(members, undefined), [1, 2, 3, 4]);
});

function harness(t: TestContext, startHealthy = true) {
  const set = new BackendSet({ startHealthy, now: new FakeClock().now });
  t.after(() => set.close());
  const events: Array<[string, BackendEvent, Record<string, unknown> | undefined]> = [];
  set.onChange((b, event, detail) => events.push([b.id, event, detail]));
  return { set, events };
}

test('BackendSet.apply: additions emit "added" in diff order; removals "removed"; unknown removals are ignored', (t) => {
  const { set, events } = harness(t);
  set.apply({ added: list('a.local:1,b.local:2;weight=3'), removed: ['nope.local:9'] });
  set.apply({ added: list('c.local:3'), removed: ['a.local:1'] });
  assert.deepEqual(ids(set.all()), ['b.local:2', 'c.local:3']);
  assert.deepEqual(events, [
    ['a.local:1', 'added', { weight: 1 }],
    ['b.local:2', 'added', { weight: 3 }],
    ['a.local:1', 'removed', undefined],
    ['c.local:3', 'added', { weight: 1 }],
  ]);
  assert.deepEqual(ids(set.eligible()), ['b.local:2', 'c.local:3']);
});

test('BackendSet.apply: a known id with the same scheme only takes the new weight; its state survives', (t) => {
  const { set, events } = harness(t);
  set.apply({ added: list('a.local:1'), removed: [] });
  const a = set.get('a.local:1')!;
  a.requests = 5;
  set.setDrained(a, true);
  events.length = 0;
  set.apply({ added: list('a.local:1;weight=8'), removed: [] });
  assert.equal(set.get('a.local:1'), a);
  assert.equal(a.weight, 8);
  assert.equal(a.requests, 5);
  assert.equal(a.drained, true);
  assert.deepEqual(events, [], 'a weight change is not an event');
});

test('BackendSet.apply: a scheme change is a new backend even without an explicit removal', (t) => {
  const { set, events } = harness(t);
  set.apply({ added: list('http://a.local:1'), removed: [] });
  const old = set.get('a.local:1')!;
  events.length = 0;
  set.apply({ added: list('https://a.local:1'), removed: [] });
  assert.notEqual(set.get('a.local:1'), old);
  assert.equal(set.get('a.local:1')!.scheme, 'https');
  assert.deepEqual(events.map(([id, e]) => [id, e]), [['a.local:1', 'removed'], ['a.local:1', 'added']]);
});

test('BackendSet.apply: the order, when given, sets all(); otherwise new members go last', (t) => {
  const { set } = harness(t);
  set.apply({ added: list('a.local:1,b.local:2'), removed: [] });
  set.apply({ added: list('c.local:3'), removed: [] });
  assert.deepEqual(ids(set.all()), ['a.local:1', 'b.local:2', 'c.local:3']);
  set.apply({ added: [], removed: [], order: ['c.local:3', 'a.local:1'] });
  assert.deepEqual(ids(set.all()), ['c.local:3', 'a.local:1', 'b.local:2']);
});

test('BackendSet.apply: new backends wait for their first probe when probing is on', (t) => {
  const { set } = harness(t, false);
  set.apply({ added: list('a.local:1'), removed: [] });
  assert.deepEqual(set.eligible(), []);
  set.setHealthy(set.get('a.local:1')!, true);
  assert.deepEqual(ids(set.eligible()), ['a.local:1']);
});
