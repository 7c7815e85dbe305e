import t from 'tap';
import { loadLaunchConfig } from '../../runtime/index.ts';
import { effectiveLimits } from '../../runtime/supervisor/effective-limits.ts';

const config = loadLaunchConfig();

t.test("without a policy entry the limits are deno-launch.json's", async (t) => {
  t.same(effectiveLimits(config), {
    heapMb: config.limits.heapMb,
    rssMb: config.limits.rssMb,
    cpuSeconds: config.limits.cpuSeconds,
    fileSizeMb: config.limits.fileSizeMb,
    maxConcurrent: config.calls.maxConcurrent,
    maxQueued: config.calls.maxQueued,
    maxProcesses: config.calls.maxProcesses,
    defaultTimeoutMs: config.calls.defaultTimeoutMs,
    idleMs: config.toolProcess.idleMs,
    egress: {
      connectionsPerCall: config.egress.connectionsPerCall,
      bytesPerCall: config.egress.bytesPerCall,
      concurrentConnections: config.egress.concurrentConnections,
    },
  });
  t.same(effectiveLimits(config, {}), effectiveLimits(config));
});

t.test('each policy value replaces its default, and only that one', async (t) => {
  const limits = effectiveLimits(config, { heapMb: 32, rssMb: 200, maxQueued: 0 });
  t.equal(limits.heapMb, 32);
  t.equal(limits.rssMb, 200);
  t.equal(limits.maxQueued, 0, 'a zero queue is a value, not "unset"');
  t.equal(limits.cpuSeconds, config.limits.cpuSeconds);
  t.equal(limits.maxConcurrent, config.calls.maxConcurrent);
});

t.test('every overridable number can be set', async (t) => {
  const overrides = {
    heapMb: 1, rssMb: 2, cpuSeconds: 3, fileSizeMb: 4, maxConcurrent: 5, maxQueued: 6, maxProcesses: 7, defaultTimeoutMs: 8, idleMs: 9,
  };
  const egress = { egressConnectionsPerCall: 10, egressBytesPerCall: 11, egressConcurrentConnections: 12 };
  t.same(effectiveLimits(config, { ...overrides, ...egress }), { ...overrides, egress: { connectionsPerCall: 10, bytesPerCall: 11, concurrentConnections: 12 } });
});

t.test('a policy default timeout never passes the absolute cap', async (t) => {
  const limits = effectiveLimits(config, { defaultTimeoutMs: config.calls.maxTimeoutMs * 10 });
  t.equal(limits.defaultTimeoutMs, config.calls.maxTimeoutMs);
  const capped = { ...config, calls: { ...config.calls, defaultTimeoutMs: config.calls.maxTimeoutMs + 1 } };
  t.equal(effectiveLimits(capped).defaultTimeoutMs, config.calls.maxTimeoutMs, "also when the config's own default is over it");
});
