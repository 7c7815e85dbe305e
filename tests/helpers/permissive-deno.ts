import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundledDenoPath } from '../../runtime/launch/deno-binary.ts';

/**
 * Writes `permissive-deno` into `dir`: a "deno" that drops every permission flag and runs
 * the real one with `-A`, standing in for a Deno whose permission checks are broken. A
 * script, so the sandbox (which runs only an ELF Deno) is unavailable under it too.
 * @returns its path, for `MANASVI_DENO`
 */
export function writePermissiveDeno(dir: string): string {
  const realDeno = bundledDenoPath();
  const file = path.join(dir, 'permissive-deno');
  writeFileSync(
    file,
    [
      '#!/bin/sh',
      'for arg do',
      '  shift',
      '  case "$arg" in --allow-*|--deny-*) ;; *) set -- "$@" "$arg" ;; esac',
      'done',
      `if [ "$1" = run ]; then shift; exec "${realDeno}" run -A "$@"; fi`,
      `exec "${realDeno}" "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(file, 0o755);
  return file;
}
