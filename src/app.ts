/**
 * Builds an Outrigger from a Config: every part constructed once and wired,
 * nothing started until start(). main.ts and the tests use this.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getHeapStatistics } from 'node:v8';
import type { Config } from './config.js';
import type { LogHandle } from './log.js';
import { createMetrics } from './metrics.js';
import { BackendSet } from './upstream/backend-set.js';
import { dnsContext, entrySources } from './upstream/discovery.js';
import { SourceSet, warnConflict } from './upstream/source-set.js';
import { ConfigFileSource } from './upstream/config-file-source.js';
import { readBoundedFileSync } from './upstream/bounded-file.js';
import { createPicker } from './balancer/index.js';
import { Prober } from './health/prober.js';
import { OutlierDetector } from './health/outlier.js';
import { UpstreamPool } from './transport/pool.js';
import { RetryBudget } from './proxy/retry-budget.js';
import { Forwarder } from './proxy/forward.js';
import { Outcomes } from './proxy/outcome.js';
import { pickContextFactory } from './proxy/choose.js';
import { SpliceRegistry } from './proxy/splice.js';
import { Tunnels } from './proxy/upgrade.js';
import { createHttpPort } from './proxy/http-port.js';
import { ConnectionAge } from './proxy/connection-age.js';
import { createTcpServer } from './proxy/tcp.js';
import type { AcceptSockets } from './proxy/accept-sockets.js';
import { createAdminServer } from './admin/server.js';
import { InFlight } from './lifecycle/in-flight.js';
import { startIdleGc } from './lifecycle/idle-gc.js';
import { Readiness } from './lifecycle/readiness.js';
import { Shutdown } from './lifecycle/shutdown.js';
import type { Reloadable } from './lifecycle/signals.js';
import { logBackendEvents } from './upstream/backend-log.js';
import { TlsRotation } from './tls/rotation.js';
import { UpstreamTls } from './tls/upstream-tls.js';
import { VERSION } from './version.js';
import { Tracing } from './tracing/tracing.js';
import { createSampler } from './tracing/sampler.js';
import { startExport } from './tracing/export.js';

export interface App {
  /** Binds both listeners; resolves with their addresses. */
  start(): Promise<{ proxy: AddressInfo; admin: AddressInfo }>;
  /** The SPEC §5 sequence; a second call skips the waits. Resolves true when the first call completes. */
  shutdown(signal: string): Promise<boolean>;
  /** What SIGHUP re-reads, in order: CONFIG_FILE, the listener's TLS files, the UPSTREAM_TLS_* files. */
  readonly reloadables: readonly Reloadable[];
}

