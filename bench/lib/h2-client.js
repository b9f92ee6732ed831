/**
 * One HTTP/2 request with prior knowledge (h2c), for readiness checks and
 * for the check that a target really proxies before it is measured.
 */
import http2 from 'node:http2';

/**
 * GET url over a new h2c session; resolves { status, body }, rejects on any
 * session or stream error or after timeoutMs.
 */
export function h2Get(url, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const session = http2.connect(u.origin);
    const fail = (err) => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`${url}: no HTTP/2 answer within ${timeoutMs} ms`)), timeoutMs);
    session.on('error', fail);
    const req = session.request({ ':method': 'GET', ':path': `${u.pathname}${u.search}` });
    let status = 0;
    let body = '';
    req.setEncoding('utf8');
    req.on('response', (headers) => { status = Number(headers[':status']); });
    req.on('data', (chunk) => { body += chunk; });
    req.on('error', fail);
    req.on('end', () => {
      clearTimeout(timer);
      session.close();
      resolve({ status, body });
    });
  });
}

/** Polls h2Get(url) until it answers 200, or throws after timeoutMs (with the child's stderr). */
export async function waitForH2(url, { timeoutMs = 15000, child } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child !== undefined && (child.exitCode !== null || child.spawnError)) {
      throw new Error(`${child.benchName} exited early (${child.spawnError?.message ?? `code ${child.exitCode}`}): ${child.stderrTail}`);
    }
    const status = await h2Get(url, 1000).then((r) => r.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 over h2c within ${timeoutMs} ms${child ? `: ${child.stderrTail}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
