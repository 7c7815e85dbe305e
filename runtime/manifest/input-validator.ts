import { createRequire } from 'node:module';
import type { Ajv2020 as Ajv2020Type } from 'ajv/dist/2020.js';
import type { RegExpEngine, RegExpLike } from 'ajv/dist/types/index.js';
import { createLinearPatternEngine, type LinearPatternEngine, ManifestBudgetExceeded, PatternWorkExceeded } from './linear-regexp.ts';
import {
  chainKey,
  evaluateValidator,
  type GeneratedValidator,
  PATTERN_ENGINE_SPECIFIER,
  readCachedCode,
  writeCachedCode,
} from './validator-cache.ts';

// ajv is loaded on the first schema that must be compiled: a load served from the
// validator cache never pays for its import.
const require = createRequire(import.meta.url);

function newAjv(patterns: LinearPatternEngine): Ajv2020Type {
  const { Ajv2020 } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  return new Ajv2020({
    // strict mode would run patternProperties through V8's own RegExp at compile time.
    strict: false,
    allErrors: false,
    validateFormats: false,
    // ajv's optimiser passes cost more than linear time in a schema's size (an 800-property
    // schema compiled 3.5 times slower with them); the code they would tidy is fast enough.
    // `source` keeps the generated code, so it can be stored (see validator-cache.ts).
    code: { regExp: patterns.regExp, optimize: false, source: true },
  });
}

function standaloneCodeOf(ajv: Ajv2020Type, validate: GeneratedValidator): string {
  const standalone = require('ajv/dist/standalone/index.js') as { default: (ajv: Ajv2020Type, v: unknown) => string };
  return standalone.default(ajv, validate);
}

export { ManifestBudgetExceeded };

/** Plugin-supplied schemas are untrusted input to the host: keep them small. */
export const MAX_INPUT_SCHEMA_BYTES = 64 * 1024;
/**
 * All the input schemas of one manifest together. ajv compiles a dense schema at about
 * 5 ms per KiB on the host's main thread, so this keeps a load's compiling near a second
 * at worst; a hundred tools with 2 KiB schemas use under 200 KiB.
 */
export const MAX_INPUT_SCHEMAS_TOTAL_BYTES = 256 * 1024;
/** Objects and arrays nested in one input schema (real ones rarely pass 15); checked before anything recurses into it. */
export const MAX_INPUT_SCHEMA_DEPTH = 64;

/** One problem with call arguments: JSON pointer into the arguments, and what was wrong. */
export interface ArgumentIssue {
  path: string;
  message: string;
}

export type ArgumentValidator = (args: unknown) => ArgumentIssue[];

/** Compiles one tool's `input` schema; every tool of one manifest shares the compiler. */
export type InputSchemaCompiler = (schema: Record<string, unknown>) => ArgumentValidator;

