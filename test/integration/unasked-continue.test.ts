/**
 * A backend that sends `100 Continue` to requests that never asked for one.
 * RFC 9110 §15.2 lets a server do that and asks every client to read past it;
 * undici (the engine for bodiless requests and Content-Length bodies) refuses
 * the answer instead. The proxy then sends that backend's requests through
 * `node:http`, which reads past it: an idempotent bodiless request is sent
 * again at once and answered, a POST or a request whose body went out is not
 * (the backend may have acted on it) and gets `502 upstream_reset`,
 * and every later request to the backend is answered. The scripted backend
 * tells the two clients apart by the case of the first header name (undici
 * writes `host`, node:http keeps the client's `Host`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOutrigger } from '../helpers/outrigger.js';
import { startScriptedBackend, type ScriptedBackend } from '../helpers/scripted-backend.js';
import { exchange } from '../helpers/raw-response.js';

const ANSWER = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const HINT = 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n';

/** The backend, and the first header name of every request it got, in order. */
async function continuingBackend(answer = ANSWER): Promise<{ backend: ScriptedBackend; seen: string[] }> {
  const seen: string[] = [];
  let backend: ScriptedBackend | undefined;
  backend = await startScriptedBackend((path) => {
    // node:http sends a bodiless POST chunked: its last chunk reads as a head without a path here.
    if (path === '/') return '';
    seen.push(backend?.firstHeader.get(path) ?? '?');
    return answer;
  });
  return { backend, seen };
}

const request = (method: string, path: string) => `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;

test('an unasked 100 Continue: a GET is sent again through node:http and answered, and the backend stays on node:http', async (t) => {
  const { backend, seen } = await continuingBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', RETRIES: '0' });
  t.after(() => lb.stop());

  const first = await exchange(lb.proxyPort, request('GET', '/a'), false);
  assert.equal(`${first.status} ${first.body}`, '200 ok');
  assert.deepEqual(first.informational, [], 'the client did not ask for a 100 and gets none');
  assert.deepEqual(seen, ['host', 'Host'], 'undici first, then node:http');

  const second = await exchange(lb.proxyPort, request('GET', '/b'), false);
  assert.equal(`${second.status} ${second.body}`, '200 ok');
  assert.deepEqual(seen, ['host', 'Host', 'Host'], 'the next request goes straight through node:http');
  const warned = lb.logs.filter((l) => l.msg === 'backend sends 100 Continue unasked; its requests go through node:http from now on');
  assert.deepEqual(warned.map((l) => [l.level, l.backend]), [[40, `127.0.0.1:${backend.port}`]], 'one warn line for the backend');
});

test('an unasked 100 Continue after a 103 was relayed: the GET is not sent again (502), as a retry would not be', async (t) => {
  const { backend, seen } = await continuingBackend(`${HINT}${ANSWER}`);
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', RETRIES: '0' });
  t.after(() => lb.stop());

  const first = await exchange(lb.proxyPort, request('GET', '/a'), false);
  assert.deepEqual(first.informational, [103], 'the hint reached the client');
  assert.equal(first.status, 502);
  assert.deepEqual(seen, ['host'], 'sent once');
  const second = await exchange(lb.proxyPort, request('GET', '/b'), false);
  assert.equal(`${second.status} ${second.body}`, '200 ok');
  assert.deepEqual(seen, ['host', 'Host'], 'the backend still moved to node:http');
});

test('an unasked 100 Continue: a bodiless POST is not sent twice (502 upstream_reset); the next one is answered', async (t) => {
  const { backend, seen } = await continuingBackend();
  t.after(() => backend.close());
  const id = `127.0.0.1:${backend.port}`;
  const lb = await startOutrigger({ BACKENDS: id, HEALTH_CHECK_TYPE: 'none', RETRIES: '0', OUTLIER_CONSECUTIVE_FAILURES: '0' });
  t.after(() => lb.stop());

  const first = await exchange(lb.proxyPort, request('POST', '/a'), false);
  assert.equal(first.status, 502);
  const kind = first.headers.findIndex((v, i) => i % 2 === 0 && v.toLowerCase() === 'x-outrigger-error');
  assert.equal(first.headers[kind + 1], 'upstream_reset');
  assert.deepEqual(seen, ['host'], 'sent once, by undici');
  const metrics = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  assert.match(metrics, new RegExp(`outrigger_upstream_errors_total\\{backend="${id.replaceAll('.', '\\.')}",kind="protocol"\\} 1\\n`));

  const second = await exchange(lb.proxyPort, request('POST', '/b'), false);
  assert.equal(`${second.status} ${second.body}`, '200 ok');
  assert.deepEqual(seen, ['host', 'Host'], 'the next POST goes through node:http');
});

test('an unasked 100 Continue to a PUT with a body: not sent again (the body went to undici), 502; the next PUT is answered', async (t) => {
  const { backend, seen } = await continuingBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', RETRIES: '0', OUTLIER_CONSECUTIVE_FAILURES: '0' });
  t.after(() => lb.stop());
  const put = (path: string) => `PUT ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`;

  const first = await exchange(lb.proxyPort, put('/a'), false);
  assert.equal(first.status, 502, 'PUT is idempotent, but its body cannot be sent a second time from here');
  assert.deepEqual(seen, ['host'], 'sent once, by undici');

  const second = await exchange(lb.proxyPort, put('/b'), false);
  assert.equal(`${second.status} ${second.body}`, '200 ok');
  assert.deepEqual(seen, ['host', 'Host'], 'the next PUT goes through node:http');
});
