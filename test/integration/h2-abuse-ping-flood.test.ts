/**
 * HTTP/2 abuse (SPEC §8): PING floods (CVE-2019-9512). Every PING asks for
 * an ACK. nghttp2 ends a session once more than 1 000 ACKs wait to be
 * written: a flood read in one go, or a client that does not read. A flood
 * paced so that each batch is answered before the next is Outrigger's to
 * stop (src/proxy/h2-abuse-guard.ts: PING_BURST, PING_PER_SECOND).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ping } from '../helpers/h2-frames.js';
import { describe, flood, runAttack, startAbuseRig, type AttackReport } from '../helpers/h2-abuse.js';
import { MiB } from '../helpers/hostile.js';

const pings = (n: number) => Buffer.concat(Array.from({ length: n }, (_, i) => ping(Buffer.from(`p${String(i).padStart(7, '0')}`))));

function assertContained(r: AttackReport, codes: readonly string[]): void {
  assert.ok(r.endedAfterMs !== undefined && r.endedAfterMs < 3000, `the session ended (after ${r.endedAfterMs} ms)`);
  if (r.goaway !== undefined) assert.ok(codes.includes(r.goaway), `GOAWAY ${r.goaway}`);
  assert.ok(r.flood.frames < 20_000, `the flood was cut short (${r.flood.frames} frames sent)`);
  assert.deepEqual(r.during, { h2: 200, h1: 200 }, 'other clients served during the attack');
  assert.deepEqual(r.after, { h2: 200, h1: 200 }, 'and after it');
  assert.ok(r.cpuMs < 1000, `Outrigger used ${r.cpuMs} ms of CPU`);
  assert.ok(r.rssGrowth < 64 * MiB, `RSS grew ${r.rssGrowth} bytes`);
}

test('PING flood, as fast as the socket takes it, never reading the ACKs: ended (nghttp2: over 1 000 ACKs queued)', async (t) => {
  const rig = await startAbuseRig();
  t.after(() => rig.close());
  const r = await runAttack(rig, (conn) => {
    conn.socket.pause();
    return flood(conn, () => pings(500), 500);
  });
  console.log(describe('PING flood, not read', r));
  assertContained(r, ['INTERNAL_ERROR', 'ENHANCE_YOUR_CALM']);
});

test('PING flood paced at about 5 000 a second, every ACK read: ended by Outrigger\'s budget', async (t) => {
  const rig = await startAbuseRig();
  t.after(() => rig.close());
  const r = await runAttack(rig, (conn) => flood(conn, () => pings(50), 50, { gapMs: 10 }));
  console.log(describe('PING flood, paced', r));
  assertContained(r, ['ENHANCE_YOUR_CALM']);
  await rig.lb.waitForLog((l) => l.msg === 'HTTP/2 session ended for abuse' && l.reason === 'ping_flood');
});
