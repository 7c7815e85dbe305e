/** Shared fixture for bundling tests: a plugin folder with a manifest, inside a test dir. */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';
import type tap from 'tap';
import { bundlePlugin, type BundleResult } from '../../runtime/bundle/bundle-plugin.ts';
import { isPluginRuntimeError } from '../../runtime/errors.ts';
import { loadManifest } from '../../runtime/manifest/load-manifest.ts';

/** A tap subtest, as the callback of `t.test` receives it. */
type TapTest = Parameters<Parameters<typeof tap.test>[0]>[0];
/** The part of a tap test that lays out fixtures. */
export type FixtureHost = Pick<TapTest, 'testdir' | 'testdirName'>;
/** A folder layout as `t.testdir` takes it. */
export type FixtureTree = Record<string, NonNullable<Parameters<TapTest['testdir']>[0]>>;

export const MANIFEST = JSON.stringify({
  name: 'bundle-fixture',
  version: '1.0.0',
  entry: 'plugin.ts',
  capabilities: { 'provide-tools': true },
  tools: { run: { description: 'run', input: { type: 'object' } } },
});

/** `plugin.ts` that imports the SDK, runs `body` and registers one tool. */
export function pluginSource(body: string): string {
  return `import { definePlugin } from 'manasvi-plugins/plugin-sdk';\n${body}\ndefinePlugin({ tools: { run: () => 1 } });\n`;
}

/**
 * Lays out `{ ...outside, plugin: { manifest.json, ...plugin } }` in the test's dir, loads
 * the manifest as the host does, and bundles it into `<dir>/bundles`. `plugin` may be a
 * function of the test dir's path, for sources that name absolute paths.
 */
export async function bundleFixture(
  t: FixtureHost,
  plugin: FixtureTree | ((dir: string) => FixtureTree),
  outside: FixtureTree = {},
): Promise<{ dir: string; bundleDir: string; bundle: BundleResult }> {
  const files = typeof plugin === 'function' ? plugin(t.testdirName) : plugin;
  const dir = realpathSync(t.testdir({ ...outside, plugin: { 'manifest.json': MANIFEST, ...files } }));
  const loaded = loadManifest(path.join(dir, 'plugin', 'manifest.json'));
  const bundleDir = path.join(dir, 'bundles');
  const bundle = await bundlePlugin(loaded.entryPath, loaded.pluginDir, bundleDir);
  return { dir, bundleDir, bundle };
}

/** The specifier named by the `import_refused` error `promise` rejects with; throws otherwise. */
export async function refusedSpecifier(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (!isPluginRuntimeError(error, 'import_refused')) throw error;
    const specifier = error.details?.['specifier'];
    if (typeof specifier !== 'string') throw new Error(`import_refused without a specifier: ${error.message}`);
    return specifier;
  }
  throw new Error('bundling succeeded');
}

/**
 * Every import a JavaScript file still makes, found by a second esbuild pass that marks
 * each one external: static, dynamic with a literal, and require calls alike.
 */
export async function remainingImports(file: string): Promise<string[]> {
  const seen: string[] = [];
  await esbuild.build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'silent',
    plugins: [
      {
        name: 'record-imports',
        setup(build) {
          build.onResolve({ filter: /.*/ }, (args) => {
            if (args.kind === 'entry-point') return undefined;
            seen.push(args.path);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return seen;
}
