/**
 * TLS files (SPEC §9): a PEM certificate chain, its private key, a bundle of
 * CA certificates. Read with the bounded reader (regular files only, at most
 * 1 MiB, never blocking) and checked before anything uses them: every
 * certificate block parses, the key parses and belongs to the first
 * certificate of the chain, and OpenSSL accepts the whole as a secure
 * context. Startup reads synchronously (config.ts turns a TlsMaterialError
 * into exit 78 naming the variable); rotation reads asynchronously
 * (tls/rotation.ts) and keeps the last good material on an error.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import tls from 'node:tls';
import { TlsMaterialError } from '../errors.js';
import { readBoundedFile, readBoundedFileSync } from '../upstream/bounded-file.js';
import { describeReadError } from '../upstream/config-file.js';

/** One file and the variable that named it (for the messages). */
export interface FileRef {
  readonly variable: string;
  readonly path: string;
}

/** The files of one TLS identity: a listener's, or the client identity towards backends. */
export interface TlsFiles {
  readonly cert: FileRef | undefined;
  readonly key: FileRef | undefined;
  readonly ca: FileRef | undefined;
}

/** The files' texts, as read. */
export interface TlsTexts {
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly ca: string | undefined;
}

/** Checked material, ready for tls.createSecureContext. */
export interface TlsMaterial extends TlsTexts {
  /** The leaf certificate's notAfter as Unix seconds (undefined without a certificate). */
  readonly notAfter: number | undefined;
  /** The leaf certificate's serial number, hex (for the logs). */
  readonly serial: string | undefined;
  /** The CA bundle's certificates (for the logs), undefined without one. */
  readonly caCertificates?: readonly CaSummary[];
}

/** What identifies one CA certificate in a log line. */
export interface CaSummary {
  readonly subject: string;
  /** SHA-256 fingerprint, colon-separated hex, as OpenSSL prints it. */
  readonly sha256: string;
}

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';
export const TLS_VERSIONS: readonly TlsVersion[] = ['TLSv1.2', 'TLSv1.3'];

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function refs(files: TlsFiles): Array<[keyof TlsTexts, FileRef]> {
  const out: Array<[keyof TlsTexts, FileRef]> = [];
  for (const k of ['cert', 'key', 'ca'] as const) if (files[k] !== undefined) out.push([k, files[k]]);
  return out;
}

function readFailed(ref: FileRef, err: unknown): TlsMaterialError {
  return new TlsMaterialError(ref.variable, `"${ref.path}" ${describeReadError(err)}`, { cause: err });
}

/** Startup: reads every file named (an injected reader for tests). Throws TlsMaterialError. */
export function readTlsFilesSync(files: TlsFiles, read: (path: string) => string = (p) => readBoundedFileSync(p)): TlsTexts {
  const texts: Record<string, string | undefined> = { cert: undefined, key: undefined, ca: undefined };
  for (const [k, ref] of refs(files)) {
    try {
      texts[k] = read(ref.path);
    } catch (err) {
      throw readFailed(ref, err);
    }
  }
  return texts as unknown as TlsTexts;
}

/** Rotation: the same reads off the event loop. Throws TlsMaterialError. */
export async function readTlsFiles(files: TlsFiles): Promise<TlsTexts> {
  const texts: Record<string, string | undefined> = { cert: undefined, key: undefined, ca: undefined };
  for (const [k, ref] of refs(files)) {
    try {
      texts[k] = await readBoundedFile(ref.path);
    } catch (err) {
      throw readFailed(ref, err);
    }
  }
  return texts as unknown as TlsTexts;
}

/** One line, whatever OpenSSL said. */
function reason(err: unknown): string {
  return ((err as Error).message ?? String(err)).replace(/\s+/g, ' ').trim();
}

/** Every certificate block of a PEM text, parsed; at least one. */
function certificates(ref: FileRef, text: string): X509Certificate[] {
  const blocks = text.match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) throw new TlsMaterialError(ref.variable, `"${ref.path}" holds no PEM certificate, expected -----BEGIN CERTIFICATE----- blocks`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new TlsMaterialError(ref.variable, `"${ref.path}" certificate ${i + 1} cannot be parsed: ${reason(err)}`, { cause: err });
    }
  });
}

function privateKey(ref: FileRef, text: string): KeyObject {
  try {
    return createPrivateKey(text);
  } catch (err) {
    throw new TlsMaterialError(ref.variable, `"${ref.path}" is not an unencrypted PEM private key: ${reason(err)}`, { cause: err });
  }
}

/**
 * Checks what was read: certificates parse, the key matches the first
 * certificate, OpenSSL accepts them together. Throws TlsMaterialError naming
 * the variable whose file is at fault.
 */
export function checkTlsTexts(files: TlsFiles, texts: TlsTexts, minVersion: TlsVersion = 'TLSv1.2'): TlsMaterial {
  let leaf: X509Certificate | undefined;
  if (files.cert !== undefined && texts.cert !== undefined) leaf = certificates(files.cert, texts.cert)[0];
  if (files.key !== undefined && texts.key !== undefined) {
    const key = privateKey(files.key, texts.key);
    if (leaf !== undefined && files.cert !== undefined && !leaf.checkPrivateKey(key)) {
      throw new TlsMaterialError(files.key.variable, `"${files.key.path}" does not match the certificate in ${files.cert.variable} ("${files.cert.path}")`);
    }
  }
  let cas: CaSummary[] | undefined;
  if (files.ca !== undefined && texts.ca !== undefined) {
    cas = certificates(files.ca, texts.ca).map((c) => ({ subject: c.subject.replace(/\n/g, ', '), sha256: c.fingerprint256 }));
  }
  try {
    tls.createSecureContext({ cert: texts.cert, key: texts.key, ca: texts.ca, minVersion });
  } catch (err) {
    const blame = files.cert ?? files.ca ?? files.key;
    throw new TlsMaterialError(blame?.variable ?? 'TLS', `OpenSSL refused the files: ${reason(err)}`, { cause: err });
  }
  const notAfter = leaf === undefined ? undefined : Math.floor(Date.parse(leaf.validTo) / 1000);
  return { ...texts, notAfter, serial: leaf?.serialNumber, caCertificates: cas };
}

/** Reads and checks at startup. Throws TlsMaterialError. */
export function loadTlsMaterialSync(files: TlsFiles, minVersion: TlsVersion, read?: (path: string) => string): TlsMaterial {
  return checkTlsTexts(files, readTlsFilesSync(files, read), minVersion);
}
