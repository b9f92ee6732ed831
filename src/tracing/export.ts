/**
 * The OTLP/HTTP (protobuf) export of SPEC §10, built from the OpenTelemetry
 * SDK's BatchSpanProcessor and the OTLP exporter. Both are loaded here, by
 * dynamic import, only when an endpoint is configured: a process without
 * export never loads the SDK. The processor's queue is bounded; a span that
 * finds it full is dropped, as is a batch the receiver did not take, and
 * both count in outrigger_trace_spans_dropped_total. Nothing here waits on
 * a request's path.
 */
import type { Counter, Meter, MeterProvider } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from '../log.js';
import type { TracingConfig } from '../config.js';
import { exportedSpans } from './export-span.js';
import type { SpanSink } from './tracing.js';

/** The export settings of TracingConfig (config.ts), with the URL known. */
export type ExportConfig = Pick<TracingConfig, 'headers' | 'serviceName' | 'timeoutMs' | 'maxQueueSize' | 'maxExportBatchSize' | 'scheduledDelayMs' | 'exportTimeoutMs'> & {
  /** The full traces URL (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces). */
  readonly url: string;
};

/** How long shutdown waits for the last batch. */
const CLOSE_WAIT_MS = 2000;
/** The SDK's self-observability counter whose `error.type=queue_full` additions are dropped spans. */
const PROCESSED = 'otel.sdk.processor.span.processed';

/**
 * A MeterProvider for the processor's self-observability: every instrument is
 * the no-op one, except the processed-spans counter, whose queue_full
 * additions are the dropped spans.
 */
function dropCounter(noop: Meter, onDropped: (count: number) => void): MeterProvider {
  const counter: Counter = {
    add(value, attributes) {
      if (attributes?.['error.type'] === 'queue_full') onDropped(value);
    },
  };
  const meter: Meter = Object.create(noop) as Meter;
  meter.createCounter = ((name: string, options?: object) => (name === PROCESSED ? counter : noop.createCounter(name, options))) as Meter['createCounter'];
  return { getMeter: () => meter };
}

export async function startExport(cfg: ExportConfig, version: string, onDropped: (count: number) => void, logger: Logger): Promise<SpanSink> {
  const [api, sdk, otlp, resources] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/resources'),
  ]);
  const exporter = new otlp.OTLPTraceExporter({ url: cfg.url, headers: { ...(cfg.headers ?? {}) }, timeoutMillis: cfg.timeoutMs });
  let failing = false;
  // The exporter as the processor sees it: a batch the receiver did not take is counted as dropped.
  const counted: SpanExporter = {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      exporter.export(spans, (result) => {
        if (result.code !== 0) {
          onDropped(spans.length);
          if (!failing) logger.warn({ err: result.error?.message, spans: spans.length, endpoint: cfg.url }, 'trace export failed; spans dropped');
          failing = true;
        } else if (failing) {
          failing = false;
          logger.info({ endpoint: cfg.url }, 'trace export recovered');
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush(),
  };
  // Explicit values: the processor's own OTEL_BSP_* fallback is not needed (config.ts read them).
  // selfObsMeterProvider is the processor's option (sdk-trace's BatchSpanProcessorOptions) that the
  // sdk-trace-base wrapper passes through but does not declare.
  const options = {
    maxQueueSize: cfg.maxQueueSize,
    maxExportBatchSize: Math.min(cfg.maxExportBatchSize, cfg.maxQueueSize),
    scheduledDelayMillis: cfg.scheduledDelayMs,
    exportTimeoutMillis: cfg.exportTimeoutMs,
    selfObsMeterProvider: dropCounter(api.createNoopMeter(), onDropped),
  };
  const processor = new sdk.BatchSpanProcessor(counted, options);
  const resource = resources.resourceFromAttributes({ 'service.name': cfg.serviceName, 'service.version': version, 'telemetry.sdk.language': 'nodejs' });
  const scope = { name: 'outrigger', version };
  return {
    export(server, entry, end) {
      try {
        for (const span of exportedSpans(server, entry, end, resource, scope)) processor.onEnd(span);
      } catch (err) {
        // A span that cannot be built is lost, never the request.
        onDropped(1 + server.clients.length);
        logger.error({ err }, 'could not build a span for export');
      }
    },
    async close() {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)));
      await Promise.race([processor.shutdown().catch(() => undefined), waited]);
      clearTimeout(timer);
    },
  };
}
