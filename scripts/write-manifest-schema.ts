/** Regenerates manifests/plugin-manifest.schema.json from the valibot manifest schema. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { manifestJsonSchemaText } from '../runtime/manifest/manifest-json-schema.ts';

const target = fileURLToPath(new URL('../manifests/plugin-manifest.schema.json', import.meta.url));
writeFileSync(target, manifestJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
