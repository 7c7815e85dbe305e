import type * as v from 'valibot';
import { printableText } from './printable-text.ts';
import { unknownKeys } from './unknown-key-hint.ts';

/** One validation problem, with the dotted path of the field it concerns. */
export interface SchemaIssue {
  path: string;
  message: string;
  expected: string | null;
  received: string;
}

/** What an issue line is made from: any issue with a path and a message (schema or argument issues). */
export interface IssueLike {
  path: string;
  message: string;
  received?: string;
}

/** valibot's words for a missing key, said plainly. */
function missingKeyMessage(issue: v.BaseIssue<unknown>): string | undefined {
  const last = issue.path?.at(-1);
  if (issue.kind !== 'schema' || issue.input !== undefined || last?.type !== 'object' || !('origin' in last) || last.origin !== 'key') {
    return undefined;
  }
  return `missing required key ${JSON.stringify(String(last.key))}`;
}

/**
 * Flattens valibot issues into field paths a person can act on ("tools.echo.sandbox.network").
 * Given the schema that was checked, an unknown key in a strict object is reported with the
 * keys valid there and the closest of them. Messages and received values are made printable:
 * they quote the input.
 *
 * @param issues valibot's issues
 * @param schema the schema the input was checked against, for unknown-key hints
 */
export function toSchemaIssues(issues: readonly v.BaseIssue<unknown>[], schema?: v.GenericSchema): SchemaIssue[] {
  const seen = new Set<string>();
  return issues.flatMap((issue): SchemaIssue[] => {
    const unknown = schema && unknownKeys(schema, issue);
    if (unknown) {
      // valibot names the first unknown key of an object; every one of them is reported, once.
      return unknown.flatMap(({ objectPath, key, message }) => {
        const path = [...objectPath, key].join('.');
        if (seen.has(path)) return [];
        seen.add(path);
        return [{ path: printableText(path), message: printableText(message), expected: issue.expected, received: key === unknown[0]!.key ? printableText(issue.received) : '' }];
      });
    }
    const missing = missingKeyMessage(issue);
    return [{
      path: printableText(issue.path?.map((item) => String(item.key)).join('.') || '(root)'),
      message: printableText(missing ?? issue.message),
      expected: issue.expected,
      received: missing === undefined ? printableText(issue.received) : '',
    }];
  });
}

/** "path: message (received …)": one issue on one line (a JSON excerpt adds its own indented lines). */
export function describeIssue(issue: IssueLike): string {
  const received = issue.received && !issue.message.includes(issue.received) ? ` (received ${issue.received})` : '';
  return `${issue.path}: ${issue.message}${received}`;
}

/**
 * An error message for a list of issues: a summary line ("manifest m.json has 2 problems:")
 * and one indented line per issue, so a message printed as it is reads one line per issue.
 *
 * @param subject what was checked, e.g. "manifest /srv/notes/manifest.json"
 */
export function describeSchemaIssues(subject: string, issues: readonly IssueLike[]): string {
  const count = `${issues.length} problem${issues.length === 1 ? '' : 's'}`;
  return [`${subject} has ${count}:`, ...issues.map((issue) => `  ${describeIssue(issue)}`)].join('\n');
}
