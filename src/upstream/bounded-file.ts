/**
 * Reads a small configuration file safely: only a regular file (after
 * following symlinks, as Kubernetes volumes use them) and only up to a size
 * cap. A FIFO, a device (`/dev/zero`), a socket or a directory is refused
 * without being opened, so a read can neither block forever nor fill memory.
 *
 * Both flavours apply the same checks: stat first (nothing else is opened),
 * then open with O_NONBLOCK (a file swapped for a FIFO in between cannot
 * block the open), fstat the descriptor again, and read at most cap + 1
 * bytes. The synchronous one is for startup, before anything listens; the
 * asynchronous one is for reloads, off the event loop.
 */
import { constants, statSync, openSync, fstatSync, readSync, closeSync, type Stats } from 'node:fs';
import { stat, open } from 'node:fs/promises';
import { FileRejectedError } from '../errors.js';

/** CONFIG_FILE's size cap. A list of a few thousand backends fits well within it. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

// O_NONBLOCK and O_NOCTTY do not exist on every platform; 0 leaves them out there.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isDirectory()) return 'a directory';
  return 'not a regular file';
}

function sizeText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/** Throws FileRejectedError unless `stats` is a regular file within `maxBytes`. */
function check(stats: Stats, maxBytes: number): void {
  if (!stats.isFile()) throw new FileRejectedError('ERR_FILE_NOT_REGULAR', `is ${kindOf(stats)}, expected a regular file`);
  if (stats.size > maxBytes) throw new FileRejectedError('ERR_FILE_TOO_LARGE', `is ${stats.size} bytes, larger than the ${sizeText(maxBytes)} limit`);
}

function tooLong(maxBytes: number): FileRejectedError {
  return new FileRejectedError('ERR_FILE_TOO_LARGE', `grew past the ${sizeText(maxBytes)} limit while being read`);
}

/** Startup flavour. Errors: FileRejectedError, or the fs error (ENOENT, EACCES...). */
export function readBoundedFileSync(path: string, maxBytes = MAX_CONFIG_FILE_BYTES): string {
  check(statSync(path), maxBytes);
  const fd = openSync(path, OPEN_FLAGS);
  try {
    check(fstatSync(fd), maxBytes);
    const buf = Buffer.allocUnsafe(maxBytes + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) throw tooLong(maxBytes);
    }
    return buf.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

/** Reload flavour: the same checks, every step on the thread pool. */
export async function readBoundedFile(path: string, maxBytes = MAX_CONFIG_FILE_BYTES): Promise<string> {
  check(await stat(path), maxBytes);
  const handle = await open(path, OPEN_FLAGS);
  try {
    check(await handle.stat(), maxBytes);
    const buf = Buffer.allocUnsafe(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw tooLong(maxBytes);
    }
    return buf.toString('utf8', 0, length);
  } finally {
    await handle.close();
  }
}