/** Nesting depth of a JSON value, counted without recursion and given up past `limit`. */
function depthOver(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * A compiler for the input schemas (draft 2020-12) of one manifest. Each manifest gets
 * its own ajv, so an `$id` one plugin registers can neither be reached by another
 * plugin's `$ref` nor collide with it, and its own pattern engine (see linear-regexp.ts).
 * The compiler throws the reason when a schema is too deep, too large, invalid, or holds
 * a pattern the linear-time engine cannot run; the validators it returns never throw.
 */
export function createInputSchemaCompiler(cacheDir?: string): InputSchemaCompiler {
  const patterns = oncePerPattern(createLinearPatternEngine());
  /** Created on the first schema the cache does not hold; earlier schemas are added first, for their `$id`s. */
  let ajv: Ajv2020Type | undefined;
  const compiled: Record<string, unknown>[] = [];
  const compileWithAjv = (schema: Record<string, unknown>) => {
    if (ajv === undefined) {
      ajv = newAjv(patterns);
      for (const earlier of compiled) ajv.compile(earlier);
    }
    return ajv.compile(schema);
  };
  let totalBytes = 0;
  let key = '';
  return (schema) => {
    if (depthOver(schema, MAX_INPUT_SCHEMA_DEPTH)) {
      throw new Error(`schema nests objects and arrays deeper than the limit of ${MAX_INPUT_SCHEMA_DEPTH}`);
    }
    const json = JSON.stringify(schema);
    const size = json.length;
    if (size > MAX_INPUT_SCHEMA_BYTES) {
      throw new Error(`schema is ${size} bytes, over the ${MAX_INPUT_SCHEMA_BYTES}-byte limit`);
    }
    totalBytes += size;
    if (totalBytes > MAX_INPUT_SCHEMAS_TOTAL_BYTES) {
      throw new ManifestBudgetExceeded(`the manifest's input and output schemas add up to over the ${MAX_INPUT_SCHEMAS_TOTAL_BYTES}-byte limit`);
    }
    let validate: GeneratedValidator;
    if (cacheDir === undefined) validate = compileWithAjv(schema);
    else {
      key = chainKey(key, json);
      const code = readCachedCode(cacheDir, key);
      const cached = code === undefined ? undefined : evaluateOrDiscard(code, patterns.regExp);
      if (cached !== undefined) validate = cached;
      else {
        const fresh = compileWithAjv(schema);
        writeCachedCode(cacheDir, key, standaloneCodeOf(ajv!, fresh));
        validate = fresh;
      }
    }
    compiled.push(schema);
    return (args) => {
      patterns.resetWork();
      try {
        return validate(args) ? [] : (validate.errors ?? []).map(toIssue);
      } catch (error) {
        if (error instanceof PatternWorkExceeded) return [{ path: '/', message: error.message }];
        throw error;
      }
    };
  };
}

/**
 * The manifest's pattern engine, compiling and charging each distinct pattern once. Once a
 * schema the cache does not hold needs ajv, the schemas before it are compiled again (for
 * their `$id`s) after their cached code already compiled their patterns: charging those a
 * second time would refuse, as over the program budget, a manifest a fresh load accepts.
 * Matching work is still charged on every test.
 */
function oncePerPattern(engine: LinearPatternEngine): LinearPatternEngine {
  const known = new Map<string, RegExpLike>();
  const regExp = ((pattern: string, flags: string): RegExpLike => {
    const key = `${flags}/${pattern}`;
    let compiled = known.get(key);
    if (compiled === undefined) {
      compiled = engine.regExp(pattern, flags);
      known.set(key, compiled);
    }
    return compiled;
  }) as RegExpEngine;
  regExp.code = `require(${JSON.stringify(PATTERN_ENGINE_SPECIFIER)})`;
  return { regExp, resetWork: engine.resetWork };
}

/**
 * Cached code, evaluated; undefined when it cannot be used (it fails to evaluate, asks for
 * a module it may not load, or exports no function), so the schema is compiled afresh and
 * the entry rewritten. Over the manifest's pattern budget is the manifest's fault, not the
 * entry's: that still refuses the load.
 */
function evaluateOrDiscard(code: string, regExp: RegExpEngine): GeneratedValidator | undefined {
  try {
    return evaluateValidator(code, regExp);
  } catch (error) {
    if (error instanceof ManifestBudgetExceeded) throw error;
    return undefined;
  }
}

/** A JSON Pointer token (RFC 6901): `~` and `/` escaped. */
const pointerToken = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * ajv's error as an issue naming the field. ajv puts a missing or an unexpected property's
 * name in `params`, pointing at the object that holds it; the issue points at the property
 * itself, so a caller learns which field, not just which object.
 */
function toIssue(error: { instancePath: string; message?: string; keyword?: string; params?: Record<string, unknown> }): ArgumentIssue {
  const message = error.message ?? 'is invalid';
  const field = error.keyword === 'required' ? error.params?.missingProperty : error.keyword === 'additionalProperties' ? error.params?.additionalProperty : undefined;
  if (typeof field === 'string') {
    const what = error.keyword === 'required' ? 'is required' : 'is not allowed here (no such property)';
    return { path: `${error.instancePath}/${pointerToken(field)}`, message: what };
  }
  return { path: error.instancePath || '/', message };
}
