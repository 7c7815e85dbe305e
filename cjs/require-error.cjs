// `require('manasvi-plugins')` lands here: the package is ES modules only.
'use strict';
throw new Error(
  "manasvi-plugins is an ES module and cannot be require()d: use `import { createRuntime } from 'manasvi-plugins'` " +
    "(an .mjs file, or \"type\": \"module\" in package.json), or `const { createRuntime } = await import('manasvi-plugins')` from CommonJS.",
);
