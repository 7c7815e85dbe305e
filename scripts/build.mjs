// Builds what the package ships: the runtime, the MCP bridge and the CLI as bundled ES modules (one
// shared chunk, each CLI command its own chunk, loaded when run) and the .d.ts files.
// Plain JavaScript, so it runs from `prepare` with nothing but the package's dependencies
// and TypeScript. The SDK is not built: the bundler feeds its TypeScript sources to Deno.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

rmSync(`${root}/dist`, { recursive: true, force: true });
await esbuild.build({
  absWorkingDir: root,
  entryPoints: { index: 'runtime/index.ts', mcp: 'runtime/mcp/index.ts', cli: 'runtime/cli/main.ts' },
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  legalComments: 'none',
  logLevel: 'warning',
});
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
