/**
 * Every error Outrigger raises, each with a stable `code`. No HTTP statuses
 * here: proxy/error-response.ts is the one place that maps errors to answers.
 */

/** The kinds of proxy-generated answers (the `x-outrigger-error` header). */
export type ProxyErrorKind = 'no_healthy_backend' | 'connect_failed' | 'upstream_reset' | 'upstream_timeout' | 'overloaded';

/** The `kind` label of outrigger_upstream_errors_total. */
export type UpstreamErrorKind = 'connect_refused' | 'connect_timeout' | 'reset' | 'timeout' | 'protocol';

export class OutriggerError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A failure of the proxy to get an answer from a backend. */
export abstract class ProxyError extends OutriggerError {
  abstract readonly kind: ProxyErrorKind;
}

export class NoHealthyBackendError extends ProxyError {
  readonly kind = 'no_healthy_backend';
  constructor() {
    super('ERR_NO_HEALTHY_BACKEND', 'no backend is eligible for traffic');
  }
}

export class OverloadedError extends ProxyError {
  readonly kind = 'overloaded';
  constructor() {
    super('ERR_OVERLOADED', 'every eligible backend is at MAX_REQUESTS_PER_BACKEND');
  }
}

/** Failures tied to one backend attempt carry the backend id and the metric kind. */
export abstract class UpstreamError extends ProxyError {
  abstract readonly upstreamKind: UpstreamErrorKind;
  constructor(
    code: string,
    message: string,
    readonly backend: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/**
 * The X.509 verification results Node reports as an error's `code` (OpenSSL's
 * X509_V_ERR_* names without the prefix), for a backend certificate refused.
 */
const X509_VERIFY_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_CRL', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE', 'CRL_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID', 'CRL_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD', 'ERROR_IN_CRL_NEXT_UPDATE_FIELD', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA',
  'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH',
]);

/**
 * The code of a TLS handshake failure (a certificate refused, a name that
 * does not match, an OpenSSL handshake error or alert), or undefined for
 * anything else (a refused or reset TCP connection, a timeout).
 */
export function tlsFailureCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, library } = err as { code?: unknown; library?: unknown };
  if (typeof code !== 'string') return library === 'SSL routines' ? 'ERR_SSL' : undefined;
  if (X509_VERIFY_CODES.has(code) || code.startsWith('ERR_SSL_') || code === 'ERR_TLS_CERT_ALTNAME_INVALID') return code;
  return library === 'SSL routines' ? code : undefined;
}

/**
 * No usable connection to the backend. A TLS handshake that failed (`tlsCode`
 * set) counts as `protocol`: the backend answered, but not with a certificate
 * or handshake Outrigger accepts (SPEC §6's label set has no TLS label).
 */
export class ConnectFailedError extends UpstreamError {
  readonly kind = 'connect_failed';
  readonly upstreamKind: UpstreamErrorKind;
  /** The TLS failure's code (e.g. ERR_TLS_CERT_ALTNAME_INVALID), when the handshake failed. */
  readonly tlsCode: string | undefined;
  constructor(backend: string, timedOut: boolean, cause?: unknown) {
    const tlsCode = timedOut ? undefined : tlsFailureCode(cause);
    super('ERR_CONNECT_FAILED', `connect to ${backend} ${timedOut ? 'timed out' : tlsCode !== undefined ? 'failed (TLS handshake)' : 'failed'}`, backend, { cause });
    this.tlsCode = tlsCode;
    this.upstreamKind = timedOut ? 'connect_timeout' : tlsCode !== undefined ? 'protocol' : 'connect_refused';
  }
}

export class UpstreamResetError extends UpstreamError {
  readonly kind = 'upstream_reset';
  readonly upstreamKind: UpstreamErrorKind;
  constructor(backend: string, protocol: boolean, cause?: unknown) {
    const what = protocol ? 'sent an invalid HTTP response' : 'closed the connection before a full response';
    super('ERR_UPSTREAM_RESET', `${backend} ${what}`, backend, { cause });
    this.upstreamKind = protocol ? 'protocol' : 'reset';
  }
}

/**
 * The backend refused the request without processing it (HTTP/2 REFUSED_STREAM, or a stream above the
 * last-stream-id of its GOAWAY): safe to retry on another backend whatever the method (RFC 9113 §8.7).
 */
export class StreamRefusedError extends UpstreamError {
  readonly kind = 'upstream_reset';
  readonly upstreamKind = 'reset';
  /**
   * `rotating`: the backend had sent a GOAWAY on that session (it rotates its connections, or is
   * shutting down): no fault of its health, and a new session to it may take the stream.
   */
  constructor(backend: string, readonly rotating: boolean, cause?: unknown) {
    super('ERR_STREAM_REFUSED', `${backend} refused the stream before processing it`, backend, { cause });
  }
}

export class UpstreamTimeoutError extends UpstreamError {
  readonly kind = 'upstream_timeout';
  readonly upstreamKind = 'timeout';
  constructor(backend: string, what: 'headers' | 'idle' | 'deadline') {
    const message = what === 'headers' ? 'sent no response headers within UPSTREAM_TIMEOUT_MS'
      : what === 'idle' ? 'was idle for IDLE_TIMEOUT_MS' : 'did not answer before the call\'s grpc-timeout';
    super('ERR_UPSTREAM_TIMEOUT', `${backend} ${message}`, backend);
  }
}

/** Invalid configuration: one line per problem; main exits 78. */
export class ConfigError extends OutriggerError {
  constructor(readonly problems: readonly string[]) {
    super('ERR_INVALID_CONFIG', `invalid configuration:\n${problems.join('\n')}`);
  }
}

/** A file Outrigger refused to read: not a regular file, or over its size cap. */
export class FileRejectedError extends OutriggerError {
  constructor(code: 'ERR_FILE_NOT_REGULAR' | 'ERR_FILE_TOO_LARGE', message: string) {
    super(code, message);
  }
}

/** A TLS file (certificate, key or CA bundle) that cannot be used; `variable` names the setting it came from. */
export class TlsMaterialError extends OutriggerError {
  constructor(readonly variable: string, message: string, options?: { cause?: unknown }) {
    super('ERR_TLS_MATERIAL', message, options);
  }
}
