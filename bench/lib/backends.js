/**
 * The one backend every target forwards to, pinned with the load generator
 * (away from the proxy's CPU): the demo backend (`node dist/demo/backend.js`,
 * `GET /ping` → "pong from backend …"), or with `--backend nginx` an NGINX
 * worker answering every request with a fixed 12-byte body.
 */
import { join } from 'node:path';
import { freePort, waitForHttp } from './processes.js';
import { NGINX_BODY, backendConf, startNginx } from './nginx.js';

/**
 * @param {'demo'|'nginx'} kind
 * @param {{ group: import('./processes.js').ProcessGroup, dir: string, cpu: string|undefined, backendJs: string }} o
 * @returns {Promise<{ url: string, label: string, answersRight(body: string): boolean }>}
 */
export async function startBackend(kind, { group, dir, cpu, backendJs }) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  if (kind === 'nginx') {
    const nginxDir = join(dir, 'nginx-backend');
    await startNginx(group, { name: 'nginx-backend', dir: nginxDir, conf: backendConf(nginxDir, port), cpu, readyUrl: `${url}/ping` });
    return { url, label: 'NGINX, 1 worker, `return 200` with a 12-byte body', answersRight: (body) => body === NGINX_BODY };
  }
  const backend = group.start('backend', process.execPath, [backendJs, String(port), '127.0.0.1'], { cpu, cleanEnv: true });
  await waitForHttp(`${url}/ping`, { child: backend });
  return { url, label: 'demo backend (node dist/demo/backend.js)', answersRight: (body) => body.startsWith('pong from backend') };
}
