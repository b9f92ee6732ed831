/** The demo backend (dist/demo/backend.js, SPEC §1) answers any request target; it never throws on one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend } from '../helpers/http.js';
import net from 'node:net';

/** Writes `request` raw on 127.0.0.1 and returns what comes back before the close (5 s at most). */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let got = '';
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no close in 5 s: ${got}`)); }, 5000);
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('close', () => { clearTimeout(timer); resolve(got); });
    socket.on('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

test('request targets that are not plain paths (//%zz, //host/ping): answered, and the backend lives on', async (t) => {
  const backend = await startBackend();
  t.after(() => backend.close());
  for (const target of ['//%zz', '//evil/ping', '/%', '/ping']) {
    const head = await rawExchange(backend.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(head, /^HTTP\/1\.1 (200|400|404) /, `${target}: ${head}`);
  }
  assert.match(await rawExchange(backend.port, 'GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /pong/);
});
