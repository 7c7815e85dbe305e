import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

/** Plugin-supplied schemas are untrusted input to the host: keep them small. */
export const MAX_INPUT_SCHEMA_BYTES = 64 * 1024;

/** One problem with call arguments: JSON pointer into the arguments, and what was wrong. */
export interface ArgumentIssue {
  path: string;
  message: string;
}

export type ArgumentValidator = (args: unknown) => ArgumentIssue[];

const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });

/**
 * Compiles a tool's `input` JSON Schema (draft 2020-12) into a validator.
 * Throws the compiler's error when the schema itself is invalid.
 */
export function compileInputSchema(schema: Record<string, unknown>): ArgumentValidator {
  const size = JSON.stringify(schema).length;
  if (size > MAX_INPUT_SCHEMA_BYTES) {
    throw new Error(`schema is ${size} bytes, over the ${MAX_INPUT_SCHEMA_BYTES}-byte limit`);
  }
  const validate: ValidateFunction = ajv.compile(schema);
  return (args) => (validate(args) ? [] : (validate.errors ?? []).map(toIssue));
}

function toIssue(error: ErrorObject): ArgumentIssue {
  return { path: error.instancePath || '/', message: error.message ?? 'is invalid' };
}
