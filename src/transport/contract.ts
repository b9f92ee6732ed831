/**
 * The exchange contract between the data plane and the upstream engines:
 * a request head, an optional body source and deadlines go in; a response
 * head, a body relayed with backpressure, trailers, or a typed error come
 * out. Nothing here knows the downstream socket: the body goes to any
 * Writable, and a 1xx answer is handed to the caller to relay or drop.
 */
import type { Writable } from 'node:stream';
import type { UpstreamError } from '../errors.js';

/**
 * Where an engine takes a request body: a node:http ClientRequest as it is,
 * or an engine's adapter (transport/undici-body: a Readable undici reads;
 * transport/h2-body-sink: HTTP/2 sends trailers in a frame of their own).
 */
export interface RequestBodySink {
  /** False: stop writing until 'drain'. */
  write(chunk: Buffer): boolean;
  once(event: 'drain', listener: () => void): unknown;
  end(): unknown;
  readonly destroyed: boolean;
  /** Called at most once, before end(). */
  addTrailers(pairs: Array<[string, string]>): void;
  /**
   * HTTP/1.1 only (a node:http ClientRequest): false when the body is framed
   * by Content-Length, which leaves no room for trailers. Absent: trailers go.
   */
  readonly chunkedEncoding?: boolean;
}

/** A client's request body as an engine consumes it (proxy/request-body implements it). */
export interface RequestBodySource {
  /** Sends what is held, then what follows, to `sink`, and ends it (with trailers) when the body ends. */
  attach(sink: RequestBodySink): void;
}

export interface ExchangeRequest {
  readonly method: string;
  readonly path: string;
  /** Flat [name, value, …], already stripped of hop-by-hop fields. */
  readonly headers: string[];
  readonly body: RequestBodySource | undefined;
  /** CONNECT_TIMEOUT_MS (TLS included). */
  readonly connectTimeoutMs: number;
  /** UPSTREAM_TIMEOUT_MS: from the request sent to the response head; 0 = none. */
  readonly upstreamTimeoutMs: number;
  /** IDLE_TIMEOUT_MS: no bytes either way; 0 = none. */
  readonly idleTimeoutMs: number;
  /** FORWARDED_HEADERS=false: headers must leave byte for byte as they came. */
  readonly exactHeaders: boolean;
  /** A 1xx answer arrived (at most MAX_INFORMATIONAL of them): the caller relays it or not. */
  readonly onInformational: (status: number, rawHeaders: readonly string[]) => void;
}

/** A backend request in progress. */
export interface UpstreamCall {
  /** Cuts the backend request; its connection is not reused. Safe to call at any time, more than once. */
  abort(): void;
}

/** A backend's answer once its head arrived. */
export interface UpstreamResponse extends UpstreamCall {
  readonly statusCode: number;
  readonly statusMessage: string;
  /** Flat [name, value, …] as received, names and order kept. */
  readonly rawHeaders: readonly string[];
  /**
   * Streams the body to `sink` with backpressure, then calls `done` once:
   * with the raw trailers when the body is complete, or with the error that
   * broke it off (a reset, or IDLE_TIMEOUT_MS of silence). `sink` is not ended.
   */
  relayBody(sink: Writable, done: RelayDone): void;
}

/** How relayBody reports the end: an error when the body broke off, else the trailers (raw pairs, maybe none). */
export type RelayDone = (err: UpstreamError | undefined, rawTrailers: readonly string[]) => void;

/** An engine: sends one request to one backend. `onCall` gets the call at once, so that a departing client can abort it. */
export type Engine<B> = (backend: B, request: ExchangeRequest, onCall: (call: UpstreamCall) => void) => Promise<UpstreamResponse>;

/**
 * 1xx answers accepted per exchange; one more fails it as a protocol error.
 * A backend that never stops sending them would otherwise hold the request
 * (and feed the client) until UPSTREAM_TIMEOUT_MS.
 */
export const MAX_INFORMATIONAL = 10;

/** Methods whose requests carry a body as a rule (RFC 9110 §9.3): an empty one still says its length. */
export const PAYLOAD_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/** Methods a request may be sent again with (RFC 9110 §9.2.2): retries, and an engine's second try. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/**
 * An exchange failure. `stale` marks a reset of a reused pooled socket before
 * any response byte: most likely the backend closed an idle connection as we
 * sent, so it does not count against the backend's health (retries still
 * follow the method rules: the backend may have read the request).
 */
export class AttemptError extends Error {
  constructor(
    readonly error: UpstreamError,
    readonly stale: boolean,
  ) {
    super(error.message, { cause: error });
  }
}
