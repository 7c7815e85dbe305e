import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { PluginRuntimeError } from '../errors.ts';

/** Where secret values come from. Values never enter a plugin's environment, argv, logs or audit. */
export interface SecretStore {
  /** The value, or undefined when the store has none by that name. */
  get(name: string): string | undefined | Promise<string | undefined>;
  /** A file the store reads, which no plugin may be granted. */
  readonly protectedPath?: string;
}

/** Environment variables of the host, `MANASVI_SECRET_<NAME>` by default. */
export function envSecretStore(prefix = 'MANASVI_SECRET_', env: NodeJS.ProcessEnv = process.env): SecretStore {
  return { get: (name) => env[`${prefix}${name}`] };
}

const SecretFileSchema = v.record(v.string(), v.string());

/** A JSON file `{ "NAME": "value" }` the operator names; read once, at creation. */
export function fileSecretStore(file: string): SecretStore {
  // Parser messages can quote the file's content, so none of them reaches the error.
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new PluginRuntimeError('config_invalid', `secrets file ${file} cannot be read as JSON`);
  }
  const parsed = v.safeParse(SecretFileSchema, raw);
  if (!parsed.success) {
    throw new PluginRuntimeError('config_invalid', `secrets file ${file} must be a JSON object of string values`);
  }
  const values = parsed.output;
  return { get: (name) => (Object.hasOwn(values, name) ? values[name] : undefined), protectedPath: file };
}

/** A function the API user supplies. */
export function functionSecretStore(get: (name: string) => string | undefined | Promise<string | undefined>): SecretStore {
  return { get };
}
