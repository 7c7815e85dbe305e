/** `--allow-declared` switches the policy off; say so where nobody can miss it. */
export function warnAllowDeclared(): void {
  process.stderr.write(
    [
      '',
      '!!! WARNING: --allow-declared is for development only.',
      '!!! Everything this manifest declares is granted, with no operator policy in between.',
      '!!! Never use it for plugins you do not trust.',
      '',
      '',
    ].join('\n'),
  );
}
