/**
 * UPSTREAM_TLS_* end to end (SPEC §9): the real Outrigger process in front of
 * TLS backends on 127.0.0.1 that require a client certificate and present a
 * certificate for `orders.shop.svc` only, signed by a private CA. With the
 * CA, the client pair and UPSTREAM_TLS_SERVER_NAME the requests pass (the
 * backend sees Outrigger's client certificate); without the server name the
 * name check fails (502 connect_failed); health probes use the same
 * settings; a `..data` swap of the client pair reaches new connections and
 * the expiry gauge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { startOutrigger } from '../helpers/outrigger.js';
import { rawExchange, request, sleep } from '../helpers/http.js';
import type { CertFiles } from '../helpers/certs.js';
import { h2Backend, httpsBackend, makePki, SecretVolume, type Pki } from '../helpers/mtls-backends.js';

function tlsEnv(p: Pki, cert = p.client.cert, key = p.client.key): Record<string, string> {
  return { UPSTREAM_TLS_CA_FILE: p.backendCa.cert, UPSTREAM_TLS_CERT_FILE: cert, UPSTREAM_TLS_KEY_FILE: key };
}

test('https backend by IP: CA, client certificate and server name give 200 for GET and POST; without the name, 502 connect_failed', { timeout: 60_000 }, async (t) => {
  const p = await makePki();
  t.after(() => p.pki.close());
  const backend = await httpsBackend(p);
  t.after(() => backend.close());
  const BACKENDS = `https://127.0.0.1:${backend.port}`;

  const lb = await startOutrigger({ BACKENDS, ...tlsEnv(p), UPSTREAM_TLS_SERVER_NAME: 'orders.shop.svc' });
  t.after(() => lb.stop());
  const got = await request(lb.proxyPort, '/orders');
  assert.equal(got.status, 200, got.text);
  const posted = await request(lb.proxyPort, '/orders', { method: 'POST', body: 'item=1', headers: { 'content-type': 'text/plain' } });
  assert.equal(posted.status, 200, posted.text);
  assert.deepEqual(backend.seen.map((s) => [s.method, s.body]), [['GET', ''], ['POST', 'item=1']]);
  for (const s of backend.seen) {
    assert.match(s.subject, /CN=outrigger/, 'the backend saw the client certificate');
    assert.equal(s.serial, 'C1');
  }
  const UPGRADE = 'GET /ws HTTP/1.1\r\nHost: orders\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n';
  const tunnel = await rawExchange(lb.proxyPort, UPGRADE, 10_000);
  assert.match(tunnel, /^HTTP\/1\.1 101 [^]*\r\n\r\ntunnel:C1$/, 'an upgrade tunnel presents the same client certificate');

  const noName = await startOutrigger({ BACKENDS, ...tlsEnv(p), RETRIES: '0' });
  t.after(() => noName.stop());
  const refused = await request(noName.proxyPort, '/orders');
  assert.equal(refused.status, 502);
  assert.equal(refused.headers['x-outrigger-error'], 'connect_failed');
  assert.equal(backend.seen.length, 2, 'nothing reached the backend');
  assert.match(await rawExchange(noName.proxyPort, UPGRADE, 10_000), /^HTTP\/1\.1 502 /, 'nor did a tunnel');
});

test('h2 backend by IP: the same identity, trust and name; without the name, 502 connect_failed', { timeout: 60_000 }, async (t) => {
  const p = await makePki();
  t.after(() => p.pki.close());
  const backend = await h2Backend(p);
  t.after(() => backend.close());
  const BACKENDS = `h2://127.0.0.1:${backend.port}`;

  const lb = await startOutrigger({ BACKENDS, ...tlsEnv(p), UPSTREAM_TLS_SERVER_NAME: 'orders.shop.svc' });
  t.after(() => lb.stop());
  const got = await request(lb.proxyPort, '/orders');
  assert.equal(got.status, 200, got.text);
  assert.equal(got.text, 'C1');
  const posted = await request(lb.proxyPort, '/orders', { method: 'POST', body: 'item=1' });
  assert.equal(posted.status, 200, posted.text);
  assert.deepEqual(backend.seen.map((s) => s.method), ['GET', 'POST']);
  assert.match(backend.seen[0]!.subject, /CN=outrigger/);

  const noName = await startOutrigger({ BACKENDS, ...tlsEnv(p), RETRIES: '0' });
  t.after(() => noName.stop());
  const refused = await request(noName.proxyPort, '/orders');
  assert.equal(refused.status, 502);
  assert.equal(refused.headers['x-outrigger-error'], 'connect_failed');
  assert.equal(backend.seen.length, 2);
});

interface StatusBackend {
  state: string;
  lastProbe: { ok: boolean; error?: string } | null;
}

async function probeState(adminPort: number): Promise<StatusBackend | undefined> {
  const status = JSON.parse((await request(adminPort, '/api/status')).text) as { backends: StatusBackend[] };
  return status.backends[0];
}

test('HEALTH_CHECK_TYPE=http probes https and h2 backends with the upstream TLS settings', { timeout: 60_000 }, async (t) => {
  const p = await makePki();
  t.after(() => p.pki.close());
  const h1 = await httpsBackend(p);
  t.after(() => h1.close());
  const h2 = await h2Backend(p);
  t.after(() => h2.close());
  for (const url of [`https://127.0.0.1:${h1.port}`, `h2://127.0.0.1:${h2.port}`]) {
    const health = { BACKENDS: url, HEALTH_CHECK_TYPE: 'http', HEALTH_CHECK_PATH: '/health', READY_MIN_HEALTHY_BACKENDS: '1' };
    const good = await startOutrigger({ ...health, ...tlsEnv(p), UPSTREAM_TLS_SERVER_NAME: 'orders.shop.svc' }, { waitReady: false });
    t.after(() => good.stop());
    await good.waitForReady(15_000);
    assert.equal((await probeState(good.adminPort))?.state, 'healthy', url);

    // No server name: the certificate does not name 127.0.0.1, so every probe fails.
    const bad = await startOutrigger({ ...health, ...tlsEnv(p) }, { waitReady: false });
    t.after(() => bad.stop());
    let seen: StatusBackend | undefined;
    for (let i = 0; i < 100 && (seen?.lastProbe ?? null) === null; i++) {
      await sleep(100);
      seen = await probeState(bad.adminPort);
    }
    assert.equal(seen?.lastProbe?.ok, false, url);
    assert.notEqual(seen?.state, 'healthy', url);
    assert.equal((await request(bad.adminPort, '/readyz')).status, 503, url);
  }
});

const EXPIRY = /^outrigger_tls_certificate_expiry_timestamp_seconds\{cert="upstream_client"\} (\d+)/m;

async function expiry(adminPort: number): Promise<number | undefined> {
  const m = EXPIRY.exec((await request(adminPort, '/metrics')).text);
  return m === null ? undefined : Number(m[1]);
}

function notAfter(p: Pki, cert: CertFiles): number {
  return Math.floor(Date.parse(new X509Certificate(p.pki.read(cert.cert)).validTo) / 1000);
}

test('rotation: a ..data swap of the client pair reaches new https and h2 connections and the expiry gauge', { timeout: 60_000 }, async (t) => {
  const p = await makePki();
  t.after(() => p.pki.close());
  const next = await p.pki.issue(p.clientCa, { subject: '/O=shop/CN=outrigger', serial: 'c2', clientAuth: true, days: 5 });
  const h1 = await httpsBackend(p);
  t.after(() => h1.close());
  const h2 = await h2Backend(p);
  t.after(() => h2.close());
  const volume = new SecretVolume(join(p.pki.dir, 'client'));
  volume.publish(p.pki.read(p.client.cert), p.pki.read(p.client.key));

  const lb = await startOutrigger({
    BACKENDS: `https://127.0.0.1:${h1.port},h2://127.0.0.1:${h2.port}`,
    ...tlsEnv(p, volume.cert, volume.key), UPSTREAM_TLS_SERVER_NAME: 'orders.shop.svc', UPSTREAM_KEEPALIVE_MS: '300',
  });
  t.after(() => lb.stop());
  for (let i = 0; i < 2; i++) assert.equal((await request(lb.proxyPort, '/before')).text, 'C1');
  assert.equal(await expiry(lb.adminPort), notAfter(p, p.client));

  volume.publish(p.pki.read(next.cert), p.pki.read(next.key));
  const reloaded = await lb.waitForLog((l) => l.msg === 'TLS certificate reloaded' && l.what === 'UPSTREAM_TLS_CERT_FILE', 15_000);
  assert.equal(reloaded.serial, 'C2');
  assert.equal(await expiry(lb.adminPort), notAfter(p, next), 'the gauge follows the new certificate');
  await sleep(900); // pooled connections and sessions close after UPSTREAM_KEEPALIVE_MS idle
  for (let i = 0; i < 2; i++) assert.equal((await request(lb.proxyPort, '/after')).text, 'C2');
  assert.deepEqual(h1.seen.map((s) => s.serial), ['C1', 'C2']);
  assert.deepEqual(h2.seen.map((s) => s.serial), ['C1', 'C2']);
});
