/**
 * WebSocket and other Upgrade requests: the chosen backend gets the request
 * with its Upgrade headers; a 101 answer turns both connections into a
 * tunnel (proxy/splice), any other answer is relayed and the connection
 * closed. Until the 101 the handshake is in-flight work: bounded by
 * CONNECT_TIMEOUT_MS, UPSTREAM_TIMEOUT_MS and IDLE_TIMEOUT_MS, retried on
 * another backend when the connect fails, and cut when the client leaves.
 */
import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { methodLabel } from '../metrics.js';
import type { PickContext } from '../balancer/picker.js';
import type { Backend } from '../upstream/backend.js';
import { addForwarded, clientAddress, stripHopByHop } from './headers.js';
import { errorStatus, rawErrorResponse } from './error-response.js';
import { ConnectFailedError, UpstreamError, UpstreamResetError, UpstreamTimeoutError } from '../errors.js';
import { acquire, choose, mayRetry, type TunnelPathDeps } from './choose.js';
import { hashKeyOf } from './hash-key.js';

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
  clientGone: boolean;
  end: () => void;
}

export class Tunnels {
  private readonly pending = new Set<http.ClientRequest>();

  constructor(private readonly d: TunnelDeps) {}

  open(req: http.IncomingMessage, client: Socket, head: Buffer): void {
    const clientIp = clientAddress(client.remoteAddress);
    const headers = stripHopByHop(req.rawHeaders, { keepUpgrade: true, keepTeTrailers: true });
    const reqId = this.d.config.forwardedHeaders ? addForwarded(headers, { clientIp, proto: 'http', newRequestId: randomUUID }) : '';
    const now = Date.now();
    const h: Handshake = {
      req, client, clientIp, headers, reqId, tried: [], early: head.length > 0 ? [head] : [], earlyBytes: head.length, started: performance.now(), clientGone: false,
      ctx: { now, rng: this.d.rng, slowStartMs: this.d.config.slowStartMs, clientIp, hashKey: this.d.config.algorithm === 'hash' ? hashKeyOf(req, this.d.config.hashKey) : undefined },
      end: this.d.inFlight.begin(),
    };
    client.on('error', () => client.destroy());
    // Read the client so that its leaving (FIN or RST) is noticed before the 101, up to a bound.
    const onData = (chunk: Buffer) => {
      h.early.push(chunk);
      h.earlyBytes += chunk.length;
      if (h.earlyBytes >= EARLY_BYTES_LIMIT) client.pause();
    };
    const onGone = () => { h.clientGone = true; };
    client.on('data', onData);
    client.once('end', onGone);
    client.once('close', onGone);
    this.attempt(h, () => {
      client.off('data', onData);
      client.off('end', onGone);
      client.off('close', onGone);
      client.pause();
    });
  }

  /** Cuts handshakes still waiting for their 101 (the end of the drain). */
  closePending(): void {
    for (const upReq of this.pending) upReq.destroy();
  }

