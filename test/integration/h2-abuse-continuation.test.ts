/**
 * HTTP/2 abuse (SPEC §8): CONTINUATION floods (CVE-2024-27983 and kin). A
 * header block that never ends keeps the server decoding and, in servers
 * that buffer it, holding. nghttp2 (1.61 and later, in every supported
 * Node) ends a session at the ninth CONTINUATION frame of one block.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectH2, continuation, FrameType, headers, literal, requestBlock } from '../helpers/h2-frames.js';
import { ATTACK_PATH, describe, flood, runAttack, startAbuseRig, type AttackReport } from '../helpers/h2-abuse.js';
import { MiB } from '../helpers/hostile.js';

function assertContained(r: AttackReport): void {
  assert.ok(r.endedAfterMs !== undefined && r.endedAfterMs < 3000, `the session ended (after ${r.endedAfterMs} ms)`);
  if (r.goaway !== undefined) assert.ok(['INTERNAL_ERROR', 'PROTOCOL_ERROR', 'ENHANCE_YOUR_CALM'].includes(r.goaway), `GOAWAY ${r.goaway}`);
  assert.ok(r.flood.frames < 20_000, `the flood was cut short (${r.flood.frames} frames sent)`);
  assert.equal(r.backend, 0, 'the unfinished request never reached the backend');
  assert.deepEqual(r.during, { h2: 200, h1: 200 }, 'other clients served during the attack');
  assert.deepEqual(r.after, { h2: 200, h1: 200 }, 'and after it');
  assert.ok(r.cpuMs < 1000, `Outrigger used ${r.cpuMs} ms of CPU`);
  assert.ok(r.rssGrowth < 64 * MiB, `RSS grew ${r.rssGrowth} bytes`);
}

test('CONTINUATION flood of header fields, never END_HEADERS: ended', async (t) => {
  const rig = await startAbuseRig();
  t.after(() => rig.close());
  const field = literal('x-flood', 'a'.repeat(1000));
  const r = await runAttack(rig, async (conn) => {
    await conn.send(headers(1, requestBlock(ATTACK_PATH), { endHeaders: false }));
    return flood(conn, () => Buffer.concat(Array.from({ length: 10 }, () => continuation(1, field))), 10);
  });
  console.log(describe('CONTINUATION flood, 1 KiB fields', r));
  assertContained(r);
});

test('CONTINUATION flood of empty frames: ended', async (t) => {
  const rig = await startAbuseRig();
  t.after(() => rig.close());
  const r = await runAttack(rig, async (conn) => {
    await conn.send(headers(1, requestBlock(ATTACK_PATH), { endHeaders: false }));
    return flood(conn, () => Buffer.concat(Array.from({ length: 100 }, () => continuation(1, Buffer.alloc(0)))), 100);
  });
  console.log(describe('CONTINUATION flood, empty frames', r));
  assertContained(r);
});

test('a header block in HEADERS and seven CONTINUATION frames is still a request', async (t) => {
  const rig = await startAbuseRig();
  t.after(() => rig.close());
  const conn = await connectH2(rig.lb.proxyPort);
  t.after(() => conn.close());
  await conn.waitFor(() => (conn.counts.get(FrameType.SETTINGS) ?? 0) > 0, 3000);
  const parts = [headers(1, requestBlock(ATTACK_PATH), { endHeaders: false })];
  for (let i = 0; i < 7; i++) parts.push(continuation(1, literal(`x-part-${i}`, 'v'), i === 6));
  await conn.send(Buffer.concat(parts));
  assert.ok(await conn.waitFor(() => conn.statuses.has(1), 3000), 'an answer came');
  assert.equal(conn.statuses.get(1), 200);
  assert.equal(rig.backendRequests(), 1);
});
