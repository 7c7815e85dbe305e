/**
 * Positive controls for bundling attacks: the plugin built by plain esbuild, with the
 * runtime's options but none of its confinement (only the SDK specifier is mapped, so the
 * entry builds at all). What this embeds is what the attack would get without the fix.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { SDK_SPECIFIER } from '../../plugin-sdk/protocol/constants.ts';
import { BUNDLE_OPTIONS } from '../../runtime/bundle/bundle-plugin.ts';
import { GENEROUS_MS } from '../helpers/wait-for.ts';

const SDK_ENTRY = fileURLToPath(new URL('../../plugin-sdk/mod.ts', import.meta.url));

/** The bundle plain esbuild makes of the plugin whose manifest is `manifest` (entry plugin.ts), as text. */
export async function plainBundle(manifest: string): Promise<string> {
  const pluginDir = path.dirname(manifest);
  const result = await esbuild.build({
    ...BUNDLE_OPTIONS,
    // The control reads tsconfig files as esbuild does by default; the runtime does not.
    tsconfigRaw: undefined,
    entryPoints: [path.join(pluginDir, 'plugin.ts')],
    absWorkingDir: pluginDir,
    write: false,
    plugins: [
      {
        name: 'sdk-only',
        setup(build) {
          build.onResolve({ filter: /^manasvi-plugins\/plugin-sdk$/ }, (args) => (args.path === SDK_SPECIFIER ? { path: SDK_ENTRY } : undefined));
        },
      },
    ],
  });
  return result.outputFiles[0]!.text;
}

/**
 * {@link plainBundle} of a plugin holding the FIFO `fifo`: waits until esbuild opens the
 * FIFO for reading (a non-blocking open for writing fails until a reader exists), feeds it
 * `bytes` and closes it, so esbuild's read ends. Resolving at all shows esbuild opened it;
 * the bundle shows what it made of the bytes.
 */
export async function plainBundleFeedingFifo(manifest: string, fifo: string, bytes: string): Promise<string> {
  const building = plainBundle(manifest);
  const deadline = Date.now() + GENEROUS_MS;
  for (;;) {
    const writer = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
    if (writer) {
      await writer.write(bytes);
      await writer.close();
      return building;
    }
    if (Date.now() > deadline) throw new Error(`esbuild never opened the FIFO ${fifo}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
