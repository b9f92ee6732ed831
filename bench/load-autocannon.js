/**
 * Load worker (a child process, pinned by the runner): a warm-up, then one
 * measured autocannon run against one URL. Latency is taken from every
 * response at microsecond resolution (autocannon's own histogram keeps whole
 * milliseconds, too coarse for a proxy on loopback). Prints one JSON line.
 *
 *   node bench/load-autocannon.js '{"url":…,"connections":50,"durationS":10,"warmupS":3}'
 */
import autocannon from 'autocannon';
import { LatencyHistogram } from './lib/histogram.js';

const opts = JSON.parse(process.argv[2] ?? '{}');

function run(durationS, hist) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({
      url: opts.url, connections: opts.connections, duration: durationS, pipelining: 1, timeout: 10,
    }, (err, result) => (err ? reject(err) : resolve(result)));
    if (hist !== undefined) {
      instance.on('response', (_client, status, _bytes, ms) => {
        if (status >= 200 && status < 300) hist.record(ms * 1000);
      });
    }
  });
}

if (opts.warmupS > 0) await run(opts.warmupS, undefined);
const hist = new LatencyHistogram();
process.stdout.write('BENCH-MEASURING\n'); // the runner starts its CPU window here
const started = performance.now();
const result = await run(opts.durationS, hist);
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({
  tool: 'autocannon',
  ok: hist.count,
  rps: hist.count / seconds,
  p50Ms: hist.percentile(50) / 1000,
  p90Ms: hist.percentile(90) / 1000,
  p99Ms: hist.percentile(99) / 1000,
  p999Ms: hist.percentile(99.9) / 1000,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  seconds,
})}\n`);
