import t from 'tap';
import { functionSecretStore, loadLaunchConfig } from '../../runtime/index.ts';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { supervisorFixturePath } from '../helpers/fixtures.ts';
import { neighbourAnswers, testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, outcome, waitFor } from '../helpers/wait-for.ts';

const MANIFEST = supervisorFixturePath('unread-stdin/manifest.json');
const MIB = 1024 * 1024;
const DEFAULT_BOUND = loadLaunchConfig().channel.maxQueuedBytes;
// Only the queue bound may stop the flooder: pings it never reads must not end it first.
const QUIET_HEARTBEAT = { intervalMs: 600_000, missedLimit: 3 };

t.test('a plugin that floods secret.get and never reads its stdin is killed at the queue bound', async (t) => {
  const h = testRuntime(t, { config: { heartbeat: QUIET_HEARTBEAT } });
  const plugin = await h.load(MANIFEST);
  const result = await outcome(plugin.call('flood', { requests: 250_000, read: false }, { timeoutMs: GENEROUS_MS }));
  t.match(result, { ok: false, code: 'protocol_violation', details: { reason: 'outbound_queue_full' } }, 'its call in flight ends with protocol_violation');

  const violation = await waitFor('the protocol_violation record', () => h.audit.records.find((r) => r.type === 'protocol_violation'));
  t.equal(violation['reason'], 'outbound_queue_full');
  t.equal(violation['maxQueuedBytes'], DEFAULT_BOUND, 'the record names the bound');
  t.ok((violation['peakQueuedBytes'] as number) <= DEFAULT_BOUND, `the host never held more than the bound (peak ${violation['peakQueuedBytes']})`);
  t.ok((violation['withheldBytes'] as number) > 0, 'past the denial budget refusals were withheld, not queued');
  t.ok(h.audit.records.some((r) => r.type === 'kill' && String(r.reason).includes('outbound_queue_full')), 'and the process was killed');
  const exit = await waitFor('the exit record', () => h.audit.records.find((r) => r.type === 'exit'));
  t.ok((exit['repliesWithheld'] as number) > 0, `the exit record counts the withheld refusals (${exit['repliesWithheld']})`);
  t.ok((exit['denialsUnrecorded'] as number) > 0, 'and the unrecorded denials');
  t.equal(h.audit.records.filter((r) => r.type === 'capability_denied').length, loadLaunchConfig().limits.auditDenialsPerLaunch + 1);
  await neighbourAnswers(t, h);
});

t.test('the attack is real: with the bound raised and no budget to withhold, the queue grows past the default bound', async (t) => {
  const raised = 4 * DEFAULT_BOUND;
  const defaults = loadLaunchConfig();
  const h = testRuntime(t, {
    config: {
      heartbeat: QUIET_HEARTBEAT,
      channel: { ...defaults.channel, maxQueuedBytes: raised },
      limits: { ...defaults.limits, auditDenialsPerLaunch: 10_000_000 },
    },
  });
  const plugin = await h.load(MANIFEST);
  const result = await outcome(plugin.call('flood', { requests: 250_000, read: false }, { timeoutMs: GENEROUS_MS }));
  t.match(result, { ok: false, code: 'protocol_violation' });
  const violation = await waitFor('the protocol_violation record', () => h.audit.records.find((r) => r.type === 'protocol_violation'));
  const peak = violation['peakQueuedBytes'] as number;
  t.comment(`peak queued ${(peak / MIB).toFixed(1)} MiB with the bound at ${raised / MIB} MiB`);
  t.ok(peak > DEFAULT_BOUND, 'every refusal was queued: the host held more than the default bound');
  t.ok(peak <= raised, 'and still no more than the raised bound');
  t.equal(violation['withheldBytes'], 0);
});

t.test('the same flood from a plugin that reads its stdin gets every reply', async (t) => {
  const h = testRuntime(t, { config: { heartbeat: QUIET_HEARTBEAT } });
  const plugin = await h.load(MANIFEST);
  const pipelined = await plugin.call('flood', { requests: 50_000, read: true, window: 1000 }, { timeoutMs: GENEROUS_MS });
  t.same(pipelined, { replies: 50_000, refused: 50_000 }, 'a thousand in flight at a time: every one answered');
  const polite = await plugin.call('flood', { requests: 500, read: true, window: 1 }, { timeoutMs: GENEROUS_MS });
  t.same(polite, { replies: 500, refused: 500 }, 'one at a time, far past the denial budget: every one answered');
  t.equal(h.audit.records.filter((r) => r.type === 'protocol_violation').length, 0);
});

t.test('16 pipelined calls of nearly maxFrameBytes each, to a plugin that reads, do not trip the smallest bound', async (t) => {
  const defaults = loadLaunchConfig();
  // 64 KiB, not the shipped 1 MiB: the SDK decodes host frames with its pre-welcome 64 KiB
  // limit for the whole launch (a separate fault), so larger calls would crash it.
  const maxFrameBytes = 64 * 1024;
  const manifest = writeInlinePlugin(t.testdir(), {
    name: 'sizes',
    source: [
      SDK_IMPORT,
      'definePlugin({ tools: {',
      // Each call also asks for a secret it lacks, so refusals queue behind the calls' bytes.
      '  size: async (args: { blob: string }, ctx: any) => {',
      "    try { await ctx.secret('NOT_MINE'); } catch {}",
      '    return args.blob.length;',
      '  },',
      '} });',
      '',
    ].join('\n'),
    tools: { size: {} },
  });
  const { runtime, audit } = testRuntime(t, {
    secrets: functionSecretStore(() => undefined),
    launchConfig: {
      ...defaults,
      // The least the schema allows: one frame. The calls alone are sixteen times that.
      channel: { maxFrameBytes, maxQueuedBytes: maxFrameBytes + 4 },
      calls: { ...defaults.calls, maxConcurrent: 16 },
    },
  });
  const plugin = await runtime.load(manifest);
  t.equal(await plugin.call('size', { blob: 'warm' }), 4);
  const blob = 'x'.repeat(maxFrameBytes - 200);
  const sizes = await Promise.all(Array.from({ length: 16 }, () => plugin.call('size', { blob }, { timeoutMs: GENEROUS_MS })));
  t.same(sizes, Array.from({ length: 16 }, () => blob.length), 'every call answered');
  t.same(audit.records.filter((r) => r.type === 'protocol_violation'), []);
  t.equal(plugin.pids('size').length, 1, 'by the same process');
});
