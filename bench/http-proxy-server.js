/**
 * The node-http-proxy contender: `node bench/http-proxy-server.js PORT TARGET_URL`.
 * Configured as people run it in production: a keep-alive agent to the
 * backend (without one, http-proxy sends `Connection: close` on every request)
 * and X-Forwarded-* headers on, like Outrigger's default.
 */
import http from 'node:http';
import httpProxy from 'http-proxy';

const [port, target] = [Number(process.argv[2]), process.argv[3]];
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024, scheduling: 'lifo' });
const proxy = httpProxy.createProxyServer({ target, agent, xfwd: true });
proxy.on('error', (_err, _req, res) => {
  if (res instanceof http.ServerResponse && !res.headersSent) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('bad gateway\n');
  } else {
    res.destroy();
  }
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.listen(port, '127.0.0.1');
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
