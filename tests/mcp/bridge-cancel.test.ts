import t from 'tap';
import { processExists, waitForProcessGone } from '../helpers/processes.ts';
import { rejection, waitFor } from '../helpers/wait-for.ts';
import { auditRecords, MCP_FIXTURE, type McpSession, openSession } from './mcp-session.ts';

const session = await openSession(t, [MCP_FIXTURE]);
const { client } = session;

/** The id of the last tools/call request the client sent for `tool`. */
function requestId(s: McpSession, tool: string): string | number {
  const request = s.sent.findLast(
    (message) => 'method' in message && message.method === 'tools/call' && (message.params as { name?: string }).name === tool,
  );
  if (!request || !('id' in request)) throw new Error(`no tools/call of ${tool} was sent`);
  return request.id as string | number;
}

const answered = (s: McpSession, id: string | number) => s.received.some((message) => 'id' in message && message.id === id && !('method' in message));

t.test('notifications/cancelled aborts the tool, ends the call, and nothing is sent back for it', async (t) => {
  const controller = new AbortController();
  const call = client.callTool({ name: 'mcp-fixture__wait', arguments: { tag: 'first' } }, undefined, { signal: controller.signal });
  await session.waitForStderr('started first');
  const id = requestId(session, 'mcp-fixture__wait');
  controller.abort('the user gave up');
  await rejection(call);
  t.ok(session.sent.some((message) => 'method' in message && message.method === 'notifications/cancelled'), 'the client sent notifications/cancelled');
  await session.waitForStderr('aborted first because cancelled');
  // The tool's process saw the abort; a later call's answer comes after anything the bridge would have sent.
  const later = await client.callTool({ name: 'mcp-fixture__pid', arguments: {} });
  t.ok(later.structuredContent, 'the next call is answered');
  t.notOk(answered(session, id), 'no response for the cancelled request');
});

t.test('a tool that ignores cancel is killed after the grace period, and the next call gets a fresh process', async (t) => {
  const controller = new AbortController();
  const call = client.callTool({ name: 'mcp-fixture__stubborn', arguments: { tag: 'mule' } }, undefined, { signal: controller.signal });
  await session.waitForStderr('stubborn mule pid ');
  // The host pids from the bridge's audit (inside the sandbox, Deno.pid is its own namespace's).
  const launches = () => auditRecords(session.auditFile).filter((record) => record.type === 'launch' && record.tool === 'stubborn');
  const pid = Number(launches()[0]!.pid);
  t.ok(processExists(pid), 'the stubborn process runs');
  controller.abort();
  await rejection(call);
  await waitForProcessGone(pid);
  await waitFor('the kill in the audit', () =>
    auditRecords(session.auditFile).find((record) => record.type === 'kill' && String(record.reason).includes('ignored cancel')),
  );
  t.notOk(answered(session, requestId(session, 'mcp-fixture__stubborn')), 'no response for the cancelled request');
  const again = new AbortController();
  const next = client.callTool({ name: 'mcp-fixture__stubborn', arguments: { tag: 'again' } }, undefined, { signal: again.signal });
  await session.waitForStderr('stubborn again pid ');
  t.equal(launches().length, 2, 'a second launch serves the tool');
  t.not(Number(launches()[1]!.pid), pid, 'in a fresh process');
  again.abort();
  await rejection(next);
});
