import { type CallToolResult, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { isPluginRuntimeError } from '../errors.ts';

/**
 * A JSON-RPC invalid-params error. Not the SDK's `McpError`, whose message already carries
 * an "MCP error -32602:" prefix that the client's own McpError would repeat.
 */
export function invalidParams(message: string, data?: unknown): Error {
  return Object.assign(new Error(message), { code: ErrorCode.InvalidParams, ...(data === undefined ? {} : { data }) });
}

/** Where an error result carries the runtime's error code and details (an MCP `_meta` key). */
export const ERROR_META_KEY = 'manasvi-plugins/error';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * A tool's value as an MCP result: an object is also `structuredContent` (MCP's structured
 * content is an object, so other JSON values are text only); the text block is the value
 * itself for a string, its JSON otherwise.
 */
export function valueResult(value: unknown): CallToolResult {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  return {
    content: [{ type: 'text', text }],
    ...(isPlainObject(value) ? { structuredContent: value } : {}),
  };
}

/**
 * A failed call as MCP expects it. Arguments that fail the input schema are the client's
 * mistake: a JSON-RPC invalid-params error naming each field. Everything else the runtime
 * can say about a call — the tool failed, a capability was denied, a deadline passed, the
 * process crashed or was parked — is a result with `isError: true`, its text `code: message`
 * and the code and details under `_meta["manasvi-plugins/error"]`, so the model reads why.
 * An error that is not the runtime's is rethrown (the SDK answers it as an internal error).
 */
export function errorResult(error: unknown): CallToolResult {
  if (!isPluginRuntimeError(error)) throw error;
  if (error.code === 'invalid_arguments') {
    throw invalidParams(error.message, { code: error.code, issues: error.details?.issues ?? [] });
  }
  return {
    isError: true,
    content: [{ type: 'text', text: `${error.code}: ${error.message}` }],
    _meta: { [ERROR_META_KEY]: { code: error.code, ...(error.details === undefined ? {} : { details: error.details }) } },
  };
}
