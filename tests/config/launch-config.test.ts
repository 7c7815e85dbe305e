import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { isPluginRuntimeError } from '../../runtime/errors.ts';
import {
  DEFAULT_LAUNCH_CONFIG_PATH,
  loadLaunchConfig,
  parseLaunchConfig,
} from '../../runtime/config/launch-config.ts';
import type { SchemaIssue } from '../../runtime/schema-issues.ts';

const shipped = JSON.parse(readFileSync(DEFAULT_LAUNCH_CONFIG_PATH, 'utf8')) as Record<string, Record<string, unknown>>;

/** The issue paths of the `config_invalid` error parseLaunchConfig throws; `['(accepted)']` if none. */
function issuePaths(input: unknown): string[] {
  try {
    parseLaunchConfig(input);
  } catch (error) {
    if (!isPluginRuntimeError(error, 'config_invalid')) throw error;
    return (error.details!['issues'] as SchemaIssue[]).map((issue) => issue.path);
  }
  return ['(accepted)'];
}

t.test('the shipped deno-launch.json is valid and is what loadLaunchConfig returns', async (t) => {
  const config = loadLaunchConfig();
  t.same(config, shipped);
  t.equal(path.basename(DEFAULT_LAUNCH_CONFIG_PATH), 'deno-launch.json');
});

t.test('the shipped frame limit is 1 MiB and the floor is a plain version', async (t) => {
  const config = loadLaunchConfig();
  t.equal(config.channel.maxFrameBytes, 1024 * 1024);
  t.match(config.deno.minVersion, /^\d+\.\d+\.\d+$/);
});

t.test('parseLaunchConfig refuses an unknown key, naming it', async (t) => {
  t.same(issuePaths({ ...shipped, extra: 1 }), ['extra']);
  t.same(issuePaths({ ...shipped, handshake: { ...shipped['handshake'], retries: 3 } }), ['handshake.retries']);
});

t.test('parseLaunchConfig refuses bad numbers, naming each field', async (t) => {
  t.same(
    issuePaths({
      ...shipped,
      handshake: { ...shipped['handshake'], timeoutMs: 0 },
      channel: { ...shipped['channel'], maxFrameBytes: 1.5 },
      limits: { ...shipped['limits'], heapMb: '128' },
    }),
    ['handshake.timeoutMs', 'channel.maxFrameBytes', 'limits.heapMb'],
  );
});

t.test('parseLaunchConfig refuses a frame limit over 64 MiB', async (t) => {
  t.same(issuePaths({ ...shipped, channel: { maxFrameBytes: 64 * 1024 * 1024 + 1, maxQueuedBytes: 128 * 1024 * 1024 } }), ['channel.maxFrameBytes']);
});

t.test('parseLaunchConfig refuses an outbound queue bound that cannot hold one whole frame', async (t) => {
  t.same(issuePaths({ ...shipped, channel: { maxFrameBytes: 1024, maxQueuedBytes: 1027 } }), ['channel']);
  t.ok(parseLaunchConfig({ ...shipped, channel: { maxFrameBytes: 1024, maxQueuedBytes: 1028 } }));
});

t.test('parseLaunchConfig refuses a minimum Deno version that is not x.y.z', async (t) => {
  t.same(issuePaths({ ...shipped, deno: { ...shipped['deno'], minVersion: '2.1' } }), ['deno.minVersion']);
});

t.test('parseLaunchConfig refuses a missing section', async (t) => {
  const { shutdown: _shutdown, ...rest } = shipped;
  t.same(issuePaths(rest), ['shutdown']);
});

t.test('loadLaunchConfig refuses a file that is missing or not JSON', async (t) => {
  const dir = t.testdir({ 'broken.json': '{ "deno": ' });
  t.throws(() => loadLaunchConfig(path.join(dir, 'missing.json')), { code: 'config_invalid' });
  t.throws(() => loadLaunchConfig(path.join(dir, 'broken.json')), { code: 'config_invalid' });
});
