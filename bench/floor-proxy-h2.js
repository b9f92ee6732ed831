/**
 * The HTTP/2 floor: what Node's `http2` costs on both sides of a proxy with
 * no feature at all — the server with the compat API (as Outrigger uses it)
 * and one `node:http2` client session per h2c backend, round robin; no
 * balancing, health, retries, timeouts, header rules, metrics or log. Not a
 * product: it answers "how far is Outrigger's HTTP/2 path from the cheapest
 * one built from the same parts" (docs/benchmarks.md).
 *
 * Speaks the variant contract of floor-proxy.js: BACKENDS (h2c://host:port,
 * comma-separated), PROXY_PORT, and 200 on ADMIN_PORT.
 */
import http2 from 'node:http2';
import http from 'node:http';

const sessions = (process.env.BACKENDS ?? '').split(',').map((b) => http2.connect(b.replace(/^h2c:\/\//, 'http://')));
for (const s of sessions) s.on('error', () => {});
let next = 0;

const server = http2.createServer({}, (req, res) => {
  const up = sessions[next++ % sessions.length].request({ ':method': req.method, ':path': req.url, ':scheme': 'http', ':authority': req.headers[':authority'] }, { endStream: true });
  up.on('response', (headers) => {
    const out = {};
    for (const name in headers) if (name[0] !== ':') out[name] = headers[name];
    res.writeHead(headers[':status'], out);
  });
  up.on('data', (chunk) => {
    if (res.write(chunk)) return;
    up.pause();
    res.once('drain', () => up.resume());
  });
  up.on('end', () => res.end());
  up.on('error', () => res.stream.close());
  res.on('error', () => {});
});
server.listen(Number(process.env.PROXY_PORT), process.env.PROXY_HOST ?? '127.0.0.1');
http.createServer((_req, res) => res.end('ok')).listen(Number(process.env.ADMIN_PORT), process.env.ADMIN_HOST ?? '127.0.0.1');
// A normal exit on SIGTERM, so that `node --cpu-prof` writes its profile (docs/benchmarks.md).
process.on('SIGTERM', () => process.exit(0));
