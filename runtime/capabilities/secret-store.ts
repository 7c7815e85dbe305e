import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import { PluginRuntimeError } from '../errors.ts';

/**
 * Where secret values come from, handed to `createRuntime({ secrets })`. Values are read
 * only to answer a granted `secret.get` and never enter a plugin's environment, argv, logs
 * or audit.
 *
 * @example
 * const secrets: SecretStore = { get: (name) => vault.read(name) };
 */
export interface SecretStore {
  /** The value, or undefined when the store has none by that name. */
  get(name: string): string | undefined | Promise<string | undefined>;
  /** A file the store reads, which no plugin may be granted. */
  readonly protectedPath?: string;
}

/**
 * Secrets from the host's environment variables: `API_KEY` is `MANASVI_SECRET_API_KEY`.
 * The runtime's default store.
 *
 * @param prefix what precedes the secret's name in the variable's name
 * @param env the environment to read (default `process.env`, read at each request)
 * @returns the store
 * @example
 * createRuntime({ secrets: envSecretStore('MYAPP_') });
 */
export function envSecretStore(prefix = 'MANASVI_SECRET_', env: NodeJS.ProcessEnv = process.env): SecretStore {
  return { get: (name) => env[`${prefix}${name}`] };
}

const SecretFileSchema = v.record(v.string(), v.string());

/**
 * Secrets from a JSON file `{ "NAME": "value" }`, read once, here. The file becomes a
 * protected path: no plugin may be granted it.
 *
 * @param file the file's path
 * @returns the store
 * @throws PluginRuntimeError `config_invalid` when the file cannot be read as a JSON
 *   object of strings (the message never quotes its content)
 * @example
 * createRuntime({ secrets: fileSecretStore('/etc/myapp/secrets.json') });
 */
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

/**
 * Secrets from a function of the API user's (sync or async). A function that throws is
 * answered `secret_unavailable`, its message not passed on.
 *
 * @param get the value for a name, or undefined when there is none
 * @returns the store
 * @example
 * createRuntime({ secrets: functionSecretStore(async (name) => (await vault.read(name)) ?? undefined) });
 */
export function functionSecretStore(get: (name: string) => string | undefined | Promise<string | undefined>): SecretStore {
  return { get };
}
