import t from 'tap';
import { denyNetFor } from '../../runtime/egress/deny-ranges.ts';
import { buildDenoArgv } from '../../runtime/launch/deno-argv.ts';
import { loadLaunchConfig } from '../../runtime/config/launch-config.ts';
import type { Grants } from '../../runtime/grants/grants.ts';

// Without the sandbox a tool's raw TCP to a granted name is judged by Deno's --deny-net
// alone. The gateway's address is let through it (the proxy is there); a name of the
// plugin's own resolving to that address must not reach this machine's other listeners
// (anything bound to every address answers on 127.x.y.z too) on a name grant's port.

const GATEWAY = '127.9.9.9';
const withPorts = (entries: string[]) => entries.filter((entry) => /^(\[[^\]]+\]|[\d.]+):\d+$/.test(entry));

t.test("the gateway's address is denied again on each port a name grant names, but never on its own", async (t) => {
  t.same(withPorts(denyNetFor(['*.evil.test:5432', 'db.evil.test:6379'], GATEWAY, 41000)), [`${GATEWAY}:5432`, `${GATEWAY}:6379`]);
  t.same(withPorts(denyNetFor(['*.evil.test:41000'], GATEWAY, 41000)), [], "not on the gateway's own port");
  t.same(withPorts(denyNetFor(['127.0.0.1:8080', '*.evil.test:5432'], GATEWAY, 41000)), ['127.0.0.1:5432', `${GATEWAY}:5432`], 'beside a literal grant');
});

t.test('the argv a networked tool is given carries those entries in --deny-net', async (t) => {
  const config = loadLaunchConfig();
  const argv = buildDenoArgv({
    config,
    grants: { provideTools: true, network: ['*.evil.test:5432'], secrets: [], read: [], write: [] } satisfies Grants,
    bundlePath: '/b.js',
    heapMb: 64,
    gateway: { host: GATEWAY, port: 41000 },
  });
  const deny = argv.find((arg) => arg.startsWith('--deny-net='))?.slice('--deny-net='.length).split(',') ?? [];
  t.ok(deny.includes(`${GATEWAY}:5432`), `${GATEWAY}:5432 denied`);
  t.ok(argv.includes(`--allow-net=*.evil.test:5432,${GATEWAY}:41000`), 'the proxy itself still allowed');
});
