import { execFile, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packagePath } from '../../package-root.ts';
import { findExecutable } from '../find-executable.ts';

/**
 * Whether this host can give each tool process its own user, mount, PID, IPC and UTS
 * namespaces and a file system of its own (see sandbox-launcher.pl), found once at start.
 *
 * Nothing is downloaded or compiled: the launcher is a Perl script (perl-base is part of
 * every Debian and Ubuntu system) that makes the system calls itself, so one process sets
 * up the whole root instead of one `mount` process per bind.
 */
export type SandboxSupport = AvailableSandbox | UnavailableSandbox;

export interface AvailableSandbox {
  available: true;
  perl: string;
  /** The launcher script. */
  script: string;
  /** Its system-call table: `x86_64` or `aarch64`. */
  arch: string;
  /** The libraries the Deno binary loads (from `ldd`), bound read-only beside it. */
  libraries: string[];
}

export interface UnavailableSandbox {
  available: false;
  /** Why not, for `doctor` and `runtime.layers`. */
  reason: string;
  /** What would enable it, where something would. */
  remedy?: string;
}

/** The launcher, shipped as a file beside this module's source. */
export const SANDBOX_LAUNCHER = packagePath('runtime', 'launch', 'sandbox', 'sandbox-launcher.pl');

const ARCHES: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

/** True when the file starts with the ELF magic: a script "deno" cannot run inside the sandbox. */
function isElf(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    return head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The absolute library paths in `ldd` output; [] for a static binary. */
function parseLdd(output: string): string[] {
  const found: string[] = [];
  for (const line of output.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (match) found.push(match[1]!);
  }
  return found;
}

interface LddResult {
  error?: Error;
  status: number | null;
  stdout: string;
  stderr: string;
}

const LDD_OPTIONS = { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, timeout: 10_000 } as const;

function librariesFrom(ldd: LddResult, denoPath: string): string[] | UnavailableSandbox {
  if (ldd.error && ldd.status === null) return { available: false, reason: 'ldd was not found, so the libraries Deno needs cannot be listed' };
  if (ldd.status !== 0) {
    if (/not a dynamic executable/.test(`${ldd.stdout}${ldd.stderr}`)) return [];
    return { available: false, reason: `ldd could not list the libraries of ${denoPath}` };
  }
  const libraries = parseLdd(ldd.stdout);
  // An ldd cut short (its deadline passed while the host's event loop was busy) can exit 0
  // with no output: a dynamic Deno without libraries would fail every launch, so say why now.
  if (libraries.length === 0 && !/statically linked/.test(`${ldd.stdout}${ldd.stderr}`)) {
    return { available: false, reason: `ldd listed no libraries for ${denoPath} (its output was empty or cut short)` };
  }
  return libraries;
}

function lddAsync(denoPath: string): Promise<LddResult> {
  return new Promise((resolve) => {
    execFile('ldd', [denoPath], LDD_OPTIONS, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ ...(error && status === null ? { error } : {}), status, stdout, stderr });
    });
  });
}

/** Why the kernel refused, from the switches that usually cause it, and the command that lifts it. */
function refusalReason(stderr: string): UnavailableSandbox {
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      return null;
    }
  };
  const detail = stderr.trim().split('\n').at(-1) ?? '';
  if (read('/proc/sys/kernel/unprivileged_userns_clone') === '0') {
    return { available: false, reason: `unprivileged user namespaces are disabled by sysctl (${detail})`, remedy: 'sysctl -w kernel.unprivileged_userns_clone=1' };
  }
  if (read('/proc/sys/user/max_user_namespaces') === '0') {
    return { available: false, reason: `user namespaces are disabled by sysctl (${detail})`, remedy: 'sysctl -w user.max_user_namespaces=15000' };
  }
  if (read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1') {
    return {
      available: false,
      reason: `AppArmor restricts unprivileged user namespaces (${detail})`,
      remedy: 'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile allowing userns for perl',
    };
  }
  return { available: false, reason: `the kernel refused to build the sandbox: ${detail || 'no reason given'}` };
}

type Found = { perl: string; arch: string; libraries: string[] };
type Prerequisites = Found | UnavailableSandbox;

/** Everything but the libraries: what needs no process to find. */
function programs(denoPath: string): { perl: string; arch: string } | UnavailableSandbox {
  if (process.platform !== 'linux') return { available: false, reason: `namespaces are a Linux feature; this host runs ${process.platform}` };
  const arch = ARCHES[process.arch];
  if (!arch) return { available: false, reason: `no system-call table for ${process.arch} in the launcher` };
  if (!isElf(denoPath)) return { available: false, reason: `the Deno binary ${denoPath} is not an ELF executable (a wrapper script cannot run inside the sandbox)` };
  const perl = findExecutable(['/usr/bin/perl', '/bin/perl']);
  if (!perl) return { available: false, reason: 'perl was not found (/usr/bin/perl)', remedy: 'install perl-base (Debian, Ubuntu) or perl' };
  return { perl, arch };
}

function withLibraries(denoPath: string, ldd: () => LddResult): Prerequisites {
  const found = programs(denoPath);
  if ('available' in found) return found;
  const libs = librariesFrom(ldd(), denoPath);
  return Array.isArray(libs) ? { ...found, libraries: libs } : libs;
}

/** The probe: the launcher builds a whole root around the Deno binary and stops before running anything. */
function probeArgs(found: { arch: string; libraries: string[] }, denoPath: string): string[] {
  return [SANDBOX_LAUNCHER, found.arch, '--net', '--probe', '--exec', denoPath, ...found.libraries.flatMap((lib) => ['--exec', lib])];
}

function settle(found: Prerequisites, status: number | null, stderr: string): SandboxSupport {
  if ('available' in found) return found;
  return status === 0 ? { available: true, script: SANDBOX_LAUNCHER, ...found } : refusalReason(stderr);
}

/** Detects synchronously (what `now()` falls back to while the background probe runs). */
export function detectSandbox(denoPath: string): SandboxSupport {
  const found = withLibraries(denoPath, () => spawnSync('ldd', [denoPath], LDD_OPTIONS));
  if ('available' in found) return found;
  const stage = mkdtempSync(path.join(os.tmpdir(), 'manasvi-sandbox-probe-'));
  try {
    const result = spawnSync(found.perl, probeArgs(found, denoPath), { env: { DENO_DIR: stage }, encoding: 'utf8', timeout: 10_000 });
    return settle(found, result.status, result.stderr ?? '');
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** The same detection, the probe process running in the background. */
export async function detectSandboxInBackground(denoPath: string): Promise<SandboxSupport> {
  const programsFound = programs(denoPath);
  if ('available' in programsFound) return programsFound;
  const libs = librariesFrom(await lddAsync(denoPath), denoPath);
  if (!Array.isArray(libs)) return libs;
  const found: Found = { ...programsFound, libraries: libs };
  const stage = mkdtempSync(path.join(os.tmpdir(), 'manasvi-sandbox-probe-'));
  return new Promise<SandboxSupport>((resolve) => {
    const child = spawn(found.perl, probeArgs(found, denoPath), { env: { DENO_DIR: stage }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error) => resolve({ available: false, reason: `the sandbox probe could not start: ${error.message}` }));
    child.once('close', (code) => resolve(settle(found, code, stderr)));
  }).finally(() => rmSync(stage, { recursive: true, force: true }));
}
