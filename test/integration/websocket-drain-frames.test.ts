/**
 * The drain's WebSocket close frame (1001) goes only between frames: a
 * backend that stalled in the middle of a frame leaves its client closed
 * without one (a close frame there would be read as payload), while a client
 * whose last frame is complete gets the 1001. Raw backend, `ws` and raw clients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { WebSocket } from 'ws';
import { startOutrigger } from '../helpers/outrigger.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** A complete unmasked binary frame with 200 payload bytes (16-bit length form). */
const FRAME = Buffer.concat([Buffer.from([0x82, 0x7e, 0x00, 0xc8]), Buffer.alloc(200, 0x61)]);
const HALF = FRAME.subarray(0, 104);

/**
 * A raw WebSocket backend: answers 101, then on `/whole` sends FRAME (its
 * header split over two writes), on `/half` the first 104 bytes of it; then
 * stalls, never closing.
 */
async function stallingBackend(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? '';
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      const ok = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
      if (head.startsWith('GET /half ')) return void socket.write(Buffer.concat([Buffer.from(ok, 'latin1'), HALF]));
      socket.write(Buffer.concat([Buffer.from(ok, 'latin1'), FRAME.subarray(0, 2)]));
      setImmediate(() => socket.write(FRAME.subarray(2)));
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** A raw client on `/half`: resolves once the 101 and `want` tunnel bytes arrived; `done` with every tunnel byte at close. */
function rawTunnel(port: number, want: number): Promise<{ done: Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('no tunnel bytes in time')); }, 5000);
    let buf = Buffer.alloc(0);
    let resolveDone: (b: Buffer) => void = () => undefined;
    const done = new Promise<Buffer>((r) => (resolveDone = r));
    const tunnelBytes = () => { const end = buf.indexOf('\r\n\r\n'); return end < 0 ? undefined : buf.subarray(end + 4); };
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if ((tunnelBytes()?.length ?? 0) >= want) { clearTimeout(timer); resolve({ done }); }
    });
    socket.once('close', () => { clearTimeout(timer); resolveDone(tunnelBytes() ?? Buffer.alloc(0)); });
    socket.write('GET /half HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  });
}

test('drain: a tunnel mid-frame is closed without a close frame; one between frames gets 1001', async (t) => {
  const backend = await stallingBackend();
  t.after(() => backend.close());
  const lb = await startOutrigger({ BACKENDS: `127.0.0.1:${backend.port}`, HEALTH_CHECK_TYPE: 'none', SHUTDOWN_DELAY_MS: '0', DRAIN_TIMEOUT_MS: '200' });
  t.after(() => lb.stop('SIGKILL'));

  const ws = new WebSocket(`ws://127.0.0.1:${lb.proxyPort}/whole`);
  t.after(() => ws.terminate());
  const errors: Error[] = [];
  ws.on('error', (err) => errors.push(err));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  const message = await new Promise<Buffer>((resolve) => ws.once('message', (data) => resolve(data as Buffer)));
  assert.equal(message.length, 200);
  const half = await rawTunnel(lb.proxyPort, HALF.length);

  lb.child.kill('SIGTERM');
  assert.equal(await closed, 1001, 'the client between frames got the close frame 1001');
  assert.deepEqual(errors, []);
  assert.deepEqual(await half.done, HALF, 'the client mid-frame got the backend\'s bytes and nothing inside the frame');
  assert.equal(await lb.exited, 0);
});
