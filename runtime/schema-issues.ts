import * as v from 'valibot';

/** One validation problem, with the dotted path of the field it concerns. */
export interface SchemaIssue {
  path: string;
  message: string;
  expected: string | null;
  received: string;
}

/** Flattens valibot issues into field paths a person can act on ("tools.echo.sandbox.network"). */
export function toSchemaIssues(issues: readonly v.BaseIssue<unknown>[]): SchemaIssue[] {
  return issues.map((issue) => ({
    path: issue.path?.map((item) => String(item.key)).join('.') || '(root)',
    message: issue.message,
    expected: issue.expected,
    received: issue.received,
  }));
}

/** "path: message" lines, for error messages. */
export function describeSchemaIssues(issues: readonly SchemaIssue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
}
