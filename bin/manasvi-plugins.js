#!/usr/bin/env node
// The package ships TypeScript; tsx compiles it on load, so the bin needs no build step.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../runtime/cli/main.ts', import.meta.url).href);
