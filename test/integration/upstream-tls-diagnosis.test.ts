/**
 * A TLS handshake with a backend that fails (a name that does not match, a
 * certificate not trusted) is diagnosable: the client still gets 502
 * `connect_failed`, the attempt counts as
 * outrigger_upstream_errors_total{kind="protocol"} (not connect_refused), and
 * one warn line names the backend and the TLS error's code, at most once per
 * backend and code per minute. For https (node:http) and h2 (node:http2)
 * backends, and an https upgrade tunnel (transport/connect).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOutrigger, type LogLine } from '../helpers/outrigger.js';
import { rawExchange, request } from '../helpers/http.js';
import { h2Backend, httpsBackend, makePki, type Pki } from '../helpers/mtls-backends.js';

const TLS_LINE = (l: LogLine): boolean => l.level === 40 && String(l.msg).startsWith('TLS handshake with a backend failed');

async function errorCount(adminPort: number, backend: string, kind: string): Promise<number> {
  const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const m = new RegExp(`^outrigger_upstream_errors_total\\{backend="${backend.replace(/\./g, '\\.')}",kind="${kind}"\\} (\\d+)$`, 'm').exec(metrics);
  return m === null ? 0 : Number(m[1]);
}

function env(p: Pki, backends: string, withCa: boolean): Record<string, string> {
  return {
    BACKENDS: backends, HEALTH_CHECK_TYPE: 'none', RETRIES: '0',
    UPSTREAM_TLS_CERT_FILE: p.client.cert, UPSTREAM_TLS_KEY_FILE: p.client.key,
    ...(withCa ? { UPSTREAM_TLS_CA_FILE: p.backendCa.cert, UPSTREAM_TLS_SERVER_NAME: 'wrong.example' } : { UPSTREAM_TLS_SERVER_NAME: 'orders.shop.svc' }),
  };
}

for (const scheme of ['https', 'h2'] as const) {
  test(`${scheme} backend: a name mismatch and an untrusted certificate are 502 connect_failed, kind="protocol", and one warn line with the code`, { timeout: 60_000 }, async (t) => {
    const p = await makePki();
    t.after(() => p.pki.close());
    const backend = scheme === 'https' ? await httpsBackend(p) : await h2Backend(p);
    t.after(() => backend.close());
    const id = `127.0.0.1:${backend.port}`;

    const wrongName = await startOutrigger(env(p, `${scheme}://${id}`, true));
    t.after(() => wrongName.stop());
    for (let i = 0; i < 3; i++) {
      const r = await request(wrongName.proxyPort, '/orders');
      assert.equal(r.status, 502);
      assert.equal(r.headers['x-outrigger-error'], 'connect_failed');
    }
    if (scheme === 'https') assert.match(await rawExchange(wrongName.proxyPort, 'GET /ws HTTP/1.1\r\nHost: o\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n', 10_000), /^HTTP\/1\.1 502 /);
    const attempts = scheme === 'https' ? 4 : 3;
    assert.equal(await errorCount(wrongName.adminPort, id, 'protocol'), attempts);
    assert.equal(await errorCount(wrongName.adminPort, id, 'connect_refused'), 0);
    const line = await wrongName.waitForLog(TLS_LINE);
    assert.equal(line.backend, id);
    assert.equal(line.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.match(String(line.reason), /wrong\.example/);
    assert.equal(wrongName.logs.filter(TLS_LINE).length, 1, 'one line per backend and code per minute, not one per request');
    assert.equal(backend.seen.length, 0, 'nothing reached the backend');

    const untrusted = await startOutrigger(env(p, `${scheme}://${id}`, false));
    t.after(() => untrusted.stop());
    assert.equal((await request(untrusted.proxyPort, '/orders')).status, 502);
    assert.equal(await errorCount(untrusted.adminPort, id, 'protocol'), 1);
    const unverified = await untrusted.waitForLog(TLS_LINE);
    assert.match(String(unverified.code), /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
  });
}
