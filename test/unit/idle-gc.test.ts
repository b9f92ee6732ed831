/** The idle step's decisions (src/lifecycle/idle-gc.ts), one look at a time, with a fake collection: no timers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleGc, memoryReducingGc, type IdleCollection } from '../../src/lifecycle/idle-gc.js';
import { InFlight } from '../../src/lifecycle/in-flight.js';

function setup() {
  const work = new InFlight();
  const runs: IdleCollection[] = [];
  let collected = 0;
  let rss = 300;
  const step = new IdleGc({
    work, quietMs: 10_000,
    collect: () => { collected += 1; rss = 100; },
    onCollected: (r) => runs.push(r),
    rss: () => rss, heap: () => rss / 2,
  });
  return { work, step, runs, count: () => collected };
}

test('InFlight counts work begun, which never goes down', () => {
  const work = new InFlight();
  const end = work.begin();
  work.begin()();
  end();
  end();
  assert.equal(work.started, 2);
  assert.equal(work.active, 0);
});

test('no collection before any work: a proxy that served nothing is left alone', () => {
  const { step, count } = setup();
  for (let i = 0; i < 5; i += 1) assert.equal(step.tick(), false);
  assert.equal(count(), 0);
});

test('after work, one collection at the first look that saw no new work, and none after it', () => {
  const { work, step, runs, count } = setup();
  work.begin()();
  assert.equal(step.tick(), false, 'work began during this period: busy');
  assert.equal(step.tick(), true, 'a whole quiet period: collect');
  assert.deepEqual(runs[0], { rssBeforeBytes: 300, rssAfterBytes: 100, heapBeforeBytes: 150, heapAfterBytes: 50, ms: runs[0]!.ms });
  for (let i = 0; i < 5; i += 1) assert.equal(step.tick(), false, 'still quiet: at most once per quiet period');
  assert.equal(count(), 1);
});

test('never while load continues: each period with new work postpones it', () => {
  const { work, step, count } = setup();
  for (let i = 0; i < 10; i += 1) {
    work.begin()();
    assert.equal(step.tick(), false);
  }
  assert.equal(count(), 0);
  assert.equal(step.tick(), true);
});

test('never while work is in flight (a long download, a tunnel), then once it ends', () => {
  const { work, step, count } = setup();
  const end = work.begin();
  step.tick();
  assert.equal(step.tick(), false);
  assert.equal(step.tick(), false);
  end();
  assert.equal(step.tick(), true);
  assert.equal(count(), 1);
});

test('a new load after a collection earns another one', () => {
  const { work, step, count } = setup();
  work.begin()();
  step.tick();
  step.tick();
  work.begin()();
  step.tick();
  assert.equal(step.tick(), true);
  assert.equal(count(), 2);
});

test('0 = off: start() schedules nothing', () => {
  const work = new InFlight();
  const step = new IdleGc({ work, quietMs: 0, collect: () => assert.fail('collected'), onCollected: () => undefined });
  step.start();
  step.close();
});

test('this runtime offers a memory-reducing GC without --expose-gc, and no global gc appears', () => {
  const collect = memoryReducingGc();
  assert.equal(typeof collect, 'function');
  collect!();
  assert.equal((globalThis as { gc?: unknown }).gc, undefined);
});
