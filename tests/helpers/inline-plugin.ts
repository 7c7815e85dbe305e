import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface InlinePlugin {
  name: string;
  /** The entry module's source (plugin.ts). */
  source: string;
  /** Declared capabilities besides provide-tools, which is always declared. */
  capabilities?: Record<string, unknown>;
  /** Tools by name; input defaults to any object, description to the tool's name. */
  tools: Record<string, { description?: string; input?: object; output?: object; sandbox?: object }>;
}

/**
 * Writes a small plugin, written inline in a test, into `dir/<name>/` and returns its
 * manifest path. For tests whose plugin is a few lines; larger ones live in tests/fixtures.
 */
export function writeInlinePlugin(dir: string, plugin: InlinePlugin): string {
  const folder = path.join(dir, plugin.name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'plugin.ts'), plugin.source);
  const manifest = path.join(folder, 'manifest.json');
  writeFileSync(
    manifest,
    JSON.stringify({
      name: plugin.name,
      version: '1.0.0',
      entry: 'plugin.ts',
      capabilities: { 'provide-tools': true, ...plugin.capabilities },
      tools: Object.fromEntries(
        Object.entries(plugin.tools).map(([tool, { description, input, output, sandbox }]) => [
          tool,
          { description: description ?? tool, input: input ?? { type: 'object' }, ...(output ? { output } : {}), ...(sandbox ? { sandbox } : {}) },
        ]),
      ),
    }),
  );
  return manifest;
}

/** The SDK import line every inline plugin starts with. */
export const SDK_IMPORT = "import { definePlugin } from 'manasvi-plugins/plugin-sdk';";
