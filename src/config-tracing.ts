/**
 * SPEC §10's part of the Config: the standard OTEL_* variables (validated by
 * config-variables.ts) as TracingConfig, and its summary without secrets.
 */

/** OTEL_TRACES_SAMPLER's values (the OpenTelemetry SDK environment specification's names). */
export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** SPEC §10: the standard OTEL_* variables. */
export interface TracingConfig {
  /** OTEL_SDK_DISABLED=true: no spans, no ids, headers untouched. */
  readonly disabled: boolean;
  readonly sampler: SamplerName;
  /** OTEL_TRACES_SAMPLER_ARG; undefined = 1 for the ratio samplers. */
  readonly samplerArg: number | undefined;
  /** Where spans are exported (the full traces URL); undefined = no export. */
  readonly url: string | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly serviceName: string;
  readonly timeoutMs: number;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduledDelayMs: number;
  readonly exportTimeoutMs: number;
}

/** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces` (the OTLP exporter specification's rule). */
function tracesUrl(c: Record<string, unknown>): string | undefined {
  const traces = c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as string | undefined;
  if (traces !== undefined && traces !== '') return traces;
  const base = c.OTEL_EXPORTER_OTLP_ENDPOINT as string | undefined;
  if (base === undefined || base === '') return undefined;
  // The signal's path goes after the base's path, before any query (endpoint validation checked it parses).
  const u = new URL(base);
  u.pathname = `${u.pathname}${u.pathname.endsWith('/') ? '' : '/'}v1/traces`;
  return u.toString();
}

export function tracingConfig(c: Record<string, unknown>): TracingConfig {
  const n = (k: string) => c[k] as number;
  return {
    disabled: c.OTEL_SDK_DISABLED as boolean,
    sampler: c.OTEL_TRACES_SAMPLER as SamplerName,
    samplerArg: c.OTEL_TRACES_SAMPLER_ARG as number | undefined,
    url: tracesUrl(c),
    headers: c.OTEL_EXPORTER_OTLP_HEADERS as Readonly<Record<string, string>> | undefined,
    serviceName: c.OTEL_SERVICE_NAME as string,
    timeoutMs: n('OTEL_EXPORTER_OTLP_TIMEOUT'),
    maxQueueSize: n('OTEL_BSP_MAX_QUEUE_SIZE'),
    maxExportBatchSize: n('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
    scheduledDelayMs: n('OTEL_BSP_SCHEDULE_DELAY'),
    exportTimeoutMs: n('OTEL_BSP_EXPORT_TIMEOUT'),
  };
}

/** For /api/status and the startup log: header names only (their values are often credentials), no URL user info or query (some vendors put keys there). */
export function tracingSummary(t: TracingConfig): Record<string, unknown> {
  return { ...t, url: t.url === undefined ? 'off' : withoutUserInfo(t.url), headers: Object.keys(t.headers ?? {}) };
}

function withoutUserInfo(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  if (u.search !== '') u.search = '?…';
  return u.toString();
}
