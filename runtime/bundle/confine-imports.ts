import { realpathSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'esbuild';
import { SDK_SPECIFIER } from '../../plugin-sdk/protocol/constants.ts';
import { pathContains } from '../scopes/path-scope.ts';

/** Schemes that would fetch or read something esbuild must not embed, or Deno must not load. */
const URL_LIKE = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

export interface ConfinementRoots {
  /** Canonical plugin folder. */
  pluginDir: string;
  /** Canonical SDK folder. */
  sdkDir: string;
  /** Canonical path of the SDK's entry module, what `manasvi-plugins/plugin-sdk` resolves to. */
  sdkEntry: string;
}

const SKIP = Symbol('confined-resolve');

/**
 * An esbuild plugin that confines module resolution: files in the plugin folder may
 * import files in the plugin folder (its own node_modules included) and the SDK; SDK
 * files may import only SDK files; `node:` built-ins stay external (Deno checks their
 * use). Anything else is refused, naming the import and the file that made it. Paths are
 * compared after realpath, so a symlink that leads out is refused too. Every path it
 * resolves is added to `reached`: {@link loadConfined} loads nothing else.
 */
export function confineImports(roots: ConfinementRoots, reached: Set<string>): Plugin {
  return {
    name: 'manasvi-confine-imports',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === SKIP) return undefined;
        const importer = args.importer || '(entry)';
        const refuse = (why: string) => ({
          errors: [{ text: `import "${args.path}" in ${importer} refused: ${why}`, detail: { specifier: args.path, importer } }],
        });
        const accept = (real: string) => {
          reached.add(real);
          return { path: real };
        };
        if (args.kind === 'entry-point') {
          const real = realpathSync(args.path);
          return pathContains(roots.pluginDir, real) ? accept(real) : refuse('the entry leaves the plugin folder');
        }
        if (args.path === SDK_SPECIFIER) return accept(roots.sdkEntry);
        if (args.path.startsWith('node:')) return { path: args.path, external: true };
        if (URL_LIKE.test(args.path)) return refuse('remote and URL imports are not allowed');
        if (path.isAbsolute(args.path)) return refuse('absolute paths are not allowed');

        const fromSdk = pathContains(roots.sdkDir, args.importer);
        const allowedRoot = fromSdk ? roots.sdkDir : roots.pluginDir;
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: SKIP,
        });
        if (resolved.errors.length > 0) return refuse(resolved.errors[0]!.text);
        if (resolved.external) return refuse('it resolves outside the bundle');
        let real: string;
        try {
          real = realpathSync(resolved.path);
        } catch {
          return refuse('it does not resolve to a file');
        }
        if (!pathContains(allowedRoot, real)) {
          return refuse(fromSdk ? 'the SDK may import only its own files' : 'it leaves the plugin folder');
        }
        return accept(real);
      });
    },
  };
}
