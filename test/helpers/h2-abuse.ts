/**
 * The bench for HTTP/2 abuse tests: a demo backend that counts what reaches
 * it, Outrigger in front, the Outrigger process's CPU time (/proc stat),
 * a bounded flood loop over a raw connection, and the check that ordinary
 * clients (Node's http2 and HTTP/1.1) are still answered.
 */
import http2 from 'node:http2';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startOutrigger, type Outrigger } from './outrigger.js';
import { request, startBackend, type TestBackend } from './http.js';
import { connectH2, errorName, FrameType, type RawH2 } from './h2-frames.js';
import assert from 'node:assert/strict';
import { rssBytes, rssSampler, mib, MiB } from './hostile.js';

/** The path attacks use: the backend counts the requests for it that reach it. */
export const ATTACK_PATH = '/echo/abuse';

export interface AbuseRig {
  readonly backend: TestBackend;
  readonly lb: Outrigger;
  /** Requests for ATTACK_PATH that reached the backend so far. */
  backendRequests(): number;
  close(): Promise<void>;
}

export async function startAbuseRig(env: Record<string, string> = {}): Promise<AbuseRig> {
  const backend = await startBackend();
  // Big heads too: whether one gets through is Outrigger's call, not the backend's. Node reads the
  // constructor option from this property at each connection; the typings do not list it.
  Object.assign(backend.server, { maxHeaderSize: 256 * 1024 });
  let seen = 0;
  backend.server.prependListener('request', (req) => {
    if (req.url?.startsWith(ATTACK_PATH) === true) seen++;
  });
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false', ...env });
  return {
    backend, lb,
    backendRequests: () => seen,
    async close() {
      await lb.stop();
      await backend.close();
    },
  };
}

let ticksPerSecond: number | undefined;

/** CPU time (user + system) the Outrigger process used so far, in ms. */
export function cpuMs(lb: Outrigger): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  const stat = readFileSync(`/proc/${lb.child.pid}/stat`, 'latin1');
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

export interface FloodResult {
  /** Frames written before the connection ended or a bound was reached. */
  readonly frames: number;
  readonly ms: number;
}

/**
 * Writes `batch(i)` (which holds `framesPerBatch` frames) until `maxFrames`
 * frames, `maxMs` milliseconds, or the end of the connection; `gapMs`
 * apart if given (a paced flood, whose every batch can be answered before
 * the next). A server that stops reading stalls the loop only until `maxMs`.
 */
export async function flood(conn: RawH2, batch: (i: number) => Buffer, framesPerBatch: number, o: { maxFrames?: number; maxMs?: number; gapMs?: number } = {}): Promise<FloodResult> {
  const maxFrames = o.maxFrames ?? 20_000;
  const maxMs = o.maxMs ?? 5_000;
  const gapMs = o.gapMs ?? 0;
  const started = Date.now();
  let frames = 0;
  for (let i = 0; frames + framesPerBatch <= maxFrames && conn.alive(); i++) {
    const left = maxMs - (Date.now() - started);
    if (left <= 0) break;
    let timer: NodeJS.Timeout | undefined;
    const wrote = await Promise.race([conn.send(batch(i)), new Promise<false>((r) => (timer = setTimeout(() => r(false), left)))]);
    clearTimeout(timer);
    if (!wrote) break;
    frames += framesPerBatch;
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  return { frames, ms: Date.now() - started };
}

/** One GET /ping with Node's http2 client on a fresh session; its :status (0 if it failed). */
export function h2Ping(port: number, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const timer = setTimeout(() => finish(0), timeoutMs);
    let status = 0;
    function finish(s: number) { clearTimeout(timer); session.destroy(); resolve(s); }
    session.on('error', () => finish(0));
    const stream = session.request({ ':path': '/ping' });
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', () => undefined);
    stream.on('end', () => finish(status));
    stream.on('error', () => finish(0));
  });
}

/** The statuses an HTTP/2 and an HTTP/1.1 client get for GET /ping right now. */
export async function othersServed(port: number): Promise<{ h2: number; h1: number }> {
  const [h2, h1] = await Promise.all([h2Ping(port), request(port, '/ping').then((r) => r.status, () => 0)]);
  return { h2, h1 };
}

