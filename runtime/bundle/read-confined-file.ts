import { constants } from 'node:fs';
import { type FileHandle, open, readlink, realpath, stat } from 'node:fs/promises';
import { pathContains } from '../scopes/path-scope.ts';

/** A file the bundler reads for a plugin is refused past this size. */
export const MAX_BUNDLED_FILE_BYTES = 32 * 1024 * 1024;

/** Why a file was not read; `path` is the path asked for, `why` says what failed. */
export class RefusedRead extends Error {
  constructor(
    readonly path: string,
    readonly why: string,
  ) {
    super(`${path} ${why}`);
  }
}

/**
 * Reads `file` for the bundle, and only if it is a regular file inside one of `roots`
 * (canonical folders). The check is made on the open descriptor, not on the name: the
 * file is opened without blocking (a FIFO cannot hang the host) and without following a
 * final symlink, then fstat'd, and the path the kernel says the descriptor refers to must
 * lie inside a root. So what was checked is exactly what is read, even if the folder
 * changes under us.
 *
 * @throws RefusedRead naming the path and the reason.
 */
export async function readConfinedFile(file: string, roots: readonly string[], maxBytes = MAX_BUNDLED_FILE_BYTES): Promise<Buffer> {
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    throw new RefusedRead(file, 'does not exist');
  }
  if (!roots.some((root) => pathContains(root, real))) throw new RefusedRead(file, `leads out of the plugin folder (to ${real})`);

  let handle: FileHandle;
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    throw new RefusedRead(file, `cannot be opened (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new RefusedRead(file, 'is not a regular file');
    if (info.size > maxBytes) throw new RefusedRead(file, `is over the ${maxBytes}-byte limit`);
    const opened = await openedPath(handle, real, info);
    if (!roots.some((root) => pathContains(root, opened))) throw new RefusedRead(file, `leads out of the plugin folder (to ${opened})`);
    return await readCapped(handle, file, maxBytes);
  } finally {
    await handle.close();
  }
}

/** The path the descriptor refers to: procfs where there is one, else `real` if it is still the same file. */
async function openedPath(handle: FileHandle, real: string, info: { dev: number; ino: number }): Promise<string> {
  try {
    return await readlink(`/proc/self/fd/${handle.fd}`);
  } catch {
    const now = await stat(real).catch(() => undefined);
    if (now?.dev !== info.dev || now.ino !== info.ino) throw new RefusedRead(real, 'changed while it was being opened');
    return real;
  }
}

/** Reads to EOF, refusing a file that grows past the cap after its fstat. */
async function readCapped(handle: FileHandle, file: string, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1 - total));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) break;
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > maxBytes) throw new RefusedRead(file, `is over the ${maxBytes}-byte limit`);
  }
  return Buffer.concat(chunks, total);
}
