import t from 'tap';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

// The SDK reads the handshake under a small frame limit; `welcome` raises it to the host's.
// Frames between the two limits must pass both ways.
t.test('a call and a result larger than the pre-handshake frame limit pass under the configured one', async (t) => {
  const host = testRuntime(t);
  const manifest = writeInlinePlugin(t.testdir(), {
    name: 'big-echo',
    source: `${SDK_IMPORT}\ndefinePlugin({ tools: { echo: ({ text }: { text: string }) => ({ text }) } });\n`,
    tools: { echo: {} },
  });
  const echo = await host.runtime.load(manifest);
  const text = 'x'.repeat(Math.floor(host.runtime.config.channel.maxFrameBytes * 0.9));
  t.ok(text.length > 64 * 1024, `the call (${text.length} bytes) is over the SDK's 64 KiB pre-handshake limit`);
  const value = (await echo.call('echo', { text })) as { text: string };
  t.equal(value.text.length, text.length, 'the tool received it whole and answered it whole');
  t.notOk(host.audit.find({ type: 'exit', tool: 'echo' }), 'and its process is still running');
});
