import path from 'node:path';
import type { Loader, OnLoadArgs, OnLoadResult, Plugin } from 'esbuild';
import { esbuildApi } from './esbuild-service.ts';
import type { ConfinementRoots } from './confine-imports.ts';
import { findGlobImports } from './find-glob-imports.ts';
import { readConfinedFile, RefusedRead } from './read-confined-file.ts';

/** The loaders a plugin's files may be bundled with, by extension. */
export const LOADERS: Readonly<Record<string, Loader>> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
  '.json': 'json',
  '.txt': 'text',
};

/** An import attribute `type` picks the loader, as esbuild does for these two. */
const LOADERS_BY_TYPE: Readonly<Record<string, Loader>> = { text: 'text', json: 'json' };

const CODE_LOADERS = new Set<Loader>(['ts', 'tsx', 'js', 'jsx']);

/** What a refused load tells the error mapping in bundle-plugin.ts. */
export interface LoadRefusal {
  path: string;
  why: string;
  /** The glob-form import expressions found, when that is the reason. */
  globImports?: string[];
}

/**
 * An esbuild plugin through which every file of the bundle is read by the host, never by
 * esbuild: a file is loaded only if {@link confineImports} resolved it (so files esbuild
 * finds on its own, by expanding a template-literal import into a glob, are refused),
 * only as a regular file inside the plugin folder or the SDK (see
 * {@link readConfinedFile}), only with a loader this runtime bundles, and only if its
 * code holds no import esbuild would turn into a glob (refused before esbuild walks any
 * folder for it). The bytes checked are the bytes returned as `contents`.
 */
export function loadConfined(roots: ConfinementRoots, reached: ReadonlySet<string>): Plugin {
  const allowedRoots = [roots.pluginDir, roots.sdkDir];
  return {
    name: 'manasvi-load-confined',
    setup(build) {
      build.onLoad({ filter: /.*/ }, async (args): Promise<OnLoadResult> => {
        const refuse = (why: string, globImports?: string[]): OnLoadResult => {
          const detail: LoadRefusal = { path: args.path, why, ...(globImports ? { globImports } : {}) };
          return { errors: [{ text: `${args.path} refused: ${why}`, detail }] };
        };
        if (args.namespace !== 'file') return refuse(`namespace "${args.namespace}" is not loaded`);
        if (!reached.has(args.path)) return refuse('it was not reached through a confined import (a template-literal import or require expands into a glob)');
        const loader = loaderFor(args);
        if (!loader) return refuse(`no loader for "${path.extname(args.path)}" files${args.with['type'] ? ` of type "${args.with['type']}"` : ''}`);

        let contents: Buffer;
        try {
          contents = await readConfinedFile(args.path, allowedRoots);
        } catch (error) {
          if (error instanceof RefusedRead) return refuse(error.why);
          throw error;
        }
        if (CODE_LOADERS.has(loader)) {
          const globs = await globImportsIn(contents, loader, args.path);
          if (globs.length > 0) return refuse(`it makes a glob-form import: ${globs.join(', ')}`, globs);
        }
        return { contents, loader, resolveDir: path.dirname(args.path) };
      });
    },
  };
}

function loaderFor(args: OnLoadArgs): Loader | undefined {
  const type = args.with['type'];
  if (type !== undefined) return LOADERS_BY_TYPE[type];
  return LOADERS[path.extname(args.path)];
}

/** Printed without comments first, so only code counts; a file that does not parse is left to the build to report. */
async function globImportsIn(contents: Buffer, loader: Loader, sourcefile: string): Promise<string[]> {
  let code: string;
  try {
    code = (await (await esbuildApi()).transform(contents, { loader, sourcefile, minifyWhitespace: true, legalComments: 'none', logLevel: 'silent' })).code;
  } catch {
    return [];
  }
  return findGlobImports(code);
}
