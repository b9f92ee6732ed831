/** bounded-file.ts: both flavours accept regular files up to the cap and refuse everything else unopened. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRejectedError } from '../../src/errors.js';
import { readBoundedFile, readBoundedFileSync, MAX_CONFIG_FILE_BYTES } from '../../src/upstream/bounded-file.js';

const dir = mkdtempSync(join(tmpdir(), 'outrigger-bounded-'));
const path = (name: string) => join(dir, name);
writeFileSync(path('small.json'), '{"servers":[]}');
writeFileSync(path('exact'), 'x'.repeat(16));
writeFileSync(path('over'), 'x'.repeat(17));
writeFileSync(path('utf8'), 'é'.repeat(8)); // 16 bytes
execFileSync('mkfifo', [path('fifo')]);
symlinkSync('/dev/zero', path('zero'));
symlinkSync('small.json', path('link'));
mkdirSync(path('dir'));

const READERS = [
  ['sync', async (p: string, max?: number) => readBoundedFileSync(p, max)],
  ['async', (p: string, max?: number) => readBoundedFile(p, max)],
] as const;

for (const [flavour, read] of READERS) {
  test(`${flavour}: regular files and symlinks to them are read whole`, async () => {
    assert.equal(await read(path('small.json')), '{"servers":[]}');
    assert.equal(await read(path('link')), '{"servers":[]}');
    assert.equal(await read(path('exact'), 16), 'x'.repeat(16));
    assert.equal(await read(path('utf8'), 16), 'é'.repeat(8));
  });

  const REFUSED: Array<[string, string, number | undefined, string, RegExp]> = [
    ['a FIFO', 'fifo', undefined, 'ERR_FILE_NOT_REGULAR', /^is a FIFO, expected a regular file$/],
    ['a symlink to /dev/zero', 'zero', undefined, 'ERR_FILE_NOT_REGULAR', /^is a character device, expected a regular file$/],
    ['a directory', 'dir', undefined, 'ERR_FILE_NOT_REGULAR', /^is a directory, expected a regular file$/],
    ['one byte over the cap', 'over', 16, 'ERR_FILE_TOO_LARGE', /^is 17 bytes, larger than the 16 bytes limit$/],
  ];
  for (const [what, name, max, code, message] of REFUSED) {
    test(`${flavour}: ${what} is refused with ${code}`, async () => {
      await assert.rejects(read(path(name), max), (err: unknown) => {
        assert.ok(err instanceof FileRejectedError);
        assert.equal(err.code, code);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  test(`${flavour}: a missing file fails with the fs error`, async () => {
    await assert.rejects(read(path('missing')), { code: 'ENOENT' });
  });
}

test('the default cap is 1 MiB', () => {
  assert.equal(MAX_CONFIG_FILE_BYTES, 1024 * 1024);
});
