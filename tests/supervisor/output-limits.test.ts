import t from 'tap';
import { matchOne } from '../helpers/audit-log.ts';
import { misbehaveManifest } from '../helpers/fixtures.ts';
import { onlyPid, waitForProcessGone } from '../helpers/processes.ts';
import { neighbourAnswers, testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, outcome, waitFor } from '../helpers/wait-for.ts';

const CALL = { timeoutMs: GENEROUS_MS };
const MB = 1024 * 1024;

t.test('a tool that floods stderr gets at most the rate cap through, and the host stays fine', async (t) => {
  const linesPerSecond = 50;
  const h = testRuntime(t, { config: { limits: { stderrLinesPerSecond: linesPerSecond, stderrLineBytes: 256 } } });
  const plugin = await h.load(misbehaveManifest('misbehave'));
  const started = Date.now();
  const written = 20_000;
  t.same(await plugin.call('flood', { lines: written }, CALL), { written });
  await neighbourAnswers(t, h);
  const elapsedSeconds = Math.ceil((Date.now() - started) / 1000);
  const received = h.logs.filter((l) => l.tool === 'flood' && l.line.startsWith('flood line')).length;
  t.comment(`${received} of ${written} flood lines reached onLog in about ${elapsedSeconds} s`);
  t.ok(received > 0, 'some lines get through');
  // Each one-second window admits at most the cap; the flood spans at most elapsed+1 windows.
  t.ok(received <= linesPerSecond * (elapsedSeconds + 1), `at most ${linesPerSecond}/s got through`);

  // The drop is reported (with a count) once a later line opens a new window.
  const notice = await waitFor('the dropped-lines notice', () => {
    void plugin.call('flood', { lines: 1 }, CALL).catch(() => {});
    return h.logs.find((l) => l.tool === 'flood' && /^\[\d+ stderr lines dropped/.test(l.line));
  });
  t.ok(Number(/^\[(\d+)/.exec(notice.line)![1]) > 0);

  // A single enormous line is cut at the byte cap.
  await plugin.call('flood', { lines: 1, width: 2 * MB }, CALL);
  const long = await waitFor('the long line', () => h.logs.find((l) => l.tool === 'flood' && l.line.includes('yyyy')));
  t.ok(Buffer.byteLength(long.line) < 256 + 64, `a ${2 * MB}-byte line arrives cut to ${Buffer.byteLength(long.line)} bytes`);
  t.match(long.line, /truncated/);
  await neighbourAnswers(t, h);
});

t.test('a result frame over the channel limit, written past the SDK, is a protocol violation and kills the process', async (t) => {
  const h = testRuntime(t);
  const plugin = await h.load(misbehaveManifest('misbehave'));
  const limit = h.runtime.config.channel.maxFrameBytes;
  t.match(await outcome(plugin.call('oversize_raw', { bytes: limit + 1024 }, CALL)), {
    ok: false,
    code: 'protocol_violation',
    details: { reason: 'frame_too_large' },
  });
  // The process may be gone before a poll could see it: its pid comes from the launch record.
  const pid = h.audit.records.find((r) => r.type === 'launch' && r.tool === 'oversize_raw')?.['pid'] as number;
  t.type(pid, 'number');
  matchOne(t, h.audit.records.filter((r) => r.type === 'protocol_violation'), { tool: 'oversize_raw', reason: 'frame_too_large' });
  await waitForProcessGone([pid]);
  await neighbourAnswers(t, h);
});

t.test('an oversize value returned through the SDK becomes result_too_large, and the process lives on', async (t) => {
  const h = testRuntime(t);
  const plugin = await h.load(misbehaveManifest('misbehave'));
  const limit = h.runtime.config.channel.maxFrameBytes;
  await t.rejects(plugin.call('oversize_sdk', { bytes: limit + 1024 }, CALL), {
    code: 'tool_failed',
    details: { pluginCode: 'result_too_large' },
  });
  const pid = await onlyPid(plugin, 'oversize_sdk');
  t.equal(await plugin.call('oversize_sdk', { bytes: 3 }, CALL), 'xxx');
  t.same(plugin.pids('oversize_sdk'), [pid], 'the same process answered');
  t.notOk(h.audit.records.some((r) => r.type === 'protocol_violation'));
  await neighbourAnswers(t, h);
});
