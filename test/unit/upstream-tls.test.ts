/** tls/upstream-tls: the name each backend connection verifies, and what a rotation changes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpstreamTls } from '../../src/tls/upstream-tls.js';
import { loadTlsMaterialSync } from '../../src/tls/cert-files.js';
import { makePkiSync } from '../helpers/certs.js';

test('server name: the backend host for a name, none (empty) for an IP, UPSTREAM_TLS_SERVER_NAME for both when set', () => {
  const plain = new UpstreamTls({ serverName: undefined, material: undefined });
  assert.equal(plain.optionsFor('orders.shop.svc').servername, 'orders.shop.svc');
  assert.equal(plain.optionsFor('10.0.0.7').servername, '');
  assert.equal(plain.optionsFor('::1').servername, '');
  assert.equal(plain.optionsFor('10.0.0.7').rejectUnauthorized, true, 'verification is always on');
  assert.equal(plain.optionsFor('10.0.0.7').secureContext, undefined, 'no files: Node\'s defaults');
  const named = new UpstreamTls({ serverName: 'orders.shop.svc', material: undefined });
  assert.equal(named.optionsFor('10.0.0.7').servername, 'orders.shop.svc');
  assert.equal(named.optionsFor('orders-0.orders.shop.svc').servername, 'orders.shop.svc');
});

test('setMaterial: a new secure context and generation; the startup material is generation 0', (t) => {
  const pki = makePkiSync();
  t.after(() => pki.close());
  const files = (cert: string, key: string) => ({
    cert: { variable: 'UPSTREAM_TLS_CERT_FILE', path: cert }, key: { variable: 'UPSTREAM_TLS_KEY_FILE', path: key }, ca: { variable: 'UPSTREAM_TLS_CA_FILE', path: pki.ca.cert },
  });
  const first = loadTlsMaterialSync(files(pki.server.cert, pki.server.key), 'TLSv1.2');
  const second = loadTlsMaterialSync(files(pki.other.cert, pki.other.key), 'TLSv1.2');
  const up = new UpstreamTls({ serverName: undefined, material: first });
  assert.equal(up.generation, 0);
  const before = up.optionsFor('a').secureContext;
  assert.notEqual(before, undefined);
  up.setMaterial(second);
  assert.equal(up.generation, 1);
  assert.notEqual(up.optionsFor('a').secureContext, before);
});
