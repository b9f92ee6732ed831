/** Which requests the undici client takes: only those it sends as received (table). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { undiciCanSend } from '../../src/transport/select.js';
import type { RequestBody } from '../../src/proxy/request-body.js';

const body = {} as RequestBody;
const base: { method: string; path: string; headers: string[]; body: RequestBody | undefined; exactHeaders: boolean } = {
  method: 'GET', path: '/a?b=1', headers: ['Host', 'x', 'Accept', '*/*'], body: undefined, exactHeaders: false,
};

const cases: Array<[string, 'http' | 'https', Partial<typeof base>, boolean]> = [
  ['a GET with Host first', 'http', {}, true],
  ['a DELETE, OPTIONS-style bodiless request', 'http', { method: 'DELETE' }, true],
  ['an https backend (undici would take the TLS name from Host)', 'https', {}, false],
  ['a GET with a body (a body on GET: its connection is not reused, node:http keeps the framing)', 'http', { body, headers: ['Host', 'x', 'Content-Length', '3'] }, false],
  ['a POST with one Content-Length', 'http', { method: 'POST', body, headers: ['Host', 'x', 'Content-Length', '3'] }, true],
  ['a PUT with one Content-Length', 'http', { method: 'PUT', body, headers: ['host', 'x', 'content-length', '3'] }, true],
  ['a PATCH with one Content-Length', 'http', { method: 'PATCH', body, headers: ['Host', 'x', 'X-A', '1', 'Content-Length', '3'] }, true],
  ['a DELETE with a body (undici would drop its framing)', 'http', { method: 'DELETE', body, headers: ['Host', 'x', 'Content-Length', '3'] }, false],
  ['a POST body without Content-Length (chunked: trailers may follow)', 'http', { method: 'POST', body, headers: ['Host', 'x', 'Transfer-Encoding', 'chunked'] }, false],
  ['a POST body with a Content-Length and Transfer-Encoding (an HTTP/2 body re-framed chunked)', 'http', { method: 'POST', body, headers: ['Host', 'x', 'content-length', '3', 'Transfer-Encoding', 'chunked'] }, false],
  ['a POST body with no framing field at all', 'http', { method: 'POST', body, headers: ['Host', 'x'] }, false],
  ['a POST body with two Content-Lengths', 'http', { method: 'POST', body, headers: ['Host', 'x', 'Content-Length', '3', 'Content-Length', '3'] }, false],
  ['a POST body awaiting 100 Continue', 'http', { method: 'POST', body, headers: ['Host', 'x', 'Content-Length', '3', 'Expect', '100-continue'] }, false],
  ['a POST body to an https backend', 'https', { method: 'POST', body, headers: ['Host', 'x', 'Content-Length', '3'] }, false],
  ['a POST body with FORWARDED_HEADERS=false', 'http', { method: 'POST', body, headers: ['Host', 'x', 'Content-Length', '3'], exactHeaders: true }, false],
  ['a bodiless POST with Content-Length: 0', 'http', { method: 'POST', headers: ['Host', 'x', 'Content-Length', '0'] }, false],
  ['FORWARDED_HEADERS=false (byte for byte)', 'http', { exactHeaders: true }, false],
  ['HEAD (undici closes the connection after it)', 'http', { method: 'HEAD' }, false],
  ['OPTIONS * (not origin-form)', 'http', { method: 'OPTIONS', path: '*' }, false],
  ['absolute-form target', 'http', { path: 'http://x/a' }, false],
  ['a target with a tab', 'http', { path: '/a\tb' }, false],
  ['a target with bytes above 0x7f', 'http', { path: '/caf\u00e9' }, true],
  ['Host not first (undici writes it first)', 'http', { headers: ['Accept', '*/*', 'Host', 'x'] }, false],
  ['no Host at all', 'http', { headers: ['Accept', '*/*'] }, false],
  ['two Host headers', 'http', { headers: ['Host', 'x', 'host', 'y'] }, false],
  ['any Expect (undici refuses it)', 'http', { headers: ['Host', 'x', 'Expect', 'x-foo'] }, false],
  ['Content-Length: 0 (undici drops it on a GET)', 'http', { headers: ['Host', 'x', 'content-length', '0'] }, false],
  ['lower-case host first', 'http', { headers: ['host', 'x', 'X-A', '1'] }, true],
];

for (const [name, scheme, change, expected] of cases) {
  test(`undiciCanSend: ${name} → ${expected}`, () => {
    assert.equal(undiciCanSend(scheme, { ...base, ...change }), expected);
  });
}
