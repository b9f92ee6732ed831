/** Clients for TLS tests: node:https and node:http2 over TLS, every wait bounded. */
import https from 'node:https';
import http2 from 'node:http2';
import type tls from 'node:tls';
import type { IncomingHttpHeaders } from 'node:http';

export interface TlsReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The ALPN protocol of the connection, and the serial number of the certificate the server showed. */
  readonly alpn: string | false | null;
  readonly serial: string;
  readonly reusedSocket: boolean;
  readonly localPort: number | undefined;
}

/** GET over https (HTTP/1.1) with `options` (ca, cert, key, agent, ALPNProtocols…). */
export function httpsGet(port: number, path: string, options: https.RequestOptions & Pick<tls.ConnectionOptions, 'ALPNProtocols'> = {}, timeoutMs = 5000): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', servername: 'localhost', port, path, agent: false, ...options }, (res) => {
      const socket = res.socket as tls.TLSSocket;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0, headers: res.headers, body, alpn: socket.alpnProtocol, serial: socket.getPeerCertificate().serialNumber,
          reusedSocket: req.reusedSocket, localPort: socket.localPort,
        });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`https ${path} timed out`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

/** The raw header list the demo backend's /echo saw, as [name, value] pairs with lower-case names. */
export function echoedHeaders(body: string): Array<[string, string]> {
  const raw = (JSON.parse(body) as { rawHeaders: string[] }).rawHeaders;
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return out;
}

/** One GET over an HTTP/2 session. */
export function h2Get(session: http2.ClientHttp2Session, path: string, headers: http2.OutgoingHttpHeaders = {}, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ...headers });
    const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), timeoutMs);
    let status = 0;
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (d: string) => (body += d));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve({ status, body });
    });
    stream.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** An HTTP/2 session over TLS, connected (ALPN settled). */
export function h2Connect(port: number, options: http2.SecureClientSessionOptions): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, options); // the test certificates name 127.0.0.1
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

export async function metricValue(adminPort: number, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const m = pattern.exec(text);
  return m === null ? 0 : Number(m[1]);
}
