import type { SchemaIssue } from '../schema-issues.ts';

/**
 * Keys valibot's `record` (and every valibot object schema) skips without an issue,
 * because assigning them would reach `Object.prototype`. A tool or plugin so named would
 * vanish between validation and use (a manifest that validates, then a tool that is
 * "unknown"; a policy entry that grants nothing), so wherever such a key names a tool or
 * a plugin it is refused instead.
 */
export const RESERVED_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/** One issue per reserved own key of `record` (when it is an object), at `<where>.<key>`. */
export function reservedKeyIssues(record: unknown, where: string): SchemaIssue[] {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return [];
  return RESERVED_KEYS.filter((key) => Object.prototype.hasOwnProperty.call(record, key)).map((key) => ({
    path: `${where}.${key}`,
    message: `"${key}" is reserved (${RESERVED_KEYS.join(', ')} cannot name a tool or plugin)`,
    expected: null,
    received: key,
  }));
}
