/**
 * Certificate rotation without a restart (SPEC §9). The files live in a
 * directory laid out as the kubelet lays out a Secret volume: the visible
 * names are symlinks into `..data`, itself a symlink to a timestamped
 * directory, and an update writes a new directory and renames a new `..data`
 * over the old one (nothing is ever written in place). New handshakes use
 * the new pair while a keep-alive connection made before carries on; a
 * broken pair keeps the last good one; SIGHUP re-reads; a swapped client CA
 * is named in the reload line (with its subject and fingerprint).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOutrigger } from '../helpers/outrigger.js';
import { sleep, startBackend, type TestBackend } from '../helpers/http.js';
import { TestPki, type CertFiles } from '../helpers/certs.js';
import { httpsGet, metricValue } from '../helpers/tls-client.js';
import { SecretVolume } from '../helpers/mtls-backends.js';

const pki = new TestPki();
let ca: CertFiles;
let caPem: string;
let backend: TestBackend;

before(async () => {
  ca = await pki.ca('Rotation CA');
  caPem = pki.read(ca.cert);
  backend = await startBackend();
});
after(async () => {
  await backend.close();
  pki.close();
});


const RELOADS = (result: string) => new RegExp(`^outrigger_config_reloads_total\\{result="${result}"\\} (\\d+)`, 'm');
const EXPIRY = /^outrigger_tls_certificate_expiry_timestamp_seconds\{cert="listener"\} (\d+)/m;

test('a ..data swap: new connections get the new certificate, a keep-alive connection carries on; a broken pair keeps the last good one', async (t) => {
  const [first, second] = await Promise.all([pki.server(ca, '3001'), pki.issue(ca, { subject: '/CN=localhost', san: 'DNS:localhost,IP:127.0.0.1', serial: '3002', days: 5 })]);
  const unrelated = await pki.server(ca, '3003');
  const volume = new SecretVolume(join(pki.dir, 'secret'));
  volume.publish(pki.read(first.cert), pki.read(first.key));
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', TLS_CERT_FILE: volume.cert, TLS_KEY_FILE: volume.key });
  t.after(() => lb.stop());
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: caPem });
  t.after(() => agent.destroy());

  const before = await httpsGet(lb.proxyPort, '/ping', { agent, ca: caPem });
  assert.equal(before.serial, '3001');
  const expiryBefore = await metricValue(lb.adminPort, EXPIRY);

  volume.publish(pki.read(second.cert), pki.read(second.key));
  const reloaded = await lb.waitForLog((l) => l.msg === 'TLS certificate reloaded');
  assert.equal(reloaded.serial, '3002');
  assert.deepEqual(reloaded.changed, ['TLS_CERT_FILE', 'TLS_KEY_FILE']);
  assert.equal(await metricValue(lb.adminPort, RELOADS('success')), 1);
  const expiryAfter = await metricValue(lb.adminPort, EXPIRY);
  assert.ok(expiryAfter - expiryBefore > 2 * 86400, `the expiry gauge follows the new certificate (${expiryBefore} → ${expiryAfter})`);

  // The connection made before the swap is still open and still serves, with the certificate it was made with.
  const kept = await httpsGet(lb.proxyPort, '/ping', { agent, ca: caPem });
  assert.equal(kept.status, 200);
  assert.equal(kept.reusedSocket, true, 'the keep-alive connection was reused');
  assert.equal(kept.localPort, before.localPort);
  assert.equal(kept.serial, '3001');
  assert.equal((await httpsGet(lb.proxyPort, '/ping', { ca: caPem })).serial, '3002', 'a new connection sees the new certificate');

  // A broken pair (a key that is not the certificate's): the last good one stays, logged once, counted.
  volume.publish(pki.read(unrelated.cert), pki.read(first.key));
  const rejected = await lb.waitForLog((l) => l.msg === 'TLS reload rejected; keeping the last good certificate');
  assert.match(String(rejected.reason), /^TLS_KEY_FILE: .*does not match the certificate in TLS_CERT_FILE/);
  assert.equal(await metricValue(lb.adminPort, RELOADS('failure')), 1);
  assert.equal((await httpsGet(lb.proxyPort, '/ping', { ca: caPem })).serial, '3002');
  assert.equal((await httpsGet(lb.proxyPort, '/ping', { agent, ca: caPem })).status, 200, 'the old connection still serves');
  // More events in the directory with the same broken files: not reported again.
  writeFileSync(join(volume.dir, 'unrelated'), 'x');
  await sleep(600);
  assert.equal(lb.logs.filter((l) => l.msg === 'TLS reload rejected; keeping the last good certificate').length, 1);
  assert.equal(await metricValue(lb.adminPort, RELOADS('failure')), 1);
  assert.equal(lb.logs.filter((l) => l.level >= 50 && l.msg !== 'TLS reload rejected; keeping the last good certificate').length, 0);
});

test('SIGHUP re-reads the files: a change no directory event announces is applied at once', async (t) => {
  const [first, second] = await Promise.all([pki.server(ca, '4001'), pki.server(ca, '4002')]);
  // The listener's files are symlinks to files in another directory: rewriting those raises no event in the
  // directory Outrigger watches, so until the 5 s poll only SIGHUP can make it read them again.
  const watched = join(pki.dir, 'hup-watched');
  const elsewhere = join(pki.dir, 'hup-elsewhere');
  mkdirSync(watched);
  mkdirSync(elsewhere);
  const write = (c: CertFiles) => {
    for (const [name, from] of [['tls.crt', c.cert], ['tls.key', c.key]] as const) {
      writeFileSync(join(elsewhere, `${name}.tmp`), pki.read(from));
      renameSync(join(elsewhere, `${name}.tmp`), join(elsewhere, name));
    }
  };
  write(first);
  symlinkSync(join(elsewhere, 'tls.crt'), join(watched, 'tls.crt'));
  symlinkSync(join(elsewhere, 'tls.key'), join(watched, 'tls.key'));
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', TLS_CERT_FILE: join(watched, 'tls.crt'), TLS_KEY_FILE: join(watched, 'tls.key'),
  });
  t.after(() => lb.stop());
  assert.equal((await httpsGet(lb.proxyPort, '/ping', { ca: caPem })).serial, '4001');
  write(second);
  lb.child.kill('SIGHUP');
  const line = await lb.waitForLog((l) => l.msg === 'TLS certificate reloaded' && l.trigger === 'SIGHUP', 3000);
  assert.equal(line.serial, '4002');
  assert.equal((await httpsGet(lb.proxyPort, '/ping', { ca: caPem })).serial, '4002');
  const hup = await lb.waitForLog((l) => l.msg === 'SIGHUP: reloading');
  assert.deepEqual(hup.reloading, ['TLS_CERT_FILE']);
});

test('a ..data swap of TLS_CLIENT_CA_FILE alone: the reload line names that file and the new CA, clients of the new CA get in', async (t) => {
  const [oldCa, newCa] = await Promise.all([pki.ca('Old Mesh CA'), pki.ca('New Mesh CA')]);
  const [server, newClient] = await Promise.all([
    pki.server(ca, '5001'),
    pki.issue(newCa, { subject: '/CN=orders', serial: '5002', clientAuth: true }),
  ]);
  const volume = new SecretVolume(join(pki.dir, 'secret-ca'));
  volume.publish(pki.read(server.cert), pki.read(server.key), pki.read(oldCa.cert));
  const lb = await startOutrigger({
    BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', TLS_CERT_FILE: volume.cert, TLS_KEY_FILE: volume.key, TLS_CLIENT_CA_FILE: volume.ca,
  });
  t.after(() => lb.stop());
  const asNewClient = { ca: caPem, cert: pki.read(newClient.cert), key: pki.read(newClient.key) };
  await assert.rejects(httpsGet(lb.proxyPort, '/ping', asNewClient), 'the new CA is not trusted yet');

  volume.publish(pki.read(server.cert), pki.read(server.key), pki.read(newCa.cert));
  const line = await lb.waitForLog((l) => l.msg === 'TLS certificate reloaded');
  assert.deepEqual(line.changed, ['TLS_CLIENT_CA_FILE'], 'only the client CA changed, and the line says so');
  assert.equal(line.serial, '5001', 'the certificate is the same');
  assert.equal(line.caCount, 1);
  const fingerprint = new X509Certificate(pki.read(newCa.cert)).fingerprint256;
  assert.deepEqual(line.caCertificates, [`CN=New Mesh CA (sha256 ${fingerprint})`]);
  assert.equal((await httpsGet(lb.proxyPort, '/ping', asNewClient)).status, 200, 'a client of the new CA gets in');
});