export function createApp(config: Config, log: LogHandle, rng: () => number = Math.random): App {
  const { logger } = log;
  const startedAt = Date.now();
  const metrics = createMetrics(VERSION);
  const set = new BackendSet({ startHealthy: config.healthCheck.type === 'none' });
  metrics.setInFlightSource(() => set.all());
  const upstreamTls = new UpstreamTls(config.upstreamTls, metrics);
  const upstreamMaterial = config.upstreamTls.material;
  const upstreamRotation = upstreamMaterial === undefined ? undefined : new TlsRotation({
    name: config.upstreamTls.files.cert?.variable ?? 'UPSTREAM_TLS_CA_FILE', files: config.upstreamTls.files, minVersion: 'TLSv1.2',
    initial: upstreamMaterial, apply: (material) => upstreamTls.setMaterial(material), metrics, logger,
  });
  const pool = new UpstreamPool({
    keepaliveMs: config.upstreamKeepaliveMs, connectTimeoutMs: config.connectTimeoutMs, upstreamTls,
    onUnaskedContinue: (backend) => logger.warn({ backend }, 'backend sends 100 Continue unasked; its requests go through node:http from now on'),
  });
  logBackendEvents(set, logger, (id) => {
    pool.forget(id);
    metrics.forgetBackend(id);
  });
  // Discovery: BACKENDS, or CONFIG_FILE's servers, as sources whose diffs BackendSet applies.
  const dns = dnsContext(config.dnsRefreshMs, logger);
  const sourcesFor = (entries: Config['backends']) => entrySources(entries, dns);
  const configFile = config.configFile === undefined ? undefined : new ConfigFileSource({
    path: config.configFile, entries: config.backends, text: safeRead(config.configFile), mode: config.mode, sourcesFor, metrics, logger,
  });
  const discovery = configFile ?? new SourceSet(sourcesFor(config.backends), warnConflict(logger));
  const picker = createPicker(config.algorithm);
  const prober = new Prober(set, config.healthCheck, metrics, upstreamTls, rng);
  const outlier = new OutlierDetector(set, config.outlier, metrics);
  const inFlight = new InFlight();
  const splices = new SpliceRegistry(metrics, inFlight, config.idleTimeoutMs);
  const readiness = new Readiness(set, config.readyMinHealthyBackends);
  const draining = () => readiness.draining;

  const budget = new RetryBudget(config.retryBudgetPercent);
  const tracing = config.tracing.disabled ? undefined : new Tracing(createSampler(config.tracing.sampler, config.tracing.samplerArg ?? 1));
  const outcomes = new Outcomes({ outlier, metrics, logger, accessLog: config.accessLog && logger.isLevelEnabled('info') ? log.writeLine : undefined, tracing });
  const contextFor = pickContextFactory(config, rng);
  let proxy: AcceptSockets;
  let announceDrain: () => void = () => undefined;
  let stopListening: () => void;
  let closeConnections: () => Promise<void>;
  let sessionsClosed: () => Promise<void> = () => Promise.resolve();
  let openSessions: () => number = () => 0;
  let rotation: TlsRotation | undefined;
  if (config.mode === 'tcp') {
    proxy = createTcpServer({ config, set, picker, budget, outlier, outcomes, contextFor, splices, inFlight, metrics, logger, upstreamTls });
    stopListening = () => proxy.close();
    closeConnections = () => Promise.resolve(); // every TCP-mode connection is a splice
  } else {
    const age = new ConnectionAge(config.maxConnectionAgeMs);
    const forwarder = new Forwarder({ config, set, picker, pool, outcomes, contextFor, budget, metrics, logger, draining, age });
    const tunnels = new Tunnels({ config, set, picker, budget, outlier, outcomes, contextFor, splices, inFlight, metrics, logger, upstreamTls });
    const port = createHttpPort({ config, forwarder, tunnels, inFlight, metrics, outcomes, logger, draining, age });
    proxy = port.sockets;
    const tls = port.tls;
    if (tls !== undefined && config.listenerTls !== undefined) {
      rotation = new TlsRotation({
        files: config.listenerTls.files, minVersion: config.listenerTls.minVersion, initial: config.listenerTls.material,
        apply: (material) => tls.setMaterial(material), metrics, logger,
      });
    }
    announceDrain = () => port.announceDrain();
    stopListening = () => port.stopListening();
    closeConnections = () => port.closeAll();
    sessionsClosed = () => port.sessionsClosed();
    openSessions = () => port.openSessions();
  }
  const admin = createAdminServer({ config, set, readiness, metrics, logger, version: VERSION, startedAt, budget });

  let idleGc: { close(): void } | undefined;

  const shutdown = new Shutdown({
    delayMs: config.shutdownDelayMs,
    drainTimeoutMs: config.drainTimeoutMs,
    markDraining: () => {
      readiness.markDraining();
      metrics.draining.set(1);
      announceDrain();
    },
    stopListening: () => stopListening(),
    // HTTP/2 sessions close by themselves once their last GOAWAY is out; cutting them first would lose it.
    idle: () => Promise.all([inFlight.idle(), sessionsClosed()]).then(() => undefined),
    inFlight: () => inFlight.active,
    openSessions: () => openSessions(),
    closeRemaining: () => {
      splices.closeAll();
      return closeConnections();
    },
    finish: async () => {
      idleGc?.close();
      discovery.close();
      rotation?.close();
      upstreamRotation?.close();
      prober.close();
      set.close();
      pool.close();
      admin.closeAllConnections();
      await new Promise<void>((resolve) => admin.close(() => resolve()));
      await tracing?.close(); // the last batch, bounded in time
      await log.flush();
    },
  }, logger);

  return {
    async start() {
      // The OpenTelemetry SDK and exporter load only when export is configured, before traffic.
      const url = config.tracing.url;
      if (tracing !== undefined && url !== undefined) {
        tracing.exportTo(await startExport({ ...config.tracing, url }, VERSION, (n) => metrics.traceSpansDropped.inc(n), logger));
      }
      await discovery.start((diff) => set.apply(diff));
      prober.start();
      rotation?.start();
      upstreamRotation?.start();
      void prober.firstRound.then(() => {
        readiness.markFirstProbeRoundDone();
        logger.info({ eligible: set.eligible().length, backends: set.size }, 'first health-check round done');
      });
      const adminAddress = await listen(admin, config.adminHost, config.adminPort);
      const proxyAddress = await proxy.listen(config.proxyHost, config.proxyPort);
      readiness.markListening();
      idleGc = startIdleGc(config.idleGcAfterMs, inFlight, metrics, logger);
      const tls = config.listenerTls === undefined ? false : { serial: config.listenerTls.material.serial, clientCerts: config.listenerTls.requireClientCert };
      logger.info({ mode: config.mode, proxy: proxyAddress, acceptSockets: proxy.sockets, memory: memoryLimits(), admin: adminAddress, tls, algorithm: config.algorithm, backends: set.size, version: VERSION }, 'listening');
      return { proxy: proxyAddress, admin: adminAddress };
    },
    shutdown: (signal) => shutdown.begin(signal),
    reloadables: [configFile, rotation, upstreamRotation].filter((r): r is NonNullable<typeof r> => r !== undefined) satisfies Reloadable[],
  };
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * The memory limit the runtime sees (a container's cgroup limit, through
 * process.constrainedMemory(); null when there is none) and the V8 heap
 * limit it derived, for checking a pod's sizing from the first log line.
 */
function memoryLimits(): { limitBytes: number | null; heapLimitBytes: number } {
  const limit = process.constrainedMemory?.() ?? 0;
  return { limitBytes: limit > 0 && limit < Number.MAX_SAFE_INTEGER ? limit : null, heapLimitBytes: getHeapStatistics().heap_size_limit };
}

/** The text loadConfig just parsed, read again with the same checks, for the watcher to compare against. */
function safeRead(path: string): string {
  try {
    return readBoundedFileSync(path);
  } catch {
    return '';
  }
}
