/**
 * Replays the public HTTP/1.1 conformance vectors (../shared/conformance:
 * llhttp's request tests, HTTP Garden trophies, http-desync-guardian) through
 * the real entrypoint to a capturing raw backend, and checks what the client
 * gets and the exact bytes the backend gets: a request that must be refused
 * is never forwarded and answered 2xx (LAX), forwarded bytes are always a
 * clean HTTP/1.1 stream (UNCLEAN), and desync-guardian's Severe cases never
 * reach the backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { ROOT, startOutrigger } from '../helpers/outrigger.js';
import { checkForwarded, startCaptureBackend, type CaptureBackend, type Captured } from '../helpers/capture-backend.js';

const DIR = join(ROOT, '..', 'shared', 'conformance');
const FILES = ['llhttp_request_vectors.json', 'garden_vectors.json', 'desync_guardian_vectors.json'];
const WORKERS = 4;
/** The client stops reading after this much silence (the backend answers after 100 ms of its own). */
const CLIENT_QUIET_MS = 400;
const CASE_LIMIT_MS = 3000;

/**
 * Valid requests among the `expect: error` vectors: the Garden lists them for
 * what a buggy *origin server* did with them, not for their syntax. A proxy
 * must forward them, intact.
 */
const VALID_DESPITE_EXPECT_ERROR: Record<string, string> = {
  'Server Bugs #48': 'two well-formed pipelined POSTs; the second one\'s 34-byte body merely looks like a request',
  'Bonus bugs #4': 'a well-formed chunked POST; the bug was a server echoing the body',
};

interface Vector { title: string; input_b64: string; expect: string; tier?: string; section?: string; file: string }
interface Result { v: Vector; outcome: string; statuses: number[]; forwarded: Captured[]; problems: string[] }

function loadVectors(): Vector[] {
  return FILES.flatMap((file) => (JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Vector[])
    .filter((v) => v.section !== 'Bonus Bonus Bugs') // HTTP/2 only
    .map((v) => ({ ...v, file })));
}

/** Sends the raw bytes; reads until the proxy closes or goes quiet. */
function exchange(port: number, input: Buffer): Promise<{ response: string; state: string }> {
  return new Promise((resolve) => {
    let response = '';
    let quiet: NodeJS.Timeout | undefined;
    const socket = net.connect(port, '127.0.0.1', () => socket.write(input));
    const done = (state: string) => {
      clearTimeout(quiet);
      clearTimeout(limit);
      socket.destroy();
      resolve({ response, state });
    };
    const arm = () => { clearTimeout(quiet); quiet = setTimeout(() => done('hang'), CLIENT_QUIET_MS); };
    const limit = setTimeout(() => done('hang'), CASE_LIMIT_MS);
    socket.on('data', (d: Buffer) => { response += d.toString('latin1'); arm(); });
    socket.on('close', () => done('closed'));
    socket.on('error', () => done('reset'));
    arm();
  });
}

