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

/**
 * "error [code]: message". An error with field issues already lists them in its message,
 * one indented line each after a summary, so they are not printed again.
 */
export function formatError(error: unknown): string {
  const { code, message } = toWireError(error);
  return `error [${code}]: ${message}\n`;
}
