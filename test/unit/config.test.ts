/** loadConfig over an injected env object (and an injected readFile for CONFIG_FILE). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARIABLES, configSummary, loadConfig, type Config, type Env } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { makePkiSync } from '../helpers/certs.js';

const BACKENDS = '10.0.0.1:8080';

/** Runs loadConfig and returns the ConfigError's problems; fails if it did not throw one. */
function problemsOf(env: Env, readFile?: (path: string) => string): readonly string[] {
  try {
    loadConfig(env, readFile);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    assert.equal(err.code, 'ERR_INVALID_CONFIG');
    return err.problems;
  }
  assert.fail(`loadConfig(${JSON.stringify(env)}) did not throw`);
}

/** SPEC §2's defaults, written out independently of src/config.ts. */
const SPEC_DEFAULTS: Record<string, string | undefined> = {
  BACKENDS: undefined, CONFIG_FILE: undefined, MODE: 'http', PROXY_HOST: '0.0.0.0', PROXY_PORT: '8080',
  ADMIN_HOST: '0.0.0.0', ADMIN_PORT: '9901', LB_ALGORITHM: 'round-robin', HASH_KEY: 'ip', HEALTH_CHECK_TYPE: 'tcp',
  HEALTH_CHECK_PATH: '/health', HEALTH_CHECK_INTERVAL_MS: '5000', HEALTH_CHECK_TIMEOUT_MS: '1000', HEALTHY_THRESHOLD: '2',
  UNHEALTHY_THRESHOLD: '3', OUTLIER_CONSECUTIVE_FAILURES: '5', OUTLIER_EJECTION_MS: '30000', OUTLIER_MAX_EJECTION_PERCENT: '50',
  SLOW_START_MS: '0', MAX_REQUESTS_PER_BACKEND: '0', RETRIES: '2', RETRY_BUDGET_PERCENT: '20', CONNECT_TIMEOUT_MS: '2000',
  UPSTREAM_TIMEOUT_MS: '30000', IDLE_TIMEOUT_MS: '60000', UPSTREAM_KEEPALIVE_MS: '4000', MAX_CONNECTIONS: '10000',
  CLIENT_HEADERS_TIMEOUT_MS: '10000', CLIENT_KEEPALIVE_TIMEOUT_MS: '65000', SHUTDOWN_DELAY_MS: '5000', DRAIN_TIMEOUT_MS: '20000',
  READY_MIN_HEALTHY_BACKENDS: '0', FORWARDED_HEADERS: 'true', ADMIN_TOKEN: undefined, DNS_REFRESH_MS: '5000', LOG_LEVEL: 'info',
  ACCESS_LOG: 'true', HEALTH_CHECK_GRPC_SERVICE: undefined, HTTP2: 'true', MAX_CONCURRENT_STREAMS: '100', MAX_CONNECTION_AGE_MS: '0',
  TLS_CERT_FILE: undefined, TLS_KEY_FILE: undefined, TLS_CLIENT_CA_FILE: undefined, TLS_MIN_VERSION: 'TLSv1.2',
  UPSTREAM_TLS_CA_FILE: undefined, UPSTREAM_TLS_CERT_FILE: undefined, UPSTREAM_TLS_KEY_FILE: undefined, UPSTREAM_TLS_SERVER_NAME: undefined,
  ADMIN_HISTORY_INTERVAL_MS: '5000', // the dashboard's sample period (README "Dashboard"), beside SPEC §2
  IDLE_GC_AFTER_MS: '10000', // the memory-reducing GC after load (docs/kubernetes.md "Resources"), beside SPEC §2
  // SPEC §10 and the OpenTelemetry SDK environment specification's defaults.
  OTEL_EXPORTER_OTLP_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined, OTEL_EXPORTER_OTLP_HEADERS: undefined,
  OTEL_EXPORTER_OTLP_TIMEOUT: '10000', OTEL_SERVICE_NAME: 'outrigger', OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  OTEL_TRACES_SAMPLER_ARG: undefined, OTEL_BSP_MAX_QUEUE_SIZE: '2048', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512',
  OTEL_BSP_SCHEDULE_DELAY: '5000', OTEL_BSP_EXPORT_TIMEOUT: '30000', OTEL_SDK_DISABLED: 'false',
};

