import { isPluginRuntimeError, type WireError } from '../index.ts';

interface Issue {
  path: string;
  message: string;
  received?: string;
}

/** The field issues a runtime error carries (`manifest_invalid`, `invalid_arguments`, …), if any. */
export function issuesOf(error: unknown): readonly Issue[] {
  return (isPluginRuntimeError(error) && error.details?.issues) || [];
}

/** The error as `--json` prints it: code and message only, never a stack. */
export function toWireError(error: unknown): WireError {
  if (isPluginRuntimeError(error)) return error.toWire();
  return { code: 'internal_error', message: error instanceof Error ? error.message : String(error) };
}

/** "error [code]: message" and one indented line per field issue. */
export function formatError(error: unknown): string {
  const { code, message } = toWireError(error);
  const lines = [`error [${code}]: ${message}`];
  for (const issue of issuesOf(error)) {
    const received = issue.received && !issue.message.includes(issue.received) ? ` (received ${issue.received})` : '';
    lines.push(`  ${issue.path}: ${issue.message}${received}`);
  }
  return `${lines.join('\n')}\n`;
}
