import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import t from 'tap';
import { PluginRuntimeError } from '../../runtime/errors.ts';
import { ERROR_META_KEY, errorResult, valueResult } from '../../runtime/mcp/call-result.ts';

t.test('valueResult: an object is structured content and its JSON text; other values are text only', async (t) => {
  t.same(valueResult({ text: 'hi' }), { content: [{ type: 'text', text: '{"text":"hi"}' }], structuredContent: { text: 'hi' } });
  t.same(valueResult('plain words'), { content: [{ type: 'text', text: 'plain words' }] });
  t.same(valueResult([1, 2]), { content: [{ type: 'text', text: '[1,2]' }] });
  t.same(valueResult(null), { content: [{ type: 'text', text: 'null' }] });
  t.same(valueResult(undefined), { content: [{ type: 'text', text: 'null' }] });
});

t.test('errorResult: invalid_arguments is a JSON-RPC invalid-params error carrying the issues', async (t) => {
  const issues = [{ path: '/text', message: 'must be string' }];
  const error = new PluginRuntimeError('invalid_arguments', 'the call of echo/echo has 1 problem', { details: { issues } });
  t.throws(() => errorResult(error), { code: ErrorCode.InvalidParams, data: { code: 'invalid_arguments', issues } });
});

t.test('errorResult: every other runtime error is an isError result with its code, message and details', async (t) => {
  const denied = new PluginRuntimeError('tool_failed', 'peek failed: capability_denied', { details: { pluginCode: 'capability_denied' } });
  t.same(errorResult(denied), {
    isError: true,
    content: [{ type: 'text', text: 'tool_failed: peek failed: capability_denied' }],
    _meta: { [ERROR_META_KEY]: { code: 'tool_failed', details: { pluginCode: 'capability_denied' } } },
  });
  for (const code of ['timeout', 'overloaded', 'plugin_crashed', 'plugin_parked', 'capability_denied', 'invalid_output', 'shutting_down'] as const) {
    const result = errorResult(new PluginRuntimeError(code, `it was ${code}`));
    t.match(result, { isError: true, _meta: { [ERROR_META_KEY]: { code } } }, code);
  }
});

t.test('errorResult rethrows an error that is not the runtime’s', async (t) => {
  const bug = new TypeError('a bug');
  t.throws(() => errorResult(bug), bug);
});
