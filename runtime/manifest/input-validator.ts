import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { createLinearPatternEngine, ManifestBudgetExceeded, PatternWorkExceeded } from './linear-regexp.ts';

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
export function createInputSchemaCompiler(): InputSchemaCompiler {
  const patterns = createLinearPatternEngine();
  const ajv = new Ajv2020({
    // strict mode would run patternProperties through V8's own RegExp at compile time.
    strict: false,
    allErrors: false,
    validateFormats: false,
    // ajv's optimiser passes cost more than linear time in a schema's size (an 800-property
    // schema compiled 3.5 times slower with them); the code they would tidy is fast enough.
    code: { regExp: patterns.regExp, optimize: false },
  });
  let totalBytes = 0;
  return (schema) => {
    if (depthOver(schema, MAX_INPUT_SCHEMA_DEPTH)) {
      throw new Error(`schema nests objects and arrays deeper than the limit of ${MAX_INPUT_SCHEMA_DEPTH}`);
    }
    const size = JSON.stringify(schema).length;
    if (size > MAX_INPUT_SCHEMA_BYTES) {
      throw new Error(`schema is ${size} bytes, over the ${MAX_INPUT_SCHEMA_BYTES}-byte limit`);
    }
    totalBytes += size;
    if (totalBytes > MAX_INPUT_SCHEMAS_TOTAL_BYTES) {
      throw new ManifestBudgetExceeded(`the manifest's input schemas add up to over the ${MAX_INPUT_SCHEMAS_TOTAL_BYTES}-byte limit`);
    }
    const validate: ValidateFunction = ajv.compile(schema);
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

function toIssue(error: ErrorObject): ArgumentIssue {
  return { path: error.instancePath || '/', message: error.message ?? 'is invalid' };
}
