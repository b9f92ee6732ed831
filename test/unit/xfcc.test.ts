/** X-Forwarded-Client-Cert (tls/xfcc): Envoy's format, the subject in RFC 2253, removal of what clients send. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, type X509Certificate } from 'node:crypto';
import { applyClientCert, dropClientCert, rfc2253Subject, setTlsPeer, tlsPeerOf, uriSans, xfccFor } from '../../src/tls/xfcc.js';

/** The three fields xfccFor reads, as Node's X509Certificate gives them. */
function cert(subject: string, subjectAltName: string | undefined): X509Certificate {
  return { raw: Buffer.from('DER bytes'), subject, subjectAltName } as unknown as X509Certificate;
}
const HASH = createHash('sha256').update('DER bytes').digest('hex');

test('Hash, Subject (RFC 2253 order, quoted) and the first URI SAN', () => {
  const value = xfccFor(cert('C=US\nO=shop\nCN=orders', 'DNS:orders.shop, URI:spiffe://cluster.local/ns/shop/sa/orders, URI:https://second'));
  assert.equal(value, `Hash=${HASH};Subject="CN=orders,O=shop,C=US";URI=spiffe://cluster.local/ns/shop/sa/orders`);
});

test('no URI SAN: URI= is left out', () => {
  assert.equal(xfccFor(cert('CN=svc', 'DNS:svc.local')), `Hash=${HASH};Subject="CN=svc"`);
  assert.equal(xfccFor(cert('CN=svc', undefined)), `Hash=${HASH};Subject="CN=svc"`);
});

test('quotes and backslashes in the subject stay escaped once; separators inside the quotes are harmless', () => {
  // Node prints RFC 2253 escapes itself: \" \, \\ inside values.
  const value = xfccFor(cert('O=a\\, b;c=d\nCN=orders \\"svc\\" \\\\x', undefined));
  assert.equal(value, `Hash=${HASH};Subject="CN=orders \\"svc\\" \\\\x,O=a\\, b;c=d"`);
});

test('non-ASCII in the subject becomes \\XX escapes of its UTF-8 bytes (a header value stays ASCII)', () => {
  assert.equal(rfc2253Subject('O=Ä\nCN=x'), 'CN=x,O=\\C3\\84');
  // A multi-valued RDN, as Node prints it; OpenSSL's -nameopt RFC2253 gives CN=x,UID=u1+OU=a,O=Org,C=US.
  assert.equal(rfc2253Subject('C=US\nO=Org\nOU=a + UID=u1\nCN=x'), 'CN=x,UID=u1+OU=a,O=Org,C=US');
  assert.equal(rfc2253Subject('O=a\\+b\nCN=x'), 'CN=x,O=a\\+b', 'an escaped plus is part of a value');
});

test('URI SANs: Node quotes values holding a comma; a URI with a separator is quoted in XFCC', () => {
  assert.deepEqual(uriSans('URI:"https://a/b,c", DNS:x, URI:urn:y'), ['https://a/b,c', 'urn:y']);
  assert.equal(xfccFor(cert('CN=x', 'URI:"https://a/b,c"')), `Hash=${HASH};Subject="CN=x";URI="https://a/b,c"`);
  assert.deepEqual(uriSans('DNS:a, IP Address:127.0.0.1'), []);
});

test('dropClientCert removes every X-Forwarded-Client-Cert, whatever its case, and nothing else', () => {
  const h = ['Host', 'a', 'X-Forwarded-Client-Cert', 'Hash=spoof', 'x-forwarded-client-cert', 'By=x', 'X-Forwarded-Client-Certs', 'keep', 'Accept', '*/*'];
  dropClientCert(h);
  assert.deepEqual(h, ['Host', 'a', 'X-Forwarded-Client-Certs', 'keep', 'Accept', '*/*']);
});

test('applyClientCert: removed always; Outrigger\'s own added only with FORWARDED_HEADERS and a verified client', () => {
  const incoming = () => ['Host', 'a', 'x-forwarded-client-cert', 'Hash=spoof'];
  const peer = { xfcc: 'Hash=real' };
  const cases: Array<[typeof peer | undefined, boolean, string[]]> = [
    [undefined, true, ['Host', 'a']],
    [undefined, false, ['Host', 'a']],
    [{ xfcc: undefined } as never, true, ['Host', 'a']],
    [peer, false, ['Host', 'a']],
    [peer, true, ['Host', 'a', 'X-Forwarded-Client-Cert', 'Hash=real']],
  ];
  for (const [p, forwarded, expected] of cases) {
    const h = incoming();
    applyClientCert(h, p, forwarded);
    assert.deepEqual(h, expected, JSON.stringify({ p, forwarded }));
  }
});

test('the peer travels with the socket object', () => {
  const socket = {};
  assert.equal(tlsPeerOf(socket), undefined);
  assert.equal(tlsPeerOf(undefined), undefined);
  setTlsPeer(socket, { xfcc: 'Hash=1' });
  assert.deepEqual(tlsPeerOf(socket), { xfcc: 'Hash=1' });
});
