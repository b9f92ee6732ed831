/**
 * HTTP/2 abuse (SPEC §8): PING floods (CVE-2019-9512). Every PING asks for
 * an ACK. nghttp2 ends a session once more than 1 000 ACKs wait to be
 * written: a flood read in one go, or a client that does not read. A flood
 * paced so that each batch is answered before the next is Outrigger's to
 * stop (src/proxy/h2-abuse-guard.ts: PING_BURST, PING_PER_SECOND).
 */
import { test } from 'node:test';
import { ping } from '../helpers/h2-frames.js';
import { assertFloodContained, describe, flood, runAttack, startAbuseRig } from '../helpers/h2-abuse.js';

const pings = (n: number) => Buffer.concat(Array.from({ length: n }, (_, i) => ping(Buffer.from(`p${String(i).padStart(7, '0')}`))));


test('PING flood, as fast as the socket takes it, never reading the ACKs: ended (nghttp2: over 1 000 ACKs queued)', async (t) => {
  const rig = await startAbuseRig();
  t.after(() => rig.close());
  const r = await runAttack(rig, (conn) => {
    conn.socket.pause();
    return flood(conn, () => pings(500), 500);
  });
  console.log(describe('PING flood, not read', r));
  assertFloodContained(r, ['INTERNAL_ERROR', 'ENHANCE_YOUR_CALM']);
});

test('PING flood paced at about 5 000 a second, every ACK read: ended by Outrigger\'s budget', async (t) => {
  const rig = await startAbuseRig();
  t.after(() => rig.close());
  const r = await runAttack(rig, (conn) => flood(conn, () => pings(50), 50, { gapMs: 10 }));
  console.log(describe('PING flood, paced', r));
  assertFloodContained(r, ['ENHANCE_YOUR_CALM']);
  await rig.lb.waitForLog((l) => l.msg === 'HTTP/2 session ended for abuse' && l.reason === 'ping_flood');
});
