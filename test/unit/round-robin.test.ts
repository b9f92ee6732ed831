/** Smooth weighted round robin (the NGINX algorithm). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoundRobinPicker, SmoothWeighted } from '../../src/balancer/round-robin.js';
import { mulberry32 } from '../helpers/rng.js';
import { context, makeBackends, tally } from '../helpers/backends.js';

function sequence(weights: number[], n: number): string[] {
  const picker = new RoundRobinPicker();
  const backends = makeBackends(weights);
  const ctx = context(mulberry32(1));
  const names = new Map(backends.map((b, i) => [b, 'ABCDEFGH'[i]!]));
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(names.get(picker.pick(backends, ctx)!)!);
  return out;
}

function longestRun(seq: readonly string[], name: string): number {
  let best = 0;
  let run = 0;
  for (const s of seq) {
    run = s === name ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

test('weights 1:3:2 over 60 picks give exactly 10/30/20', () => {
  const counts: Record<string, number> = {};
  for (const name of sequence([1, 3, 2], 60)) counts[name] = (counts[name] ?? 0) + 1;
  assert.deepEqual(counts, { A: 10, B: 30, C: 20 });
});

test('weights 1:3:2 interleave as B C A B C B (NGINX smooth WRR), then repeat', () => {
  const seq = sequence([1, 3, 2], 60);
  assert.deepEqual(seq.slice(0, 6), ['B', 'C', 'A', 'B', 'C', 'B']);
  for (let i = 6; i < 60; i++) assert.equal(seq[i], seq[i - 6], `pick ${i} breaks the period of 6`);
});

test('no bursts: the weight-3 backend is never picked 3 times in a row', () => {
  const seq = sequence([1, 3, 2], 600);
  assert.ok(longestRun(seq, 'B') < 3, `longest run of B is ${longestRun(seq, 'B')}`);
});

test('a heavy backend is spread out, not served in a block (weights 5:1:1)', () => {
  const seq = sequence([5, 1, 1], 7);
  // NGINX's documented example: a a b a c a a.
  assert.deepEqual(seq, ['A', 'A', 'B', 'A', 'C', 'A', 'A']);
});

test('equal weights rotate strictly in list order', () => {
  assert.deepEqual(sequence([1, 1, 1], 9), ['A', 'B', 'C', 'A', 'B', 'C', 'A', 'B', 'C']);
});

test('state is per picker: two pickers over the same backends do not share position', () => {
  const backends = makeBackends([1, 1]);
  const ctx = context(mulberry32(1));
  const one = new RoundRobinPicker();
  const two = new RoundRobinPicker();
  assert.equal(one.pick(backends, ctx), backends[0]);
  assert.equal(two.pick(backends, ctx), backends[0]);
  assert.equal(one.pick(backends, ctx), backends[1]);
});

test('a weight change applies from the next picks on', () => {
  const backends = makeBackends([1, 1]);
  const ctx = context(mulberry32(1));
  const picker = new SmoothWeighted();
  for (let i = 0; i < 10; i++) picker.pick(backends, ctx);
  backends[0]!.weight = 4;
  const counts = tally(Array.from({ length: 50 }, () => picker.pick(backends, ctx)));
  assert.equal(counts.get(backends[0]!.id), 40);
  assert.equal(counts.get(backends[1]!.id), 10);
});
