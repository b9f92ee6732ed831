/**
 * `npm run bench -- --tracing`: an OTLP/HTTP receiver that accepts every
 * export (200, an empty ExportTraceServiceResponse) and discards it, so that
 * the export's cost in Outrigger is measured without a collector's. Counts
 * requests and bytes on GET /stats. Usage: node bench/otlp-sink.js PORT
 */
import http from 'node:http';

const port = Number(process.argv[2]);
let requests = 0;
let bytes = 0;
http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ requests, bytes }));
    return;
  }
  req.on('data', (chunk) => { bytes += chunk.length; });
  req.on('end', () => {
    requests += 1;
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end();
  });
  req.on('error', () => res.destroy());
}).listen(port, '127.0.0.1');
