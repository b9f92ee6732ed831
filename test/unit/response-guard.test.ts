/** checkResponseHead: which backend answer heads may be re-framed and relayed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkResponseHead } from '../../src/transport/response-guard.js';

const CASES: ReadonlyArray<readonly [string, string[], boolean]> = [
  ['no Transfer-Encoding', ['Content-Length', '3'], true],
  ['chunked', ['Transfer-Encoding', 'chunked'], true],
  ['CHUNKED in any case, with spaces', ['transfer-encoding', ' Chunked '], true],
  ['chunked with an empty list element', ['Transfer-Encoding', 'chunked,'], true],
  ['gzip, chunked', ['Transfer-Encoding', 'gzip, chunked'], false],
  ['gzip alone', ['Transfer-Encoding', 'gzip'], false],
  ['chunked twice, in one line', ['Transfer-Encoding', 'chunked, chunked'], false],
  ['chunked twice, in two lines', ['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked'], false],
  ['gzip then chunked, in two lines', ['Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'chunked'], false],
  ['identity', ['Transfer-Encoding', 'identity'], false],
  ['empty value', ['Transfer-Encoding', ''], false],
  ['a look-alike name is not Transfer-Encoding', ['Transfer-Encodings', 'gzip'], true],
];

for (const [name, raw, ok] of CASES) {
  test(`checkResponseHead: ${name} → ${ok ? 'relayed' : 'refused'}`, () => {
    assert.equal(checkResponseHead(raw) === undefined, ok);
  });
}
