/** transport/h1-chars: the character classes every HTTP/1.1 byte is checked against on the lean engine's path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFieldValue, isToken } from '../../src/transport/h1-chars.js';

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;
const VALUE = /^[\t\x20-\x7e\x80-\xff]$/;

test('h1-chars: every code point from 0 to 0x1ff is classed as RFC 9110 says', () => {
  for (let c = 0; c < 0x200; c++) {
    const s = String.fromCharCode(c);
    assert.equal(isToken(s), TCHAR.test(s), `token ${c.toString(16)}`);
    assert.equal(isFieldValue(s), VALUE.test(s), `value ${c.toString(16)}`);
  }
  assert.equal(isToken(''), false);
  assert.equal(isFieldValue(''), true);
  assert.equal(isFieldValue('a\r\nb'), false);
});
