import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

const CHUNK_BYTES = 64 * 1024;

/** What a path is when it is not a regular file, for the error that refuses it. */
export function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'a special file';
}

/**
 * Reads a file the host must never block on nor read without end: opened non-blocking (a
 * FIFO would otherwise wait for a writer forever), refused unless `fstat` says it is a
 * regular file, and read up to `maxBytes + 1` bytes, so a larger file is refused without
 * being read in full (even one that grows while it is read).
 *
 * @throws Error naming what the path is, or that it is over `maxBytes`; the caller wraps it.
 */
export function readRegularFile(file: string, maxBytes: number): string {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new Error(`${file} is ${fileKind(stats)}, not a regular file`);
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= maxBytes) {
      const chunk = Buffer.alloc(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      total += read;
    }
    if (total > maxBytes) throw new Error(`${file} is over the ${maxBytes}-byte limit`);
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