/** Where each variable lands in Config. */
const FIELD: Record<string, (c: Config) => unknown> = {
  CONFIG_FILE: (c) => c.configFile, MODE: (c) => c.mode, PROXY_HOST: (c) => c.proxyHost, PROXY_PORT: (c) => c.proxyPort,
  ADMIN_HOST: (c) => c.adminHost, ADMIN_PORT: (c) => c.adminPort, LB_ALGORITHM: (c) => c.algorithm, HASH_KEY: (c) => c.hashKey,
  HEALTH_CHECK_TYPE: (c) => c.healthCheck.type, HEALTH_CHECK_PATH: (c) => c.healthCheck.path,
  HEALTH_CHECK_INTERVAL_MS: (c) => c.healthCheck.intervalMs, HEALTH_CHECK_TIMEOUT_MS: (c) => c.healthCheck.timeoutMs,
  HEALTHY_THRESHOLD: (c) => c.healthCheck.healthyThreshold, UNHEALTHY_THRESHOLD: (c) => c.healthCheck.unhealthyThreshold,
  OUTLIER_CONSECUTIVE_FAILURES: (c) => c.outlier.consecutiveFailures, OUTLIER_EJECTION_MS: (c) => c.outlier.ejectionMs,
  OUTLIER_MAX_EJECTION_PERCENT: (c) => c.outlier.maxEjectionPercent, SLOW_START_MS: (c) => c.slowStartMs,
  MAX_REQUESTS_PER_BACKEND: (c) => c.maxRequestsPerBackend, RETRIES: (c) => c.retries, RETRY_BUDGET_PERCENT: (c) => c.retryBudgetPercent,
  CONNECT_TIMEOUT_MS: (c) => c.connectTimeoutMs, UPSTREAM_TIMEOUT_MS: (c) => c.upstreamTimeoutMs, IDLE_TIMEOUT_MS: (c) => c.idleTimeoutMs,
  UPSTREAM_KEEPALIVE_MS: (c) => c.upstreamKeepaliveMs, MAX_CONNECTIONS: (c) => c.maxConnections,
  CLIENT_HEADERS_TIMEOUT_MS: (c) => c.clientHeadersTimeoutMs, CLIENT_KEEPALIVE_TIMEOUT_MS: (c) => c.clientKeepaliveTimeoutMs,
  SHUTDOWN_DELAY_MS: (c) => c.shutdownDelayMs, DRAIN_TIMEOUT_MS: (c) => c.drainTimeoutMs,
  READY_MIN_HEALTHY_BACKENDS: (c) => c.readyMinHealthyBackends, FORWARDED_HEADERS: (c) => c.forwardedHeaders,
  ADMIN_TOKEN: (c) => c.adminToken, DNS_REFRESH_MS: (c) => c.dnsRefreshMs, LOG_LEVEL: (c) => c.logLevel, ACCESS_LOG: (c) => c.accessLog,
  HEALTH_CHECK_GRPC_SERVICE: (c) => c.healthCheck.grpcService || undefined, HTTP2: (c) => c.http2, MAX_CONCURRENT_STREAMS: (c) => c.maxConcurrentStreams, MAX_CONNECTION_AGE_MS: (c) => c.maxConnectionAgeMs,
  TLS_CERT_FILE: (c) => c.listenerTls?.files.cert?.path, TLS_KEY_FILE: (c) => c.listenerTls?.files.key?.path,
  TLS_CLIENT_CA_FILE: (c) => c.listenerTls?.files.ca?.path, TLS_MIN_VERSION: (c) => c.tlsMinVersion,
  UPSTREAM_TLS_CA_FILE: (c) => c.upstreamTls.files.ca?.path, UPSTREAM_TLS_CERT_FILE: (c) => c.upstreamTls.files.cert?.path,
  UPSTREAM_TLS_KEY_FILE: (c) => c.upstreamTls.files.key?.path, UPSTREAM_TLS_SERVER_NAME: (c) => c.upstreamTls.serverName,
  ADMIN_HISTORY_INTERVAL_MS: (c) => c.adminHistoryIntervalMs,
  IDLE_GC_AFTER_MS: (c) => c.idleGcAfterMs,
  OTEL_EXPORTER_OTLP_ENDPOINT: (c) => c.tracing.url, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: (c) => c.tracing.url,
  OTEL_EXPORTER_OTLP_HEADERS: (c) => c.tracing.headers, OTEL_EXPORTER_OTLP_TIMEOUT: (c) => c.tracing.timeoutMs,
  OTEL_SERVICE_NAME: (c) => c.tracing.serviceName, OTEL_TRACES_SAMPLER: (c) => c.tracing.sampler, OTEL_TRACES_SAMPLER_ARG: (c) => c.tracing.samplerArg,
  OTEL_BSP_MAX_QUEUE_SIZE: (c) => c.tracing.maxQueueSize, OTEL_BSP_MAX_EXPORT_BATCH_SIZE: (c) => c.tracing.maxExportBatchSize,
  OTEL_BSP_SCHEDULE_DELAY: (c) => c.tracing.scheduledDelayMs, OTEL_BSP_EXPORT_TIMEOUT: (c) => c.tracing.exportTimeoutMs,
  OTEL_SDK_DISABLED: (c) => c.tracing.disabled,
};

/** The typed value an env string stands for. */
function typed(name: string, value: string | undefined): unknown {
  if (value === undefined) return undefined;
  if (name === 'HASH_KEY') return { kind: 'ip' };
  if (/^\d+$/.test(value)) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  return value;
}

