import type { RegExpEngine, RegExpLike } from 'ajv/dist/types/index.js';
import { createRequire } from 'node:module';
import type { RE2JS as RE2JSClass } from 're2js';

const require = createRequire(import.meta.url);
let re2: typeof RE2JSClass | undefined;
/** re2js, loaded with the first pattern: most manifests have none. */
function RE2(): typeof RE2JSClass {
  re2 ??= (require('re2js') as { RE2JS: typeof RE2JSClass }).RE2JS;
  return re2;
}

/**
 * Tool input schemas are the plugin's, so their `pattern` and `patternProperties` would
 * otherwise run in V8's backtracking engine, inside the host, against call arguments:
 * `^(a+)+$` on a long string that almost matches freezes the host. They run in RE2
 * (re2js) instead, whose matching time is linear in the string's length times the
 * pattern's program size, and these three numbers bound both factors.
 */

/** RE2 program size one pattern may compile to (`[a-z]{1000}` is about 1,000; `^[a-z][a-z0-9_-]{0,63}$` about 130). */
export const MAX_PATTERN_PROGRAM_SIZE = 2_000;
/** RE2 program size all the patterns of one manifest may add up to: bounds the time a load spends compiling them. */
export const MAX_PATTERN_PROGRAM_TOTAL = 50_000;
/**
 * Matching work (program size × characters tested) one call's arguments may cost: about a
 * second in RE2's slowest mode, milliseconds in its usual one. A 64-character name pattern
 * still accepts a string of over 100,000 characters.
 */
export const MAX_PATTERN_WORK_PER_CALL = 20_000_000;

/** Thrown from inside a validation when a call's arguments would cost more pattern work than allowed. */
export class PatternWorkExceeded extends Error {}

/** Thrown at compile time once a manifest's schemas, all together, are over a budget: later tools need not be tried. */
export class ManifestBudgetExceeded extends Error {}

/** A regex engine for one manifest's schemas: ajv's `code.regExp`, plus the per-call work meter. */
export interface LinearPatternEngine {
  regExp: RegExpEngine;
  /** Starts a new call's work budget. */
  resetWork(): void;
}

function shown(pattern: string): string {
  return JSON.stringify(pattern.length > 80 ? `${pattern.slice(0, 80)}…` : pattern);
}

/**
 * RE2 reads `\k` as a literal `k` where ECMA-262 (with the `u` flag, as JSON Schema and
 * ajv use it) reads a named backreference: refuse it rather than change the pattern's meaning.
 */
function hasNamedBackreference(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '\\') continue;
    if (pattern[i + 1] === 'k') return true;
    i++;
  }
  return false;
}

function compile(pattern: string): RE2JSClass {
  try {
    // Parsing only (V8 compiles a RegExp lazily, on first use): the pattern must mean
    // something in ECMA-262, the dialect JSON Schema specifies, before RE2 reads it.
    new RegExp(pattern, 'u');
  } catch (error) {
    throw new Error(`pattern ${shown(pattern)} is not an ECMA-262 regular expression: ${(error as Error).message}`);
  }
  if (hasNamedBackreference(pattern)) {
    throw new Error(`pattern ${shown(pattern)} uses a backreference, which the linear-time engine (RE2) does not run`);
  }
  try {
    return RE2().compile(RE2().translateRegExp(pattern));
  } catch (error) {
    throw new Error(
      `pattern ${shown(pattern)} is not supported by the linear-time engine (RE2; no lookaround or backreferences): ${(error as Error).message}`,
    );
  }
}

/**
 * Creates the engine one manifest's schemas compile with. Each pattern is checked against
 * ECMA-262, compiled by RE2 and charged to the manifest's program budget; each test is
 * charged to the current call's work budget.
 *
 * @throws Error (at schema compile time) for a pattern RE2 cannot run or one over budget;
 *   {@link PatternWorkExceeded} (at validation time) once a call's work budget is spent.
 */
export function createLinearPatternEngine(): LinearPatternEngine {
  let programTotal = 0;
  let work = 0;
  const regExp = ((pattern: string, flags: string): RegExpLike => {
    if (flags !== '' && flags !== 'u') throw new Error(`pattern flags "${flags}" are not supported`);
    const re = compile(pattern);
    const size = re.programSize();
    if (size > MAX_PATTERN_PROGRAM_SIZE) {
      throw new Error(`pattern ${shown(pattern)} compiles to ${size} RE2 instructions, over the limit of ${MAX_PATTERN_PROGRAM_SIZE}`);
    }
    programTotal += size;
    if (programTotal > MAX_PATTERN_PROGRAM_TOTAL) {
      throw new ManifestBudgetExceeded(`the manifest's patterns compile to over ${MAX_PATTERN_PROGRAM_TOTAL} RE2 instructions in all`);
    }
    const compiled: RegExpLike & { toString(): string } = {
      test(text: string): boolean {
        work += size * (text.length + 1);
        if (work > MAX_PATTERN_WORK_PER_CALL) {
          throw new PatternWorkExceeded(`checking the arguments against the tool's patterns would take over ${MAX_PATTERN_WORK_PER_CALL} steps`);
        }
        return re.test(text);
      },
      // ajv keys compiled patterns by this text: it must differ for every pattern.
      toString: () => `/${pattern}/${flags}`,
    };
    return compiled;
  }) as RegExpEngine;
  return { regExp, resetWork: () => void (work = 0) };
}
