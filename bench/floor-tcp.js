/**
 * The L4 floor: what Node itself costs per TCP tunnel. A net server whose
 * every connection is joined to one new connection to the backend, piped
 * both ways with half-close kept, errors handled, nothing else (no
 * balancing, health, retries, timeouts, metrics or log). Not a product; it
 * answers "how far is MODE=tcp from the cheapest Node tunnel".
 *
 *   node bench/tcp-bench.js   (a target there)
 *
 * Speaks the variant contract: BACKENDS (one host:port), PROXY_PORT, and 200
 * on ADMIN_PORT once listening.
 */
import http from 'node:http';
import net from 'node:net';

const [host, port] = (() => {
  const target = (process.env.BACKENDS ?? '').replace(/^[a-z0-9+]+:\/\//, '');
  const colon = target.lastIndexOf(':');
  return [target.slice(0, colon), Number(target.slice(colon + 1))];
})();

const server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (client) => {
  const upstream = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
  upstream.once('connect', () => {
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
});
server.on('error', () => undefined); // a failed accept loses that connection, not the process
server.listen(Number(process.env.PROXY_PORT), process.env.PROXY_HOST ?? '127.0.0.1');
http.createServer((_req, res) => res.end('ok')).listen(Number(process.env.ADMIN_PORT), process.env.ADMIN_HOST ?? '127.0.0.1');
// A normal exit on SIGTERM, so that `node --cpu-prof` writes its profile (docs/benchmarks.md).
process.on('SIGTERM', () => process.exit(0));
