import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import t from 'tap';
import { ERROR_META_KEY } from '../../runtime/mcp/call-result.ts';
import { rejection, waitFor } from '../helpers/wait-for.ts';
import { auditRecords, ECHO, MCP_FIXTURE, openSession } from './mcp-session.ts';

// A policy that lets the echo example queue a hundred calls at once.
const policyFile = path.join(t.testdir(), 'policy.json');
writeFileSync(policyFile, JSON.stringify({ plugins: { echo: { limits: { maxQueued: 128 } } } }));
const session = await openSession(t, ['--policy', policyFile, ECHO, MCP_FIXTURE]);
const { client } = session;
const errorCode = (result: { _meta?: Record<string, unknown> }) => (result._meta?.[ERROR_META_KEY] as { code?: string } | undefined)?.code;

t.test('tools/list gives every tool as <plugin>__<tool> with its description and schemas as the manifest declares them', async (t) => {
  const { tools } = await client.listTools();
  const manifest = JSON.parse(readFileSync(MCP_FIXTURE, 'utf8')) as { tools: Record<string, { description: string; input: unknown; output?: unknown }> };
  const echo = JSON.parse(readFileSync(ECHO, 'utf8')) as typeof manifest;
  t.same(tools.map(({ name }) => name), ['echo__echo', ...Object.keys(manifest.tools).map((tool) => `mcp-fixture__${tool}`)]);
  t.same(tools[0], { name: 'echo__echo', description: echo.tools.echo!.description, inputSchema: echo.tools.echo!.input });
  const shaped = tools.find(({ name }) => name === 'mcp-fixture__shaped')!;
  t.same(shaped.inputSchema, manifest.tools.shaped!.input);
  t.same(shaped.outputSchema, manifest.tools.shaped!.output);
});

t.test('tools/call answers with the value as structured content and as text', async (t) => {
  const result = await client.callTool({ name: 'echo__echo', arguments: { text: 'over mcp' } });
  t.same(result, { content: [{ type: 'text', text: '{"text":"over mcp"}' }], structuredContent: { text: 'over mcp' } });
});

t.test('arguments that fail the input schema are an invalid-params error naming the field', async (t) => {
  const error = (await rejection(client.callTool({ name: 'echo__echo', arguments: { text: 42 } }))) as Error & { code?: number; data?: unknown };
  t.equal(error.code, ErrorCode.InvalidParams);
  t.match(error.data, { code: 'invalid_arguments', issues: [{ path: '/text' }] });
  const unknown = (await rejection(client.callTool({ name: 'echo__nothing', arguments: {} }))) as Error & { code?: number };
  t.equal(unknown.code, ErrorCode.InvalidParams, 'so is a tool the server does not have');
});

t.test('a tool that throws is an isError result carrying tool_failed and its message', async (t) => {
  const result = await client.callTool({ name: 'mcp-fixture__fail', arguments: {} });
  t.equal(result.isError, true);
  t.equal(errorCode(result), 'tool_failed');
  t.match(JSON.stringify(result.content), /this tool always fails/);
});

t.test('progress reports arrive as notifications/progress, in order, before the result', async (t) => {
  const seen: Array<{ progress: number; total?: number; message?: string }> = [];
  const result = await client.callTool({ name: 'mcp-fixture__count', arguments: { steps: 4 } }, undefined, {
    onprogress: (progress) => void seen.push(progress),
  });
  t.same(result.structuredContent, { counted: 4 });
  t.same(seen.map(({ progress }) => progress), [1, 2, 3, 4]);
  t.same(seen[3], { progress: 4, total: 4, message: 'step 4' });
});

t.test("a plugin's stderr line reaches the client as a log message tagged with plugin and tool", async (t) => {
  await client.callTool({ name: 'mcp-fixture__say', arguments: { line: 'hello from the sandbox\u001b[31m' } });
  const log = await session.waitForLog('hello from the sandbox');
  t.same(log, { level: 'info', logger: 'mcp-fixture/say', data: 'hello from the sandbox\\u001b[31m' }, 'control characters escaped');
  await session.waitForStderr('[mcp-fixture/say] hello from the sandbox');
});

t.test('a value is checked against the output schema: a good one is structured content, a bad one invalid_output', async (t) => {
  t.same((await client.callTool({ name: 'mcp-fixture__shaped', arguments: { good: true } })).structuredContent, { n: 7 });
  const bad = await client.callTool({ name: 'mcp-fixture__shaped', arguments: { good: false } });
  t.equal(bad.isError, true);
  t.equal(errorCode(bad), 'invalid_output');
  t.notOk('structuredContent' in bad, 'no structured content that the client would check against the schema');
});

t.test('escape attempts through MCP come back as isError with the denial, and the audit records it', async (t) => {
  const passwd = await client.callTool({ name: 'mcp-fixture__read_passwd', arguments: {} });
  t.equal(passwd.isError, true);
  t.equal(errorCode(passwd), 'tool_failed');
  t.match(JSON.stringify(passwd.content), /read access to \\"\/etc\/passwd\\"/, "Deno's refusal, not the file");
  t.notMatch(JSON.stringify(passwd), /root:/, 'nothing of the file came back');

  const secret = await client.callTool({ name: 'mcp-fixture__steal_secret', arguments: {} });
  t.equal(secret.isError, true);
  t.match(secret._meta?.[ERROR_META_KEY], { code: 'tool_failed', details: { pluginCode: 'capability_denied' } });
  await waitFor('the denial in the audit', () =>
    auditRecords(session.auditFile).find((record) => record.type === 'capability_denied' && record.capability === 'access-secret'),
  );
});

t.test('100 concurrent calls are all answered, each with its own value', async (t) => {
  const texts = Array.from({ length: 100 }, (_, i) => `call ${i}`);
  const results = await Promise.all(texts.map((text) => client.callTool({ name: 'echo__echo', arguments: { text } })));
  t.same(results.map((result) => result.structuredContent), texts.map((text) => ({ text })));
});

t.test('logging/setLevel is honoured: plugin lines (info) are not sent while the client asks for errors only', async (t) => {
  await client.setLoggingLevel('error');
  await client.callTool({ name: 'mcp-fixture__say', arguments: { line: 'said while only errors are wanted' } });
  await session.waitForStderr('said while only errors are wanted');
  await client.setLoggingLevel('info');
  await client.callTool({ name: 'mcp-fixture__say', arguments: { line: 'said once info is wanted again' } });
  await session.waitForLog('said once info is wanted again');
  // Notifications travel in order on one stream: the first line would have arrived before the second.
  t.notOk(session.logs.some(({ data }) => String(data).includes('said while only errors are wanted')));
});
