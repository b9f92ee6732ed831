/**
 * A backend that sends `100 Continue` to requests that never asked for one.
 * RFC 9110 §15.2 lets a server do that and asks every client to read past it.
 * The lean engine (bodiless requests) does: the request is answered, sent
 * once, and the client gets no 100 it did not ask for. undici (Content-Length
 * bodies) refuses the answer instead; the proxy then sends that backend's
 * requests with a body through `node:http`, which reads past it. A request
 * whose body went out is not sent again (the backend may have acted on it)
 * and gets `502 upstream_reset`; every later one is answered. The scripted
 * backend tells the clients apart: undici writes `host`, node:http keeps the
 * client's `Host` and adds `Connection`, the lean engine keeps `Host` only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOutrigger } from '../helpers/outrigger.js';
import { startScriptedBackend, type ScriptedBackend } from '../helpers/scripted-backend.js';
import { exchange } from '../helpers/raw-response.js';

const ANSWER = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const HINT = 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n';

/** The backend, and which client sent each request it got, in order. */
async function continuingBackend(answer = ANSWER): Promise<{ backend: ScriptedBackend; seen: string[] }> {
  const seen: string[] = [];
  let backend: ScriptedBackend | undefined;
  backend = await startScriptedBackend((path) => {
    // node:http sends a bodiless POST chunked: its last chunk reads as a head without a path here.
    if (path === '/') return '';
    const first = backend?.firstHeader.get(path);
    seen.push(first === 'host' ? 'undici' : backend?.headerNames.get(path)?.includes('Connection') === true ? 'node:http' : 'lean');
    return answer;
  });
  return { backend, seen };
}

const request = (method: string, path: string) => `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
const WARNING = 'backend sends 100 Continue unasked; its requests go through node:http from now on';

for (const method of ['GET', 'POST']) {
  test(`an unasked 100 Continue to a bodiless ${method}: read past, answered, sent once, no 100 to the client`, async (t) => {
    const { backend, seen } = await continuingBackend();
    t.after(() => backend.close());
    const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', RETRIES: '0' });
    t.after(() => lb.stop());

    for (const path of ['/a', '/b']) {
      const answer = await exchange(lb.proxyPort, request(method, path), false);
      assert.equal(`${answer.status} ${answer.body}`, '200 ok');
      assert.deepEqual(answer.informational, [], 'the client did not ask for a 100 and gets none');
    }
    assert.deepEqual(seen, ['lean', 'lean'], 'each sent once, by the lean engine');
    assert.equal(lb.logs.filter((l) => l.msg === WARNING).length, 0, 'nothing to warn about');
  });
}

test('an unasked 100 Continue after a 103: the hint is relayed, the 100 is not, the answer is', async (t) => {
  const { backend, seen } = await continuingBackend(`${HINT}${ANSWER}`);
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', RETRIES: '0' });
  t.after(() => lb.stop());

  const first = await exchange(lb.proxyPort, request('GET', '/a'), false);
  assert.deepEqual(first.informational, [103], 'the hint reached the client, the 100 did not');
  assert.equal(`${first.status} ${first.body}`, '200 ok');
  assert.deepEqual(seen, ['lean'], 'sent once');
});

test('an unasked 100 Continue to a PUT with a body: not sent again (the body went to undici), 502; the next PUT is answered', async (t) => {
  const { backend, seen } = await continuingBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', RETRIES: '0', OUTLIER_CONSECUTIVE_FAILURES: '0' });
  t.after(() => lb.stop());
  const put = (path: string) => `PUT ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`;

  const first = await exchange(lb.proxyPort, put('/a'), false);
  assert.equal(first.status, 502, 'PUT is idempotent, but its body cannot be sent a second time from here');
  assert.deepEqual(seen, ['undici'], 'sent once, by undici');

  const second = await exchange(lb.proxyPort, put('/b'), false);
  assert.equal(`${second.status} ${second.body}`, '200 ok');
  assert.deepEqual(seen, ['undici', 'node:http'], 'the next PUT goes through node:http');
  const warned = lb.logs.filter((l) => l.msg === WARNING);
  assert.deepEqual(warned.map((l) => [l.level, l.backend]), [[40, `127.0.0.1:${backend.port}`]], 'one warn line for the backend');
  const get = await exchange(lb.proxyPort, request('GET', '/c'), false);
  assert.equal(`${get.status} ${get.body}`, '200 ok');
  assert.deepEqual(seen, ['undici', 'node:http', 'lean'], 'bodiless requests stay with the lean engine, which reads past the 100');
});
