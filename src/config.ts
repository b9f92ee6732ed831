/**
 * Configuration: SPEC §2, parsed once with envalid from an injected env
 * object into a frozen Config. Nothing else in src/ reads process.env.
 *
 * The variables themselves (names, defaults, meanings, validators) are one
 * table in config-variables.ts; this file turns an environment into Config.
 */
import { cleanEnv, EnvMissingError, type ValidatorSpec } from 'envalid';
import { ConfigError } from './errors.js';
import type { LogLevel } from './log.js';
import { parseBackendList, type BackendAddress } from './upstream/backend-address.js';
import { readConfigFile, type FileSettings } from './upstream/config-file.js';
import { TLS_VERSIONS, type TlsVersion } from './tls/cert-files.js';
import { tlsSettings, type ListenerTlsConfig, type UpstreamTlsConfig } from './tls/tls-config.js';
import { tracingConfig, tracingSummary, type TracingConfig } from './config-tracing.js';
import { VARIABLES, type Algorithm, type HashKey, type HealthCheckType, type Mode, MODES } from './config-variables.js';

export { MODES, ALGORITHMS, HEALTH_CHECK_TYPES, CONFIG_VARIABLES } from './config-variables.js';
export type { Mode, Algorithm, HealthCheckType, HashKey } from './config-variables.js';
export type { TracingConfig } from './config-tracing.js';

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
  readonly idleGcAfterMs: number;
  readonly upstreamKeepaliveMs: number;
  readonly maxConnections: number;
  readonly clientHeadersTimeoutMs: number;
  readonly clientKeepaliveTimeoutMs: number;
  readonly shutdownDelayMs: number;
  readonly drainTimeoutMs: number;
  readonly readyMinHealthyBackends: number;
  readonly forwardedHeaders: boolean;
  readonly adminToken: string | undefined;
  readonly adminHistoryIntervalMs: number;
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
  readonly tracing: TracingConfig;
}

/** Variables whose values may be credentials: a problem line does not repeat them. */
const SECRET = new Set(['ADMIN_TOKEN', 'OTEL_EXPORTER_OTLP_HEADERS']);

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
        const got = raw === undefined || error instanceof EnvMissingError ? 'is not set' : SECRET.has(name) ? 'got a value (not shown)' : `got ${JSON.stringify(raw)}`;
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
    idleGcAfterMs: n('IDLE_GC_AFTER_MS'),
    upstreamKeepaliveMs: n('UPSTREAM_KEEPALIVE_MS'),
    maxConnections: n('MAX_CONNECTIONS'),
    clientHeadersTimeoutMs: n('CLIENT_HEADERS_TIMEOUT_MS'),
    clientKeepaliveTimeoutMs: n('CLIENT_KEEPALIVE_TIMEOUT_MS'),
    shutdownDelayMs: n('SHUTDOWN_DELAY_MS'),
    drainTimeoutMs: n('DRAIN_TIMEOUT_MS'),
    readyMinHealthyBackends: n('READY_MIN_HEALTHY_BACKENDS'),
    forwardedHeaders: b('FORWARDED_HEADERS'),
    adminToken: nonEmpty(c.ADMIN_TOKEN as string | undefined),
    adminHistoryIntervalMs: n('ADMIN_HISTORY_INTERVAL_MS'),
    dnsRefreshMs: n('DNS_REFRESH_MS'),
    http2: b('HTTP2'),
    maxConcurrentStreams: n('MAX_CONCURRENT_STREAMS'),
    maxConnectionAgeMs: n('MAX_CONNECTION_AGE_MS'),
    tlsMinVersion: c.TLS_MIN_VERSION as TlsVersion,
    listenerTls: tls.listener,
    upstreamTls: tls.upstream,
    logLevel: c.LOG_LEVEL as LogLevel,
    accessLog: b('ACCESS_LOG'),
    tracing: tracingConfig(c),
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
  const { adminToken, backends, listenerTls, upstreamTls, tracing, ...rest } = config;
  const files = (f: ListenerTlsConfig['files']) => ({ cert: f.cert?.path, key: f.key?.path, ca: f.ca?.path });
  return {
    ...rest, adminToken: adminToken === undefined ? 'unset' : 'set', backends: backends.length,
    // Paths only: the material (a private key among it) never leaves the process.
    listenerTls: listenerTls === undefined ? 'off' : { ...files(listenerTls.files), requireClientCert: listenerTls.requireClientCert },
    upstreamTls: { ...files(upstreamTls.files), serverName: upstreamTls.serverName },
    tracing: tracingSummary(tracing),
  };
}