  private attempt(h: Handshake, detach: () => void): void {
    let backend: Backend;
    try {
      backend = choose(this.d, h.tried, h.ctx);
    } catch (err) {
      return this.fail(h, err);
    }
    h.tried.push(backend);
    const release = acquire(backend);
    const upReq = (backend.scheme === 'https' ? https : http).request({
      host: backend.host, port: backend.port, method: h.req.method, path: h.req.url, headers: h.headers, agent: false, setHost: false,
      timeout: this.d.config.idleTimeoutMs,
    });
    this.pending.add(upReq);
    let connected = false;
    let headTimer: NodeJS.Timeout | undefined;
    const connectTimer = setTimeout(() => upReq.destroy(new ConnectFailedError(backend.id, true)), this.d.config.connectTimeoutMs);
    const settle = () => {
      clearTimeout(connectTimer);
      clearTimeout(headTimer);
      this.pending.delete(upReq);
      h.client.off('close', onClientGone);
      h.client.off('end', onClientGone);
    };
    const onClientGone = () => upReq.destroy();
    h.client.once('close', onClientGone);
    h.client.once('end', onClientGone);
    upReq.once('socket', (s: Socket) => s.once(backend.scheme === 'https' ? 'secureConnect' : 'connect', () => {
      connected = true;
      clearTimeout(connectTimer);
    }));
    upReq.once('finish', () => {
      if (this.d.config.upstreamTimeoutMs > 0) headTimer = setTimeout(() => upReq.destroy(new UpstreamTimeoutError(backend.id, 'headers')), this.d.config.upstreamTimeoutMs);
    });
    upReq.on('timeout', () => upReq.destroy(new UpstreamTimeoutError(backend.id, 'idle')));
    upReq.once('upgrade', (upRes: http.IncomingMessage, upstream: Socket, upHead: Buffer) => {
      settle();
      detach();
      this.d.outlier.onSuccess(backend);
      const websocket = /websocket/i.test(h.req.headers.upgrade ?? '');
      h.client.write(statusLine(upRes) + headerLines(stripHopByHop(upRes.rawHeaders, { keepUpgrade: true })) + '\r\n', 'latin1');
      if (upHead.length > 0) h.client.write(upHead);
      for (const chunk of h.early) upstream.write(chunk);
      this.d.splices.join(h.client, upstream, websocket, release);
      this.log(h, backend, 101);
      h.end();
    });
    upReq.once('response', (upRes: http.IncomingMessage) => {
      // The backend declined the upgrade: relay its answer, delimited by close.
      settle();
      detach();
      h.client.write(statusLine(upRes) + headerLines([...stripHopByHop(upRes.rawHeaders), 'Connection', 'close']) + '\r\n', 'latin1');
      upRes.pipe(h.client);
      const done = () => { release(); h.end(); };
      upRes.once('end', done);
      upRes.once('error', () => { h.client.destroy(); done(); });
      h.client.once('close', () => { upReq.destroy(); done(); });
      this.log(h, backend, upRes.statusCode ?? 502);
    });
    upReq.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.pending.has(upReq)) return; // after the 101 or a declined answer, the relay owns errors
      settle();
      release();
      if (h.clientGone || h.client.destroyed) return h.end();
      const error: UpstreamError = err instanceof UpstreamError ? err
        : connected ? new UpstreamResetError(backend.id, false, err) : new ConnectFailedError(backend.id, false, err);
      this.d.metrics.upstreamErrors.inc({ backend: backend.id, kind: error.upstreamKind });
      this.d.outlier.onFailure(backend);
      if (error instanceof ConnectFailedError && mayRetry(this.d, h.tried, Date.now())) {
        this.d.metrics.retries.inc({ reason: 'connect_failed' });
        return this.attempt(h, detach);
      }
      this.fail(h, error);
    });
    upReq.end();
  }

  private fail(h: Handshake, err: unknown): void {
    const { status, kind } = errorStatus(err, this.d.logger);
    this.d.metrics.proxyErrors.inc({ kind });
    if (h.client.writable) h.client.end(rawErrorResponse(status, kind));
    h.client.destroySoon();
    this.log(h, h.tried[h.tried.length - 1], status);
    h.end();
  }

  /** The access-log line and request count for an upgrade request. */
  private log(h: Handshake, backend: Backend | undefined, status: number): void {
    this.d.metrics.httpRequests.inc([methodLabel(h.req.method), String(status)]);
    if (!this.d.config.accessLog) return;
    const durationMs = Math.round((performance.now() - h.started) * 100) / 100;
    this.d.logger.info({
      reqId: h.reqId, client: h.clientIp, method: h.req.method, path: (h.req.url ?? '').split('?')[0],
      backend: backend?.id ?? null, status, durationMs, attempts: h.tried.length, upgrade: true,
    }, 'request');
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
