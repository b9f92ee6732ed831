import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHttp2Host, checkHttp2Method, checkHttp2Path, checkRequest, checkUpgrade, originForm, type RequestHead, type RejectionKind } from '../../src/proxy/request-guard.js';

/** Header values are written as Node hands them over: one Latin-1 character per received byte. */
const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
const head = (rawHeaders: string[], over: Partial<RequestHead> = {}): RequestHead => ({ method: 'GET', url: '/', httpVersion: '1.1', rawHeaders, ...over });
const H = ['Host', 'app.test'];

type Row = readonly [string, RequestHead, RejectionKind | undefined];

const REQUESTS: Row[] = [
  ['plain GET', head([...H, 'Accept', '*/*']), undefined],
  ['HTTP/1.0 without Host', head([], { httpVersion: '1.0' }), undefined],
  ['HTTP/1.1 without Host', head(['Accept', '*/*']), 'bad_request'],
  ['Expect: 100-continue', head([...H, 'Expect', '100-continue']), undefined],
  ['Expect list naming 100-continue', head([...H, 'Expect', '100-continue, x-custom']), undefined],
  ['Expect without 100-continue', head([...H, 'Expect', 'x-custom']), 'expectation_failed'],
  ['Expect: 100-continued (not the token)', head([...H, 'Expect', '100-continued']), 'expectation_failed'],
  ['HTTP/0.9 with headers', head(H, { httpVersion: '0.9' }), 'http_version_not_supported'],
  ['two Host lines', head([...H, 'host', 'other.test']), 'bad_request'],
  ['Host with a space', head(['Host', 'a b']), 'bad_request'],
  ['Host with userinfo', head(['Host', 'user@a']), 'bad_request'],
  ['Host with port and IPv6 literal', head(['Host', '[::1]:8080']), undefined],
  ['empty Host (allowed by RFC 9112)', head(['Host', '']), undefined],
  ['Transfer-Encoding: chunked', head([...H, 'Transfer-Encoding', 'chunked'], { method: 'POST' }), undefined],
  ['Transfer-Encoding: CHUNKED', head([...H, 'transfer-encoding', 'CHUNKED'], { method: 'POST' }), undefined],
  ['Transfer-Encoding: ,chunked', head([...H, 'Transfer-Encoding', ',chunked'], { method: 'POST' }), 'bad_request'],
  ['Transfer-Encoding: chunked, chunked', head([...H, 'Transfer-Encoding', 'chunked, chunked'], { method: 'POST' }), 'bad_request'],
  ['two Transfer-Encoding: chunked lines', head([...H, 'Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked'], { method: 'POST' }), 'bad_request'],
  ['Transfer-Encoding: chunked;ext', head([...H, 'Transfer-Encoding', 'chunked;x=1'], { method: 'POST' }), 'bad_request'],
  ['Transfer-Encoding: gzip, chunked', head([...H, 'Transfer-Encoding', 'gzip, chunked'], { method: 'POST' }), 'unsupported_transfer_coding'],
  ['Transfer-Encoding: deflate + chunked lines', head([...H, 'Transfer-Encoding', 'deflate', 'Transfer-Encoding', 'chunked'], { method: 'POST' }), 'unsupported_transfer_coding'],
  ['Transfer-Encoding in HTTP/1.0', head(['Transfer-Encoding', 'chunked'], { method: 'POST', httpVersion: '1.0' }), 'bad_request'],
  ['Content-Length and Transfer-Encoding', head([...H, 'Content-Length', '3', 'Transfer-Encoding', 'chunked'], { method: 'POST' }), 'bad_request'],
  ['Content-Length: 0', head([...H, 'Content-Length', '0'], { method: 'POST' }), undefined],
  ['Content-Length: 42', head([...H, 'Content-Length', '42'], { method: 'POST' }), undefined],
  ['Content-Length: 010 (octal to strtoll)', head([...H, 'Content-Length', '010'], { method: 'POST' }), 'bad_request'],
  ['two Content-Length lines', head([...H, 'Content-Length', '1', 'content-length', '1'], { method: 'POST' }), 'bad_request'],
  ['Transfer_Encoding', head([...H, 'Transfer_Encoding', 'chunked'], { method: 'POST' }), 'bad_request'],
  ['Content__Length', head([...H, 'Content__Length', '5'], { method: 'POST' }), 'bad_request'],
  ['Transfer---Encoding', head([...H, 'Transfer---Encoding', 'chunked'], { method: 'POST' }), 'bad_request'],
  ['underscore in another name', head([...H, 'My_Custom_Header', 'x']), undefined],
  ['NEL and NBSP around a value (Latin-1)', head([...H, 'User', '\x85admin\xa0']), 'bad_request'],
  ['NBSP at the end of a value (UTF-8)', head([...H, 'User', utf8('admin\u00a0')]), 'bad_request'],
  ['ideographic space first (UTF-8)', head([...H, 'User', utf8('\u3000admin')]), 'bad_request'],
  ['Latin-1 text inside a value', head([...H, 'Test', 'D\xfcsseldorf']), undefined],
  ['UTF-8 value ending in à (last byte 0xA0)', head([...H, 'X-Name', utf8('voilà')]), undefined],
  ['0xFF first in a value', head([...H, 'Header2', '\xffValue2']), undefined],
  ['OPTIONS *', head(H, { method: 'OPTIONS', url: '*' }), undefined],
  ['GET *', head(H, { url: '*' }), 'bad_request'],
  ['absolute-form naming Host', head(['Host', 'App.test:8080'], { url: 'http://app.test:8080/x?y' }), undefined],
  ['absolute-form naming another authority', head(H, { url: 'http://evil.test/x' }), 'bad_request'],
  ['absolute-form naming Host with the scheme\'s default port', head(H, { url: 'http://APP.test:80/x' }), undefined],
  ['absolute-form naming Host with another port', head(H, { url: 'https://app.test:80/x' }), 'bad_request'],
  ['absolute-form with userinfo', head(H, { url: 'http://u:p@app.test/' }), 'bad_request'],
  ['absolute-form without Host', head([], { url: 'http://app.test/', httpVersion: '1.0' }), 'bad_request'],
  ['other scheme', head(H, { url: 'ftp://app.test/' }), 'bad_request'],
];

