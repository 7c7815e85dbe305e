import { type JsonSchema, type OverrideActionContext, toJsonSchema } from '@valibot/to-json-schema';
import { HEADER_RULE, ManifestSchema, NOT_RESERVED, REFUSED_HEADER_SOURCE, REFUSED_WILDCARD_SOURCE, SECRET_NAMED_ONCE, WILDCARD_DOMAIN_RULE } from './manifest-schema.ts';
import { RESERVED_KEYS } from './reserved-keys.ts';

/** The identifier of the generated schema (a name, never fetched). */
export const MANIFEST_JSON_SCHEMA_ID = 'urn:manasvi-plugins:schema:plugin-manifest';

/**
 * The JSON Schema form of each custom `v.check()` in {@link ManifestSchema}, keyed by the
 * check's message. A check has no JSON Schema of its own, so each one is translated by
 * hand; a check not listed here makes the conversion throw, so a new rule can never be
 * dropped silently and leave the published schema laxer than the loader.
 *
 * One translation is knowingly laxer: JSON Schema cannot say "unique by a property", so
 * the published schema refuses a secret listed twice only when both entries are equal;
 * the loader also refuses the same name as a string and as an inject entry.
 */
const CHECK_TRANSLATIONS: Readonly<Record<string, JsonSchema>> = {
  'no repeated entries': { uniqueItems: true },
  [SECRET_NAMED_ONCE]: { uniqueItems: true },
  [WILDCARD_DOMAIN_RULE]: { not: { pattern: REFUSED_WILDCARD_SOURCE } },
  [HEADER_RULE]: { not: { pattern: REFUSED_HEADER_SOURCE } },
  'at least one tool': { minProperties: 1 },
  [NOT_RESERVED]: { not: { enum: [...RESERVED_KEYS] } },
};

function translateCheck({ valibotAction, jsonSchema }: OverrideActionContext): JsonSchema | null {
  if (valibotAction.type !== 'check') return null;
  const message = (valibotAction as { message?: unknown }).message;
  const translation = typeof message === 'string' ? CHECK_TRANSLATIONS[message] : undefined;
  return translation === undefined ? null : { ...jsonSchema, ...translation };
}

/**
 * The JSON Schema (draft 2020-12) of `manifest.json`, generated from {@link ManifestSchema}
 * so the two cannot disagree. Editors use it through a manifest's `$schema`; the host
 * itself validates with valibot.
 *
 * @throws Error when the valibot schema holds a rule with no JSON Schema translation.
 */
export function manifestJsonSchema(): JsonSchema {
  const generated = toJsonSchema(ManifestSchema, {
    target: 'draft-2020-12',
    errorMode: 'throw',
    overrideAction: translateCheck,
  });
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: MANIFEST_JSON_SCHEMA_ID,
    title: 'Manasvi plugin manifest',
    description: 'manifest.json of a Manasvi plugin. Generated from runtime/manifest/manifest-schema.ts by `npm run schema`; do not edit.',
    ...rest,
  };
}

/** The schema as committed to manifests/plugin-manifest.schema.json: pretty, newline-terminated. */
export function manifestJsonSchemaText(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}
