/**
 * HTTP/2 abuse (SPEC §8): header blocks over 16 KiB. Node enforces
 * SETTINGS_MAX_HEADER_LIST_SIZE only when it is set (its advertised default
 * of 65 535 is not enforced) and only once the client acknowledged it: then
 * the stream is reset with ENHANCE_YOUR_CALM. Before the acknowledgement,
 * Outrigger answers 431 itself and closes the session. Streams refused by
 * Node spend the session's reset budget, so a stream of oversized blocks
 * ends the session. None of these requests reaches the backend (whose own
 * limit is raised here so that it would see them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectH2, errorName, FrameType, headerFrames, requestBlock, type RawH2 } from '../helpers/h2-frames.js';
import { ATTACK_PATH, describe, flood, runAttack, startAbuseRig } from '../helpers/h2-abuse.js';
import { MiB } from '../helpers/hostile.js';

/** A request whose header list is about `bytes` long (name + value + 32 per field, pseudo-headers included). */
const requestOf = (id: number, bytes: number) => headerFrames(id, requestBlock(ATTACK_PATH, [['x-big', 'a'.repeat(bytes - 200)]]));

async function ready(port: number, ackSettings: boolean): Promise<RawH2> {
  const conn = await connectH2(port, { ackSettings });
  await conn.waitFor(() => (conn.counts.get(FrameType.SETTINGS) ?? 0) > 0, 3000);
  // Let the ACK (if any) reach Outrigger before the request.
  await new Promise((r) => setTimeout(r, 50));
  return conn;
}

test('after the SETTINGS ACK: a 20 KiB header list is reset (ENHANCE_YOUR_CALM), a 15 KiB one answered', async (t) => {
  const rig = await startAbuseRig();
  t.after(() => rig.close());
  const conn = await ready(rig.lb.proxyPort, true);
  t.after(() => conn.close());
  await conn.send(Buffer.concat([requestOf(1, 20_000), requestOf(3, 15_000)]));
  assert.ok(await conn.waitFor(() => conn.resets.has(1) && conn.statuses.has(3), 3000), `answers: ${JSON.stringify([...conn.resets, ...conn.statuses])}`);
  assert.equal(errorName(conn.resets.get(1)!), 'ENHANCE_YOUR_CALM');
  assert.equal(conn.statuses.has(1), false, 'no answer on the refused stream');
  assert.equal(conn.statuses.get(3), 200);
  assert.equal(rig.backendRequests(), 1, 'only the 15 KiB request reached the backend');
});

test('before any SETTINGS ACK: a 20 KiB header list gets 431 from Outrigger and the session closes', async (t) => {
  const rig = await startAbuseRig({ ACCESS_LOG: 'true' });
  t.after(() => rig.close());
  const conn = await ready(rig.lb.proxyPort, false);
  t.after(() => conn.close());
  await conn.send(requestOf(1, 20_000));
  assert.ok(await conn.waitFor(() => conn.statuses.has(1) || conn.resets.has(1), 3000), 'an answer came');
  assert.equal(conn.statuses.get(1), 431);
  assert.ok(await conn.waitEnded(3000), 'the session was closed after the 431');
  assert.equal(rig.backendRequests(), 0);
  await rig.lb.waitForLog((l) => l.msg === 'request' && l.refused === 'request_header_too_large' && l.protocol === 'HTTP/2');
});

test('a stream of 17 KiB header blocks ends the session (the reset budget); others are served', async (t) => {
  const rig = await startAbuseRig();
  t.after(() => rig.close());
  const r = await runAttack(rig, (conn) => flood(conn, (i) => Buffer.concat(Array.from({ length: 5 }, (_, k) => requestOf(1 + 2 * (i * 5 + k), 17_000))), 5, { maxFrames: 2500, gapMs: 5 }));
  console.log(describe('17 KiB header blocks', r));
  assert.ok(r.endedAfterMs !== undefined && r.endedAfterMs < 3000, `the session ended (after ${r.endedAfterMs} ms)`);
  if (r.goaway !== undefined) assert.equal(r.goaway, 'ENHANCE_YOUR_CALM');
  assert.equal(r.backend, 0, 'no oversized request reached the backend');
  assert.deepEqual(r.during, { h2: 200, h1: 200 }, 'other clients served during the attack');
  assert.deepEqual(r.after, { h2: 200, h1: 200 }, 'and after it');
  assert.ok(r.cpuMs < 1500, `Outrigger used ${r.cpuMs} ms of CPU`);
  assert.ok(r.rssGrowth < 64 * MiB, `RSS grew ${r.rssGrowth} bytes`);
  await rig.lb.waitForLog((l) => l.msg === 'HTTP/2 session ended for abuse' && l.reason === 'refused_streams');
});
