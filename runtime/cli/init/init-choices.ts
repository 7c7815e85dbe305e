import { PLUGIN_NAME_PATTERN, TOOL_NAME_PATTERN } from '../../manifest/manifest-schema.ts';
import { RESERVED_KEYS } from '../../manifest/reserved-keys.ts';
import { UsageError } from '../usage-error.ts';

/** The capabilities `init --capability` can declare (`provide-tools` is always declared). */
export const INIT_CAPABILITIES = ['access-filesystem', 'access-network', 'access-secret'] as const;

export type InitCapability = (typeof INIT_CAPABILITIES)[number];

/** The tool a scaffold gets when `--tool` is not given. */
export const DEFAULT_TOOL = 'hello';

/** What a scaffold is made of, every value already checked against the manifest's rules. */
export interface InitChoices {
  name: string;
  tool: string;
  capabilities: InitCapability[];
}

const PLUGIN_NAME_MAX = 64;
const FALLBACK_NAME = 'my-plugin';

function isReserved(name: string): boolean {
  return RESERVED_KEYS.includes(name);
}

/**
 * A valid plugin name made from a folder's name: lower case, every run of other characters
 * turned into one `-`, trimmed to 64 characters. `my-plugin` when nothing usable is left.
 */
export function pluginNameFromFolder(folderName: string): string {
  const name = folderName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, PLUGIN_NAME_MAX)
    .replace(/^-+|-+$/g, '');
  if (name === '') return FALLBACK_NAME;
  // "constructor" and "prototype" match the pattern but cannot name a plugin.
  return isReserved(name) ? `${name}-plugin` : name;
}

function checkName(flag: string, value: string, pattern: RegExp, rule: string): string {
  if (!pattern.test(value)) throw new UsageError(`${flag} "${value}" is not a valid ${rule}`);
  if (isReserved(value)) throw new UsageError(`${flag} "${value}" is reserved (${RESERVED_KEYS.join(', ')} cannot name a tool or plugin)`);
  return value;
}

function isInitCapability(value: string): value is InitCapability {
  return (INIT_CAPABILITIES as readonly string[]).includes(value);
}

/**
 * Checks and defaults `init`'s flags. Pure.
 *
 * @param folderName the last segment of the target folder, the default plugin name
 * @throws UsageError naming the flag, the value and the rule (or the valid choices)
 */
export function initChoices(
  folderName: string,
  flags: { name?: string | undefined; tool?: string | undefined; capability?: string[] | undefined },
): InitChoices {
  const name =
    flags.name === undefined
      ? pluginNameFromFolder(folderName)
      : checkName('--name', flags.name, PLUGIN_NAME_PATTERN, 'plugin name: use 1-64 of a-z, 0-9 and "-"');
  const tool =
    flags.tool === undefined
      ? DEFAULT_TOOL
      : checkName('--tool', flags.tool, TOOL_NAME_PATTERN, 'tool name: a lower-case letter, then up to 63 of a-z, 0-9, "_" and "-"');
  const capabilities: InitCapability[] = [];
  for (const value of flags.capability ?? []) {
    if (!isInitCapability(value)) {
      throw new UsageError(
        `--capability "${value}" is not one of ${INIT_CAPABILITIES.join(', ')} (provide-tools is always declared)`,
      );
    }
    if (!capabilities.includes(value)) capabilities.push(value);
  }
  return { name, tool, capabilities: INIT_CAPABILITIES.filter((c) => capabilities.includes(c)) };
}
