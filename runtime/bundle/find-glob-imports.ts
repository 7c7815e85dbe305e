/**
 * `import(…)` or `require(…)` whose argument esbuild would expand into a glob: a template
 * literal with a substitution, or a string concatenation, starting with `./` or `../`
 * (esbuild's own condition, `handleGlobPattern` in its parser). Matched on code that
 * esbuild has already printed without comments, so a comment cannot trigger it.
 */
const GLOB_IMPORT =
  /(?<![\w$.])(?:import|require)\s*\(\s*(`\.{1,2}\/(?:[^`\\$]|\\.|\$(?!\{))*\$\{(?:[^`\\]|\\.)*`|(["'`])\.{1,2}\/(?:(?!\2)[^\\]|\\.)*\2\s*\+[^)]*)/g;

/** The arguments of the glob-form imports in `code` (printed JavaScript), as printed. */
export function findGlobImports(code: string): string[] {
  return [...code.matchAll(GLOB_IMPORT)].map((match) => match[1]!);
}
