import t from 'tap';
import { misbehaveManifest } from '../helpers/fixtures.ts';
import { onlyPid, processExists, waitForProcessGone } from '../helpers/processes.ts';
import { neighbourAnswers, testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, outcome } from '../helpers/wait-for.ts';

const CALL = { timeoutMs: GENEROUS_MS };

t.test('a tool that throws fails its call with tool_failed and its process keeps serving', async (t) => {
  const h = testRuntime(t);
  const plugin = await h.load(misbehaveManifest('misbehave'));
  const before = (await plugin.call('ok', {}, CALL)) as { process: string };
  await t.rejects(plugin.call('throws', {}, CALL), { code: 'tool_failed', details: { pluginCode: 'tool_failed' } });
  const after = (await plugin.call('ok', {}, CALL)) as { process: string };
  t.equal(after.process, before.process, 'a thrown error is an answer, not a crash');
  await neighbourAnswers(t, h);
});

t.test('a tool that exits mid-call fails with plugin_crashed, its exit code and stderr tail; the next call gets a fresh process', async (t) => {
  const h = testRuntime(t);
  const plugin = await h.load(misbehaveManifest('misbehave'));
  const first = await outcome(plugin.call('exit', { code: 7 }, CALL));
  t.match(first, { ok: false, code: 'plugin_crashed', details: { exitCode: 7, signal: null } });
  const tail = first.ok ? [] : (first.details.stderr as string[]);
  t.ok(tail.some((line) => line.includes('about to exit on purpose')), 'the last stderr lines come with the error');
  const exitPid = h.audit.records.find((r) => r.type === 'launch' && r.tool === 'exit')?.pid as number;
  await waitForProcessGone([exitPid]);

  // The exit tool's next call runs in a new process (which exits too).
  await t.rejects(plugin.call('exit', { code: 5 }, CALL), { code: 'plugin_crashed', details: { exitCode: 5 } });
  const exitLaunches = h.audit.records.filter((r) => r.type === 'launch' && r.tool === 'exit');
  t.equal(exitLaunches.length, 2, 'a fresh process was launched for the next call');
  t.not(exitLaunches[1]!.pid, exitLaunches[0]!.pid, 'with a new pid');

  t.same(Object.keys((await plugin.call('ok', {}, CALL)) as object), ['pid', 'process'], "the plugin's other tools are untouched");
  await neighbourAnswers(t, h);
});

t.test('a tool process killed with SIGKILL from outside fails its in-flight call with plugin_crashed naming the signal', async (t) => {
  const h = testRuntime(t);
  const plugin = await h.load(misbehaveManifest('misbehave'));
  const inFlight = outcome(plugin.call('slow', { ms: 600_000 }, CALL));
  const pid = await onlyPid(plugin, 'slow');
  // Wait until the call is really in the process (busy), so the kill lands mid-call.
  await h.waitForState('slow', 'busy');
  process.kill(pid, 'SIGKILL');
  t.match(await inFlight, { ok: false, code: 'plugin_crashed', details: { signal: 'SIGKILL', exitCode: null } });
  await waitForProcessGone([pid]);

  await plugin.call('slow', { ms: 1 }, CALL);
  const [next] = plugin.pids('slow');
  t.not(next, pid, 'the next call starts a fresh process');
  t.ok(next !== undefined && processExists(next));
  await neighbourAnswers(t, h);
});
