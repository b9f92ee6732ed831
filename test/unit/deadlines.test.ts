/** Deadlines: fire at or after their time, never before; cleared or moved ones do not fire early (fake clock and interval). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Deadlines, type Expiring } from '../../src/proxy/deadlines.js';

function entry(deadline: number, fired: string[], name: string): Expiring {
  return { deadline, expire: () => fired.push(name) };
}

test('sweep period: a tenth of the shortest timeout, within 10–100 ms', () => {
  assert.equal(new Deadlines(300).sweepMs, 30);
  assert.equal(new Deadlines(30_000).sweepMs, 100);
  assert.equal(new Deadlines(50).sweepMs, 10);
  assert.equal(new Deadlines(Infinity).sweepMs, 100);
});

test('a deadline fires on the first sweep at or after it; cleared and moved ones follow their new state', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let now = 1000;
  const d = new Deadlines(300, () => now);
  t.after(() => d.close());
  const fired: string[] = [];
  const a = entry(1100, fired, 'a');
  const b = entry(1100, fired, 'b');
  const c = entry(1050, fired, 'c');
  d.watch(a);
  d.watch(b);
  d.watch(c);
  d.clear(b);
  now = 1060;
  t.mock.timers.tick(30);
  assert.deepEqual(fired, ['c'], 'c is due; a is not yet');
  a.deadline = 1200; // moved on (body progress)
  now = 1150;
  t.mock.timers.tick(30);
  assert.deepEqual(fired, ['c'], 'a was moved past now');
  now = 1200;
  t.mock.timers.tick(30);
  assert.deepEqual(fired, ['c', 'a'], 'a fires at its deadline, exactly once');
  now = 2000;
  t.mock.timers.tick(30);
  assert.deepEqual(fired, ['c', 'a'], 'b was cleared; nothing fires twice');
});