export interface AttackReport {
  readonly conn: RawH2;
  readonly flood: FloodResult;
  /** ms from the first attack byte to the GOAWAY or the close, whichever came first; undefined if neither came. */
  readonly endedAfterMs: number | undefined;
  /** The first GOAWAY's error code name, if one was read before the close. */
  readonly goaway: string | undefined;
  readonly during: { h2: number; h1: number };
  readonly after: { h2: number; h1: number };
  /** Attack requests that reached the backend. */
  readonly backend: number;
  /** CPU time Outrigger used from the connect to the end (ms). */
  readonly cpuMs: number;
  /** Peak RSS above the baseline (bytes). */
  readonly rssGrowth: number;
}

/**
 * One attack on one raw connection, measured: Outrigger's CPU time and RSS
 * peak, the requests that reached the backend, when the connection ended,
 * and whether an HTTP/2 and an HTTP/1.1 client were answered while it ran
 * (100 ms in) and after it.
 */
export async function runAttack(rig: AbuseRig, attack: (conn: RawH2) => Promise<FloodResult>, o: { ackSettings?: boolean; endWaitMs?: number } = {}): Promise<AttackReport> {
  const { lb } = rig;
  await othersServed(lb.proxyPort); // warm: the baseline includes a served request of each kind
  const rss0 = rssBytes(lb);
  const cpu0 = cpuMs(lb);
  const seen0 = rig.backendRequests();
  const sampler = rssSampler(lb, 20);
  const conn = await connectH2(lb.proxyPort, { ackSettings: o.ackSettings });
  await conn.waitFor(() => (conn.counts.get(FrameType.SETTINGS) ?? 0) > 0, 3000);
  const started = Date.now();
  const during = new Promise((r) => setTimeout(r, 100)).then(() => othersServed(lb.proxyPort));
  const result = await attack(conn);
  await conn.waitEnded(o.endWaitMs ?? 3000);
  const g = conn.goaway();
  const closedAt = conn.closedAfter() === undefined ? undefined : conn.openedAt + conn.closedAfter()!;
  const endedAt = Math.min(g?.at ?? Infinity, closedAt ?? Infinity);
  const report: AttackReport = {
    conn, flood: result,
    endedAfterMs: Number.isFinite(endedAt) ? endedAt - started : undefined,
    goaway: g === undefined ? undefined : errorName(g.code),
    during: await during,
    after: await othersServed(lb.proxyPort),
    backend: rig.backendRequests() - seen0,
    cpuMs: cpuMs(lb) - cpu0,
    rssGrowth: sampler.stop() - rss0,
  };
  conn.close();
  return report;
}

/** One line for the test output: the figures docs/security.md quotes. */
export function describe(name: string, r: AttackReport): string {
  return `${name} [node ${process.version}]: ${r.flood.frames} frames in ${r.flood.ms} ms; ended after ${r.endedAfterMs ?? 'never'} ms`
    + ` (${r.goaway === undefined ? 'close' : `GOAWAY ${r.goaway}`}); backend got ${r.backend}; CPU ${r.cpuMs} ms; RSS +${mib(r.rssGrowth)};`
    + ` others h2 ${r.during.h2}/${r.after.h2}, h1 ${r.during.h1}/${r.after.h1}`;
}

/** A flood of control frames (PING, SETTINGS) ended the session at a bounded cost while others were served. */
export function assertFloodContained(r: AttackReport, codes: readonly string[]): void {
  assert.ok(r.endedAfterMs !== undefined && r.endedAfterMs < 3000, `the session ended (after ${r.endedAfterMs} ms)`);
  if (r.goaway !== undefined) assert.ok(codes.includes(r.goaway), `GOAWAY ${r.goaway}`);
  assert.ok(r.flood.frames < 20_000, `the flood was cut short (${r.flood.frames} frames sent)`);
  assert.deepEqual(r.during, { h2: 200, h1: 200 }, 'other clients served during the attack');
  assert.deepEqual(r.after, { h2: 200, h1: 200 }, 'and after it');
  assert.ok(r.cpuMs < 1000, `Outrigger used ${r.cpuMs} ms of CPU`);
  assert.ok(r.rssGrowth < 64 * MiB, `RSS grew ${r.rssGrowth} bytes`);
}
