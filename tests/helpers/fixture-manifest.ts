/** The entry of a fixture manifest: imports the SDK and registers nothing (for tests that never run it). */
export const PLUGIN_SOURCE = "import { definePlugin } from 'manasvi-plugins/plugin-sdk';\n";

/** A valid manifest object with one tool `x`, its fields replaced by `overrides`. */
export function manifestObject(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'fixture',
    version: '1.0.0',
    entry: 'plugin.ts',
    capabilities: { 'provide-tools': true },
    tools: { x: { description: 'x', input: { type: 'object' } } },
    ...overrides,
  };
}

/** {@link manifestObject} as manifest.json text. */
export function manifestJson(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify(manifestObject(overrides));
}
