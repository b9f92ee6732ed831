/**
 * Relays a backend's answer to the client: the head (connection-level
 * fields removed; HTTP/2 gets no reason phrase), the body with
 * backpressure, then the trailers RFC 9110 allows (an HTTP/2 backend's
 * answer goes chunked to an HTTP/1.1 client that asked for trailers; ones an
 * HTTP/1.1 answer cannot carry are counted as dropped). For gRPC calls the
 * `grpc-status` of the trailers is what the outcome records.
 */
import { UpstreamResetError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { Backend } from '../upstream/backend.js';
import type { UpstreamCall, UpstreamResponse } from '../transport/contract.js';
import { allowedTrailers, stripHopByHop } from './headers.js';
import { cutAnswer, endAnswer, holdHead, isHttp2, writeHead, type ClientResponse, type HeldHead, type Protocol } from './downstream.js';
import { endGrpcCall, errorStatus, grpcStatusOf } from './error-response.js';
import { grpcStatusIn } from './grpc.js';
import { dropContentLength } from './reframe.js';
import type { Outcomes } from './outcome.js';

/** What the access log and the metrics say about one client request. */
export interface Exchange {
  readonly started: number;
  readonly clientIp: string;
  readonly protocol: Protocol;
  readonly grpc: boolean;
  /** An HTTP/1.1 client that asked for trailers: an HTTP/2 backend's answer goes to it chunked (proxy/reframe). */
  readonly chunksForTrailers: boolean;
  /** The gRPC status the client got (from the backend, or from Outrigger's own answer). */
  grpcStatus: number | undefined;
  requestId: string;
  backend: Backend | undefined;
  attempts: number;
  call: UpstreamCall | undefined;
  /** A 1xx already went to the client: no retry may follow. */
  informational: boolean;
  /** The client closed its connection before the exchange completed. */
  clientGone: boolean;
  /** The backend broke its answer off after the head (the `outrigger_upstream_errors_total` kind). */
  upstreamError: string | undefined;
  /** Frees the backend slot of the answer being relayed (also when the client leaves mid-body). */
  release: (() => void) | undefined;
}

export interface RelayArgs {
  readonly res: ClientResponse;
  readonly up: UpstreamResponse;
  readonly backend: Backend;
  readonly release: () => void;
  readonly ex: Exchange;
  /** Draining or aged out: an HTTP/1.1 answer carries Connection: close (HTTP/2 clients get a GOAWAY instead). */
  readonly closeConnection: boolean;
  readonly outcomes: Outcomes;
  readonly metrics: Metrics;
}

/** Writes the head and streams the rest; throws an UpstreamResetError when Node refuses the backend's head. */
export function relay({ res, up, backend, release, ex, closeConnection, outcomes, metrics }: RelayArgs): void {
  const headers = stripHopByHop(up.rawHeaders);
  // An HTTP/2 backend may end any answer with trailers; HTTP/1.1 carries them only chunked.
  if (ex.chunksForTrailers && (backend.scheme === 'h2' || backend.scheme === 'h2c') && up.statusCode !== 204 && up.statusCode !== 304) dropContentLength(headers);
  if (closeConnection && !isHttp2(res)) headers.push('Connection', 'close');
  // A gRPC trailers-only answer (its status in the head) must reach an HTTP/2 client as one HEADERS frame that ends the stream.
  let held: HeldHead | undefined;
  try {
    if (ex.grpc && isHttp2(res) && grpcStatusIn(up.rawHeaders) !== undefined) held = holdHead(res, up.statusCode, headers);
    else writeHead(res, up.statusCode, up.statusMessage, headers);
  } catch (err) {
    // A head Node will not write (a reason phrase or value with bytes it refuses): the backend's answer is unusable.
    up.abort();
    release();
    if (!isHttp2(res)) res.statusMessage = ''; // Node keeps the refused one, and would refuse the error answer too
    const error = new UpstreamResetError(backend.id, true, err);
    outcomes.relayFailed(backend, error);
    throw error;
  }
  if (ex.grpc) ex.grpcStatus = grpcStatusIn(up.rawHeaders);
  up.relayBody(held ?? res, (err, rawTrailers) => {
    release();
    if (err === undefined) {
      if (ex.grpc && rawTrailers.length > 0) {
        ex.grpcStatus = grpcStatusIn(rawTrailers) ?? ex.grpcStatus;
        if (ex.grpcStatus !== undefined) outcomes.grpcAnswered(backend, ex.grpcStatus);
      }
      const dropped = (n: number): void => metrics.trailersDropped.inc({ direction: 'response' }, n);
      const lost = endAnswer(res, rawTrailers.length > 0 ? allowedPairs(rawTrailers, dropped) : [], held);
      if (lost > 0) dropped(lost); // an HTTP/1.1 answer framed by Content-Length (or to HTTP/1.0) cannot carry them
      return;
    }
    // The backend broke off mid-body (or went silent): cut the client too, so the truncation shows;
    // a gRPC client gets the failure as a status in the trailers instead (UNAVAILABLE upstream_reset).
    if (!ex.clientGone) {
      outcomes.relayFailed(backend, err);
      ex.upstreamError = err.upstreamKind;
    }
    if (ex.grpc && !ex.clientGone) {
      const kind = errorStatus(err).kind;
      if (endGrpcCall(res, kind)) {
        ex.grpcStatus = grpcStatusOf(kind);
        return;
      }
    }
    cutAnswer(res);
  });
  ex.release = release;
}

/** Trailers RFC 9110 forbids are dropped (the body is complete; they are metadata), and counted. */
function allowedPairs(raw: readonly string[], onDropped: (count: number) => void): Array<[string, string]> {
  const { pairs, dropped } = allowedTrailers(raw);
  if (dropped > 0) onDropped(dropped);
  return pairs;
}
