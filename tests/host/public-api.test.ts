import t from 'tap';
import * as api from '../../runtime/index.ts';
import {
  type AuditRecord,
  createRuntime,
  type ErrorDetails,
  isPluginRuntimeError,
  PluginHandle,
  PluginRuntimeError,
  TOOL_STATES,
  type ToolState,
} from '../../runtime/index.ts';
import { AuditLog } from '../helpers/audit-log.ts';

const EXAMPLES = new URL('../../manifests/examples/', import.meta.url).pathname;

t.test('the host API exports exactly its named values; PluginHandle has no constructor to call', async (t) => {
  t.same(Object.keys(api).sort(), [
    'ERROR_CODES',
    'PluginHandle',
    'PluginRuntimeError',
    'TOOL_STATES',
    'createRuntime',
    'envSecretStore',
    'fileAuditSink',
    'fileSecretStore',
    'functionSecretStore',
    'isPluginRuntimeError',
    'loadLaunchConfig',
    'loadManifest',
  ]);
  t.not(typeof PluginHandle, 'function', 'no class behind the public name');
  t.notOk({} instanceof PluginHandle, 'instanceof is false for anything the runtime did not make');
});

t.test('inspect returns what an operator needs and none of the runtime internals', async (t) => {
  const runtime = createRuntime({ onLog: () => {} });
  t.teardown(() => runtime.close());
  const prepared = await runtime.inspect(`${EXAMPLES}echo/manifest.json`);
  t.same(Object.keys(prepared).sort(), [
    'bundlePath',
    'bundleSha256',
    'decisions',
    'entryPath',
    'grants',
    'limits',
    'manifest',
    'manifestPath',
    'pluginDir',
    'tools',
  ]);
  t.equal(prepared.manifest.name, 'echo');
  t.match(prepared.manifestPath, /\/echo\/manifest\.json$/);
  t.ok(prepared.entryPath.startsWith(`${prepared.pluginDir}/`), 'the entry lies in the plugin folder');
  t.match(prepared.bundleSha256, /^[0-9a-f]{64}$/);
  t.ok(prepared.tools.every((tool) => tool.argv.at(-1) === prepared.bundlePath), 'each tool runs the bundle');
  t.doesNotThrow(() => JSON.stringify(prepared), 'plain data: it serialises');
});

t.test('a load refused for its grants carries its decisions as a typed field, and audits each one', async (t) => {
  const audit = new AuditLog();
  const runtime = createRuntime({ onAudit: audit.sink, onLog: () => {} });
  t.teardown(() => runtime.close());
  const error = await runtime.load(`${EXAMPLES}notes/manifest.json`).catch((caught: unknown) => caught);
  if (!isPluginRuntimeError(error, 'sandbox_exceeds_grants')) throw error;
  // Narrowed by code: details has the code's shape, no casts.
  const details: ErrorDetails<'sandbox_exceeds_grants'> | undefined = error.details;
  t.ok(details && details.refused.length > 0 && details.refused.every(({ field, entry }) => field.length > 0 && entry.length > 0));
  t.equal(error.loadDecisions?.plugin, 'notes');
  const decisions = error.loadDecisions?.decisions ?? [];
  t.ok(decisions.some((decision) => !decision.granted), 'the refused scopes are among them');
  t.equal(audit.all({ type: 'grant_decision', plugin: 'notes' }).length, decisions.length, 'each decision is on record');
});

t.test('a handle is a PluginHandle; its state events use the one list of tool states', async (t) => {
  const audit = new AuditLog();
  const runtime = createRuntime({ onAudit: audit.sink, onLog: () => {} });
  t.teardown(() => runtime.close());
  const echo = await runtime.load(`${EXAMPLES}echo/manifest.json`);
  t.ok(echo instanceof PluginHandle);
  const seen: ToolState[] = [];
  const listener = ({ state }: { state: ToolState }) => seen.push(state);
  t.equal(echo.on('state', listener), echo, 'on returns the handle');
  t.same(await echo.call('echo', { text: 'hi' }), { text: 'hi' });
  echo.off('state', listener);
  t.ok(seen.includes('ready'), 'the process became ready');
  t.ok(seen.every((state) => TOOL_STATES.includes(state)), 'every state is in TOOL_STATES');
  const records = audit.all({ type: 'state', plugin: 'echo' }) as AuditRecord<'state'>[];
  t.same(records.map((record) => record.state), seen, 'every state change is audited, in order');
});

t.test('errors and audit records are typed by their discriminant', async (t) => {
  const error: unknown = new PluginRuntimeError('load_timeout', 'late', { details: { manifestPath: 'm.json', timeoutMs: 5 } });
  if (isPluginRuntimeError(error, 'load_timeout')) t.equal(error.details?.timeoutMs, 5);
  else t.fail('narrowed by code');
  // Without a code, details still read by key.
  t.equal(isPluginRuntimeError(error) ? error.details?.manifestPath : undefined, 'm.json');
  // @ts-expect-error: a code's details have its shape.
  void new PluginRuntimeError('plugin_parked', 'parked', { details: { until: 'tomorrow' } });
  const record = { id: 'x', time: 't', type: 'launch', plugin: 'p', argv: ['run'], wrapper: [], grants: {}, pid: 1 } as unknown as AuditRecord;
  if (record.type === 'launch') t.same(record.argv, ['run']);
  // Unnarrowed, any record's fields read as optional.
  t.equal(record.reason, undefined);
  // @ts-expect-error: a launch record names its argv.
  const missing: AuditRecord<'launch'> = { id: 'x', time: 't', type: 'launch', plugin: 'p', wrapper: [], grants: record.grants!, pid: 1 };
  void missing;
});
