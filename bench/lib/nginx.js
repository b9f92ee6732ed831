/**
 * NGINX in the benchmark, as the backend (`--backend nginx`: a fixed 12-byte
 * answer) or as a proxy target. Each instance gets a generated nginx.conf in
 * its own temp directory and runs in the foreground (`daemon off`) under the
 * bench's control: one master and one worker, as the current user, with pid,
 * error log and every *_temp_path in that directory (nginx ≥ 1.19.5 takes
 * `-e` for the log it opens before reading the config). Debian installs the
 * binary as /usr/sbin/nginx (package nginx-light or nginx).
 */
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { findBin, waitForHttp } from './processes.js';
import { childPids } from './proc-stats.js';

/** What the NGINX backend answers to every request: 12 bytes. */
export const NGINX_BODY = 'hello world\n';

function head(dir) {
  // As root, the worker would otherwise switch to `nobody`; keep it the user who runs the bench.
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};\n` : '';
  return `${user}worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
`;
}

function tempPaths(dir) {
  return `client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`;
}

/** The backend: `return 200 "hello world\n"`, keep-alive, no access log. */
export function backendConf(dir, port) {
  return `${head(dir)}http {
  access_log off;
  ${tempPaths(dir)}
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 "hello world\\n"; }
  }
}
`;
}

/** The proxy target: upstream keep-alive, access log to a file (combined format, unbuffered). */
export function proxyConf(dir, port, backendHostPort, accessLogFile) {
  return `${head(dir)}http {
  access_log ${accessLogFile};
  ${tempPaths(dir)}
  keepalive_requests 1000000;
  upstream backend { server ${backendHostPort}; keepalive 256; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`;
}

/**
 * The TLS proxy target: proxyConf with `listen … ssl` and the given
 * certificate and key, NGINX's TLS defaults otherwise (no shared session cache).
 */
export function tlsProxyConf(dir, port, backendHostPort, accessLogFile, certFile, keyFile) {
  return proxyConf(dir, port, backendHostPort, accessLogFile)
    .replace(`listen 127.0.0.1:${port};`, `listen 127.0.0.1:${port} ssl;
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};`);
}

/**
 * The HTTP/2 backends: one worker, one `server` per port, each h2c with prior
 * knowledge (`listen … http2` in NGINX 1.22) answering NGINX_BODY. Each
 * request's `$server_port` goes to countLog (buffered, flushed every second),
 * so the bench can count requests per backend.
 */
export function h2BackendConf(dir, ports, countLog) {
  const servers = ports.map((port) => `  server {
    listen 127.0.0.1:${port} http2;
    location / { default_type text/plain; return 200 "hello world\\n"; }
  }`).join('\n');
  return `${head(dir)}http {
  log_format port '$server_port';
  access_log ${countLog} port buffer=64k flush=1s;
  ${tempPaths(dir)}
  keepalive_requests 1000000;
${servers}
}
`;
}

/**
 * The HTTP/2 proxy target: an h2c listener and `grpc_pass` to the backends
 * (round robin, cached upstream connections; NGINX sends one stream per
 * upstream connection), access log to a file. grpc_pass forwards any HTTP/2
 * request, gRPC or not, so the plain GET every target gets passes as it is.
 */
export function grpcProxyConf(dir, port, backendHostPorts, accessLogFile) {
  return `${head(dir)}http {
  access_log ${accessLogFile};
  ${tempPaths(dir)}
  keepalive_requests 1000000;
  upstream backends {
${backendHostPorts.map((hp) => `    server ${hp};`).join('\n')}
    keepalive 256;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port} http2;
    location / {
      grpc_pass grpc://backends;
      grpc_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`;
}

/**
 * Writes conf to dir/nginx.conf, starts NGINX pinned to cpu (its worker
 * inherits the affinity), waits until readyUrl answers 200 (by `waitReady`:
 * HTTP/1.1, or HTTP/2 for an h2c-only listener) and returns the master and
 * its worker pids (what the bench measures: the worker, not the master).
 * @returns {Promise<{ child: import('node:child_process').ChildProcess, workers: number[] }>}
 */
export async function startNginx(group, { name, dir, conf, cpu, readyUrl, waitReady = waitForHttp }) {
  const bin = findBin('nginx');
  if (bin === null) throw new Error('nginx not found in PATH or /usr/sbin (Debian: apt-get install -y nginx-light)');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = group.start(name, bin, ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { cpu });
  try {
    await waitReady(readyUrl, { child });
  } catch (err) {
    let log = '';
    try { log = readFileSync(join(dir, 'error.log'), 'utf8').slice(-1000); } catch { /* none written */ }
    throw new Error(`${err.message}\n${name} error.log: ${log}`);
  }
  const workers = childPids(child.pid);
  if (workers.length === 0) throw new Error(`${name}: no worker process under master ${child.pid}`);
  for (const pid of workers) group.adopt(pid, 'nginx');
  return { child, workers };
}
