/**
 * gRPC calls that the server ends while the client is still sending: a bidi
 * call ended with a status after one message, and a client-streaming call
 * answered after its first message. The client (@grpc/grpc-js) must get the
 * server's status and answer through Outrigger, as it does directly: the
 * trailers carrying the status end the client's stream while its upload is
 * still open (a reset after them, tried once, made grpc-js report INTERNAL).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { EchoClient } from '../helpers/grpc.js';
import { startOutrigger } from '../helpers/outrigger.js';

interface Msg { message: string }

/** Writes a message every 10 ms (at most 100) until the call has its status. */
function keepWriting(call: grpc.ClientWritableStream<Msg> | grpc.ClientDuplexStream<Msg, Msg>): void {
  let n = 0;
  const timer = setInterval(() => {
    if (n++ >= 100) {
      clearInterval(timer);
      call.end();
    } else call.write({ message: `m${n}` });
  }, 10);
  call.on('status', () => clearInterval(timer));
}

test('gRPC: a status or answer the server sends while the client still streams reaches the client as sent', async (t) => {
  const server = new grpc.Server();
  server.addService(EchoClient.service, {
    Unary: (_call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => cb(null, { message: 'u' }),
    ServerStream: (call: grpc.ServerWritableStream<Msg, Msg>) => call.end(),
    ClientStream: (call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => call.once('data', () => cb(null, { message: 'early' })),
    Bidi: (call: grpc.ServerDuplexStream<Msg, Msg>) => call.once('data', (m: Msg) => {
      call.write({ message: m.message });
      call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: 'no more' });
    }),
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  t.after(() => server.forceShutdown());
  const lb = await startOutrigger({ BACKENDS: `h2c://127.0.0.1:${port}`, HEALTH_CHECK_TYPE: 'none' });
  t.after(() => lb.stop());
  const client = new EchoClient(`127.0.0.1:${lb.proxyPort}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  t.after(() => client.close());

  const unaryStream = await new Promise<{ code: number | undefined; message: string | undefined }>((resolve) => {
    const call = client.ClientStream!((err: grpc.ServiceError | null, reply?: Msg) => resolve({ code: err?.code, message: reply?.message })) as grpc.ClientWritableStream<Msg>;
    keepWriting(call);
  });
  assert.deepEqual(unaryStream, { code: undefined, message: 'early' });

  const bidi = await new Promise<{ code: number; details: string; got: string[] }>((resolve) => {
    const call = client.Bidi!() as grpc.ClientDuplexStream<Msg, Msg>;
    const got: string[] = [];
    call.on('data', (m: Msg) => got.push(m.message));
    call.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details, got }));
    keepWriting(call);
  });
  assert.deepEqual(bidi, { code: grpc.status.PERMISSION_DENIED, details: 'no more', got: ['m1'] });
});
