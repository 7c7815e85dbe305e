import t from 'tap';
import type { PluginHandle } from '../../runtime/host/plugin-handle.ts';
import type { PreparedTool } from '../../runtime/host/prepare-plugin.ts';
import { MAX_MCP_TOOL_NAME, mcpToolName, mcpToolTable } from '../../runtime/mcp/mcp-tool-table.ts';

/** Just what the table reads of a handle: its name, version, entry and tools. */
function plugin(name: string, tools: Record<string, Partial<PreparedTool>>): PluginHandle {
  return {
    name,
    version: '1.0.0',
    manifest: { entry: 'plugin.ts' },
    manifestPath: `/plugins/${name}/manifest.json`,
    tools: Object.entries(tools).map(([tool, fields]) => ({ name: tool, description: `does ${tool}`, input: { type: 'object' }, ...fields })),
  } as unknown as PluginHandle;
}

t.test('mcpToolTable names each tool <plugin>__<tool> and advertises its description and schemas unchanged', async (t) => {
  const input = { type: 'object', properties: { text: { type: 'string', maxLength: 10 } }, required: ['text'], additionalProperties: false };
  const output = { type: 'object', properties: { text: { type: 'string' } } };
  const table = mcpToolTable([plugin('echo', { echo: { input, output } }), plugin('notes', { list_notes: {} })]);
  t.same([...table.entries.keys()], ['echo__echo', 'notes__list_notes']);
  t.same(table.entries.get('echo__echo')!.listing, { name: 'echo__echo', description: 'does echo', inputSchema: input, outputSchema: output });
  t.equal(table.entries.get('echo__echo')!.listing.inputSchema, input, 'the very schema object, not a re-expression');
  t.notOk('outputSchema' in table.entries.get('notes__list_notes')!.listing);
  t.same(table.skipped, []);
});

t.test('mcpToolTable refuses two plugins serving one name, naming both', async (t) => {
  t.throws(() => mcpToolTable([plugin('echo', { echo: {} }), plugin('echo', { echo: {} })]), {
    code: 'name_collision',
    details: { name: 'echo__echo', plugins: ['echo', 'echo'], manifestPaths: ['/plugins/echo/manifest.json', '/plugins/echo/manifest.json'] },
  });
});

t.test('mcpToolTable skips, with the reason, a tool MCP cannot carry: a non-object input schema, a name over 128', async (t) => {
  const long = 'p'.repeat(64);
  const table = mcpToolTable([
    plugin('odd', { array_in: { input: { type: 'array' } }, untyped: { input: {} }, fine: {} }),
    plugin(long, { ['t'.repeat(63)]: {} }),
  ]);
  t.same([...table.entries.keys()], ['odd__fine']);
  t.match(table.skipped, [
    { name: 'odd__array_in', plugin: 'odd', tool: 'array_in', why: /type.*object/ },
    { name: 'odd__untyped', why: /type.*object/ },
    { name: mcpToolName(long, 't'.repeat(63)), why: new RegExp(`${MAX_MCP_TOOL_NAME}`) },
  ]);
});

t.test('mcpToolTable serves a tool whose output schema is not an object schema, without advertising it, and says so', async (t) => {
  const table = mcpToolTable([plugin('lists', { names: { output: { type: 'array', items: { type: 'string' } } } })]);
  t.notOk('outputSchema' in table.entries.get('lists__names')!.listing);
  t.match(table.notes, [{ name: 'lists__names', note: /not an object schema/ }]);
});

t.test('plugin names hold no underscore, so the first __ in an MCP name always ends the plugin part', async (t) => {
  const name = mcpToolName('my-plugin', 'read__all');
  t.equal(name.slice(0, name.indexOf('__')), 'my-plugin');
});
