#!/usr/bin/env node
// The CLI runs the compiled JavaScript in dist/, built by the package's own `prepare` script.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('manasvi-plugins: dist/ is missing; run `npm run build` in the package folder (npm install does it).\n');
  process.exit(70);
}
await import(main.href);
