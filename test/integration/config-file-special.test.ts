/**
 * CONFIG_FILE that is not a small regular file (a FIFO, a symlink to
 * /dev/zero, a file over 1 MiB): refused at startup with exit 78, and refused
 * on reload without blocking the event loop or growing memory, the last good
 * backends kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOutrigger, startOutrigger, type Outrigger } from '../helpers/outrigger.js';
import { request, startBackend } from '../helpers/http.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), 'outrigger-special-'));
}

async function fifo(path: string): Promise<void> {
  await run('mkfifo', [path]);
}

/** A valid config padded with spaces to exactly `bytes`. */
function padded(port: number, bytes: number): string {
  const json = JSON.stringify({ servers: [{ url: `http://127.0.0.1:${port}` }] });
  return json + ' '.repeat(bytes - json.length);
}

const STARTUP: Array<[string, (file: string) => Promise<void>, RegExp]> = [
  ['a FIFO', fifo, /is a FIFO, expected a regular file/],
  ['a symlink to /dev/zero', async (file) => symlinkSync('/dev/zero', file), /is a character device, expected a regular file/],
  ['a directory', async (file) => { await run('mkdir', [file]); }, /is a directory, expected a regular file/],
  ['a regular file of 1 MiB + 1 byte', async (file) => writeFileSync(file, padded(1, MiB + 1)), /is 1048577 bytes, larger than the 1 MiB limit/],
];

for (const [what, make, expected] of STARTUP) {
  test(`startup with CONFIG_FILE ${what}: exit 78 naming CONFIG_FILE, without hanging`, async () => {
    const file = join(freshDir(), 'config.json');
    await make(file);
    const started = Date.now();
    const { code, stderr } = await runOutrigger({ PROXY_PORT: '0', ADMIN_PORT: '0', CONFIG_FILE: file }, 10_000);
    assert.equal(code, 78, `exit code (null = killed after hanging); stderr: ${stderr}`);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.ok(lines[0]!.startsWith(`outrigger: invalid configuration: CONFIG_FILE: "${file}" `), lines[0]);
    assert.match(lines[0]!, expected);
    assert.ok(Date.now() - started < 8000, 'answered quickly');
  });
}

test('startup with a regular CONFIG_FILE of exactly 1 MiB is accepted', async (t) => {
  const a = await startBackend();
  t.after(() => a.close());
  const file = join(freshDir(), 'config.json');
  writeFileSync(file, padded(a.port, MiB));
  const lb = await startOutrigger({ CONFIG_FILE: file, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false' });
  t.after(() => lb.stop());
  assert.equal(Number((await request(lb.proxyPort, '/ping')).headers['x-backend']), a.port);
});

async function residentMiB(lb: Outrigger): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${lb.adminPort}/metrics`)).text();
  const m = /^process_resident_memory_bytes (\d+)/m.exec(text);
  assert.ok(m !== null, 'process_resident_memory_bytes is exported');
  return Number(m[1]) / MiB;
}

/** Liveness and traffic, each bounded well below what a blocked event loop would take. */
async function assertServing(lb: Outrigger, backendPort: number): Promise<void> {
  const health = await fetch(`http://127.0.0.1:${lb.adminPort}/healthz`, { signal: AbortSignal.timeout(3000) });
  assert.equal(health.status, 200);
  const reply = await request(lb.proxyPort, '/ping', { timeoutMs: 3000 });
  assert.equal(Number(reply.headers['x-backend']), backendPort);
}

const REJECTED = 'config reload rejected; keeping the last good backends';

for (const [what, replace, reason] of [
  ['a FIFO', fifo, /is a FIFO/],
  ['a symlink to /dev/zero', async (file: string) => symlinkSync('/dev/zero', file), /is a character device/],
  ['a file over 1 MiB', async (file: string) => writeFileSync(file, padded(1, 2 * MiB)), /larger than the 1 MiB limit/],
] as const) {
  test(`CONFIG_FILE replaced by ${what} while running: rejected, nothing blocks, memory stays flat, a later good file applies`, async (t) => {
    const a = await startBackend();
    const b = await startBackend();
    t.after(() => Promise.all([a.close(), b.close()]));
    const dir = freshDir();
    const file = join(dir, 'config.json');
    writeFileSync(file, padded(a.port, 100));
    const lb = await startOutrigger({ CONFIG_FILE: file, HEALTH_CHECK_TYPE: 'none', ACCESS_LOG: 'false' });
    t.after(() => lb.stop('SIGTERM', 3000));
    const before = await residentMiB(lb);

    rmSync(file);
    await replace(file);
    const rejected = await lb.waitForLog((l) => l.msg === REJECTED, 8000);
    assert.match(String(rejected.reason), reason);
    await assertServing(lb, a.port);
    // SIGHUP reads it again through the same reader.
    lb.child.kill('SIGHUP');
    await lb.waitForLog((l) => l.msg === REJECTED && l.trigger === 'SIGHUP', 4000);
    await assertServing(lb, a.port);
    const after = await residentMiB(lb);
    assert.ok(after - before < 64, `resident memory grew from ${before.toFixed(0)} to ${after.toFixed(0)} MiB`);

    rmSync(file, { recursive: true });
    writeFileSync(`${file}.tmp`, padded(b.port, 100));
    renameSync(`${file}.tmp`, file);
    await lb.waitForLog((l) => l.msg === 'config reloaded', 8000);
    await assertServing(lb, b.port);
  });
}
