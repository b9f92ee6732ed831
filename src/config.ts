/**
 * Configuration: SPEC §2, parsed once with envalid from an injected env
 * object into a frozen Config. Nothing else in src/ reads process.env.
 *
 * CONFIG_VARIABLES is the single table of names, defaults and meanings: the
 * README's reference table, the Helm chart test and envalid's spec all come
 * from it.
 */
import { cleanEnv, makeValidator, EnvMissingError, type ValidatorSpec } from 'envalid';
import { ConfigError } from './errors.js';
import { LOG_LEVELS, type LogLevel } from './log.js';
import { parseBackendList, type BackendAddress } from './upstream/backend-address.js';
import { readConfigFile, type FileSettings } from './upstream/config-file.js';
import { TLS_VERSIONS, type TlsVersion } from './tls/cert-files.js';
import { tlsSettings, type ListenerTlsConfig, type UpstreamTlsConfig } from './tls/tls-config.js';

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
const durationMs = intIn(0, MAX_MS, 'a duration in milliseconds (integer ≥ 0)');
const positiveMs = intIn(1, MAX_MS, 'a duration in milliseconds (integer ≥ 1)');
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
const host = makeValidator<string>((input) => {
  const v = input.trim();
  if (v === '' || /[\s/]/.test(v)) throw new Error('expected a host name or IP address to listen on');
  return v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
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

interface Variable {
  readonly name: string;
  readonly default: string | undefined;
  readonly description: string;
  // The validator's value type differs per variable; the table is typed by Config below.
  readonly validator: (spec: { default?: never }) => ValidatorSpec<unknown>;
}

function v(name: string, def: string | undefined, description: string, validator: Variable['validator']): Variable {
  return { name, default: def, description, validator };
}

const VARIABLES: readonly Variable[] = [
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
];

/** Public: one row per SPEC §2 variable (name, default as an env string, meaning). */
export const CONFIG_VARIABLES: ReadonlyArray<{ name: string; default: string | undefined; description: string }> =
  VARIABLES.map(({ name, default: d, description }) => Object.freeze({ name, default: d, description }));

export interface Config {
  readonly backends: readonly BackendAddress[];
  readonly configFile: string | undefined;
  readonly mode: Mode;
  readonly proxyHost: string;
  readonly proxyPort: number;
  readonly adminHost: string;
  readonly adminPort: number;
  readonly algorithm: Algorithm;
  readonly hashKey: HashKey;
  readonly healthCheck: {
    readonly type: HealthCheckType;
    readonly path: string;
    readonly grpcService: string;
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly healthyThreshold: number;
    readonly unhealthyThreshold: number;
  };
  readonly outlier: { readonly consecutiveFailures: number; readonly ejectionMs: number; readonly maxEjectionPercent: number };
  readonly slowStartMs: number;
  readonly maxRequestsPerBackend: number;
  readonly retries: number;
  readonly retryBudgetPercent: number;
  readonly connectTimeoutMs: number;
  readonly upstreamTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly upstreamKeepaliveMs: number;
  readonly maxConnections: number;
  readonly clientHeadersTimeoutMs: number;
  readonly clientKeepaliveTimeoutMs: number;
  readonly shutdownDelayMs: number;
  readonly drainTimeoutMs: number;
  readonly readyMinHealthyBackends: number;
  readonly forwardedHeaders: boolean;
  readonly adminToken: string | undefined;
  readonly dnsRefreshMs: number;
  readonly http2: boolean;
  readonly maxConcurrentStreams: number;
  readonly maxConnectionAgeMs: number;
  readonly tlsMinVersion: TlsVersion;
  /** TLS on the traffic listener; undefined = plain HTTP. */
  readonly listenerTls: ListenerTlsConfig | undefined;
  readonly upstreamTls: UpstreamTlsConfig;
  readonly logLevel: LogLevel;
  readonly accessLog: boolean;
}

export type Env = Readonly<Record<string, string | undefined>>;
export type ReadFile = (path: string) => string;

/**
 * Builds the Config from `env` (and CONFIG_FILE, read with `readFile`).
 * Throws ConfigError listing every problem, one line each.
 */
export function loadConfig(env: Env, readFile?: ReadFile): Config {
  const problems: string[] = [];
  let file: FileSettings | undefined;
  const configFile = nonEmpty(env.CONFIG_FILE);
  if (configFile !== undefined) {
    try {
      file = readConfigFile(configFile, readFile, (env.MODE ?? '').trim() === 'tcp' ? 'tcp' : 'http');
    } catch (err) {
      problems.push(`CONFIG_FILE: "${configFile}" ${(err as Error).message}`);
    }
  }
  // File settings fill in what the environment leaves unset; env wins.
  const merged: Record<string, string | undefined> = { ...file?.settings };
  for (const [k, val] of Object.entries(env)) if (val !== undefined && val !== '') merged[k] = val;

  // Defaults are env strings, so they pass through the same validators as given values.
  const specs: Record<string, ValidatorSpec<unknown>> = {};
  for (const variable of VARIABLES) {
    if (merged[variable.name] === undefined && variable.default !== undefined) merged[variable.name] = variable.default;
    specs[variable.name] = variable.validator({ default: undefined } as { default?: never });
  }
  // The envalid reporter collects; we throw one ConfigError after all checks.
  const clean = cleanEnv(merged, specs, {
    reporter: ({ errors }) => {
      for (const [name, error] of Object.entries(errors)) {
        if (error === undefined) continue;
        const raw = merged[name];
        const got = raw === undefined || error instanceof EnvMissingError ? 'is not set' : `got ${JSON.stringify(raw)}`;
        problems.push(`${name}: ${got}, ${error.message}`);
      }
    },
  }) as Record<string, unknown>;

  // envalid's result throws on reading a variable that failed; read MODE raw for the backend grammar.
  const rawMode = (merged.MODE ?? 'http').trim();
  const mode: Mode = (MODES as readonly string[]).includes(rawMode) ? (rawMode as Mode) : 'http';
  let backends: BackendAddress[] = [];
  if (file !== undefined) {
    backends = file.backends;
  } else if (configFile === undefined) {
    const list = nonEmpty(env.BACKENDS);
    if (list === undefined) {
      problems.push('BACKENDS: is not set, expected a comma-separated list like "http://10.0.0.5:8081;weight=3,10.0.0.6:8081" (or set CONFIG_FILE)');
    } else {
      try {
        backends = parseBackendList(list, mode);
      } catch (err) {
        problems.push(`BACKENDS: got ${JSON.stringify(list)}, ${(err as Error).message}`);
      }
    }
  }
  const rawVersion = (merged.TLS_MIN_VERSION ?? '').trim();
  const rawServerName = nonEmpty(merged.UPSTREAM_TLS_SERVER_NAME);
  const tls = tlsSettings({
    get: (name) => nonEmpty(merged[name]),
    minVersion: (TLS_VERSIONS as readonly string[]).includes(rawVersion) ? (rawVersion as TlsVersion) : undefined,
    serverName: rawServerName === undefined ? undefined : rawServerName.trim().toLowerCase(),
    mode,
    read: readFile,
  }, problems);
  if (problems.length === 0 && clean.PROXY_PORT !== 0 && clean.PROXY_PORT === clean.ADMIN_PORT) {
    problems.push(`ADMIN_PORT: got "${String(clean.ADMIN_PORT)}", expected a port other than PROXY_PORT (the admin listener needs its own)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return buildConfig(clean, backends, configFile, mode, tls);
}

function buildConfig(c: Record<string, unknown>, backends: BackendAddress[], configFile: string | undefined, mode: Mode, tls: ReturnType<typeof tlsSettings>): Config {
  const n = (k: string) => c[k] as number;
  const s = (k: string) => c[k] as string;
  const b = (k: string) => c[k] as boolean;
  return deepFreeze({
    backends,
    configFile,
    mode,
    proxyHost: s('PROXY_HOST'),
    proxyPort: n('PROXY_PORT'),
    adminHost: s('ADMIN_HOST'),
    adminPort: n('ADMIN_PORT'),
    algorithm: c.LB_ALGORITHM as Algorithm,
    hashKey: c.HASH_KEY as HashKey,
    healthCheck: {
      type: c.HEALTH_CHECK_TYPE as HealthCheckType,
      path: s('HEALTH_CHECK_PATH'),
      grpcService: (c.HEALTH_CHECK_GRPC_SERVICE as string | undefined) ?? '',
      intervalMs: n('HEALTH_CHECK_INTERVAL_MS'),
      timeoutMs: n('HEALTH_CHECK_TIMEOUT_MS'),
      healthyThreshold: n('HEALTHY_THRESHOLD'),
      unhealthyThreshold: n('UNHEALTHY_THRESHOLD'),
    },
    outlier: {
      consecutiveFailures: n('OUTLIER_CONSECUTIVE_FAILURES'),
      ejectionMs: n('OUTLIER_EJECTION_MS'),
      maxEjectionPercent: n('OUTLIER_MAX_EJECTION_PERCENT'),
    },
    slowStartMs: n('SLOW_START_MS'),
    maxRequestsPerBackend: n('MAX_REQUESTS_PER_BACKEND'),
    retries: n('RETRIES'),
    retryBudgetPercent: n('RETRY_BUDGET_PERCENT'),
    connectTimeoutMs: n('CONNECT_TIMEOUT_MS'),
    upstreamTimeoutMs: n('UPSTREAM_TIMEOUT_MS'),
    idleTimeoutMs: n('IDLE_TIMEOUT_MS'),
    upstreamKeepaliveMs: n('UPSTREAM_KEEPALIVE_MS'),
    maxConnections: n('MAX_CONNECTIONS'),
    clientHeadersTimeoutMs: n('CLIENT_HEADERS_TIMEOUT_MS'),
    clientKeepaliveTimeoutMs: n('CLIENT_KEEPALIVE_TIMEOUT_MS'),
    shutdownDelayMs: n('SHUTDOWN_DELAY_MS'),
    drainTimeoutMs: n('DRAIN_TIMEOUT_MS'),
    readyMinHealthyBackends: n('READY_MIN_HEALTHY_BACKENDS'),
    forwardedHeaders: b('FORWARDED_HEADERS'),
    adminToken: nonEmpty(c.ADMIN_TOKEN as string | undefined),
    dnsRefreshMs: n('DNS_REFRESH_MS'),
    http2: b('HTTP2'),
    maxConcurrentStreams: n('MAX_CONCURRENT_STREAMS'),
    maxConnectionAgeMs: n('MAX_CONNECTION_AGE_MS'),
    tlsMinVersion: c.TLS_MIN_VERSION as TlsVersion,
    listenerTls: tls.listener,
    upstreamTls: tls.upstream,
    logLevel: c.LOG_LEVEL as LogLevel,
    accessLog: b('ACCESS_LOG'),
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The config as shown by /api/status and the startup log: no secrets. */
export function configSummary(config: Config): Record<string, unknown> {
  const { adminToken, backends, listenerTls, upstreamTls, ...rest } = config;
  const files = (f: ListenerTlsConfig['files']) => ({ cert: f.cert?.path, key: f.key?.path, ca: f.ca?.path });
  return {
    ...rest, adminToken: adminToken === undefined ? 'unset' : 'set', backends: backends.length,
    // Paths only: the material (a private key among it) never leaves the process.
    listenerTls: listenerTls === undefined ? 'off' : { ...files(listenerTls.files), requireClientCert: listenerTls.requireClientCert },
    upstreamTls: { ...files(upstreamTls.files), serverName: upstreamTls.serverName },
  };
}
