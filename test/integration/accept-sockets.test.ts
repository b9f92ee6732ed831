import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startOutrigger, runOutrigger } from '../helpers/outrigger.js';
import { startBackend, sleep } from '../helpers/http.js';
import { ACCEPT_SOCKETS, reusePortAvailable } from '../../src/proxy/accept-sockets.js';

const OPTS = { timeout: 120_000 };

/** LISTEN sockets bound to `port` on this host, from /proc/net/tcp{,6}. */
function listeners(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 3 && f[1]!.endsWith(hex) && f[3] === '0A') n += 1;
    }
  }
  return n;
}

/** Opens `count` connections at once, each sending one request with Connection: close; resolves every answer's status line. */
function burst(port: number, count: number, timeoutMs: number): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, () => new Promise<string>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    let text = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (text += d));
    s.on('error', () => undefined);
    s.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
    setTimeout(() => s.destroy(), timeoutMs).unref();
  })));
}

test('the traffic port listens on ACCEPT_SOCKETS reuseport sockets where the runtime has reusePort (Node >= 22.12 on Linux), else one', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false' });
  t.after(() => lb.stop());
  const expected = reusePortAvailable() ? ACCEPT_SOCKETS : 1;
  const line = await lb.waitForLog((l) => l.msg === 'listening');
  assert.equal(line.acceptSockets, expected);
  if (process.platform === 'linux') assert.equal(listeners(lb.proxyPort), expected, 'LISTEN sockets on the proxy port');
});

test('1000 clients connecting at once are all accepted and answered', OPTS, async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false' });
  t.after(() => lb.stop());
  const statuses = await burst(lb.proxyPort, 1000, 90_000);
  const ok = statuses.filter((s) => s.startsWith('HTTP/1.1 200 ')).length;
  assert.equal(ok, 1000, `answers other than 200: ${JSON.stringify([...new Set(statuses.filter((s) => !s.startsWith('HTTP/1.1 200 ')))])}`);
});

test('MAX_CONNECTIONS holds for the port as a whole, not per listening socket', OPTS, async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false', MAX_CONNECTIONS: '5', CLIENT_HEADERS_TIMEOUT_MS: '30000' });
  t.after(() => lb.stop());
  // 40 silent connections spread over the sockets by the kernel: only 5 may stay open.
  const sockets = Array.from({ length: 40 }, () => {
    const s = net.connect(lb.proxyPort, '127.0.0.1');
    s.on('error', () => undefined);
    return s;
  });
  t.after(() => sockets.forEach((s) => s.destroy()));
  const closed = (): number => sockets.filter((s) => s.closed || s.readyState === 'closed').length;
  const deadline = Date.now() + 20_000;
  while (closed() < 35 && Date.now() < deadline) await sleep(50);
  await sleep(300); // anything over the cap would be closed by now as well
  assert.equal(closed(), 35, 'connections the server closed');
});

test('a second Outrigger on a port already in use exits 1 with EADDRINUSE, reuseport or not', OPTS, async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  const first = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false' });
  t.after(() => first.stop());
  const second = await runOutrigger({
    BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false',
    PROXY_HOST: '127.0.0.1', PROXY_PORT: String(first.proxyPort), ADMIN_HOST: '127.0.0.1', ADMIN_PORT: '0',
  }, 20_000);
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stdout, /"code":"EADDRINUSE".*"msg":"cannot listen"/);
});
