/**
 * HTTP/2 abuse (SPEC §8): SETTINGS floods (CVE-2019-9515). Every SETTINGS frame asks for
 * an ACK. nghttp2 ends a session once more than 1 000 ACKs wait to be
 * written: a flood read in one go, or a client that does not read. A flood
 * paced so that each batch is answered before the next is Outrigger's to
 * stop (src/proxy/h2-abuse-guard.ts: SETTINGS_BURST, SETTINGS_PER_SECOND).
 */
import { test } from 'node:test';
import { settings } from '../helpers/h2-frames.js';
import { assertFloodContained, describe, flood, runAttack, startAbuseRig } from '../helpers/h2-abuse.js';

const frames = (n: number) => Buffer.concat(Array.from({ length: n }, (_, i) => settings([[0x4, 65_535 + (i % 2)]])));


test('SETTINGS flood, as fast as the socket takes it, never reading the ACKs: ended (nghttp2: over 1 000 ACKs queued)', async (t) => {
  const rig = await startAbuseRig();
  t.after(() => rig.close());
  const r = await runAttack(rig, (conn) => {
    conn.socket.pause();
    return flood(conn, () => frames(500), 500);
  });
  console.log(describe('SETTINGS flood, not read', r));
  assertFloodContained(r, ['INTERNAL_ERROR', 'ENHANCE_YOUR_CALM']);
});

test('SETTINGS flood paced at about 5 000 a second (a change of INITIAL_WINDOW_SIZE each), every ACK read: ended by Outrigger\'s budget', async (t) => {
  const rig = await startAbuseRig();
  t.after(() => rig.close());
  const r = await runAttack(rig, (conn) => flood(conn, () => frames(50), 50, { gapMs: 10 }));
  console.log(describe('SETTINGS flood, paced', r));
  assertFloodContained(r, ['ENHANCE_YOUR_CALM']);
  await rig.lb.waitForLog((l) => l.msg === 'HTTP/2 session ended for abuse' && l.reason === 'settings_flood');
});