test('checkRequest: accepted and refused request heads', () => {
  for (const [name, h, expected] of REQUESTS) assert.equal(checkRequest(h)?.kind, expected, name);
});

const WS = [...H, 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Version', '13'];
const UPGRADES: Array<readonly [string, RequestHead, number, RejectionKind | undefined]> = [
  ['WebSocket handshake', head(WS), 0, undefined],
  ['with Content-Length: 0', head([...WS, 'Content-Length', '0']), 0, undefined],
  ['on PUT', head(WS, { method: 'PUT' }), 0, 'bad_request'],
  ['on POST with a body', head([...WS, 'Content-Length', '15'], { method: 'POST' }), 0, 'bad_request'],
  ['GET with a body', head([...WS, 'Content-Length', '4']), 0, 'bad_request'],
  ['GET, chunked', head([...WS, 'Transfer-Encoding', 'chunked']), 0, 'bad_request'],
  ['bytes sent before the 101', head(WS), 16, 'bad_request'],
  ['over HTTP/1.0', head(WS, { httpVersion: '1.0' }), 0, 'bad_request'],
  ['with two Host lines (request checks apply)', head([...WS, 'Host', 'b']), 0, 'bad_request'],
];

test('checkUpgrade: only a bodiless HTTP/1.1 GET with nothing sent before the 101 becomes a tunnel', () => {
  for (const [name, h, early, expected] of UPGRADES) assert.equal(checkUpgrade(h, early)?.kind, expected, name);
});

test('every refusal carries a reason without request bytes', () => {
  const r = checkRequest(head([...H, 'User', '\x85secret\xa0']));
  assert.ok(r !== undefined);
  assert.ok(r.reason.length > 0 && !r.reason.includes('secret'));
});

const H2 = [':method', 'GET', ':scheme', 'http', ':authority', 'good.example', ':path', '/'];
const H2_HOSTS: Array<readonly [string, string[], RejectionKind | undefined]> = [
  ['no Host', H2, undefined],
  ['Host equal to :authority', [...H2, 'host', 'good.example'], undefined],
  ['Host differing only in case', [...H2, 'host', 'GOOD.Example'], undefined],
  ['Host with the scheme\'s default port', [...H2, 'host', 'good.example:80'], undefined],
  ['Host with an empty port', [...H2, 'host', 'good.example:'], undefined],
  ['Host naming another host', [...H2, 'host', 'evil.example'], 'bad_request'],
  ['Host naming another port', [...H2, 'host', 'good.example:8080'], 'bad_request'],
  ['Host with https\'s port on http', [...H2, 'host', 'good.example:443'], 'bad_request'],
  ['a second Host naming another host', [...H2, 'host', 'good.example', 'host', 'evil.example'], 'bad_request'],
  ['Host without :authority', [':method', 'GET', ':scheme', 'http', ':path', '/', 'host', 'any.example'], undefined],
];

test('checkHttp2Host: Host beside :authority must name the same authority (RFC 9113 §8.3.1)', () => {
  for (const [name, raw, want] of H2_HOSTS) assert.equal(checkHttp2Host(raw)?.kind, want, name);
});

const TARGETS: Array<readonly [method: string, received: string, forwarded: string]> = [
  ['GET', '/a/b?c', '/a/b?c'],
  ['GET', '/', '/'],
  ['OPTIONS', '*', '*'],
  ['GET', 'http://app.test/echo?x', '/echo?x'],
  ['GET', 'HTTPS://App.test:443/p/%7E%2F;m?q=1&q=%20', '/p/%7E%2F;m?q=1&q=%20'],
  ['GET', 'http://app.test?x=1', '/?x=1'],
  ['GET', 'http://app.test', '/'],
  ['GET', 'http://app.test:8080', '/'],
  ['OPTIONS', 'http://app.test', '*'],
  ['OPTIONS', 'http://app.test?x', '/?x'],
  ['OPTIONS', 'http://app.test/', '/'],
];

test('originForm: an absolute-form target becomes its path and query, byte for byte (RFC 9112 §3.2.1, §3.2.4); others stay', () => {
  for (const [method, received, forwarded] of TARGETS) assert.equal(originForm(method, received), forwarded, `${method} ${received}`);
});

test('checkHttp2Method: the methods Node\'s HTTP/1.1 parser takes pass; others are 400, CONNECT 405', () => {
  for (const m of ['GET', 'POST', 'PROPFIND', 'M-SEARCH', 'PURGE']) assert.equal(checkHttp2Method(m), undefined, m);
  for (const m of ['FOOBAR', 'get', 'PRI', 'DESCRIBE', '']) assert.equal(checkHttp2Method(m)?.kind, 'bad_request', m);
  assert.equal(checkHttp2Method('CONNECT')?.kind, 'method_not_allowed');
});

test('checkHttp2Path: an absolute path (or * for OPTIONS) in visible ASCII passes; anything HTTP/1.1 could not carry is 400', () => {
  for (const [path, method] of [['/', 'GET'], ['/a/b?c=d&e=%20', 'GET'], ['/#frag', 'GET'], ['*', 'OPTIONS']] as const) assert.equal(checkHttp2Path(path, method), undefined, path);
  for (const [path, method] of [['/echo\u0080', 'GET'], ['/caf\u00e9', 'GET'], ['/a\u007f', 'GET'], ['echo', 'GET'], ['*', 'GET'], ['', 'GET'], ['http://a/b', 'GET']] as const) {
    assert.equal(checkHttp2Path(path, method)?.kind, 'bad_request', JSON.stringify(path));
  }
});
