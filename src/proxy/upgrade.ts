/**
 * WebSocket and other Upgrade requests: the chosen backend (an HTTP/1.1 one:
 * `http`/`https`; proxy/choose leaves `h2c`/`h2` backends out) gets the request
 * with its Upgrade headers over a connection of its own (transport/connect);
 * a 101 answer turns both connections into a tunnel (proxy/splice), any
 * other answer is relayed and the connection closed. Until the 101 the
 * handshake is in-flight work: bounded by CONNECT_TIMEOUT_MS,
 * UPSTREAM_TIMEOUT_MS and IDLE_TIMEOUT_MS, retried on another backend when
 * the connect fails, and cut when the client leaves.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { PickContext } from '../balancer/picker.js';
import type { Backend } from '../upstream/backend.js';
import { addForwarded, clientAddress, makeTraceparentRoom, stripHopByHop } from './headers.js';
import { errorStatus, rawErrorResponse } from './error-response.js';
import { ConnectFailedError, UpstreamError, UpstreamResetError, UpstreamTimeoutError } from '../errors.js';
import { acquire, choose, mayRetry, type TunnelPathDeps } from './choose.js';
import { connectBackend } from '../transport/connect.js';
import { applyClientCert, tlsPeerOf } from '../tls/xfcc.js';
import type { ClientSpan, ServerSpan } from '../tracing/spans.js';
import { endAttempt } from '../tracing/tracing.js';

/**
 * Bytes a client may send after its upgrade request and before the 101
 * (replayed into the tunnel). A WebSocket client sends none; past this the
 * client is no longer read, so TCP flow control holds it back.
 */
export const EARLY_BYTES_LIMIT = 64 * 1024;

export type TunnelDeps = TunnelPathDeps;

/** One upgrade request on its way to a 101. */
interface Handshake {
  readonly req: http.IncomingMessage;
  readonly client: Socket;
  readonly clientIp: string;
  readonly headers: string[];
  readonly reqId: string;
  readonly ctx: PickContext;
  readonly tried: Backend[];
  /** Bytes the client sent after its head, before the 101 (replayed into the tunnel), at most EARLY_BYTES_LIMIT. */
  readonly early: Buffer[];
  earlyBytes: number;
  readonly started: number;
  /** SPEC §10: the upgrade request's SERVER span (it ends at the backend's answer; the tunnel is not traced). */
  readonly span: ServerSpan | undefined;
  /** Where each attempt's `traceparent` goes in `headers` (-1: nowhere). */
  readonly traceAt: number;
  end: () => void;
  /** Stops reading the client for the handshake (the tunnel or the relayed answer takes over). */
  detach: () => void;
}

export class Tunnels {
  /** Handshakes waiting for their 101, by the function that cuts each. */
  private readonly pending = new Set<() => void>();

  constructor(private readonly d: TunnelDeps) {}

  /** `raw`: the request's header list as it goes on (req.rawHeaders less an h2c offer: proxy/h2c-offer). */
  open(req: http.IncomingMessage, client: Socket, head: Buffer, raw: readonly string[] = req.rawHeaders): void {
    const clientIp = clientAddress(client.remoteAddress);
    const headers = stripHopByHop(raw, { keepUpgrade: true, keepTeTrailers: true });
    const peer = tlsPeerOf(client);
    applyClientCert(headers, peer, this.d.config.forwardedHeaders);
    const reqId = this.d.config.forwardedHeaders ? addForwarded(headers, { clientIp, proto: peer === undefined ? 'http' : 'https', newRequestId: randomUUID }) : '';
    const started = performance.now();
    const span = this.d.outcomes.tracing?.server(req.headers.traceparent, started, req.headers.host, peer === undefined ? 'http' : 'https');
    const traceAt = span !== undefined && this.d.config.forwardedHeaders ? makeTraceparentRoom(headers, span.parentSpanId === undefined) : -1;
    const h: Handshake = {
      span, traceAt,
      req, client, clientIp, headers, reqId, tried: [], early: head.length > 0 ? [head] : [], earlyBytes: head.length,
      started, ctx: this.d.contextFor(clientIp, req.headers), end: this.d.inFlight.begin(),
      detach: () => {
        client.off('data', onData);
        client.pause();
      },
    };
    client.on('error', () => client.destroy());
    // Read the client so that its leaving (FIN or RST) is noticed before the 101, up to a bound.
    const onData = (chunk: Buffer) => {
      h.early.push(chunk);
      h.earlyBytes += chunk.length;
      if (h.earlyBytes >= EARLY_BYTES_LIMIT) client.pause();
    };
    client.on('data', onData);
    void this.attempt(h);
  }

  /** Cuts handshakes still waiting for their 101 (the end of the drain). */
  closePending(): void {
    for (const cut of this.pending) cut();
  }

