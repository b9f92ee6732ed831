/**
 * `--tracing`: Outrigger three ways in one run, to price SPEC §10 tracing —
 * off (OTEL_SDK_DISABLED=true), ids only (the default: trace context and span
 * records, no export), and export on at 100 % sampling to a local OTLP sink
 * that accepts and discards (bench/otlp-sink.js, on the load generator's CPU).
 * The access log is on in all three, as deployed.
 */
import { fileURLToPath } from 'node:url';
import { outriggerTarget } from './targets.js';
import { freePort, waitForHttp } from './processes.js';

const SINK = fileURLToPath(new URL('../otlp-sink.js', import.meta.url));

export const TRACING_TARGETS = ['tracing-off', 'tracing-ids', 'tracing-export'];

/** @param {string} mainJs @param {string|undefined} sinkCpu */
export function tracingTargets(mainJs, sinkCpu) {
  return [
    outriggerTarget({ name: 'tracing-off', label: 'Outrigger, tracing off', mainJs, accessLog: true, env: { OTEL_SDK_DISABLED: 'true' } }),
    outriggerTarget({ name: 'tracing-ids', label: 'Outrigger, trace ids, no export', mainJs, accessLog: true }),
    {
      name: 'tracing-export', label: 'Outrigger, export on (100 %)', kind: 'outrigger',
      async start(ctx) {
        const port = await freePort();
        const sink = ctx.group.start('otlp-sink', process.execPath, [SINK, String(port)], { cpu: sinkCpu });
        this.sinkStatsUrl = `http://127.0.0.1:${port}/stats`;
        await waitForHttp(this.sinkStatsUrl, { child: sink });
        const inner = outriggerTarget({
          name: this.name, label: this.label, mainJs, accessLog: true,
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_TRACES_SAMPLER: 'always_on' },
        });
        const pid = await inner.start(ctx);
        Object.assign(this, { url: inner.url, metricsUrl: inner.metricsUrl, logFile: inner.logFile });
        return pid;
      },
    },
  ];
}

/** After the rounds: did the export keep up? Spans dropped (Outrigger's counter) and what the sink took. */
export async function exportCheck(target) {
  const metrics = await (await fetch(target.metricsUrl)).text();
  const dropped = Number(/^outrigger_trace_spans_dropped_total (\S+)$/m.exec(metrics)?.[1] ?? NaN);
  const sink = await (await fetch(target.sinkStatsUrl)).json();
  return { dropped, exportRequests: sink.requests, exportBytes: sink.bytes };
}
