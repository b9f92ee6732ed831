/**
 * The variables of SPEC §2, §8, §9 and §10: each one's name, default (as an env
 * string), meaning and validator, in one table. CONFIG_VARIABLES (the
 * README's reference table and the Helm chart test read it) and
 * config.ts's parsing both come from it.
 */
import { makeValidator, type ValidatorSpec } from 'envalid';
import { LOG_LEVELS } from './log.js';
import { TLS_VERSIONS } from './tls/cert-files.js';
import { SAMPLERS } from './config-tracing.js';
import { hostProblem } from './upstream/backend-address.js';

export const MODES = ['http', 'tcp'] as const;
export const ALGORITHMS = ['round-robin', 'least-connections', 'p2c', 'ewma', 'random', 'ip-hash', 'hash'] as const;
export const HEALTH_CHECK_TYPES = ['tcp', 'http', 'grpc', 'none'] as const;

export type Mode = (typeof MODES)[number];
export type Algorithm = (typeof ALGORITHMS)[number];
export type HealthCheckType = (typeof HEALTH_CHECK_TYPES)[number];
export type HashKey = { kind: 'ip' } | { kind: 'header'; name: string } | { kind: 'cookie'; name: string };

// ---- validators: each throws an Error whose message says what is expected ----

function intIn(min: number, max: number, what = `an integer from ${min} to ${max}`) {
  return makeValidator<number>((input) => {
    if (!/^\d+$/.test(input.trim())) throw new Error(`expected ${what}`);
    const n = Number(input.trim());
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`expected ${what}`);
    return n;
  });
}
const MAX_MS = 2_147_483_647; // setTimeout's ceiling
const durationMs = intIn(0, MAX_MS, `a duration in milliseconds (an integer from 0 to ${MAX_MS}, about 24.8 days)`);
const positiveMs = intIn(1, MAX_MS, `a duration in milliseconds (an integer from 1 to ${MAX_MS}, about 24.8 days)`);
const port = intIn(0, 65535, 'a port number 0-65535');
const flag = makeValidator<boolean>((input) => {
  const v = input.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new Error('expected true or false');
});
function oneOf<T extends string>(values: readonly T[]) {
  return makeValidator<T>((input) => {
    const v = input.trim() as T;
    if (!values.includes(v)) throw new Error(`expected one of ${values.join(', ')}`);
    return v;
  });
}
/** An IP address (IPv6 with or without brackets) or a host name, by the rule backend entries follow. */
const host = makeValidator<string>((input) => {
  const trimmed = input.trim();
  const v = trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed;
  if (hostProblem(v) !== undefined) throw new Error('expected a host name or IP address to listen on');
  return v;
});
const text = makeValidator<string>((input) => input);
const hashKey = makeValidator<HashKey>((input) => {
  const v = input.trim();
  if (v === 'ip') return { kind: 'ip' };
  const m = /^(header|cookie):([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.exec(v);
  if (m === null) throw new Error('expected ip, header:NAME or cookie:NAME');
  return m[1] === 'header' ? { kind: 'header', name: m[2]!.toLowerCase() } : { kind: 'cookie', name: m[2]! };
});
const serverName = makeValidator<string>((input) => {
  const v = input.trim().toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(v) || v.length > 253) throw new Error('expected a DNS name such as orders.shop.svc');
  return v;
});
const path = makeValidator<string>((input) => {
  if (!/^\/[\x21-\x7e]*$/.test(input)) throw new Error('expected an absolute path starting with /');
  return input;
});

const endpoint = makeValidator<string>((input) => {
  const v = input.trim();
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new Error('expected an http:// or https:// URL such as http://otel-collector:4318');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('expected an http:// or https:// URL such as http://otel-collector:4318');
  return v;
});
/** OTEL_EXPORTER_OTLP_HEADERS: `key=value,…`, values percent-decoded (the W3C Baggage list format the OTel spec uses). */
const otlpHeaders = makeValidator<Readonly<Record<string, string>>>((input) => {
  const out: Record<string, string> = {};
  for (const item of input.split(',')) {
    if (item.trim() === '') continue;
    const eq = item.indexOf('=');
    const key = eq < 0 ? '' : item.slice(0, eq).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) throw new Error('expected key=value pairs separated by commas, such as api-key=secret');
    let value: string;
    try {
      value = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      throw new Error('expected percent-encoded header values');
    }
    if (/[\r\n\0]/.test(value)) throw new Error('expected header values without line breaks');
    out[key] = value;
  }
  return Object.freeze(out);
});
const ratio = makeValidator<number>((input) => {
  const v = input.trim();
  const n = Number(v);
  if (v === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new Error('expected a sampling probability from 0 to 1, such as 0.25');
  return n;
});
const serviceName = makeValidator<string>((input) => {
  const v = input.trim();
  if (v === '') throw new Error('expected a service name');
  return v;
});

export interface Variable {
  readonly name: string;
  readonly default: string | undefined;
  readonly description: string;
  // The validator's value type differs per variable; the table is typed by Config below.
  readonly validator: (spec: { default?: never }) => ValidatorSpec<unknown>;
}

function v(name: string, def: string | undefined, description: string, validator: Variable['validator']): Variable {
  return { name, default: def, description, validator };
}

export const VARIABLES: readonly Variable[] = [
  v('BACKENDS', undefined, 'comma-separated backend entries `[scheme://]host:port[;weight=N]` (required unless CONFIG_FILE)', text),
  v('CONFIG_FILE', undefined, 'JSON file with backends (and optional settings); watched and hot-reloaded', text),
  v('MODE', 'http', '`http` (L7 proxy) or `tcp` (L4 connection proxy)', oneOf(MODES)),
  v('PROXY_HOST', '0.0.0.0', 'traffic listener address', host),
  v('PROXY_PORT', '8080', 'traffic listener port (0 = any free port)', port),
  v('ADMIN_HOST', '0.0.0.0', 'admin listener address', host),
  v('ADMIN_PORT', '9901', 'admin listener port (0 = any free port)', port),
  v('LB_ALGORITHM', 'round-robin', ALGORITHMS.map((a) => `\`${a}\``).join(', '), oneOf(ALGORITHMS)),
  v('HASH_KEY', 'ip', 'for `hash`: `ip`, `header:NAME` or `cookie:NAME`', hashKey),
  v('HEALTH_CHECK_TYPE', 'tcp', '`tcp` (connect succeeds), `http` (GET path answers 2xx), `grpc` (`grpc.health.v1` answers SERVING), `none`', oneOf(HEALTH_CHECK_TYPES)),
  v('HEALTH_CHECK_PATH', '/health', 'path for `http` checks', path),
  v('HEALTH_CHECK_GRPC_SERVICE', undefined, 'service name for `grpc` checks (`grpc.health.v1.Health/Check`); unset or empty = the whole server', text),
  v('HEALTH_CHECK_INTERVAL_MS', '5000', 'time between probes of one backend (±10 % jitter)', positiveMs),
  v('HEALTH_CHECK_TIMEOUT_MS', '1000', 'a probe slower than this failed', positiveMs),
  v('HEALTHY_THRESHOLD', '2', 'consecutive successes to mark a backend healthy', intIn(1, 100)),
  v('UNHEALTHY_THRESHOLD', '3', 'consecutive failures to mark it unhealthy', intIn(1, 100)),
  v('OUTLIER_CONSECUTIVE_FAILURES', '5', 'consecutive connect errors/5xx that eject a backend (0 = off)', intIn(0, 1000)),
  v('OUTLIER_EJECTION_MS', '30000', 'base ejection time; doubles on each repeat ejection, capped at 10×', positiveMs),
  v('OUTLIER_MAX_EJECTION_PERCENT', '50', 'never eject more than this share of backends', intIn(0, 100)),
  v('SLOW_START_MS', '0', 'a backend that turns healthy ramps its weight from 10 % to 100 % over this time (0 = off)', durationMs),
  v('MAX_REQUESTS_PER_BACKEND', '0', 'in-flight cap per backend (0 = none); all full → 503 `overloaded`', intIn(0, 1_000_000)),
  v('RETRIES', '2', 'extra attempts on another backend', intIn(0, 10)),
  v('RETRY_BUDGET_PERCENT', '20', 'retries may add at most this share on top of requests (min 10 retries/s)', intIn(0, 100)),
  v('CONNECT_TIMEOUT_MS', '2000', 'TCP connect to a backend', positiveMs),
  v('UPSTREAM_TIMEOUT_MS', '30000', 'from request sent to response headers received (0 = none) → 504', durationMs),
  v('IDLE_TIMEOUT_MS', '60000', 'no bytes either way on an active exchange → close (0 = none)', durationMs),
  v('UPSTREAM_KEEPALIVE_MS', '4000', 'how long an idle pooled backend connection is kept', positiveMs),
  v('MAX_CONNECTIONS', '10000', 'downstream connections; beyond this new ones are refused', intIn(1, 10_000_000)),
  v('CLIENT_HEADERS_TIMEOUT_MS', '10000', 'a client must send its request head within this', positiveMs),
  v('CLIENT_KEEPALIVE_TIMEOUT_MS', '65000', 'idle keep-alive client connections are closed after this', positiveMs),
  v('SHUTDOWN_DELAY_MS', '5000', 'after SIGTERM: keep serving while readiness reports 503', durationMs),
  v('DRAIN_TIMEOUT_MS', '20000', 'then: max wait for in-flight requests before closing what is left', durationMs),
  v('READY_MIN_HEALTHY_BACKENDS', '0', '`/readyz` also needs this many healthy backends', intIn(0, 100_000)),
  v('FORWARDED_HEADERS', 'true', 'add `X-Forwarded-For/Proto/Host` and `X-Request-Id`; `false` = byte-transparent headers', flag),
  v('ADMIN_TOKEN', undefined, 'bearer token for the mutating admin API; unset = mutations disabled (403)', text),
  v('ADMIN_HISTORY_INTERVAL_MS', '5000', 'how often the dashboard\'s history takes a sample; it keeps the last 180 (15 minutes at 5000)', intIn(100, 60_000, 'a duration in milliseconds from 100 to 60000')),
  v('IDLE_GC_AFTER_MS', '10000', 'after load, once no request has begun for this long and none is in flight, one memory-reducing garbage collection returns the memory the load left behind (at most once per quiet period); 0 = off', durationMs),
  v('DNS_REFRESH_MS', '5000', 're-resolution period for `dns+` backends', positiveMs),
  v('HTTP2', 'true', 'the traffic listener also speaks HTTP/2 (h2c with prior knowledge on the same port); `false` = HTTP/1.1 only', flag),
  v('MAX_CONCURRENT_STREAMS', '100', 'HTTP/2 streams one client connection may have open', intIn(1, 10_000)),
  v('MAX_CONNECTION_AGE_MS', '0', 'a client connection older than this is closed gracefully (HTTP/1.1: `Connection: close` on its next answer; HTTP/2: GOAWAY); 0 = never', durationMs),
  v('TLS_CERT_FILE', undefined, 'PEM certificate chain of the traffic listener; with TLS_KEY_FILE the listener speaks TLS only (ALPN `h2`, `http/1.1`); watched and reloaded', text),
  v('TLS_KEY_FILE', undefined, 'PEM private key of TLS_CERT_FILE', text),
  v('TLS_CLIENT_CA_FILE', undefined, 'require client certificates signed by these CAs (mTLS); the verified client is passed on in `X-Forwarded-Client-Cert`', text),
  v('TLS_MIN_VERSION', 'TLSv1.2', 'oldest TLS version the listener accepts: `TLSv1.2` or `TLSv1.3`', oneOf(TLS_VERSIONS)),
  v('UPSTREAM_TLS_CA_FILE', undefined, "CAs trusted for `https`/`h2` backends, in addition to the system's", text),
  v('UPSTREAM_TLS_CERT_FILE', undefined, 'client certificate presented to `https`/`h2` backends (mTLS; rotated without a restart)', text),
  v('UPSTREAM_TLS_KEY_FILE', undefined, 'private key of UPSTREAM_TLS_CERT_FILE', text),
  v('UPSTREAM_TLS_SERVER_NAME', undefined, "SNI and verified name for `https`/`h2` backends; unset = the backend's host (no SNI for an IP)", serverName),
  v('LOG_LEVEL', 'info', '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`', oneOf(LOG_LEVELS)),
  v('ACCESS_LOG', 'true', 'one JSON line per request; `false` turns it off', flag),
  v('OTEL_EXPORTER_OTLP_ENDPOINT', undefined, 'OTLP/HTTP (protobuf) base URL; spans go to its `/v1/traces`; unset (and no traces endpoint) = no export', endpoint),
  v('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', undefined, 'OTLP/HTTP traces URL, used as is; wins over OTEL_EXPORTER_OTLP_ENDPOINT', endpoint),
  v('OTEL_EXPORTER_OTLP_HEADERS', undefined, 'headers on every export request: `key=value,…` (values percent-encoded); never logged', otlpHeaders),
  v('OTEL_EXPORTER_OTLP_TIMEOUT', '10000', 'one export request may take this long', positiveMs),
  v('OTEL_SERVICE_NAME', 'outrigger', 'the `service.name` of exported spans', serviceName),
  v('OTEL_TRACES_SAMPLER', 'parentbased_always_on', SAMPLERS.map((s) => `\`${s}\``).join(', ') + '; unsampled traces still propagate `traceparent` (flags `00`)', oneOf(SAMPLERS)),
  v('OTEL_TRACES_SAMPLER_ARG', undefined, 'the ratio (0 to 1) of the `traceidratio` samplers; unset = 1', ratio),
  v('OTEL_BSP_MAX_QUEUE_SIZE', '2048', 'finished spans waiting for export; a full queue drops spans (`outrigger_trace_spans_dropped_total`)', intIn(1, 1_000_000)),
  v('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', '512', 'spans per export request (at most OTEL_BSP_MAX_QUEUE_SIZE)', intIn(1, 1_000_000)),
  v('OTEL_BSP_SCHEDULE_DELAY', '5000', 'longest wait before a partial batch is exported', durationMs),
  v('OTEL_BSP_EXPORT_TIMEOUT', '30000', 'the batch processor gives up on one export after this', positiveMs),
  v('OTEL_SDK_DISABLED', 'false', '`true` turns tracing off entirely: no spans, no ids in the access line, `traceparent` passed as received', flag),
];

/** Public: one row per SPEC §2 variable (name, default as an env string, meaning). */
export const CONFIG_VARIABLES: ReadonlyArray<{ name: string; default: string | undefined; description: string }> =
  VARIABLES.map(({ name, default: d, description }) => Object.freeze({ name, default: d, description }));
