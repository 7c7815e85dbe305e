import { spawn } from 'node:child_process';
import t from 'tap';
import { encodeFrame, FrameDecoder, parseFramePayload } from '../../plugin-sdk/protocol/frame.ts';
import { resolveDenoPath } from '../../runtime/launch/deno-binary.ts';
import { ECHO_MANIFEST } from '../helpers/fixtures.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

// Started here without the OS layers (no setpriv death signal), so the only thing that can
// end it is the SDK noticing its stdin closed: what keeps a plugin from outliving a host
// on a machine without setpriv.
t.test('a plugin process exits by itself when its stdin closes, handshake done and tool registered', async (t) => {
  const { runtime } = testRuntime(t);
  const prepared = await runtime.inspect(ECHO_MANIFEST);
  const child = spawn(resolveDenoPath(), prepared.tools[0]!.argv, {
    env: { MANASVI_LAUNCH_TOKEN: 'token-for-this-test', DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', DENO_DIR: t.testdir() },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const decoder = new FrameDecoder(runtime.config.channel.maxFrameBytes);
  const frames: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    for (const payload of decoder.push(chunk)) frames.push(parseFramePayload(payload));
    waiters.splice(0).forEach((wake) => wake());
  });
  const nextFrame = async (index: number) => {
    while (frames.length <= index) await new Promise<void>((resolve) => waiters.push(resolve));
    return frames[index]!;
  };

  t.match(await nextFrame(0), { type: 'hello', token: 'token-for-this-test' });
  child.stdin.write(
    encodeFrame(
      {
        type: 'welcome',
        launchId: 'L',
        plugin: 'echo',
        tools: ['echo'],
        grants: prepared.tools[0]!.grants,
        capabilityTokens: {},
        limits: { maxFrameBytes: runtime.config.channel.maxFrameBytes },
        heartbeatIntervalMs: runtime.config.heartbeat.intervalMs,
      },
      runtime.config.channel.maxFrameBytes,
    ),
  );
  t.match(await nextFrame(1), { type: 'tools.register', tools: ['echo'] });

  child.stdin.end();
  t.equal(await exited, 0, 'the SDK exits cleanly on EOF');
});
