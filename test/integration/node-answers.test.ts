/**
 * Issue 8, finding 6: answers Node's server used to write itself (400 for an
 * HTTP/1.1 request without Host, 417 for an unknown Expect) are Outrigger's
 * own refusals now: `x-outrigger-error`, counted, access-logged, never forwarded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startOutrigger } from '../helpers/outrigger.js';
import { startServer } from '../helpers/http.js';

function exchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(raw));
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => resolve(text));
    setTimeout(() => s.destroy(), 3000);
  });
}

const CASES = [
  { name: 'HTTP/1.1 without Host', raw: 'GET /nohost HTTP/1.1\r\n\r\n', status: 400, kind: 'bad_request' },
  { name: 'Expect other than 100-continue', raw: 'GET /expect HTTP/1.1\r\nHost: x\r\nExpect: x-magic\r\n\r\n', status: 417, kind: 'expectation_failed' },
];

for (const c of CASES) {
  test(`${c.name}: ${c.status} with x-outrigger-error, counted and access-logged, never forwarded`, async (t) => {
    const seen: string[] = [];
    const origin = await startServer((req, res) => { seen.push(req.url ?? ''); res.end('ok'); });
    t.after(() => origin.close());
    const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${origin.port}`, HEALTH_CHECK_TYPE: 'none' });
    t.after(() => lb.stop());
    const text = await exchange(lb.proxyPort, c.raw);
    assert.match(text, new RegExp(`^HTTP/1\\.1 ${c.status} `));
    assert.match(text, new RegExp(`x-outrigger-error: ${c.kind}`, 'i'));
    const line = await lb.waitForLog((l) => l.msg === 'request' && l.status === c.status);
    assert.equal(line.refused, c.kind);
    const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
    assert.match(metrics, new RegExp(`outrigger_proxy_errors_total\\{kind="${c.kind}"\\} 1`));
    assert.match(metrics, new RegExp(`outrigger_http_requests_total\\{method="GET",code="${c.status}"\\} 1`));
    assert.deepEqual(seen, []);
  });
}