describe('defaults', () => {
  test('CONFIG_VARIABLES lists exactly the SPEC §2 variables with the SPEC defaults', () => {
    assert.deepEqual(Object.fromEntries(CONFIG_VARIABLES.map((v) => [v.name, v.default])), SPEC_DEFAULTS);
    for (const v of CONFIG_VARIABLES) assert.ok(v.description.length > 0, `${v.name} has no description`);
  });

  test('an env with only BACKENDS yields every default', () => {
    const config = loadConfig({ BACKENDS });
    for (const v of CONFIG_VARIABLES) {
      if (v.name === 'BACKENDS') continue;
      assert.ok(FIELD[v.name] !== undefined, `no Config field known for ${v.name}`);
      assert.deepEqual(FIELD[v.name]!(config), typed(v.name, v.default), v.name);
    }
  });

  test('spelling out every default changes nothing', () => {
    const explicit: Record<string, string> = { BACKENDS };
    for (const v of CONFIG_VARIABLES) if (v.default !== undefined) explicit[v.name] = v.default;
    assert.deepEqual(loadConfig(explicit), loadConfig({ BACKENDS }));
  });

  test('empty strings count as unset; unrelated variables are ignored', () => {
    assert.deepEqual(loadConfig({ BACKENDS, PROXY_PORT: '', LOG_LEVEL: '', PATH: '/usr/bin', HOME: '/root' }), loadConfig({ BACKENDS }));
  });

  test('given values are parsed into their types', () => {
    const c = loadConfig({
      BACKENDS, MODE: 'tcp', PROXY_HOST: '[::1]', PROXY_PORT: '0', LB_ALGORITHM: 'ewma', HASH_KEY: 'header:X-User',
      HEALTH_CHECK_TYPE: 'http', HEALTH_CHECK_PATH: '/ready?full=1', FORWARDED_HEADERS: 'false', ACCESS_LOG: '0',
      ADMIN_TOKEN: 's3cret', RETRIES: ' 4 ', LOG_LEVEL: 'silent',
    });
    assert.equal(c.mode, 'tcp');
    assert.equal(c.proxyHost, '::1');
    assert.equal(c.proxyPort, 0);
    assert.equal(c.algorithm, 'ewma');
    assert.deepEqual(c.hashKey, { kind: 'header', name: 'x-user' });
    assert.deepEqual(loadConfig({ BACKENDS, HASH_KEY: 'cookie:SID' }).hashKey, { kind: 'cookie', name: 'SID' });
    assert.equal(c.healthCheck.type, 'http');
    assert.equal(c.healthCheck.path, '/ready?full=1');
    assert.equal(c.forwardedHeaders, false);
    assert.equal(c.accessLog, false);
    assert.equal(c.adminToken, 's3cret');
    assert.equal(c.retries, 4);
    assert.equal(c.logLevel, 'silent');
  });
});

describe('bad values: one problem line per bad variable, naming it and the value', () => {
  /** [variable, bad value]. ADMIN_TOKEN takes any string, so it has no bad value. */
  const BAD: ReadonlyArray<readonly [string, string]> = [
    ['MODE', 'udp'],
    ['PROXY_HOST', 'proxy host'],
    ['PROXY_PORT', '70000'],
    ['PROXY_PORT', 'http'],
    ['ADMIN_HOST', 'a/b'],
    ['ADMIN_PORT', '-1'],
    ['LB_ALGORITHM', 'weighted-random'],
    ['HASH_KEY', 'query:x'],
    ['HASH_KEY', 'header:'],
    ['HEALTH_CHECK_TYPE', 'h2'],
    ['HEALTH_CHECK_PATH', 'health'],
    ['HEALTH_CHECK_INTERVAL_MS', '5s'],
    ['HEALTH_CHECK_INTERVAL_MS', '0'],
    ['HEALTH_CHECK_TIMEOUT_MS', '1.5'],
    ['HEALTHY_THRESHOLD', '0'],
    ['UNHEALTHY_THRESHOLD', 'three'],
    ['OUTLIER_CONSECUTIVE_FAILURES', '-1'],
    ['OUTLIER_EJECTION_MS', '30s'],
    ['OUTLIER_MAX_EJECTION_PERCENT', '101'],
    ['SLOW_START_MS', 'soon'],
    ['MAX_REQUESTS_PER_BACKEND', 'many'],
    ['RETRIES', '11'],
    ['RETRY_BUDGET_PERCENT', '150'],
    ['CONNECT_TIMEOUT_MS', '0'],
    ['UPSTREAM_TIMEOUT_MS', '-5'],
    ['IDLE_TIMEOUT_MS', '1e3'],
    ['UPSTREAM_KEEPALIVE_MS', 'forever'],
    ['MAX_CONNECTIONS', '0'],
    ['CLIENT_HEADERS_TIMEOUT_MS', '10 s'],
    ['CLIENT_KEEPALIVE_TIMEOUT_MS', '65000ms'],
    ['SHUTDOWN_DELAY_MS', '5000.5'],
    ['DRAIN_TIMEOUT_MS', 'NaN'],
    ['READY_MIN_HEALTHY_BACKENDS', 'all'],
    ['FORWARDED_HEADERS', 'yes'],
    ['DNS_REFRESH_MS', '0'],
    ['ADMIN_HISTORY_INTERVAL_MS', '50'],
    ['ADMIN_HISTORY_INTERVAL_MS', '61000'],
    ['IDLE_GC_AFTER_MS', '10s'],
    ['LOG_LEVEL', 'verbose'],
    ['ACCESS_LOG', 'on'],
    ['HTTP2', 'h2c'],
    ['MAX_CONCURRENT_STREAMS', '0'],
    ['MAX_CONNECTION_AGE_MS', '1h'],
    ['TLS_MIN_VERSION', 'TLSv1.1'],
    ['TLS_MIN_VERSION', 'tls1.3'],
    ['UPSTREAM_TLS_SERVER_NAME', 'orders shop'],
    ['UPSTREAM_TLS_SERVER_NAME', 'https://orders.shop.svc'],
    ['BACKENDS', '10.0.0.1'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'otel-collector:4318'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'grpc://collector:4317'],
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', '/v1/traces'],
    ['OTEL_EXPORTER_OTLP_TIMEOUT', '10s'],
    ['OTEL_SERVICE_NAME', '  '],
    ['OTEL_TRACES_SAMPLER', 'jaeger_remote'],
    ['OTEL_TRACES_SAMPLER', 'AlwaysOn'],
    ['OTEL_TRACES_SAMPLER_ARG', '1.5'],
    ['OTEL_TRACES_SAMPLER_ARG', 'half'],
    ['OTEL_BSP_MAX_QUEUE_SIZE', '0'],
    ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'all'],
    ['OTEL_BSP_SCHEDULE_DELAY', '5s'],
    ['OTEL_BSP_EXPORT_TIMEOUT', '0'],
    ['OTEL_SDK_DISABLED', 'yes'],
  ];

  test('the table covers every variable that can be given a bad value', () => {
    const covered = new Set(BAD.map(([name]) => name));
    for (const v of CONFIG_VARIABLES) {
      if (v.name === 'ADMIN_TOKEN' || v.name === 'CONFIG_FILE' || v.name === 'HEALTH_CHECK_GRPC_SERVICE') continue; // any string; CONFIG_FILE has its own tests
      if (v.name === 'OTEL_EXPORTER_OTLP_HEADERS') continue; // its value is never shown: 'tracing' below
      if (v.name.endsWith('_FILE')) continue; // the TLS files: 'TLS files' below
      assert.ok(covered.has(v.name), `${v.name} has no bad-value row`);
    }
  });

  for (const [name, value] of BAD) {
    test(`${name}=${JSON.stringify(value)}`, () => {
      const env = { BACKENDS, [name]: value };
      const problems = problemsOf(env);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.ok(problems[0]!.startsWith(`${name}: `), problems[0]);
      assert.ok(problems[0]!.includes(value), `the line does not show the bad value: ${problems[0]}`);
      assert.ok(problems[0]!.includes('expected') || name === 'BACKENDS', `the line does not say what is expected: ${problems[0]}`);
      assert.ok(!problems[0]!.includes('\n') && !/\bat .*\.js:\d+/.test(problems[0]!), 'no stack traces');
    });
  }

  test('a duration above the timer ceiling says what the ceiling is', () => {
    const [problem] = problemsOf({ BACKENDS, UPSTREAM_TIMEOUT_MS: '99999999999999' });
    assert.match(problem!, /UPSTREAM_TIMEOUT_MS: .*from 0 to 2147483647/);
  });

  test('BACKENDS unset (and no CONFIG_FILE) is one problem naming BACKENDS', () => {
    const problems = problemsOf({});
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^BACKENDS: is not set/);
    assert.match(problems[0]!, /CONFIG_FILE/);
  });

  test('several bad variables at once give one line each, all reported together', () => {
    const problems = problemsOf({ BACKENDS: 'ftp://x:1', MODE: 'udp', PROXY_PORT: '99999', LOG_LEVEL: 'loud', RETRIES: 'x', FORWARDED_HEADERS: 'maybe' });
    assert.equal(problems.length, 6, problems.join('\n'));
    for (const name of ['BACKENDS', 'MODE', 'PROXY_PORT', 'LOG_LEVEL', 'RETRIES', 'FORWARDED_HEADERS']) {
      assert.equal(problems.filter((p) => p.startsWith(`${name}: `)).length, 1, `${name}: ${problems.join(' | ')}`);
    }
  });

  test('the ConfigError message carries every problem line', () => {
    try {
      loadConfig({ BACKENDS, PROXY_PORT: 'x', ADMIN_PORT: 'y' });
      assert.fail('no error');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      for (const p of err.problems) assert.ok(err.message.includes(p));
    }
  });
});

