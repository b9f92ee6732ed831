/**
 * gRPC peers for the tests, from @grpc/grpc-js (a client and servers nobody
 * here wrote): an Echo service with every call shape, and the standard
 * grpc.health.v1 service, on 127.0.0.1 port 0, plaintext HTTP/2.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO = fileURLToPath(new URL('../../../test/fixtures/echo.proto', import.meta.url));

interface EchoRequest { message: string; payload: Buffer; fail_with: number; delay_ms: number }
interface EchoReply { message: string; payload: Buffer; backend: number; index: number }

const HEALTH_PROTO = fileURLToPath(new URL('../../../test/fixtures/health.proto', import.meta.url));

const definition = protoLoader.loadSync([PROTO, HEALTH_PROTO], { keepCase: true, longs: Number, enums: String, defaults: true });
// The loaded package is untyped by nature; the service and client constructors are looked up by name.
const pkg = grpc.loadPackageDefinition(definition) as unknown as {
  outrigger: { test: { Echo: grpc.ServiceClientConstructor } };
  grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
};
export const EchoClient = pkg.outrigger.test.Echo;
const Health = pkg.grpc.health.v1.Health;

export interface EchoServer {
  readonly port: number;
  readonly server: grpc.Server;
  /** What grpc.health.v1.Health/Check answers, by service name ('' = the whole server); SERVING by default. */
  readonly health: Map<string, 'SERVING' | 'NOT_SERVING' | 'UNKNOWN'>;
  /** Calls seen, by method name. */
  readonly calls: Map<string, number>;
  /** Unary calls started and not yet answered. */
  readonly active: () => number;
  close(): Promise<void>;
}

/** `withHealth: false`: a server without grpc.health.v1 (its Check answers UNIMPLEMENTED). `options`: grpc-js server options. */
export async function startEchoServer({ withHealth = true, options = {} }: { withHealth?: boolean; options?: grpc.ServerOptions } = {}): Promise<EchoServer> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024, ...options });
  const calls = new Map<string, number>();
  const health = new Map<string, 'SERVING' | 'NOT_SERVING' | 'UNKNOWN'>([['', 'SERVING']]);
  let port = 0;
  let active = 0;
  if (withHealth) server.addService(Health.service, {
    Check(call: grpc.ServerUnaryCall<{ service: string }, { status: string }>, cb: grpc.sendUnaryData<{ status: string }>) {
      const status = health.get(call.request.service);
      if (status === undefined) return cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      cb(null, { status });
    },
  });
  const count = (name: string) => calls.set(name, (calls.get(name) ?? 0) + 1);
  server.addService(EchoClient.service, {
    Unary(call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) {
      count('Unary');
      active += 1;
      call.on('cancelled', () => count('Unary cancelled'));
      const r = call.request;
      const answer = () => {
        active -= 1;
        if (r.fail_with !== 0) {
          const trailer = new grpc.Metadata();
          trailer.set('x-detail-bin', Buffer.from([0, 1, 2, 250, 255]));
          return cb({ code: r.fail_with, details: r.message, metadata: trailer });
        }
        cb(null, { message: r.message, payload: r.payload, backend: port, index: 0 });
      };
      if (r.delay_ms > 0) setTimeout(answer, r.delay_ms);
      else answer();
    },
    ServerStream(call: grpc.ServerWritableStream<{ count: number; interval_ms: number }, EchoReply>) {
      count('ServerStream');
      let i = 0;
      const next = () => {
        if (call.cancelled) return;
        if (i >= call.request.count) return call.end();
        call.write({ message: 'item', payload: Buffer.alloc(0), backend: port, index: i++ });
        setTimeout(next, call.request.interval_ms);
      };
      next();
    },
    ClientStream(call: grpc.ServerReadableStream<EchoRequest, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) {
      count('ClientStream');
      const parts: string[] = [];
      call.on('data', (r: EchoRequest) => parts.push(r.message));
      call.on('end', () => cb(null, { message: parts.join(','), payload: Buffer.alloc(0), backend: port, index: parts.length }));
    },
    Bidi(call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) {
      count('Bidi');
      let i = 0;
      call.on('data', (r: EchoRequest) => call.write({ message: r.message, payload: r.payload, backend: port, index: i++ }));
      call.on('end', () => call.end());
    },
  });
  port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    port, server, calls, health, active: () => active,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** A client for the Echo service through `port` (plaintext HTTP/2, one channel). */
export function echoClient(port: number): grpc.Client & Record<string, (...args: unknown[]) => unknown> {
  // The generated client's methods are added at run time from the proto; they are called by name.
  return new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 16 * 1024 * 1024 }) as unknown as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
}

/** One unary call as a promise. */
export function unary(client: grpc.Client & Record<string, (...args: unknown[]) => unknown>, request: Partial<EchoRequest>, deadlineMs = 5000): Promise<EchoReply> {
  return new Promise((resolve, reject) => {
    client.Unary!(request, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, reply: EchoReply) => (err ? reject(err) : resolve(reply)));
  });
}
