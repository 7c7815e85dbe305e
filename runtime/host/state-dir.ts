import { lstatSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PluginRuntimeError } from '../errors.ts';
import { PROCESS_STORAGE_FOLDER, sweepProcessStorage } from '../launch/process-storage.ts';

/** Default home of bundles and process storage: per user, under the OS temp folder. */
export function defaultStateDir(): string {
  return path.join(os.tmpdir(), `manasvi-plugins-${os.userInfo().uid}`);
}

/**
 * Creates (or checks) the runtime's own folder. It holds the bundles Deno runs, so it
 * must be a real directory owned by this user and closed to everyone else; a folder
 * planted by another user, or a symlink, is refused. Process storage (each tool process's
 * own `DENO_DIR`, see process-storage.ts) left by hosts that are no longer running is
 * swept here.
 */
export function prepareStateDir(dir: string): { bundleDir: string; validatorDir: string; processStorageDir: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o077) !== 0) {
    throw new PluginRuntimeError(
      'config_invalid',
      `state folder ${dir} must be a directory owned by this user with mode 0700 (not a symlink, not shared)`,
    );
  }
  const bundleDir = path.join(dir, 'bundles');
  const processStorageDir = path.join(dir, PROCESS_STORAGE_FOLDER);
  // Compiled input validators (see manifest/validator-cache.ts), created on first use.
  const validatorDir = path.join(dir, 'validators');
  mkdirSync(bundleDir, { recursive: true, mode: 0o700 });
  mkdirSync(processStorageDir, { recursive: true, mode: 0o700 });
  sweepProcessStorage(processStorageDir);
  return { bundleDir, validatorDir, processStorageDir };
}