describe('BACKENDS grammar', () => {
  test('the SPEC example: weights, schemes and dns+ entries', () => {
    const c = loadConfig({ BACKENDS: 'http://10.0.0.5:8081;weight=3,10.0.0.6:8081,dns+http://api-headless.default.svc:8080' });
    assert.deepEqual(c.backends, [
      { id: '10.0.0.5:8081', scheme: 'http', host: '10.0.0.5', port: 8081, weight: 3, dns: false },
      { id: '10.0.0.6:8081', scheme: 'http', host: '10.0.0.6', port: 8081, weight: 1, dns: false },
      { id: 'api-headless.default.svc:8080', scheme: 'http', host: 'api-headless.default.svc', port: 8080, weight: 1, dns: true },
    ]);
  });

  const GOOD: ReadonlyArray<readonly [string, Partial<Config['backends'][number]>]> = [
    ['https://api.example.com:8443', { id: 'api.example.com:8443', scheme: 'https', host: 'api.example.com', port: 8443, dns: false }],
    ['HTTPS://api.example.com:443', { scheme: 'https', port: 443 }],
    ['dns+https://svc.ns.svc.cluster.local:443;weight=7', { scheme: 'https', dns: true, weight: 7 }],
    ['[::1]:8081', { id: '[::1]:8081', host: '::1', port: 8081, scheme: 'http' }],
    ['h2c://10.0.0.7:50051', { id: '10.0.0.7:50051', scheme: 'h2c', host: '10.0.0.7', port: 50051, dns: false }],
    ['H2C://[::1]:50051;weight=4', { id: '[::1]:50051', scheme: 'h2c', host: '::1', weight: 4 }],
    ['h2://grpc.example.com:443', { id: 'grpc.example.com:443', scheme: 'h2', host: 'grpc.example.com', port: 443, dns: false }],
    ['dns+h2c://grpc-headless.default.svc:50051', { scheme: 'h2c', dns: true, host: 'grpc-headless.default.svc' }],
    ['dns+h2://grpc-headless.default.svc:443;weight=2', { scheme: 'h2', dns: true, weight: 2 }],
    ['http://[2001:db8::1]:80;weight=1000', { id: '[2001:db8::1]:80', host: '2001:db8::1', weight: 1000 }],
    ['localhost:1;weight=1', { id: 'localhost:1', port: 1, weight: 1 }],
    ['  10.0.0.9:65535  ', { id: '10.0.0.9:65535', port: 65535 }],
  ];
  for (const [entry, expected] of GOOD) {
    test(`accepts ${JSON.stringify(entry)}`, () => {
      const [b] = loadConfig({ BACKENDS: entry }).backends;
      for (const [k, v] of Object.entries(expected)) assert.equal((b as unknown as Record<string, unknown>)[k], v, k);
    });
  }

  const BAD: ReadonlyArray<readonly [string, RegExp]> = [
    ['10.0.0.1', /missing :port/],
    ['10.0.0.1:0', /port must be 1-65535/],
    ['10.0.0.1:70000', /port must be 1-65535/],
    ['10.0.0.1:http', /port must be 1-65535/],
    ['10.0.0.1:020011', /port must be 1-65535 \(got "020011"\)/],
    ['10.0.0.1:8080 ;weight=2', /port must be 1-65535 \(got "8080 "\)/],
    ['10.0.0.1:8080;weight=0', /weight must be an integer from 1 to 1000/],
    ['10.0.0.1:8080;weight=1001', /weight must be an integer from 1 to 1000/],
    ['10.0.0.1:8080;weight=-2', /unknown option/],
    ['10.0.0.1:8080;prio=1', /unknown option/],
    ['ftp://10.0.0.1:21', /unknown scheme/],
    ['tcp://10.0.0.1:21', /unknown scheme/],
    ['h3://10.0.0.1:443', /unknown scheme/],
    ['h2s://10.0.0.1:443', /unknown scheme/],
    ['dns+h2c://10.0.0.1:50051', /needs a DNS name/],
    ['::1:8081', /IPv6 addresses must be in brackets/],
    ['[::1]8081', /expected \[ipv6\]:port/],
    ['[10.0.0.1]:80', /not an IPv6 address/],
    ['dns+http://10.0.0.1:80', /needs a DNS name/],
    ['bad_host!:80', /not a valid host/],
    ['10.0.0.1:8080,10.0.0.1:8080', /listed twice/],
    ['http://10.0.0.1:8080,10.0.0.1:8080;weight=2', /listed twice/],
    ['LOCALHOST:80,localhost:80', /listed twice/],
    ['[0::1]:80,[::1]:80', /listed twice/],
    ['[FE80::0:1]:80,[fe80::1]:80', /listed twice/],
    ['127.000.0.1:80', /not a valid IPv4 address/],
    ['999.1.1.1:80', /not a valid IPv4 address/],
    ['10.0.0.1:80;weight=2;weight=3', /one option at most/],
    ['http://user:pw@10.0.0.1:80', /user:password@ is not supported/],
    [' , ', /no backend entries/],
  ];
  for (const [list, message] of BAD) {
    test(`rejects ${JSON.stringify(list)}`, () => {
      const problems = problemsOf({ BACKENDS: list });
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.ok(problems[0]!.startsWith('BACKENDS: '), problems[0]);
      assert.match(problems[0]!, message);
      assert.ok(problems[0]!.includes(JSON.stringify(list)), `the bad value is not shown: ${problems[0]}`);
    });
  }

  test('every bad entry of one list is named in the single BACKENDS line', () => {
    const problems = problemsOf({ BACKENDS: '10.0.0.1:8080,10.0.0.2,10.0.0.3:0,10.0.0.4:80;weight=5000' });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /"10\.0\.0\.2": missing :port/);
    assert.match(problems[0]!, /"10\.0\.0\.3:0": port must be/);
    assert.match(problems[0]!, /"10\.0\.0\.4:80;weight=5000": weight must be/);
  });

  test('the same host:port as a static entry and behind dns+ are different entries', () => {
    assert.equal(loadConfig({ BACKENDS: 'api.local:80,dns+http://api.local:80' }).backends.length, 2);
  });

  test('tcp mode takes host:port[;weight=N] and rejects any scheme', () => {
    const c = loadConfig({ MODE: 'tcp', BACKENDS: '10.0.0.1:5432;weight=2,[::1]:5432' });
    assert.deepEqual(c.backends.map((b) => [b.id, b.weight]), [['10.0.0.1:5432', 2], ['[::1]:5432', 1]]);
    for (const entry of ['http://10.0.0.1:5432', 'https://db:5432', 'dns+http://db:5432', 'h2c://db:5432', 'dns+h2://db:5432']) {
      const problems = problemsOf({ MODE: 'tcp', BACKENDS: entry });
      assert.equal(problems.length, 1);
      assert.match(problems[0]!, /^BACKENDS: .*tcp mode entries take no scheme/);
    }
  });
});

