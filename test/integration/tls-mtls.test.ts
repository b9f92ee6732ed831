/**
 * Client certificates (SPEC §9): with TLS_CLIENT_CA_FILE a client must show
 * a certificate signed by those CAs; the verified client reaches the backend
 * in X-Forwarded-Client-Cert (Hash, Subject, URI), over HTTP/1.1 and HTTP/2;
 * a client's own XFCC never does; no certificate, or one from another CA, is
 * refused at the handshake and counted.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { startOutrigger, type Outrigger } from '../helpers/outrigger.js';
import { startBackend, type TestBackend } from '../helpers/http.js';
import { TestPki, type CertFiles } from '../helpers/certs.js';
import { echoedHeaders, h2Connect, h2Get, httpsGet, metricValue } from '../helpers/tls-client.js';

const pki = new TestPki();
let ca: CertFiles;
let server: CertFiles;
let orders: CertFiles;
let intruder: CertFiles;
let backend: TestBackend;
const pem = (f: CertFiles) => ({ cert: pki.read(f.cert), key: pki.read(f.key) });

before(async () => {
  ca = await pki.ca('Mesh CA');
  const otherCa = await pki.ca('Other CA');
  [server, orders, intruder] = await Promise.all([
    pki.server(ca, '2001'),
    pki.issue(ca, { subject: '/O=shop/CN=orders "v2"', san: 'URI:spiffe://cluster.local/ns/shop/sa/orders,DNS:orders.shop.svc', serial: '2002', clientAuth: true }),
    pki.issue(otherCa, { subject: '/CN=intruder', san: 'URI:spiffe://elsewhere/ns/x/sa/y', serial: '2003', clientAuth: true }),
  ]);
  backend = await startBackend();
});
after(async () => {
  await backend.close();
  pki.close();
});

function mtlsOutrigger(env: Record<string, string> = {}): Promise<Outrigger> {
  return startOutrigger({
    BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none',
    TLS_CERT_FILE: server.cert, TLS_KEY_FILE: server.key, TLS_CLIENT_CA_FILE: ca.cert, ...env,
  });
}

const xfccOf = (body: string) => echoedHeaders(body).filter(([n]) => n === 'x-forwarded-client-cert').map(([, v]) => v);

test('a verified client: the backend gets Hash, Subject and URI in X-Forwarded-Client-Cert; a spoofed one is removed', async (t) => {
  const lb = await mtlsOutrigger();
  t.after(() => lb.stop());
  const der = new X509Certificate(pki.read(orders.cert)).raw;
  const expected = `Hash=${createHash('sha256').update(der).digest('hex')};Subject="CN=orders \\"v2\\",O=shop";URI=spiffe://cluster.local/ns/shop/sa/orders`;
  const spoof = { 'X-Forwarded-Client-Cert': 'Hash=0000;Subject="CN=admin";URI=spiffe://cluster.local/ns/kube-system/sa/admin' };

  const h1 = await httpsGet(lb.proxyPort, '/echo', { ca: pki.read(ca.cert), ...pem(orders), headers: spoof, ALPNProtocols: ['http/1.1'] });
  assert.equal(h1.status, 200);
  assert.deepEqual(xfccOf(h1.body), [expected]);
  assert.ok(echoedHeaders(h1.body).some(([n, v]) => n === 'x-forwarded-proto' && v === 'https'));

  const session = await h2Connect(lb.proxyPort, { ca: pki.read(ca.cert), ...pem(orders) });
  t.after(() => session.close());
  const replies = await Promise.all([h2Get(session, '/echo', spoof), h2Get(session, '/echo')]);
  for (const r of replies) assert.deepEqual(xfccOf(r.body), [expected], 'HTTP/2: the same value on every stream of the connection');
  assert.equal(await metricValue(lb.adminPort, /^outrigger_tls_handshake_errors_total (\d+)/m), 0);
});

test('FORWARDED_HEADERS=false: no XFCC is added, and a client\'s own is still removed', async (t) => {
  const lb = await mtlsOutrigger({ FORWARDED_HEADERS: 'false' });
  t.after(() => lb.stop());
  const reply = await httpsGet(lb.proxyPort, '/echo', { ca: pki.read(ca.cert), ...pem(orders), headers: { 'x-forwarded-client-cert': 'Hash=spoof' } });
  assert.equal(reply.status, 200);
  assert.deepEqual(xfccOf(reply.body), []);
  assert.ok(!echoedHeaders(reply.body).some(([n]) => n === 'x-forwarded-proto'), 'byte-transparent otherwise');
});

test('no client certificate, or one from another CA: refused at the handshake, counted, nothing reaches the backend', async (t) => {
  const lb = await mtlsOutrigger();
  t.after(() => lb.stop());
  let arrived = 0;
  const count = () => (arrived += 1);
  backend.server.on('request', count);
  t.after(() => backend.server.off('request', count));
  const anonymous = await httpsGet(lb.proxyPort, '/echo', { ca: pki.read(ca.cert) }).then(() => 'answered', (err: NodeJS.ErrnoException) => err.code ?? err.message);
  assert.notEqual(anonymous, 'answered');
  const foreign = await httpsGet(lb.proxyPort, '/echo', { ca: pki.read(ca.cert), ...pem(intruder) }).then(() => 'answered', (err: NodeJS.ErrnoException) => err.code ?? err.message);
  assert.notEqual(foreign, 'answered');
  const h2Foreign = await h2Connect(lb.proxyPort, { ca: pki.read(ca.cert), ...pem(intruder) })
    .then((s) => h2Get(s, '/echo').finally(() => s.destroy()))
    .then((r) => (r.status === 200 ? 'answered' : 'refused'), () => 'refused');
  assert.equal(h2Foreign, 'refused');
  assert.equal(arrived, 0);
  const deadline = Date.now() + 3000;
  while (await metricValue(lb.adminPort, /^outrigger_tls_handshake_errors_total (\d+)/m) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await metricValue(lb.adminPort, /^outrigger_tls_handshake_errors_total (\d+)/m), 3);
  // The verified client still gets through.
  assert.equal((await httpsGet(lb.proxyPort, '/ping', { ca: pki.read(ca.cert), ...pem(orders) })).status, 200);
});
