import { test } from 'node:test';
import assert from 'node:assert/strict';
import { h2cOffer, headBytes, withoutH2cOffer } from '../../src/proxy/h2c-offer.js';

const OFFER = ['Host', 'app.test', 'Connection', 'Upgrade, HTTP2-Settings', 'Upgrade', 'h2c', 'HTTP2-Settings', 'AAMAAABkAAQAAP__', 'Accept', '*/*'];

test('h2cOffer: none, h2c alone, or h2c beside another protocol', () => {
  assert.equal(h2cOffer(['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'websocket']), 'none');
  assert.equal(h2cOffer(['Host', 'a', 'Upgrade', 'h2c2']), 'none');
  assert.equal(h2cOffer(OFFER), 'only');
  assert.equal(h2cOffer(['upgrade', ' H2C , ']), 'only');
  assert.equal(h2cOffer(['Upgrade', 'websocket, h2c']), 'mixed');
  assert.equal(h2cOffer(['Upgrade', 'h2c', 'Upgrade', 'foo/2']), 'mixed');
});

test('withoutH2cOffer: an h2c-only offer leaves a plain request', () => {
  assert.deepEqual(withoutH2cOffer(OFFER), ['Host', 'app.test', 'Accept', '*/*']);
  // Other Connection tokens stay (close keeps its meaning).
  assert.deepEqual(withoutH2cOffer(['Connection', 'close, Upgrade, http2-settings', 'upgrade', 'h2c', 'http2-settings', 'x']), ['Connection', 'close']);
  // HTTP2-Settings goes even when Connection does not name it.
  assert.deepEqual(withoutH2cOffer(['Connection', 'Upgrade', 'Upgrade', 'h2c', 'HTTP2-Settings', 'x']), []);
});

test('withoutH2cOffer: beside another protocol, only h2c and its settings go', () => {
  assert.deepEqual(
    withoutH2cOffer(['Host', 'a', 'Connection', 'Upgrade, HTTP2-Settings', 'Upgrade', 'websocket, h2c', 'HTTP2-Settings', 'x', 'Sec-WebSocket-Version', '13']),
    ['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Version', '13'],
  );
});

test('headBytes: the head as Latin-1 wire bytes, names and values as received', () => {
  const bytes = headBytes('POST', '/a?b=1', '1.1', ['Host', 'app.test', 'X-Name', 'caf\xe9']);
  assert.deepEqual(bytes, Buffer.from('POST /a?b=1 HTTP/1.1\r\nHost: app.test\r\nX-Name: caf\xe9\r\n\r\n', 'latin1'));
  assert.equal(bytes.includes(Buffer.from('é', 'utf8')), false, 'one byte per character, not UTF-8');
});