  private async attempt(h: Handshake): Promise<void> {
    for (;;) {
      let backend: Backend;
      try {
        backend = choose(this.d, h.tried, h.ctx, 'http1');
      } catch (err) {
        return this.fail(h, err);
      }
      h.tried.push(backend);
      const release = acquire(backend);
      const attempt = h.span === undefined ? undefined : this.d.outcomes.tracing?.client(h.span, backend.id, performance.now());
      if (attempt !== undefined && h.traceAt >= 0) h.headers[h.traceAt] = attempt.traceparent;
      try {
        await this.exchange(h, backend, release, attempt);
        return;
      } catch (err) {
        release();
        endAttempt(attempt, performance.now(), 0, err instanceof UpstreamError ? err.upstreamKind : undefined);
        if (h.client.destroyed || h.client.readableEnded) {
          h.detach();
          return h.end(); // the client left; not the backend's fault
        }
        const error = err as UpstreamError;
        this.d.outcomes.attemptFailed(backend, error);
        if (!(error instanceof ConnectFailedError) || !mayRetry(this.d, h.tried, Date.now(), 'http1')) return this.fail(h, error);
        this.d.metrics.retries.inc({ reason: 'connect_failed' });
      }
    }
  }

  /** One backend: connect, send the upgrade request, and settle on its answer. Rejects before an answer. */
  private async exchange(h: Handshake, backend: Backend, release: () => void, attempt: ClientSpan | undefined): Promise<void> {
    const { config } = this.d;
    const connecting = connectBackend(backend, config.connectTimeoutMs, this.d.upstreamTls);
    const onClientGone = () => connecting.cancel();
    h.client.once('close', onClientGone).once('end', onClientGone);
    this.pending.add(connecting.cancel);
    let socket: Socket;
    try {
      socket = await connecting.socket;
    } finally {
      this.pending.delete(connecting.cancel);
      h.client.off('close', onClientGone).off('end', onClientGone);
    }
    return new Promise<void>((resolve, reject) => {
      const upReq = http.request({
        method: h.req.method, path: h.req.url, headers: h.headers, setHost: false, createConnection: () => socket,
        timeout: config.idleTimeoutMs,
      });
      let headTimer: NodeJS.Timeout | undefined;
      const cut = () => upReq.destroy();
      const settle = () => {
        clearTimeout(headTimer);
        this.pending.delete(cut);
        h.client.off('close', cut).off('end', cut);
      };
      this.pending.add(cut);
      h.client.once('close', cut).once('end', cut);
      upReq.once('finish', () => {
        if (config.upstreamTimeoutMs > 0) headTimer = setTimeout(() => upReq.destroy(new UpstreamTimeoutError(backend.id, 'headers')), config.upstreamTimeoutMs);
      });
      upReq.on('timeout', () => upReq.destroy(new UpstreamTimeoutError(backend.id, 'idle')));
      upReq.once('upgrade', (upRes: http.IncomingMessage, upstream: Socket, upHead: Buffer) => {
        settle();
        h.detach();
        this.d.outcomes.connected(backend);
        if (attempt !== undefined) attempt.status = 101;
        h.client.write(statusLine(upRes) + headerLines(stripHopByHop(upRes.rawHeaders, { keepUpgrade: true })) + '\r\n', 'latin1');
        for (const chunk of h.early) upstream.write(chunk);
        this.d.splices.join(h.client, upstream, /websocket/i.test(h.req.headers.upgrade ?? ''), release, upHead);
        this.log(h, backend, 101);
        h.end();
        resolve();
      });
      upReq.once('response', (upRes: http.IncomingMessage) => {
        // The backend declined the upgrade: relay its answer, delimited by close.
        settle();
        h.detach();
        if (attempt !== undefined) attempt.status = upRes.statusCode ?? 0;
        h.client.write(statusLine(upRes) + headerLines([...stripHopByHop(upRes.rawHeaders), 'Connection', 'close']) + '\r\n', 'latin1');
        upRes.pipe(h.client);
        const done = () => { release(); h.end(); };
        upRes.once('end', done);
        upRes.once('error', () => { h.client.destroy(); done(); });
        h.client.once('close', () => { upReq.destroy(); done(); });
        this.log(h, backend, upRes.statusCode ?? 502);
        resolve();
      });
      upReq.on('error', (err: NodeJS.ErrnoException) => {
        if (!this.pending.has(cut)) return; // after the 101 or a declined answer, the relay owns errors
        settle();
        reject(err instanceof UpstreamError ? err : new UpstreamResetError(backend.id, false, err));
      });
      upReq.end();
    });
  }

  private fail(h: Handshake, err: unknown): void {
    h.detach();
    const { status, kind } = errorStatus(err, this.d.logger);
    this.d.metrics.proxyErrors.inc({ kind });
    if (h.span !== undefined) h.span.errorType = kind;
    if (h.client.writable) h.client.end(rawErrorResponse(status, kind));
    h.client.destroySoon();
    this.log(h, h.tried[h.tried.length - 1], status);
    h.end();
  }

  /** The access-log line and request count for an upgrade request. */
  private log(h: Handshake, backend: Backend | undefined, status: number): void {
    this.d.outcomes.request(h.req.method ?? '', {
      reqId: h.reqId, traceId: h.span?.traceId, spanId: h.span?.spanId, client: h.clientIp, method: h.req.method ?? '', path: (h.req.url ?? '').split('?')[0]!,
      backend: backend?.id ?? null, status, durationMs: performance.now() - h.started, attempts: h.tried.length, aborted: false,
    }, true, h.span);
  }
}

function statusLine(res: http.IncomingMessage): string {
  return `HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}\r\n`;
}

function headerLines(raw: readonly string[]): string {
  let out = '';
  for (let i = 0; i < raw.length; i += 2) out += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return out;
}
