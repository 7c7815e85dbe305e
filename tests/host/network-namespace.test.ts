import { readlinkSync } from 'node:fs';
import t from 'tap';
import { createRuntime } from '../../runtime/index.ts';

const ECHO = new URL('../../manifests/examples/echo/manifest.json', import.meta.url).pathname;

t.test('a tool with no network grant runs in a network namespace of its own where the host allows it', async (t) => {
  const runtime = createRuntime({ onLog: () => {} });
  t.teardown(() => runtime.close());
  if (!runtime.layers.networkNamespace) {
    t.pass('skipped: this host cannot create user and network namespaces');
    return;
  }
  const echo = await runtime.load(ECHO);
  t.same(await echo.call('echo', { text: 'inside' }), { text: 'inside' }, 'the tool still answers');
  const [pid] = echo.pids('echo');
  t.not(readlinkSync(`/proc/${pid}/ns/net`), readlinkSync('/proc/self/ns/net'), 'its network namespace is not the host one');
});
