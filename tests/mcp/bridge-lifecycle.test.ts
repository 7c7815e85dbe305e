import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { CLI_BIN, runCli } from '../cli/cli-process.ts';
import { REPO_ROOT } from '../helpers/fixtures.ts';
import { descendantPids, processExists, waitForProcessGone } from '../helpers/processes.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { auditRecords, bridgeEnvironment, ECHO, MCP_FIXTURE, openSession } from './mcp-session.ts';

const NOTES = path.join(REPO_ROOT, 'manifests/examples/notes/manifest.json');
const sdk = (file: string) => pathToFileURL(path.join(REPO_ROOT, 'node_modules/@modelcontextprotocol/sdk/dist/esm', file)).href;

t.test('a client killed with SIGKILL leaves no bridge and no Deno process behind', async (t) => {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'manasvi-mcp-kill-'));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  const script = path.join(folder, 'client.mjs');
  // A client of its own, in its own process, that starts two tool processes and then just waits.
  writeFileSync(
    script,
    [
      `import { Client } from ${JSON.stringify(sdk('client/index.js'))};`,
      `import { StdioClientTransport } from ${JSON.stringify(sdk('client/stdio.js'))};`,
      `const transport = new StdioClientTransport({ command: process.execPath, args: ${JSON.stringify([CLI_BIN, 'mcp', ECHO, MCP_FIXTURE])}, stderr: 'ignore' });`,
      "const client = new Client({ name: 'doomed', version: '1.0.0' });",
      'await client.connect(transport);',
      "const { structuredContent } = await client.callTool({ name: 'mcp-fixture__pid', arguments: {} });",
      "await client.callTool({ name: 'echo__echo', arguments: { text: 'warm' } });",
      'console.log(JSON.stringify({ bridge: transport.pid, tool: structuredContent.pid }));',
      'setInterval(() => {}, 1000);',
      '',
    ].join('\n'),
  );
  const client = spawn(process.execPath, [script], { cwd: REPO_ROOT, env: bridgeEnvironment(), stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  client.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const line = await waitFor('the client to report its pids', () => output.split('\n').find((l) => l.startsWith('{')));
  const { bridge } = JSON.parse(line) as { bridge: number };
  // Every process under the bridge: its tool processes, and in the sandbox what runs Deno.
  const underBridge = descendantPids(bridge);
  t.ok(processExists(bridge) && underBridge.length >= 2, 'the bridge and its tool processes run');
  client.kill('SIGKILL');
  await once(client, 'exit');
  await waitForProcessGone([bridge, ...underBridge]);
  t.pass('the bridge saw its stdin close and stopped every tool process');
});

// (That the bridge exits 0 when its stdin ends is the raw stdout test's, below.)
t.test('the client closing the session ends the bridge, its tool processes stopped', async (t) => {
  const session = await openSession(t, [MCP_FIXTURE]);
  await session.client.callTool({ name: 'mcp-fixture__pid', arguments: {} });
  const pids = session.launchedPids();
  t.equal(pids.length, 1);
  await session.client.close();
  await waitForProcessGone([session.pid, ...pids]);
  t.ok(auditRecords(session.auditFile).some((record) => record.type === 'shutdown'), 'the tool process was shut down, on record');
});

t.test('SIGTERM to the bridge stops every tool process before it exits', async (t) => {
  const session = await openSession(t, [MCP_FIXTURE]);
  await session.client.callTool({ name: 'mcp-fixture__pid', arguments: {} });
  const pids = session.launchedPids();
  process.kill(session.pid, 'SIGTERM');
  await waitForProcessGone([session.pid, ...pids]);
  t.ok(auditRecords(session.auditFile).some((record) => record.type === 'shutdown'), 'shut down, not orphaned');
});

t.test('stdout carries only JSON-RPC: every line the bridge writes there is an MCP message', async (t) => {
  const bridge = spawn(process.execPath, [CLI_BIN, 'mcp', MCP_FIXTURE], { cwd: REPO_ROOT, env: bridgeEnvironment(), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  bridge.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  bridge.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const send = (message: object) => bridge.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
  await waitFor('the initialize answer', () => stdout.includes('"id":1'));
  send({ method: 'notifications/initialized' });
  send({ id: 2, method: 'tools/call', params: { name: 'mcp-fixture__say', arguments: { line: 'a line for stderr, not stdout' } } });
  send({ id: 3, method: 'tools/call', params: { name: 'mcp-fixture__fail', arguments: {} } });
  await waitFor('both call answers', () => stdout.includes('"id":2') && stdout.includes('"id":3'));
  await waitFor('the plugin line on stderr', () => stderr.includes('a line for stderr, not stdout'));
  bridge.stdin.end();
  const [code] = (await once(bridge, 'exit')) as [number | null];
  t.equal(code, 0);
  const lines = stdout.split('\n').filter(Boolean);
  t.ok(lines.length >= 4, 'answers and the log notification');
  for (const text of lines) t.match(JSON.parse(text), { jsonrpc: '2.0' }, 'a JSON-RPC message');
  t.ok(lines.some((text) => text.includes('notifications/message')), 'the plugin line went to the client as a notification');
  t.ok(stderr.includes('serving 9 tool(s)'), 'the bridge talks about itself on stderr');
});

t.test('a plugin refused at load is not listed; stderr, the audit and the client all say why', async (t) => {
  const session = await openSession(t, [NOTES, MCP_FIXTURE]);
  const { tools } = await session.client.listTools();
  t.notOk(tools.some(({ name }) => name.startsWith('notes__')), 'no tool of the refused plugin');
  t.ok(tools.some(({ name }) => name === 'mcp-fixture__pid'), 'the other plugin is served');
  await session.waitForStderr('was not loaded, so its tools are not served: error [sandbox_exceeds_grants]');
  t.ok(
    auditRecords(session.auditFile).some((record) => record.type === 'load_refused' && record.code === 'sandbox_exceeds_grants' && record.plugin === 'notes'),
    'load_refused in the audit',
  );
  const warning = await session.waitForLog('sandbox_exceeds_grants');
  t.equal(warning.level, 'warning');
});

t.test('the bridge refuses to start when every plugin is refused, or two plugins claim one tool name', async (t) => {
  const nothing = await runCli(['mcp', NOTES]);
  t.equal(nothing.exitCode, 1);
  t.match(nothing.stderr, /nothing to serve/);
  t.equal(nothing.stdout, '', 'nothing on stdout');
  const twice = await runCli(['mcp', ECHO, ECHO]);
  t.equal(twice.exitCode, 1);
  t.match(twice.stderr, /error \[name_collision\]/);
  t.match(twice.stderr, /echo__echo/, 'naming the tool');
  const none = await runCli(['mcp']);
  t.equal(none.exitCode, 2, 'no manifest is a usage error');
});
