/**
 * Compiled input validators kept on disk, so a load of an unchanged manifest neither
 * imports ajv nor compiles a schema: what ajv generated for a schema the first time (its
 * "standalone" code) is stored under the runtime's state folder (mode 0700, ownership
 * checked, beyond every grant) and evaluated again on the next load.
 *
 * The key is a chain over the manifest's schemas in order: a schema may `$ref` an `$id`
 * an earlier tool of the same manifest defined, so its code depends on those schemas too,
 * and the same schema after different neighbours gets a different key. An entry is
 * written only after ajv compiled the schema, meta-schema check included. Patterns still
 * go through the manifest's own linear-time engine when the code is evaluated, so their
 * program budget is charged on every load, cached or not.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { RegExpEngine } from 'ajv/dist/types/index.js';
import { writeAtomically } from '../write-atomically.ts';

const require = createRequire(import.meta.url);
const FORMAT = 'manasvi-validator-cache-1';
/** How the generated code names the manifest's pattern engine; resolved by {@link evaluateValidator}. */
export const PATTERN_ENGINE_SPECIFIER = 'manasvi:linear-regexp';
/** ajv's runtime helpers are the only modules generated code may load. */
const AJV_RUNTIME = /^ajv\/dist\/runtime\/[a-z0-9_]+$/;

let ajvVersion: string | undefined;

/** The key of the next schema, given the key of the one before it in the manifest. */
export function chainKey(previous: string, schemaJson: string): string {
  ajvVersion ??= (require('ajv/package.json') as { version: string }).version;
  return createHash('sha256').update(`${FORMAT}\n${ajvVersion}\n${previous}\n${schemaJson}`).digest('hex');
}

/** The stored code for `key`, if any. */
export function readCachedCode(dir: string, key: string): string | undefined {
  try {
    return readFileSync(path.join(dir, `${key}.cjs`), 'utf8');
  } catch {
    return undefined;
  }
}

/** Stores generated code (best effort: a failed write only means compiling next time). */
export function writeCachedCode(dir: string, key: string, code: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeAtomically(path.join(dir, `${key}.cjs`), code, 0o600);
  } catch {
    // compiled again next time
  }
}

/** A validate function as ajv generates it: true or false, with `errors` set on false. */
export interface GeneratedValidator {
  (data: unknown): boolean;
  errors?: { instancePath: string; message?: string; keyword?: string; params?: Record<string, unknown> }[] | null;
}

/**
 * Evaluates stored code; the only modules it may load are ajv's runtime helpers and the pattern engine.
 * @throws Error when the code asks for any other module, fails, or exports no function.
 */
export function evaluateValidator(code: string, regExp: RegExpEngine): GeneratedValidator {
  const load = (specifier: string): unknown => {
    if (specifier === PATTERN_ENGINE_SPECIFIER) return regExp;
    if (AJV_RUNTIME.test(specifier)) return require(specifier);
    throw new Error(`generated validator asked for ${specifier}`);
  };
  const module = { exports: {} as unknown };
  new Function('require', 'module', 'exports', code)(load, module, module.exports);
  if (typeof module.exports !== 'function') throw new Error('generated validator exports no function');
  return module.exports as GeneratedValidator;
}