describe('CONFIG_FILE', () => {
  const SEED = '{"port":8080,"servers":[{"url":"http://localhost:8001"}],"healthCheckInterval":10}';
  function files(map: Record<string, string>): (path: string) => string {
    return (path) => {
      const text = map[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
      return text;
    };
  }

  test('the seed format: port, servers and healthCheckInterval in seconds', () => {
    const c = loadConfig({ CONFIG_FILE: '/etc/outrigger/config.json' }, files({ '/etc/outrigger/config.json': SEED }));
    assert.equal(c.configFile, '/etc/outrigger/config.json');
    assert.equal(c.proxyPort, 8080);
    assert.equal(c.healthCheck.intervalMs, 10_000);
    assert.deepEqual(c.backends, [{ id: 'localhost:8001', scheme: 'http', host: 'localhost', port: 8001, weight: 1, dns: false }]);
  });

  test('per-server weight and a trailing slash in the url', () => {
    const text = JSON.stringify({ servers: [{ url: 'http://a.local:8001/', weight: 3 }, { url: 'https://b.local:8443' }] });
    const c = loadConfig({ CONFIG_FILE: 'f.json' }, files({ 'f.json': text }));
    assert.deepEqual(c.backends.map((b) => [b.id, b.scheme, b.weight]), [['a.local:8001', 'http', 3], ['b.local:8443', 'https', 1]]);
    assert.equal(c.proxyPort, 8080, 'settings the file leaves out keep their defaults');
  });

  test('HTTP/2 schemes in the file', () => {
    const text = JSON.stringify({ servers: [{ url: 'h2c://a.local:50051/' }, { url: 'h2://b.local:443', weight: 2 }] });
    const c = loadConfig({ CONFIG_FILE: 'f.json' }, files({ 'f.json': text }));
    assert.deepEqual(c.backends.map((b) => [b.id, b.scheme, b.weight]), [['a.local:50051', 'h2c', 1], ['b.local:443', 'h2', 2]]);
  });

  test('env variables win over file settings; the server list comes from the file', () => {
    const c = loadConfig(
      { CONFIG_FILE: 'f.json', PROXY_PORT: '9000', HEALTH_CHECK_INTERVAL_MS: '2500', BACKENDS: '10.9.9.9:1' },
      files({ 'f.json': SEED.replace('8080', '7000') }),
    );
    assert.equal(c.proxyPort, 9000);
    assert.equal(c.healthCheck.intervalMs, 2500);
    assert.deepEqual(c.backends.map((b) => b.id), ['localhost:8001']);
  });

  test('file settings are held to the same ranges as env values, and named by their file key (the operator never set PROXY_PORT)', () => {
    const problems = problemsOf({ CONFIG_FILE: 'f.json' }, files({ 'f.json': '{"port":70000,"servers":[{"url":"http://a:1"}]}' }));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^CONFIG_FILE: "f\.json" "port" must be an integer from 0 to 65535 \(got 70000\)/);
  });

  const BAD_FILES: ReadonlyArray<readonly [string, string, RegExp]> = [
    ['invalid JSON', '{"servers": [', /is not valid JSON/],
    ['not an object', '[1,2]', /must hold a JSON object/],
    ['no servers', '{"port":8080}', /non-empty "servers"/],
    ['bad server url', '{"servers":[{"url":"http://a"}]}', /servers\[0\]: .*missing :port/],
    ['bad weight', '{"servers":[{"url":"http://a:1","weight":1.5}]}', /"weight" must be an integer/],
    ['duplicate server', '{"servers":[{"url":"http://a:1"},{"url":"a:1"}]}', /listed twice/],
    ['two URLs in one url', '{"servers":[{"url":"http://a:1,http://b:2"}]}', /one backend URL/],
    ['a weight in the url and beside it', '{"servers":[{"url":"http://a:1;weight=5","weight":2}]}', /one option at most/],
    ['bad interval', '{"servers":[{"url":"http://a:1"}],"healthCheckInterval":"10"}', /"healthCheckInterval" must be a number of seconds/],
    ['zero interval (named by its key, not HEALTH_CHECK_INTERVAL_MS)', '{"servers":[{"url":"http://a:1"}],"healthCheckInterval":0}', /"healthCheckInterval" must be a number of seconds from 0\.001/],
    ['port out of range', '{"servers":[{"url":"http://a:1"}],"port":99999}', /"port" must be an integer from 0 to 65535 \(got 99999\)/],
  ];
  for (const [what, text, message] of BAD_FILES) {
    test(`${what} → one CONFIG_FILE problem naming the file`, () => {
      const problems = problemsOf({ CONFIG_FILE: '/cfg/lb.json' }, files({ '/cfg/lb.json': text }));
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.ok(problems[0]!.startsWith('CONFIG_FILE: "/cfg/lb.json"'), problems[0]);
      assert.match(problems[0]!, message);
    });
  }

  test('an unreadable file → one CONFIG_FILE problem with the error code', () => {
    const problems = problemsOf({ CONFIG_FILE: '/missing.json' }, files({}));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^CONFIG_FILE: "\/missing\.json" cannot be read: ENOENT/);
  });

  test('a bad file and a bad env variable are both reported', () => {
    const problems = problemsOf({ CONFIG_FILE: 'f.json', LOG_LEVEL: 'loud' }, files({ 'f.json': 'nope' }));
    assert.equal(problems.length, 2, problems.join('\n'));
  });

  test('tcp mode: file servers are validated in tcp mode, as on reload (ConfigWatcher) and in BACKENDS', () => {
    const problems = problemsOf({ MODE: 'tcp', CONFIG_FILE: 'f.json' }, files({ 'f.json': SEED }));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^CONFIG_FILE: .*tcp mode entries take no scheme/);
  });

  test('tcp mode: scheme-less file servers are accepted', () => {
    const c = loadConfig({ MODE: 'tcp', CONFIG_FILE: 'f.json' }, files({ 'f.json': '{"servers":[{"url":"db.local:5432","weight":2}]}' }));
    assert.equal(c.mode, 'tcp');
    assert.deepEqual(c.backends.map((b) => [b.id, b.weight]), [['db.local:5432', 2]]);
  });
});

