import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOutrigger } from '../helpers/outrigger.js';

const OK = { BACKENDS: '127.0.0.1:1', PROXY_PORT: '0', ADMIN_PORT: '0' };

const CASES: Array<[Record<string, string>, string, RegExp]> = [
  [{ BACKENDS: '' }, 'BACKENDS', /is not set/],
  [{ BACKENDS: 'no-port' }, 'BACKENDS', /missing :port/],
  [{ BACKENDS: '127.0.0.1:8081;weight=0' }, 'BACKENDS', /weight must be an integer from 1 to 1000/],
  [{ BACKENDS: '::1:8081' }, 'BACKENDS', /brackets/],
  [{ BACKENDS: 'ftp://host:21' }, 'BACKENDS', /unknown scheme/],
  [{ MODE: 'udp' }, 'MODE', /expected one of http, tcp/],
  [{ PROXY_PORT: '70000' }, 'PROXY_PORT', /port number/],
  [{ ADMIN_PORT: 'abc' }, 'ADMIN_PORT', /port number/],
  [{ LB_ALGORITHM: 'fastest' }, 'LB_ALGORITHM', /expected one of round-robin/],
  [{ HASH_KEY: 'query:x' }, 'HASH_KEY', /ip, header:NAME or cookie:NAME/],
  [{ HEALTH_CHECK_TYPE: 'h2' }, 'HEALTH_CHECK_TYPE', /tcp, http, grpc, none/],
  [{ HEALTH_CHECK_PATH: 'health' }, 'HEALTH_CHECK_PATH', /absolute path/],
  [{ HEALTH_CHECK_INTERVAL_MS: '0' }, 'HEALTH_CHECK_INTERVAL_MS', /integer ≥ 1/],
  [{ HEALTH_CHECK_TIMEOUT_MS: '1s' }, 'HEALTH_CHECK_TIMEOUT_MS', /milliseconds/],
  [{ UNHEALTHY_THRESHOLD: '0' }, 'UNHEALTHY_THRESHOLD', /1 to 100/],
  [{ OUTLIER_MAX_EJECTION_PERCENT: '150' }, 'OUTLIER_MAX_EJECTION_PERCENT', /0 to 100/],
  [{ RETRIES: '-1' }, 'RETRIES', /0 to 10/],
  [{ UPSTREAM_TIMEOUT_MS: '3.5' }, 'UPSTREAM_TIMEOUT_MS', /milliseconds/],
  [{ FORWARDED_HEADERS: 'yes please' }, 'FORWARDED_HEADERS', /true or false/],
  [{ ACCESS_LOG: 'maybe' }, 'ACCESS_LOG', /true or false/],
  [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /fatal/],
  [{ MAX_CONNECTIONS: '0' }, 'MAX_CONNECTIONS', /integer from 1/],
  [{ CONFIG_FILE: '/nonexistent/outrigger.json', BACKENDS: '' }, 'CONFIG_FILE', /cannot be read: ENOENT/],
  [{ PROXY_PORT: '9000', ADMIN_PORT: '9000' }, 'ADMIN_PORT', /other than PROXY_PORT/],
];

for (const [env, variable, expected] of CASES) {
  test(`invalid ${variable}=${JSON.stringify(Object.values(env)[0])} exits 78 and names it`, async () => {
    const { code, stderr, stdout } = await runOutrigger({ ...OK, ...env });
    assert.equal(code, 78);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line per problem:\n${stderr}`);
    assert.ok(lines[0]!.includes(`${variable}:`), lines[0]);
    assert.match(lines[0]!, expected);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    assert.equal(stdout, '');
  });
}

test('several bad variables: one line each', async () => {
  const { code, stderr } = await runOutrigger({ ...OK, PROXY_PORT: 'x', RETRIES: 'many', MODE: 'quic' });
  assert.equal(code, 78);
  const lines = stderr.trim().split('\n').sort();
  assert.equal(lines.length, 3);
  assert.match(lines.join('\n'), /MODE: got "quic"[\s\S]*PROXY_PORT: got "x"[\s\S]*RETRIES: got "many"/);
});

test('an invalid CONFIG_FILE at startup exits 78 naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, '{"servers": [{"url": "http://a:99999"}]}');
  const { code, stderr } = await runOutrigger({ PROXY_PORT: '0', ADMIN_PORT: '0', CONFIG_FILE: file });
  assert.equal(code, 78);
  assert.match(stderr, /CONFIG_FILE: .*servers\[0\]: .*port must be 1-65535/);
});
