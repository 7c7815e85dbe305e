import { readFileSync } from 'node:fs';

/**
 * Resident set size of a process in MiB, from /proc/<pid>/status (VmRSS, in kB).
 * Linux only; elsewhere the bench reports the row as unavailable instead of guessing.
 */
export function readRssMiB(pid: number): number | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  return kb === undefined ? null : Number(kb) / 1024;
}

/**
 * The kernel's name for a process (/proc/<pid>/comm). The runtime may start Deno under
 * prlimit/setpriv, which exec into it, or under the sandbox's Perl launcher, which does not
 * (the bench reads Deno's pid below it); the bench shows the name so a wrapper's RSS is
 * never mistaken for Deno's.
 */
export function readProcessName(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}
