/**
 * The floor: what the same two building blocks Outrigger uses (a node:http
 * server and an undici Pool) cost with no feature at all — no balancing,
 * health, retries, timeouts, header rules, metrics or log. Not a product;
 * it answers "how far is Outrigger from the cheapest proxy it could be".
 *
 *   node bench/run.js --variant floor=bench/floor-proxy.js
 *
 * Speaks the variant contract: BACKENDS, PROXY_PORT, and 200 on ADMIN_PORT.
 */
import http from 'node:http';
import { Pool } from 'undici';

const target = process.env.BACKENDS ?? '';
const pool = new Pool(target.includes('://') ? target : `http://${target}`, { connections: null, pipelining: 1 });

const server = http.createServer({ noDelay: true }, (req, res) => {
  let resume = () => undefined;
  pool.dispatch({ path: req.url ?? '/', method: req.method ?? 'GET', headers: req.rawHeaders, body: null }, {
    onConnect() {},
    onHeaders(status, raw, resumeParser, text) {
      if (status < 200) return true;
      resume = resumeParser;
      const headers = [];
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i].toString('latin1');
        const lower = name.toLowerCase();
        if (lower !== 'connection' && lower !== 'keep-alive' && lower !== 'transfer-encoding') headers.push(name, raw[i + 1].toString('latin1'));
      }
      res.writeHead(status, text, headers);
      return true;
    },
    onData(chunk) {
      if (res.write(chunk)) return true;
      res.once('drain', () => resume());
      return false;
    },
    onComplete() {
      res.end();
    },
    onError() {
      if (res.headersSent) res.destroy();
      else res.writeHead(502).end();
    },
  });
});
server.listen(Number(process.env.PROXY_PORT), process.env.PROXY_HOST ?? '127.0.0.1');
http.createServer((_req, res) => res.end('ok')).listen(Number(process.env.ADMIN_PORT), process.env.ADMIN_HOST ?? '127.0.0.1');
// A normal exit on SIGTERM, so that `node --cpu-prof` writes its profile (docs/benchmarks.md).
process.on('SIGTERM', () => process.exit(0));
