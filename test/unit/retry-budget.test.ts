/** Retry budget over a sliding 10 s window, on a fake clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIN_RETRIES_PER_SECOND, RetryBudget } from '../../src/proxy/retry-budget.js';
import { FakeClock } from '../helpers/backends.js';

function spend(budget: RetryBudget, max = 100_000): number {
  let n = 0;
  while (n < max && budget.tryRetry()) n += 1;
  return n;
}

test('the floor is 10 retries per second', () => {
  assert.equal(MIN_RETRIES_PER_SECOND, 10);
});

test('with no traffic, the floor allows 10/s over the 10 s window, then refuses', () => {
  const clock = new FakeClock();
  const budget = new RetryBudget(20, clock.now);
  assert.equal(spend(budget), 100);
  assert.equal(budget.tryRetry(), false);
});

test('the floor holds a long-run rate of 10 retries per second', () => {
  const clock = new FakeClock();
  const budget = new RetryBudget(20, clock.now);
  let granted = 0;
  for (let ms = 0; ms < 60_000; ms += 100) {
    granted += spend(budget);
    clock.advance(100);
  }
  assert.equal(granted, 600);
});

test('above the floor, retries may add RETRY_BUDGET_PERCENT on top of requests', () => {
  const clock = new FakeClock();
  const budget = new RetryBudget(20, clock.now);
  for (let i = 0; i < 10_000; i++) budget.onRequest();
  assert.equal(spend(budget), 2000);
});

test('the percentage counts requests across the whole window', () => {
  const clock = new FakeClock();
  const budget = new RetryBudget(10, clock.now);
  for (let s = 0; s < 10; s++) {
    for (let i = 0; i < 3000; i++) budget.onRequest();
    clock.advance(1000);
  }
  clock.advance(-1000); // still inside the tenth second
  assert.equal(spend(budget), 3000);
});

test('requests and retries older than the window stop counting', () => {
  const clock = new FakeClock();
  const budget = new RetryBudget(50, clock.now);
  for (let i = 0; i < 1000; i++) budget.onRequest();
  assert.equal(spend(budget), 500);
  clock.advance(10_000);
  assert.equal(spend(budget), 100, 'old requests gone: back to the floor, old retries gone too');
});

test('retries already spent count against the budget', () => {
  const clock = new FakeClock();
  const budget = new RetryBudget(20, clock.now);
  for (let i = 0; i < 1000; i++) budget.onRequest();
  assert.equal(spend(budget, 150), 150);
  clock.advance(5_000);
  for (let i = 0; i < 1000; i++) budget.onRequest();
  assert.equal(spend(budget), 250, '20 % of 2000 = 400 in the window, 150 already spent');
});

test('RETRY_BUDGET_PERCENT=0 leaves only the floor', () => {
  const clock = new FakeClock();
  const budget = new RetryBudget(0, clock.now);
  for (let i = 0; i < 100_000; i++) budget.onRequest();
  assert.equal(spend(budget), 100);
});
