import { readlinkSync } from 'node:fs';
import t from 'tap';
import { ECHO_MANIFEST } from '../helpers/fixtures.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

t.test('a tool with no network grant runs in a network namespace of its own where the host allows it', async (t) => {
  const { runtime } = testRuntime(t);
  if (!runtime.layers.networkNamespace) {
    t.pass('skipped: this host cannot create user and network namespaces');
    return;
  }
  const echo = await runtime.load(ECHO_MANIFEST);
  t.same(await echo.call('echo', { text: 'inside' }), { text: 'inside' }, 'the tool still answers');
  const [pid] = echo.pids('echo');
  t.not(readlinkSync(`/proc/${pid}/ns/net`), readlinkSync('/proc/self/ns/net'), 'its network namespace is not the host one');
});
