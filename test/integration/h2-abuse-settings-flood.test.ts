/**
 * HTTP/2 abuse (SPEC §8): SETTINGS floods (CVE-2019-9515). Every SETTINGS frame asks for
 * an ACK. nghttp2 ends a session once more than 1 000 ACKs wait to be
 * written: a flood read in one go, or a client that does not read. A flood
 * paced so that each batch is answered before the next is Outrigger's to
 * stop (src/proxy/h2-abuse-guard.ts: SETTINGS_BURST, SETTINGS_PER_SECOND).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settings } from '../helpers/h2-frames.js';
import { describe, flood, runAttack, startAbuseRig, type AttackReport } from '../helpers/h2-abuse.js';
import { MiB } from '../helpers/hostile.js';

const frames = (n: number) => Buffer.concat(Array.from({ length: n }, (_, i) => settings([[0x4, 65_535 + (i % 2)]])));

function assertContained(r: AttackReport, codes: readonly string[]): void {
  assert.ok(r.endedAfterMs !== undefined && r.endedAfterMs < 3000, `the session ended (after ${r.endedAfterMs} ms)`);
  if (r.goaway !== undefined) assert.ok(codes.includes(r.goaway), `GOAWAY ${r.goaway}`);
  assert.ok(r.flood.frames < 20_000, `the flood was cut short (${r.flood.frames} frames sent)`);
  assert.deepEqual(r.during, { h2: 200, h1: 200 }, 'other clients served during the attack');
  assert.deepEqual(r.after, { h2: 200, h1: 200 }, 'and after it');
  assert.ok(r.cpuMs < 1000, `Outrigger used ${r.cpuMs} ms of CPU`);
  assert.ok(r.rssGrowth < 64 * MiB, `RSS grew ${r.rssGrowth} bytes`);
}

test('SETTINGS flood, as fast as the socket takes it, never reading the ACKs: ended (nghttp2: over 1 000 ACKs queued)', async (t) => {
  const rig = await startAbuseRig();
  t.after(() => rig.close());
  const r = await runAttack(rig, (conn) => {
    conn.socket.pause();
    return flood(conn, () => frames(500), 500);
  });
  console.log(describe('SETTINGS flood, not read', r));
  assertContained(r, ['INTERNAL_ERROR', 'ENHANCE_YOUR_CALM']);
});

test('SETTINGS flood paced at about 5 000 a second (a change of INITIAL_WINDOW_SIZE each), every ACK read: ended by Outrigger\'s budget', async (t) => {
  const rig = await startAbuseRig();
  t.after(() => rig.close());
  const r = await runAttack(rig, (conn) => flood(conn, () => frames(50), 50, { gapMs: 10 }));
  console.log(describe('SETTINGS flood, paced', r));
  assertContained(r, ['ENHANCE_YOUR_CALM']);
  await rig.lb.waitForLog((l) => l.msg === 'HTTP/2 session ended for abuse' && l.reason === 'settings_flood');
});
