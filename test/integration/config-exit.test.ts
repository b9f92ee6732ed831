import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOutrigger } from '../helpers/outrigger.js';
import { TestPki } from '../helpers/certs.js';

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
  [{ PROXY_HOST: 'garbage!' }, 'PROXY_HOST', /host name or IP address/],
  [{ PROXY_HOST: '999.1.1.1' }, 'PROXY_HOST', /host name or IP address/],
  [{ ADMIN_HOST: '-1' }, 'ADMIN_HOST', /host name or IP address/],
  [{ ADMIN_HOST: '[::1' }, 'ADMIN_HOST', /host name or IP address/],
  [{ LB_ALGORITHM: 'fastest' }, 'LB_ALGORITHM', /expected one of round-robin/],
  [{ HASH_KEY: 'query:x' }, 'HASH_KEY', /ip, header:NAME or cookie:NAME/],
  [{ HEALTH_CHECK_TYPE: 'h2' }, 'HEALTH_CHECK_TYPE', /tcp, http, grpc, none/],
  [{ HEALTH_CHECK_PATH: 'health' }, 'HEALTH_CHECK_PATH', /absolute path/],
  [{ HEALTH_CHECK_INTERVAL_MS: '0' }, 'HEALTH_CHECK_INTERVAL_MS', /integer from 1 to 2147483647/],
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

test('bad TLS configuration exits 78 naming the variable, one line each', async (t) => {
  const pki = new TestPki();
  t.after(() => pki.close());
  const ca = await pki.ca('Exit CA');
  const [server, other] = await Promise.all([pki.server(ca, '51'), pki.server(ca, '52')]);
  const garbage = join(pki.dir, 'garbage.pem');
  writeFileSync(garbage, 'not PEM\n');
  const PAIR = { TLS_CERT_FILE: server.cert, TLS_KEY_FILE: server.key };
  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [{ ...PAIR, TLS_CERT_FILE: '/nonexistent/tls.crt' }, 'TLS_CERT_FILE', /cannot be read: ENOENT/],
    [{ ...PAIR, TLS_CERT_FILE: garbage }, 'TLS_CERT_FILE', /holds no PEM certificate/],
    [{ ...PAIR, TLS_KEY_FILE: garbage }, 'TLS_KEY_FILE', /not an unencrypted PEM private key/],
    [{ ...PAIR, TLS_KEY_FILE: other.key }, 'TLS_KEY_FILE', /does not match the certificate in TLS_CERT_FILE/],
    [{ ...PAIR, TLS_MIN_VERSION: 'TLSv1.1' }, 'TLS_MIN_VERSION', /expected one of TLSv1\.2, TLSv1\.3/],
    [{ TLS_CERT_FILE: server.cert }, 'TLS_KEY_FILE', /is not set/],
    [{ TLS_KEY_FILE: server.key }, 'TLS_CERT_FILE', /is not set/],
    [{ TLS_CLIENT_CA_FILE: ca.cert }, 'TLS_CLIENT_CA_FILE', /expected TLS_CERT_FILE and TLS_KEY_FILE/],
    [{ ...PAIR, TLS_CLIENT_CA_FILE: garbage }, 'TLS_CLIENT_CA_FILE', /holds no PEM certificate/],
    [{ UPSTREAM_TLS_CERT_FILE: server.cert, UPSTREAM_TLS_KEY_FILE: other.key }, 'UPSTREAM_TLS_KEY_FILE', /does not match/],
    [{ UPSTREAM_TLS_CA_FILE: '/dev/zero' }, 'UPSTREAM_TLS_CA_FILE', /expected a regular file/],
  ];
  const results = await Promise.all(cases.map(([env]) => runOutrigger({ ...OK, ...env })));
  results.forEach(({ code, stderr, stdout }, i) => {
    const [, variable, expected] = cases[i]!;
    assert.equal(code, 78, `${variable}: ${stderr}`);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.ok(lines[0]!.includes(`${variable}: `), lines[0]);
    assert.match(lines[0]!, expected);
    assert.doesNotMatch(stderr, /\n\s+at /);
    assert.equal(stdout, '');
  });
  // The good pair starts (the cases above fail for their one reason only).
  const good = await runOutrigger({ ...OK, ...PAIR, LOG_LEVEL: 'silent' }, 1500);
  assert.equal(good.code, null, `a good pair must not exit: ${good.stderr}`);
});
