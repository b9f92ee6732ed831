/**
 * The TLS part of the configuration (SPEC §9): which files go together, and
 * their material read and checked once at startup, so that a bad file exits
 * 78 naming its variable before anything listens. config.ts calls this after
 * envalid has checked each variable on its own.
 */
import { TlsMaterialError } from '../errors.js';
import { loadTlsMaterialSync, type FileRef, type TlsFiles, type TlsMaterial, type TlsVersion } from './cert-files.js';

/** TLS on the traffic listener: TLS_CERT_FILE and TLS_KEY_FILE, optionally TLS_CLIENT_CA_FILE. */
export interface ListenerTlsConfig {
  readonly files: TlsFiles;
  readonly minVersion: TlsVersion;
  /** True with TLS_CLIENT_CA_FILE: a client certificate signed by those CAs is required. */
  readonly requireClientCert: boolean;
  /** What the files held at startup. */
  readonly material: TlsMaterial;
}

/** UPSTREAM_TLS_*: checked at startup; the backend engines take them from here. */
export interface UpstreamTlsConfig {
  readonly files: TlsFiles;
  readonly serverName: string | undefined;
  /** Undefined when no UPSTREAM_TLS_* file is set. */
  readonly material: TlsMaterial | undefined;
}

export interface TlsSettings {
  readonly listener: ListenerTlsConfig | undefined;
  readonly upstream: UpstreamTlsConfig;
}

/** A variable's value, or undefined when unset or empty. */
export type Lookup = (name: string) => string | undefined;

function ref(get: Lookup, variable: string): FileRef | undefined {
  const path = get(variable);
  return path === undefined ? undefined : { variable, path };
}

/** Both of a certificate/key pair, or neither. */
function pairProblems(cert: FileRef | undefined, key: FileRef | undefined, certVar: string, keyVar: string): string[] {
  if (cert !== undefined && key === undefined) return [`${keyVar}: is not set, expected the private key of ${certVar} ("${cert.path}") (set both or neither)`];
  if (key !== undefined && cert === undefined) return [`${certVar}: is not set, expected the certificate chain for ${keyVar} ("${key.path}") (set both or neither)`];
  return [];
}

function load(files: TlsFiles, minVersion: TlsVersion, problems: string[], read: ((path: string) => string) | undefined): TlsMaterial | undefined {
  try {
    return loadTlsMaterialSync(files, minVersion, read);
  } catch (err) {
    if (!(err instanceof TlsMaterialError)) throw err;
    problems.push(`${err.variable}: ${err.message}`);
    return undefined;
  }
}

export interface TlsInputs {
  /** The file variables, raw. */
  readonly get: Lookup;
  /** TLS_MIN_VERSION; undefined when it was invalid (its own problem is reported by envalid). */
  readonly minVersion: TlsVersion | undefined;
  /** UPSTREAM_TLS_SERVER_NAME, validated. */
  readonly serverName: string | undefined;
  readonly mode: 'http' | 'tcp';
  /** An injected reader (tests); the bounded reader otherwise. */
  readonly read?: (path: string) => string;
}

/** Reads the TLS variables and appends a problem line, naming the variable, for each thing wrong. */
export function tlsSettings(inputs: TlsInputs, problems: string[]): TlsSettings {
  const { get, mode, read } = inputs;
  const version = inputs.minVersion ?? 'TLSv1.2';
  const cert = ref(get, 'TLS_CERT_FILE');
  const key = ref(get, 'TLS_KEY_FILE');
  const ca = ref(get, 'TLS_CLIENT_CA_FILE');
  const own = pairProblems(cert, key, 'TLS_CERT_FILE', 'TLS_KEY_FILE');
  if (ca !== undefined && cert === undefined && key === undefined) {
    own.push(`TLS_CLIENT_CA_FILE: got "${ca.path}", expected TLS_CERT_FILE and TLS_KEY_FILE to be set too (client certificates need a TLS listener)`);
  }
  if (cert !== undefined && mode === 'tcp') own.push(`TLS_CERT_FILE: got "${cert.path}", expected MODE=http (TLS is terminated on the HTTP listener only)`);
  let listener: ListenerTlsConfig | undefined;
  if (own.length > 0) {
    problems.push(...own);
  } else if (cert !== undefined && key !== undefined) {
    const files: TlsFiles = { cert, key, ca };
    const material = load(files, version, problems, read);
    if (material !== undefined) listener = { files, minVersion: version, requireClientCert: ca !== undefined, material };
  }

  const upCert = ref(get, 'UPSTREAM_TLS_CERT_FILE');
  const upKey = ref(get, 'UPSTREAM_TLS_KEY_FILE');
  const upFiles: TlsFiles = { cert: upCert, key: upKey, ca: ref(get, 'UPSTREAM_TLS_CA_FILE') };
  const upOwn = pairProblems(upCert, upKey, 'UPSTREAM_TLS_CERT_FILE', 'UPSTREAM_TLS_KEY_FILE');
  problems.push(...upOwn);
  const anyUpstream = upFiles.cert !== undefined || upFiles.key !== undefined || upFiles.ca !== undefined;
  const upMaterial = upOwn.length === 0 && anyUpstream ? load(upFiles, 'TLSv1.2', problems, read) : undefined;
  return { listener, upstream: { files: upFiles, serverName: inputs.serverName, material: upMaterial } };
}
