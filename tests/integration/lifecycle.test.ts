import t from 'tap';
import { ECHO_MANIFEST, fixturePath } from '../helpers/fixtures.ts';
import { processExists, waitForProcessGone } from '../helpers/processes.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { rejection, waitFor } from '../helpers/wait-for.ts';

// A short cancel grace, so the tool that ignores cancel is killed soon.
const host = testRuntime(t, {
  configure: (config) => {
    config.calls.cancelGraceMs = 500;
  },
});
const echo = await host.runtime.load(ECHO_MANIFEST);
const life = await host.runtime.load(fixturePath('lifecycle', 'manifest.json'));

const launchesOf = (plugin: string, tool: string) => host.audit.all({ type: 'launch', plugin, tool });

t.test('an echo plugin answers calls from one warm process', async (t) => {
  t.same(await echo.call('echo', { text: 'one' }), { text: 'one' });
  t.same(await echo.call('echo', { text: 'two' }), { text: 'two' });
  const both = await Promise.all([echo.call('echo', { text: 'three' }), echo.call('echo', { text: 'four' })]);
  t.same(both, [{ text: 'three' }, { text: 'four' }], 'concurrent calls each get their own answer');
  t.equal(launchesOf('echo', 'echo').length, 1, 'one process served them all');
});

t.test('an unknown tool fails with unknown_tool', async (t) => {
  t.match(await rejection(echo.call('shout', { text: 'x' })), { code: 'unknown_tool' });
  t.equal(launchesOf('echo', 'shout').length, 0, 'nothing was launched for it');
});

t.test('invalid arguments fail with invalid_arguments naming the path, before any process starts', async (t) => {
  t.match(await rejection(echo.call('echo', { text: 5 })), { code: 'invalid_arguments', details: { issues: [{ path: '/text' }] } });
  t.match(await rejection(life.call('fail', { message: ['not', 'a', 'string'] })), {
    code: 'invalid_arguments',
    details: { issues: [{ path: '/message' }] },
  });
  t.match(await rejection(life.call('fail', {})), { code: 'invalid_arguments', details: { issues: [{ path: '/message', message: 'is required' }] } }, 'a missing field is named by its path');
  t.equal(launchesOf('lifecycle', 'fail').length, 0, 'the fail tool was never launched for them');
});

t.test('a tool that throws fails with tool_failed carrying its message and no stack', async (t) => {
  const error = await rejection(life.call('fail', { message: 'the widget broke' }));
  t.match(error, { code: 'tool_failed' });
  t.match(error.message, 'the widget broke', 'the message is kept');
  t.notMatch(error.message, /\n\s*at |file:\/\/|\.js:\d+/, 'no stack trace or plugin file paths');
  const long = await rejection(life.call('fail', { message: 'x', repeat: 200_000 }));
  t.match(long, { code: 'tool_failed' });
  t.ok(long.message.length < 2_500, `a huge message is cut short (${long.message.length} chars)`);
});

t.test('a call past its timeoutMs fails with timeout, and the process stays usable', async (t) => {
  t.match(await rejection(life.call('sleep', { ms: 600_000, tag: 'timeout' }, { timeoutMs: 200 })), { code: 'timeout' });
  t.same(await life.call('sleep', { ms: 1 }), { slept: 1 }, 'the next call is answered');
  const launches = launchesOf('lifecycle', 'sleep');
  t.equal(launches.length, 1, 'by the same process: a tool that honours cancel is not killed');
  t.notOk(host.audit.find({ type: 'kill', launchId: launches[0]!.launchId }), 'no kill was recorded');
});

t.test('aborting the AbortSignal fails the call with cancelled', async (t) => {
  const controller = new AbortController();
  const call = rejection(life.call('sleep', { ms: 600_000, tag: 'abort' }, { signal: controller.signal }));
  await host.waitForLog('sleeping abort');
  controller.abort();
  t.match(await call, { code: 'cancelled' });
  t.match(await rejection(life.call('sleep', { ms: 1 }, { signal: AbortSignal.abort() })), { code: 'cancelled' }, 'an aborted signal cancels at once');
  t.same(await life.call('sleep', { ms: 1 }), { slept: 1 }, 'the process still answers');
});

t.test('a tool that ignores cancel has its process killed', async (t) => {
  t.match(await rejection(life.call('stubborn', { tag: 'spin' }, { timeoutMs: 300 })), { code: 'timeout' });
  const { launchId } = await waitFor('the stubborn launch', () => host.audit.last({ type: 'launch', plugin: 'lifecycle', tool: 'stubborn' }));
  t.ok(await host.audit.waitFor({ type: 'kill', launchId }), 'a kill was recorded');
  const launch = host.audit.launch(launchId!);
  await waitForProcessGone(launch.pid);
  t.notOk(processExists(launch.pid), 'the spinning process is gone');
});

t.test('console output goes to stderr, reaches onLog, and never corrupts the channel', async (t) => {
  t.same(await life.call('chatty', { text: 'marker-7f3a' }), { said: 'marker-7f3a' }, 'the call is answered');
  for (const method of ['log', 'info', 'debug']) {
    const entry = await host.waitForLog(`${method} marker-7f3a`);
    t.match(entry, { plugin: 'lifecycle', tool: 'chatty' }, `console.${method} arrived as a tagged stderr line`);
  }
  t.same(await life.call('chatty', { text: 'again' }), { said: 'again' }, 'the channel still works');
  const { launchId } = host.audit.last({ type: 'launch', plugin: 'lifecycle', tool: 'chatty' })!;
  t.notOk(host.audit.find({ type: 'protocol_violation', launchId }), 'no protocol violation');
  t.equal(launchesOf('lifecycle', 'chatty').length, 1, 'one process served both calls');
});

t.test('close() stops every process, failing in-flight calls with shutting_down', async (t) => {
  const closing = testRuntime(t);
  const echo2 = await closing.runtime.load(ECHO_MANIFEST);
  const life2 = await closing.runtime.load(fixturePath('lifecycle', 'manifest.json'));
  await echo2.call('echo', { text: 'up' });
  const inFlight = rejection(life2.call('sleep', { ms: 600_000, tag: 'close' }));
  await closing.waitForLog('sleeping close');
  const launches = closing.audit.all({ type: 'launch' }).map((record) => closing.audit.launch(record.launchId!));
  t.equal(launches.length, 2, 'two processes are running');
  for (const launch of launches) t.ok(processExists(launch.pid), `pid ${launch.pid} is alive`);

  await closing.runtime.close();
  t.match(await inFlight, { code: 'shutting_down' }, 'the in-flight call ended');
  for (const launch of launches) {
    await waitForProcessGone(launch.pid);
    t.notOk(processExists(launch.pid), `pid ${launch.pid} is gone`);
    t.ok(closing.audit.find({ type: 'shutdown', launchId: launch.launchId }), `a shutdown was recorded for ${launch.tool}`);
  }
  t.ok(await rejection(echo2.call('echo', { text: 'late' })), 'a call after close fails');
  t.match(await rejection(closing.runtime.load(ECHO_MANIFEST)), { code: 'runtime_closed' }, 'so does a load');
});
