/**
 * CONFIG_FILE: a JSON file with the server list and a few optional settings.
 * Accepts the seed format
 *   {"port":8080,"servers":[{"url":"http://localhost:8001","weight":2}],"healthCheckInterval":10}
 * where healthCheckInterval is in seconds. Settings are returned as env-style
 * strings so that config.ts validates them exactly like environment values.
 */
import { FileRejectedError } from '../errors.js';
import { parseBackendEntry, type BackendAddress } from './backend-address.js';
import { readBoundedFileSync } from './bounded-file.js';

export interface FileSettings {
  readonly backends: BackendAddress[];
  /** Env-style settings taken from the file (env variables win over these). */
  readonly settings: Record<string, string>;
}

/**
 * File keys → env variable, with a conversion from the JSON value and the range it must be in
 * (checked here, so that a bad value is reported under the file's key, not a variable never set).
 */
const SETTING_KEYS: Record<string, readonly [string, (value: number) => number, string, (value: number) => boolean]> = {
  port: ['PROXY_PORT', (x) => x, 'an integer from 0 to 65535', (x) => Number.isInteger(x) && x >= 0 && x <= 65535],
  healthCheckInterval: [
    'HEALTH_CHECK_INTERVAL_MS', (seconds) => Math.round(seconds * 1000), 'a number of seconds from 0.001 to 2147483',
    (seconds) => Math.round(seconds * 1000) >= 1 && Math.round(seconds * 1000) <= 2_147_483_647,
  ],
};

/** Reads and parses CONFIG_FILE at startup (bounded-file.ts: regular files of at most 1 MiB). */
export function readConfigFile(path: string, readFile: (path: string) => string = (p) => readBoundedFileSync(p), mode: 'http' | 'tcp' = 'http'): FileSettings {
  let raw: string;
  try {
    raw = readFile(path);
  } catch (err) {
    throw new Error(describeReadError(err));
  }
  return parseConfigFile(raw, mode);
}

/** The reason a read failed, worded to follow the file's name: "is a FIFO, ...", "cannot be read: ENOENT". */
export function describeReadError(err: unknown): string {
  if (err instanceof FileRejectedError) return err.message;
  return `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
}

export function parseConfigFile(raw: string, mode: 'http' | 'tcp' = 'http'): FileSettings {
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch (err) {
    throw new Error(`is not valid JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('must hold a JSON object');
  const obj = doc as Record<string, unknown>;
  const servers = obj.servers;
  if (!Array.isArray(servers) || servers.length === 0) throw new Error('needs a non-empty "servers" array');
  const problems: string[] = [];
  const backends: BackendAddress[] = [];
  const seen = new Set<string>();
  servers.forEach((server: unknown, i) => {
    try {
      const b = parseServer(server, mode);
      if (seen.has(b.id)) throw new Error(`"${b.id}" listed twice`);
      seen.add(b.id);
      backends.push(b);
    } catch (err) {
      problems.push(`servers[${i}]: ${(err as Error).message}`);
    }
  });
  const settings: Record<string, string> = {};
  for (const [key, [envName, convert, range, inRange]] of Object.entries(SETTING_KEYS)) {
    const value = obj[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || !inRange(value)) {
      problems.push(`"${key}" must be ${range} (got ${JSON.stringify(value)})`);
      continue;
    }
    settings[envName] = String(convert(value));
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  return { backends, settings };
}

function parseServer(server: unknown, mode: 'http' | 'tcp'): BackendAddress {
  if (server === null || typeof server !== 'object') throw new Error('must be an object with "url"');
  const { url, weight } = server as { url?: unknown; weight?: unknown };
  if (typeof url !== 'string') throw new Error('"url" must be a string');
  if (url.includes(',')) throw new Error('"url" holds one backend URL (a server entry each)');
  if (weight !== undefined && (typeof weight !== 'number' || !Number.isInteger(weight))) {
    throw new Error('"weight" must be an integer');
  }
  // A trailing slash is common in URLs; the grammar has no path.
  const entry = url.replace(/\/$/, '') + (weight === undefined ? '' : `;weight=${weight}`);
  return parseBackendEntry(entry, mode);
}