describe('TLS files', () => {
  // Certificates made with openssl for this file only, removed afterwards (none are committed).
  const pki = makePkiSync();
  const at = (name: string, text: string) => {
    writeFileSync(join(pki.dir, name), text);
    return join(pki.dir, name);
  };
  const garbage = at('garbage.pem', 'not a certificate\n');
  const corrupt = at('corrupt.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  const huge = at('huge.pem', 'x'.repeat(1024 * 1024 + 1));
  const dir = join(pki.dir, 'a-directory');
  mkdirSync(dir);
  const LISTENER = { BACKENDS, TLS_CERT_FILE: pki.server.cert, TLS_KEY_FILE: pki.server.key };
  const UPSTREAM = { BACKENDS, UPSTREAM_TLS_CERT_FILE: pki.server.cert, UPSTREAM_TLS_KEY_FILE: pki.server.key };

  test('a certificate and its key: the listener speaks TLS; the material read at startup is kept', () => {
    const c = loadConfig(LISTENER);
    assert.ok(c.listenerTls !== undefined);
    assert.equal(c.listenerTls.files.cert?.path, pki.server.cert);
    assert.equal(c.listenerTls.requireClientCert, false);
    assert.equal(c.listenerTls.minVersion, 'TLSv1.2');
    assert.equal(c.listenerTls.material.cert, readFileSync(pki.server.cert, 'utf8'));
    assert.equal(c.listenerTls.material.serial, '51');
    const days = (c.listenerTls.material.notAfter! * 1000 - Date.now()) / 86_400_000;
    assert.ok(days > 1 && days <= 2, `notAfter ${days} days away`);
    assert.equal(loadConfig({ BACKENDS }).listenerTls, undefined, 'no files, no TLS');
  });

  test('TLS_CLIENT_CA_FILE requires client certificates; TLS_MIN_VERSION is passed on', () => {
    const c = loadConfig({ ...LISTENER, TLS_CLIENT_CA_FILE: pki.ca.cert, TLS_MIN_VERSION: 'TLSv1.3' });
    assert.equal(c.listenerTls?.requireClientCert, true);
    assert.equal(c.listenerTls?.minVersion, 'TLSv1.3');
    assert.equal(c.listenerTls?.material.ca, readFileSync(pki.ca.cert, 'utf8'));
  });

  test('UPSTREAM_TLS_*: checked and kept for the backend engines', () => {
    const c = loadConfig({ ...UPSTREAM, UPSTREAM_TLS_CA_FILE: pki.ca.cert, UPSTREAM_TLS_SERVER_NAME: 'Orders.Shop.svc' });
    assert.equal(c.upstreamTls.serverName, 'orders.shop.svc');
    assert.equal(c.upstreamTls.material?.key, readFileSync(pki.server.key, 'utf8'));
    assert.equal(c.listenerTls, undefined, 'the listener stays plain');
    assert.equal(loadConfig({ BACKENDS, UPSTREAM_TLS_CA_FILE: pki.ca.cert }).upstreamTls.material?.cert, undefined, 'a CA alone is fine');
  });

  const BAD: ReadonlyArray<readonly [string, Env, string, RegExp]> = [
    ['a certificate without its key', { BACKENDS, TLS_CERT_FILE: pki.server.cert }, 'TLS_KEY_FILE', /is not set, expected the private key of TLS_CERT_FILE/],
    ['a key without its certificate', { BACKENDS, TLS_KEY_FILE: pki.server.key }, 'TLS_CERT_FILE', /is not set, expected the certificate chain/],
    ['client CAs without a TLS listener', { BACKENDS, TLS_CLIENT_CA_FILE: pki.ca.cert }, 'TLS_CLIENT_CA_FILE', /expected TLS_CERT_FILE and TLS_KEY_FILE/],
    ['a missing certificate file', { ...LISTENER, TLS_CERT_FILE: '/nonexistent/tls.crt' }, 'TLS_CERT_FILE', /"\/nonexistent\/tls\.crt" cannot be read: ENOENT/],
    ['a directory', { ...LISTENER, TLS_KEY_FILE: dir }, 'TLS_KEY_FILE', /is a directory, expected a regular file/],
    ['a file over the size cap', { ...LISTENER, TLS_CERT_FILE: huge }, 'TLS_CERT_FILE', /larger than the 1 MiB limit/],
    ['a certificate file without PEM', { ...LISTENER, TLS_CERT_FILE: garbage }, 'TLS_CERT_FILE', /holds no PEM certificate/],
    ['an unparsable certificate', { ...LISTENER, TLS_CERT_FILE: corrupt }, 'TLS_CERT_FILE', /certificate 1 cannot be parsed/],
    ['an unparsable key', { ...LISTENER, TLS_KEY_FILE: garbage }, 'TLS_KEY_FILE', /is not an unencrypted PEM private key/],
    ['a key that is not the certificate\'s', { ...LISTENER, TLS_KEY_FILE: pki.other.key }, 'TLS_KEY_FILE', /does not match the certificate in TLS_CERT_FILE/],
    ['unparsable client CAs', { ...LISTENER, TLS_CLIENT_CA_FILE: garbage }, 'TLS_CLIENT_CA_FILE', /holds no PEM certificate/],
    ['TLS in MODE=tcp', { ...LISTENER, MODE: 'tcp' }, 'TLS_CERT_FILE', /expected MODE=http/],
    ['an upstream certificate without its key', { BACKENDS, UPSTREAM_TLS_CERT_FILE: pki.server.cert }, 'UPSTREAM_TLS_KEY_FILE', /is not set/],
    ['an upstream key that is not the certificate\'s', { ...UPSTREAM, UPSTREAM_TLS_KEY_FILE: pki.other.key }, 'UPSTREAM_TLS_KEY_FILE', /does not match the certificate in UPSTREAM_TLS_CERT_FILE/],
    ['unparsable upstream CAs', { BACKENDS, UPSTREAM_TLS_CA_FILE: corrupt }, 'UPSTREAM_TLS_CA_FILE', /cannot be parsed/],
  ];
  for (const [what, env, variable, message] of BAD) {
    test(`${what} → one problem naming ${variable}`, () => {
      const problems = problemsOf(env);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.ok(problems[0]!.startsWith(`${variable}: `), problems[0]);
      assert.match(problems[0]!, message);
      assert.ok(!problems[0]!.includes('\n'), 'one line');
    });
  }

  test('the summary (/api/status, logs) names the files and never holds the key', () => {
    const c = loadConfig({ ...LISTENER, ...UPSTREAM, TLS_CLIENT_CA_FILE: pki.ca.cert });
    const text = JSON.stringify(configSummary(c));
    assert.ok(text.includes(pki.server.key), 'the key path is shown');
    assert.ok(!text.includes('PRIVATE KEY') && !text.includes('BEGIN'), 'no PEM in the summary');
    assert.ok(Object.isFrozen(c.listenerTls) && Object.isFrozen(c.listenerTls?.material) && Object.isFrozen(c.upstreamTls.files));
  });

  test('cleanup', () => pki.close());
});

describe('the returned Config', () => {
  test('is deeply frozen', () => {
    const c = loadConfig({ BACKENDS: 'a.local:1,b.local:2;weight=2', HASH_KEY: 'cookie:sid' });
    const nested: unknown[] = [c, c.healthCheck, c.outlier, c.hashKey, c.backends, ...c.backends];
    for (const o of nested) assert.ok(Object.isFrozen(o), `not frozen: ${JSON.stringify(o)}`);
    assert.throws(() => { (c as { proxyPort: number }).proxyPort = 1; }, TypeError);
    assert.throws(() => { (c.healthCheck as { intervalMs: number }).intervalMs = 1; }, TypeError);
    assert.throws(() => { (c.backends as unknown[]).push({}); }, TypeError);
    assert.throws(() => { (c.backends[0] as { weight: number }).weight = 9; }, TypeError);
  });

  test('does not read process.env: the injected env alone decides', () => {
    process.env.PROXY_PORT = '1234';
    try {
      assert.equal(loadConfig({ BACKENDS }).proxyPort, 8080);
    } finally {
      delete process.env.PROXY_PORT;
    }
  });
});

describe('tracing (SPEC §10)', () => {
  test('OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/traces appended; the traces endpoint is used as is and wins', () => {
    assert.equal(loadConfig({ BACKENDS, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing.url, 'http://collector:4318/v1/traces');
    assert.equal(loadConfig({ BACKENDS, OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c.example/otlp/' }).tracing.url, 'https://c.example/otlp/v1/traces');
    assert.equal(loadConfig({
      BACKENDS, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom',
    }).tracing.url, 'http://b:4318/custom');
    assert.equal(loadConfig({ BACKENDS }).tracing.url, undefined);
    // A query on the base stays after the signal's path.
    assert.equal(loadConfig({ BACKENDS, OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c.example/otlp?tenant=a' }).tracing.url, 'https://c.example/otlp/v1/traces?tenant=a');
  });

  test('OTEL_EXPORTER_OTLP_HEADERS: key=value pairs, percent-decoded; a bad one is refused without showing the value', () => {
    assert.deepEqual(loadConfig({ BACKENDS, OTEL_EXPORTER_OTLP_HEADERS: 'api-key=s%3Dcret, X-Tenant = blue ,' }).tracing.headers, { 'api-key': 's=cret', 'X-Tenant': 'blue' });
    for (const bad of ['token', '=v', 'k=%zz', 'bad key=1']) {
      const problems = problemsOf({ BACKENDS, OTEL_EXPORTER_OTLP_HEADERS: `${bad},secret=hunter2` });
      assert.equal(problems.length, 1);
      assert.ok(problems[0]!.startsWith('OTEL_EXPORTER_OTLP_HEADERS: '), problems[0]);
      assert.ok(!problems[0]!.includes('hunter2'), `the value leaked: ${problems[0]}`);
    }
  });

  test('sampler, ratio and the summary (no header values, no URL credentials)', () => {
    const c = loadConfig({
      BACKENDS, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://user:pw@c.example/v1/traces?api_key=k3y', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20xyz',
    });
    assert.equal(c.tracing.sampler, 'parentbased_traceidratio');
    assert.equal(c.tracing.samplerArg, 0.25);
    const text = JSON.stringify(configSummary(c));
    assert.ok(!text.includes('xyz') && !text.includes('pw@') && !text.includes('k3y'), text);
    assert.ok(text.includes('authorization') && text.includes('c.example'), text);
  });
});
