import t from 'tap';
import { parseLaunchConfig } from '../../runtime/config/launch-config.ts';
import { isPluginRuntimeError, loadLaunchConfig } from '../../runtime/index.ts';
import { resolvePolicy } from '../../runtime/policy/resolved-policy.ts';
import { detectOsLayers } from '../../runtime/launch/os-limits.ts';
import { exampleManifest } from '../helpers/fixtures.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { outcome } from '../helpers/wait-for.ts';

const ECHO = exampleManifest('echo');
const FETCHER = exampleManifest('fetcher');
const sandbox = detectOsLayers().sandbox;
const noSandbox = sandbox.available ? false : `no sandbox on this host: ${sandbox.reason}`;

t.test('a layer deno-launch.json requires and the host cannot give refuses the load, naming layer, reason and rule', async (t) => {
  const h = testRuntime(t, { config: { layers: { require: ['mountNamespace'] } }, layerOverrides: { withoutNamespaces: true } });
  const result = await outcome(h.runtime.load(ECHO));
  t.match(result, {
    ok: false,
    code: 'layer_unavailable',
    details: { layer: 'mountNamespace', requiredBy: 'deno-launch.json layers.require', plugin: 'echo', tool: 'echo', reason: /turned off/ },
  });
  const error = await h.runtime.load(ECHO).catch((caught: unknown) => caught);
  t.match(error, { message: /deno-launch\.json layers\.require requires the mountNamespace layer, which this host cannot give echo\/echo/ });
  t.equal(h.audit.records.filter((record) => record.type === 'launch').length, 0, 'nothing was launched');
  t.match(h.audit.last({ type: 'load_refused' }), { plugin: 'echo', code: 'layer_unavailable' }, 'the refusal is on record, with the plugin named');
});

t.test("a plugin's policy can require layers of its own; a tool with a network grant gets its own namespace only under the sandbox", async (t) => {
  const policy = {
    plugins: {
      echo: { layers: { require: ['networkNamespace' as const] } },
      fetcher: { 'access-network': ['127.0.0.1:8080'], layers: { require: ['networkNamespace' as const] } },
    },
  };
  const h = testRuntime(t, { policy, layerOverrides: { withoutNamespaces: true } });
  t.match(await outcome(h.runtime.load(ECHO)), { ok: false, code: 'layer_unavailable', details: { layer: 'networkNamespace', requiredBy: 'policy option plugins.echo.layers.require' } });
  const fetcher = await outcome(h.runtime.inspect(FETCHER));
  t.match(
    fetcher,
    { ok: false, code: 'layer_unavailable', details: { layer: 'networkNamespace', tool: 'fetch_url', reason: /only under the sandbox \(its bridge to the egress gateway\)/ } },
    'without the sandbox, fetcher’s networked tool would share the host’s network: refused',
  );
  const unrequired = testRuntime(t, { policy: { plugins: { fetcher: { 'access-network': ['127.0.0.1:8080'] } } }, layerOverrides: { withoutNamespaces: true } });
  t.match(await outcome(unrequired.runtime.inspect(FETCHER)), { ok: true, value: { tools: [{ name: 'fetch_url', network: { via: 'gateway', namespace: 'host' } }] } }, 'unrequired, it runs in the host network, through the gateway');
});

t.test('where the host has every layer, a requirement changes nothing, and inspect lists each tool’s layers', { skip: noSandbox }, async (t) => {
  const h = testRuntime(t, { config: { layers: { require: ['mountNamespace', 'networkNamespace', 'osLimits', 'dieWithHost'] } } });
  t.match(h.runtime.layers, { mountNamespace: true, networkNamespace: true, denoPermissions: true });
  const inspected = await h.runtime.inspect(ECHO);
  t.same(inspected.tools[0]!.layers, ['hostChecks', 'denoPermissions', 'osLimits', 'dieWithHost', 'networkNamespace', 'mountNamespace']);
  const echo = await h.runtime.load(ECHO);
  t.same(await echo.call('echo', { text: 'under every layer' }), { text: 'under every layer' });
});

t.test('an unknown layer name is refused where it is written', async (t) => {
  const config = structuredClone(loadLaunchConfig()) as unknown as { layers: { require: string[] } };
  config.layers.require = ['mountNamespaces'];
  const configError = await outcome(Promise.resolve().then(() => parseLaunchConfig(config)));
  t.match(configError, { ok: false, code: 'config_invalid', details: { issues: [{ path: 'layers.require.0' }] } });
  let policyError: unknown;
  try {
    resolvePolicy({ plugins: { echo: { layers: { require: ['seccomp'] } } } }, '/');
  } catch (error) {
    policyError = error;
  }
  t.ok(isPluginRuntimeError(policyError, 'policy_invalid'));
  t.match(policyError, { details: { issues: [{ path: 'plugins.echo.layers.require.0' }] } });
});
