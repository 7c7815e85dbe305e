import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ESCAPES } from '../../runtime/cli/doctor/escape-catalogue.ts';
import { createProbeWorkspace } from '../../runtime/cli/doctor/probe-workspace.ts';
import { type RoundName, runRound } from '../../runtime/cli/doctor/run-probes.ts';
import { detectOsLayers } from '../../runtime/launch/os-limits.ts';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { startLoopbackServer } from '../helpers/loopback-server.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

// The escape suite of the OS layers: real escapes (runtime/cli/doctor/escape-catalogue.ts),
// tried by a plugin whose Deno lets it (every permission flag replaced by --allow-all,
// standing in for a Deno permission bug). Under the namespaces every one is contained;
// the same plugin without them escapes (the positive control: the layer did it, not a
// missing file); with Deno's flags back, every one is still contained.

const sandbox = detectOsLayers().sandbox;
const skip = sandbox.available ? false : `the sandbox is not available on this host: ${sandbox.reason}`;

const workspace = await createProbeWorkspace();
t.teardown(() => workspace.close());

const EXPECTED: Record<RoundName, { escaped: boolean | ((layer: string) => boolean); title: string }> = {
  os: { escaped: false, title: "with Deno's flags stripped, the OS layers contain every escape" },
  gateway: { escaped: (layer) => layer !== 'egressGateway', title: "with Deno's flags stripped and no namespaces, the egress gateway alone contains the networked tool's fetch (and nothing else holds)" },
  control: { escaped: true, title: 'positive control: flags stripped, no namespaces and no gateway, every escape gets through' },
  deno: { escaped: false, title: "with Deno's flags in force and no namespaces, Deno refuses every escape" },
};

for (const round of ['os', 'gateway', 'control', 'deno'] as const) {
  t.test(EXPECTED[round].title, { skip }, async (t) => {
    const { results } = await runRound(workspace, round);
    t.equal(results.length, ESCAPES.length, 'every escape was tried');
    for (const { escape, escaped, outcome } of results) {
      const how = outcome.allowed ? 'the call was allowed' : `${outcome.error}: ${outcome.message}`;
      const expected = EXPECTED[round].escaped;
      t.equal(escaped, typeof expected === 'function' ? expected(escape.layer) : expected, `${escape.name}: ${escaped ? 'got through' : 'contained'} (${how})`);
    }
  });
}

t.test("with Deno's flags in force under the OS layers too, every escape is contained", { skip }, async (t) => {
  const h = testRuntime(t, { allowDeclared: true });
  const staged = workspace.stageEscaper();
  const plugin = await h.load(staged.manifest);
  const siblingPid = (await plugin.call('granted', { action: 'hostname' }), plugin.pids('granted')[0]!);
  for (const escape of ESCAPES) {
    workspace.resetCounters();
    const context = { workspace, staged, siblingPid };
    const outcome = (await plugin.call(escape.tool, escape.args(context))) as { allowed: boolean; error?: string };
    t.notOk(await escape.escaped(outcome, context), `${escape.name}: contained (${outcome.error ?? 'allowed'})`);
    t.match(outcome, { allowed: false }, 'and refused outright');
  }
});

t.test('inside, the host name is the sandbox’s own', { skip }, async (t) => {
  const h = testRuntime(t, { allowDeclared: true, layerOverrides: { stripDenoPermissions: true } });
  const plugin = await h.load(workspace.stageEscaper().manifest);
  const outcome = await plugin.call('bare', { action: 'hostname' });
  t.same(outcome, { allowed: true, value: 'sandbox' });
  t.not(os.hostname(), 'sandbox', "the host's own name differs (else this proves nothing)");
});

t.test('the grants work inside: the read grant is read, live and read-only; the write grant written', { skip }, async (t) => {
  const h = testRuntime(t, { allowDeclared: true });
  const { readable, writable, manifest } = workspace.stageEscaper();
  const plugin = await h.load(manifest);
  t.match(await plugin.call('granted', { action: 'read', target: path.join(readable, 'readable.txt') }), { allowed: true, value: 'granted to read' });
  const written = path.join(writable, 'from-inside.txt');
  t.match(await plugin.call('granted', { action: 'write', target: written, text: 'written inside' }), { allowed: true });
  t.ok(existsSync(written), 'the write landed in the granted folder on the host');
  mkdirSync(path.join(readable, 'sub'));
  writeFileSync(path.join(readable, 'sub', 'late.txt'), 'added after launch');
  t.match(await plugin.call('granted', { action: 'read', target: path.join(readable, 'sub', 'late.txt') }), { allowed: true, value: 'added after launch' }, 'a bind shows the live folder');
  const stripped = testRuntime(t, { allowDeclared: true, layerOverrides: { stripDenoPermissions: true } });
  const bare = await stripped.load(manifest);
  t.match(await bare.call('granted', { action: 'write', target: path.join(readable, 'nope.txt'), text: 'x' }), { allowed: false }, 'with Deno’s flags stripped, the read grant is still read-only');
  t.notOk(existsSync(path.join(readable, 'nope.txt')));
});

t.test('a tool granted a host by name resolves it inside the sandbox (name-resolution files are bound for it)', { skip }, async (t) => {
  const server = await startLoopbackServer(t, 'reached by name');
  const grant = `localhost:${server.port}`;
  const manifest = writeInlinePlugin(t.testdir(), {
    name: 'by-name',
    source: `${SDK_IMPORT}\ndefinePlugin({ tools: { get: async ({ url }: { url: string }) => (await fetch(url)).text() } });\n`,
    capabilities: { 'access-network': [grant] },
    tools: { get: { sandbox: { network: [grant] } } },
  });
  const h = testRuntime(t, { allowDeclared: true });
  const plugin = await h.load(manifest);
  t.ok(plugin.tools.find((tool) => tool.name === 'get')?.layers.includes('mountNamespace'), 'it runs in the sandbox');
  t.equal(await plugin.call('get', { url: `http://${grant}/` }), 'reached by name');
});
