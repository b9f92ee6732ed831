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
  ['a request with a body (trailers, 100-continue)', 'http', { body }, false],
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