async function replay(port: number, backend: CaptureBackend, v: Vector): Promise<Result> {
  backend.take();
  const { response, state } = await exchange(port, Buffer.from(v.input_b64, 'base64'));
  await new Promise((r) => setTimeout(r, 100)); // let late forwarded bytes land
  const forwarded = backend.take();
  const statuses = [...response.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
  const outcome = statuses.length > 0 && Math.min(...statuses) >= 400 && forwarded.length === 0 ? 'rejected' : forwarded.length > 0 ? 'forwarded' : state;
  return { v, outcome, statuses, forwarded, problems: forwarded.flatMap((f) => checkForwarded(f.data).problems) };
}

const knownValid = (v: Vector) => Object.keys(VALID_DESPITE_EXPECT_ERROR).some((k) => v.title.startsWith(`${k}:`));
const isLax = (r: Result) => r.v.expect === 'error' && r.outcome === 'forwarded' && r.statuses.some((s) => s >= 200 && s < 300);

test('HTTP/1.1 conformance vectors: no LAX, no UNCLEAN, no Severe forwarded', { timeout: 60_000 }, async (t) => {
  if (!existsSync(join(DIR, FILES[0]!))) {
    t.skip(`conformance vectors not found in ${DIR}`);
    return;
  }
  const vectors = loadVectors();
  const workers = await Promise.all(Array.from({ length: WORKERS }, async () => {
    const backend = await startCaptureBackend();
    t.after(() => backend.close());
    const lb = await startOutrigger({
      BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false', RETRIES: '0', OUTLIER_CONSECUTIVE_FAILURES: '0',
    });
    t.after(() => lb.stop());
    return { backend, port: lb.proxyPort };
  }));
  const results: Result[] = [];
  let next = 0;
  await Promise.all(workers.map(async ({ backend, port }) => {
    while (next < vectors.length) results.push(await replay(port, backend, vectors[next++]!));
  }));

  for (const file of FILES) {
    const rs = results.filter((r) => r.v.file === file);
    const count = (p: (r: Result) => boolean) => rs.filter(p).length;
    t.diagnostic(`${file}: ${rs.length} cases, rejected ${count((r) => r.outcome === 'rejected')}, forwarded ${count((r) => r.outcome === 'forwarded')}, ` +
      `LAX ${count(isLax)} (${count((r) => isLax(r) && knownValid(r.v))} valid requests), UNCLEAN ${count((r) => r.problems.length > 0)}, STRICT ${count((r) => r.v.expect === 'ok' && r.outcome === 'rejected')}, ` +
      `Severe forwarded ${count((r) => r.v.tier === 'Severe' && r.outcome === 'forwarded')}`);
  }
  const show = (rs: Result[]) => rs.map((r) => `${r.v.file}: ${r.v.title.slice(0, 90)} → ${r.outcome} ${JSON.stringify(r.statuses)} ${r.problems.join('; ')}`);
  assert.equal(results.length, vectors.length);
  assert.deepEqual(show(results.filter((r) => isLax(r) && !knownValid(r.v))), [], 'LAX: refused-class request forwarded and answered 2xx');
  assert.deepEqual(show(results.filter((r) => r.problems.length > 0)), [], 'UNCLEAN: forwarded bytes not a clean HTTP/1.1 stream');
  assert.deepEqual(show(results.filter((r) => r.v.tier === 'Severe' && r.outcome === 'forwarded')), [], 'Severe desync-guardian case forwarded');
  // A request the proxy refused mid-body (its head was already forwarded) must not leave the backend connection open.
  const cutShort = (r: Result) => r.forwarded.some((f) => !f.closed && checkForwarded(f.data).truncated);
  const refusedMidBody = (r: Result) => r.statuses.some((s) => s >= 400); // the capture backend only answers 200
  assert.deepEqual(show(results.filter((r) => refusedMidBody(r) && cutShort(r))), [], 'refused request left half-forwarded on an open backend connection');
  await t.test('a client gone mid-body after its response also closes the backend connection', () => {
    assert.deepEqual(show(results.filter(cutShort)), []);
  });

  const valid = results.filter((r) => knownValid(r.v));
  assert.equal(valid.length, Object.keys(VALID_DESPITE_EXPECT_ERROR).length, 'the known-valid vectors are still in the set');
  for (const r of valid) {
    // Forwarded whole: as many requests as were sent, none cut short, the last body byte for byte.
    const sent = Buffer.from(r.v.input_b64, 'base64').toString('latin1');
    const lastBody = sent.slice(sent.lastIndexOf('\r\n\r\n', sent.length - 5) + 4);
    const checks = r.forwarded.map((f) => checkForwarded(f.data));
    assert.equal(r.outcome, 'forwarded', r.v.title);
    assert.equal(checks.reduce((n, c) => n + c.messages, 0), checkForwarded(sent).messages, `${r.v.title}: every request forwarded`);
    assert.ok(checks.every((c) => !c.truncated) && r.forwarded.some((f) => f.data.endsWith(lastBody)), `${r.v.title}: bodies intact`);
  }
});

test('a request pipelined behind a refused one is dropped with the connection, never forwarded', { timeout: 15_000 }, async (t) => {
  const backend = await startCaptureBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false' });
  t.after(() => lb.stop());
  const refusedThenValid = 'GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n';
  const { response, state } = await exchange(lb.proxyPort, Buffer.from(refusedThenValid, 'latin1'));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(state, 'closed');
  assert.deepEqual([...response.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]), ['400']);
  assert.match(response, /x-outrigger-error: bad_request/i);
  assert.deepEqual(backend.take(), []);
});
