// Checks the built image's configuration (podman image inspect output) against what the chart,
// the docs and Kubernetes' runAsNonRoot rely on. Usage: node check-config.mjs INSPECT.json VERSION
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

const [file, version] = process.argv.slice(2);
const [image] = JSON.parse(readFileSync(file, 'utf8'));
const c = image.Config;
const env = Object.fromEntries((c.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));

assert.deepEqual(c.Cmd, ['node', '--disable-sigusr1', '--max-semi-space-size=16', 'dist/main.js'], 'CMD');
assert.ok(!c.Entrypoint || c.Entrypoint.length === 0, `no ENTRYPOINT, got ${JSON.stringify(c.Entrypoint)}`);
assert.equal(c.WorkingDir, '/app', 'WORKDIR');
assert.match(c.User ?? '', /^[1-9]\d*:[1-9]\d*$/, 'USER must be a numeric non-root uid:gid (runAsNonRoot)');
assert.equal(env.NODE_ENV, 'production', 'NODE_ENV');
assert.ok(env.PATH?.split(':').includes('/usr/local/bin'), 'PATH contains /usr/local/bin');
assert.equal(env.NODE_EXTRA_CA_CERTS, undefined, 'the build stage CA of the stand-in must not leak');
assert.deepEqual(Object.keys(c.ExposedPorts ?? {}).sort(), ['8080/tcp', '9901/tcp'], 'EXPOSE');
const labels = c.Labels ?? {};
for (const key of ['title', 'description', 'licenses', 'version', 'revision']) {
  assert.ok(labels[`org.opencontainers.image.${key}`], `label org.opencontainers.image.${key}`);
}
assert.equal(labels['org.opencontainers.image.version'], version, 'version label');
console.log(`test:image: config: CMD ${JSON.stringify(c.Cmd)}, USER ${c.User}, WORKDIR ${c.WorkingDir}, ` +
  `NODE_ENV=${env.NODE_ENV}, EXPOSE ${Object.keys(c.ExposedPorts).join(' ')}, ${Object.keys(labels).filter((k) => k.startsWith('org.opencontainers')).length} OCI labels`);
