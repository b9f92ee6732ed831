/** TLS handshake failures towards backends: classified as `protocol`, logged once per backend and code per interval (fake clock). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectFailedError, tlsFailureCode } from '../../src/errors.js';
import { TlsFailureLog } from '../../src/proxy/tls-failure-log.js';

const tlsError = (code: string): Error => Object.assign(new Error(`TLS says ${code}`), { code });

test('tlsFailureCode: certificate, name and OpenSSL handshake errors; not TCP errors', () => {
  for (const code of ['ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA']) {
    assert.equal(tlsFailureCode(tlsError(code)), code);
  }
  assert.equal(tlsFailureCode(Object.assign(new Error('x'), { library: 'SSL routines' })), 'ERR_SSL');
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ERR_HTTP2_ERROR']) assert.equal(tlsFailureCode(tlsError(code)), undefined, code);
  assert.equal(tlsFailureCode(undefined), undefined);
});

test('a ConnectFailedError caused by a TLS failure counts as protocol; a timeout stays connect_timeout', () => {
  const tls = new ConnectFailedError('b:443', false, tlsError('ERR_TLS_CERT_ALTNAME_INVALID'));
  assert.equal(tls.upstreamKind, 'protocol');
  assert.equal(tls.kind, 'connect_failed');
  assert.equal(tls.tlsCode, 'ERR_TLS_CERT_ALTNAME_INVALID');
  assert.equal(new ConnectFailedError('b:443', false, tlsError('ECONNREFUSED')).upstreamKind, 'connect_refused');
  assert.equal(new ConnectFailedError('b:443', true, tlsError('ERR_SSL_WRONG_VERSION_NUMBER')).upstreamKind, 'connect_timeout');
});

test('TlsFailureLog: one line per backend and code per interval; a new code or backend logs at once; other failures never', () => {
  const lines: Array<Record<string, unknown>> = [];
  let now = 1_000_000;
  const log = new TlsFailureLog({ warn: ((o: Record<string, unknown>) => void lines.push(o)) as never }, () => now, 60_000);
  const altname = new ConnectFailedError('b:443', false, tlsError('ERR_TLS_CERT_ALTNAME_INVALID'));
  log.report(altname);
  log.report(altname);
  assert.deepEqual(lines.map((l) => [l.backend, l.code, l.reason]), [['b:443', 'ERR_TLS_CERT_ALTNAME_INVALID', 'TLS says ERR_TLS_CERT_ALTNAME_INVALID']]);
  log.report(new ConnectFailedError('b:443', false, tlsError('CERT_HAS_EXPIRED')));
  log.report(new ConnectFailedError('c:443', false, tlsError('ERR_TLS_CERT_ALTNAME_INVALID')));
  log.report(new ConnectFailedError('b:443', false, tlsError('ECONNREFUSED')));
  assert.equal(lines.length, 3);
  now += 59_999;
  log.report(altname);
  assert.equal(lines.length, 3);
  now += 1;
  log.report(altname);
  assert.equal(lines.length, 4);
});
