import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { execFile } from 'node:child_process';
import { PluginRuntimeError } from '../errors.ts';
import { rememberedVersion, rememberVersion } from './deno-version-cache.ts';

/** Overrides the Deno binary when the API option is not given. */
export const DENO_PATH_ENV = 'MANASVI_DENO';

const require = createRequire(import.meta.url);

/** Path of the binary the `deno` npm package ships (its own install API finds the platform build). */
export function bundledDenoPath(): string {
  const installApi = require('deno/install_api.cjs') as { runInstall(): string };
  return installApi.runInstall();
}

/** The Deno binary to run: the explicit option, else `MANASVI_DENO`, else the npm package's. */
export function resolveDenoPath(explicit?: string): string {
  const chosen = explicit ?? process.env[DENO_PATH_ENV] ?? bundledDenoPath();
  try {
    accessSync(chosen, constants.X_OK);
  } catch (cause) {
    throw new PluginRuntimeError('deno_not_found', `no executable Deno binary at ${chosen}`, { cause });
  }
  return chosen;
}

/** Compares dotted numeric versions: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Parses `deno --version` output ("deno 2.9.6 (stable, …)"). */
export function parseDenoVersion(output: string): string | null {
  return /^deno (\d+\.\d+\.\d+)/m.exec(output)?.[1] ?? null;
}

/** Runs `deno --version` and returns its stdout, or null if it did not exit 0. */
function runVersion(denoPath: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      denoPath,
      ['--version'],
      { env: { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' }, timeout: 30_000, windowsHide: true },
      (error, stdout) => resolve(error ? null : String(stdout)),
    );
  });
}

/**
 * Runs `deno --version` and refuses a binary older than `minVersion`. With `stateDir`, the
 * version an unchanged binary reported before is reused (see deno-version-cache.ts).
 * @throws PluginRuntimeError `deno_unsupported` naming both versions; `deno_not_found`.
 */
export async function checkDenoVersion(denoPath: string, minVersion: string, stateDir?: string): Promise<string> {
  let version = stateDir === undefined ? undefined : rememberedVersion(stateDir, denoPath);
  if (version === undefined) {
    const output = await runVersion(denoPath);
    const reported = output === null ? null : parseDenoVersion(output);
    if (reported === null) throw new PluginRuntimeError('deno_not_found', `${denoPath} --version did not report a Deno version`);
    version = reported;
    if (stateDir !== undefined) rememberVersion(stateDir, denoPath, version);
  }
  if (compareVersions(version, minVersion) < 0) {
    throw new PluginRuntimeError(
      'deno_unsupported',
      `Deno ${version} at ${denoPath} is older than ${minVersion}, the floor set in deno-launch.json`,
      { details: { found: version, required: minVersion } },
    );
  }
  return version;
}
