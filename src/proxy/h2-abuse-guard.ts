/**
 * Budgets against HTTP/2 abuse (SPEC §8 "Abuse") where Node's own limits
 * leave a gap. What Node 20/22/24 (nghttp2 1.61+) already stops, and what is
 * kept here (docs/security.md, "HTTP/2 abuse", has the measurements):
 *
 * - Rapid reset: nghttp2 ends a session only after about 1 000 client
 *   resets (a token bucket of 1 000, 33 a second), and every one of those
 *   streams was already forwarded. Here: a stream the client resets before
 *   its answer began costs a token from a bucket of RESET_BURST refilled at
 *   RESET_PER_SECOND; an empty bucket ends the session.
 * - PING and SETTINGS floods: nghttp2 ends a session when more than 1 000
 *   acknowledgements wait to be written (one large read, or a peer that does
 *   not read), but a flood paced to let each batch be answered runs
 *   unbounded. Here: a bucket per frame type.
 * - Header blocks: Node refuses a header list over SETTINGS_MAX_HEADER_LIST_SIZE
 *   (RST_STREAM ENHANCE_YOUR_CALM) only once the client acknowledged the
 *   setting; before that, nothing but the CONTINUATION count (nghttp2 ends
 *   a session at the ninth CONTINUATION frame of one block) bounds it. Here:
 *   `headerListSize` lets the request listener refuse such a request itself.
 *   Streams Node refuses on its own never reach JavaScript and end nothing:
 *   the stream ids the client used and the streams that surfaced tell how
 *   many there were, checked at every new stream and every second; they
 *   spend the reset budget.
 *
 * A session that runs out of a budget gets a GOAWAY with ENHANCE_YOUR_CALM
 * and is destroyed; its open streams go with it. The process keeps serving.
 */
import http2 from 'node:http2';

/** SETTINGS_MAX_HEADER_LIST_SIZE: name + value + 32 per field (RFC 9113 §6.5.2), as for HTTP/1.1's 16 KiB head. */
export const MAX_HEADER_LIST_SIZE = 16_384;

export const RESET_BURST = 100;
export const RESET_PER_SECOND = 50;
/** gRPC clients measure bandwidth with PINGs while data flows: a generous steady rate. */
export const PING_BURST = 1_000;
export const PING_PER_SECOND = 1_000;
/** A client has little reason to send more than a few SETTINGS frames. */
export const SETTINGS_BURST = 100;
export const SETTINGS_PER_SECOND = 10;

/** How often a session's silently refused streams are counted when no new stream comes to count them. */
const REFUSED_CHECK_MS = 1000;

export type AbuseReason = 'rapid_reset' | 'refused_streams' | 'ping_flood' | 'settings_flood';

/** A token bucket: `take()` is false once more than `burst` events came faster than `perSecond`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly burst: number, private readonly perSecond: number, private readonly now: () => number = () => performance.now()) {
    this.tokens = burst;
    this.last = now();
  }

  /** Spends `n` tokens; false when fewer than `n` were left. */
  take(n = 1): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.perSecond) / 1000);
    this.last = t;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

/** Ends `session` (GOAWAY ENHANCE_YOUR_CALM) when it spends a budget; `onAbuse` is told once, first. */
export function guardSession(session: http2.ServerHttp2Session, onAbuse: (reason: AbuseReason) => void): void {
  const resets = new TokenBucket(RESET_BURST, RESET_PER_SECOND);
  const pings = new TokenBucket(PING_BURST, PING_PER_SECOND);
  const settings = new TokenBucket(SETTINGS_BURST, SETTINGS_PER_SECOND);
  let ended = false;
  const end = (reason: AbuseReason): void => {
    if (ended || session.destroyed) return;
    ended = true;
    onAbuse(reason);
    // destroy() alone would say NO_ERROR; the GOAWAY before it carries the reason's code.
    session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    session.destroy();
  };
  let surfaced = 0;
  let refused = 0;
  const countRefused = (): void => {
    if (session.destroyed) return;
    // Client stream ids are odd and rising: 1, 3, 5… The ones nghttp2 processed that never became a stream here were refused.
    const last = session.state.lastProcStreamID ?? 0;
    const now = Math.max(0, (last + 1) / 2 - surfaced);
    if (now > refused && !resets.take(now - refused)) end('refused_streams');
    refused = now;
  };
  const sweep = setInterval(countRefused, REFUSED_CHECK_MS);
  sweep.unref();
  session.once('close', () => clearInterval(sweep));
  session.on('ping', () => {
    if (!pings.take()) end('ping_flood');
  });
  session.on('remoteSettings', () => {
    if (!settings.take()) end('settings_flood');
  });
  session.on('stream', (stream: http2.ServerHttp2Stream) => {
    surfaced += 1;
    countRefused();
    // 'aborted': the stream closed before Outrigger finished its answer; before the head went out, only
    // the client closes a stream (Outrigger answers its own refusals and errors).
    // A session being destroyed (drain, idle, the client's TCP close) aborts its streams too: not counted.
    stream.once('aborted', () => {
      if (!session.destroyed && !stream.headersSent && !resets.take()) end('rapid_reset');
    });
  });
}

/** The size of a header list as SETTINGS_MAX_HEADER_LIST_SIZE counts it, from Node's raw name/value list. */
export function headerListSize(rawHeaders: readonly string[]): number {
  let size = 0;
  // Node hands header bytes over as Latin-1 strings: one character per octet.
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) size += rawHeaders[i]!.length + rawHeaders[i + 1]!.length + 32;
  return size;
}
