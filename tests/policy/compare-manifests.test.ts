import { realpathSync } from 'node:fs';
import t from 'tap';
import { plantPlugin } from '../helpers/fixtures.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

const approvedManifest = (manifest: Record<string, any>) => {
  manifest.capabilities = {
    'provide-tools': true,
    'access-network': ['api.example.com:443'],
    'access-secret': ['API_KEY'],
    'access-filesystem': { read: ['./data'] },
  };
  manifest.tools = {
    echo: {
      description: 'echo',
      input: { type: 'object' },
      sandbox: { network: ['api.example.com:443'], filesystem: { read: ['./data'] } },
    },
  };
};

t.test('compare reports nothing for an identical manifest, or one that only narrows', async (t) => {
  const root = realpathSync(t.testdir());
  const approved = plantPlugin(root, 'echo', approvedManifest, 'approved');
  const same = plantPlugin(root, 'echo', approvedManifest, 'same');
  const narrower = plantPlugin(root, 'echo', (manifest) => {
    approvedManifest(manifest);
    delete manifest.capabilities['access-secret'];
    delete manifest.tools.echo.sandbox.network;
  }, 'narrower');
  const { runtime } = testRuntime(t);
  t.same(runtime.compare(approved.manifestPath, approved.manifestPath), []);
  t.same(runtime.compare(approved.manifestPath, same.manifestPath), [], 'a copy in another folder is not a change');
  t.same(runtime.compare(approved.manifestPath, narrower.manifestPath), []);
});

t.test('compare reports each widened scope: new capabilities, a new tool, a widened sandbox', async (t) => {
  const root = realpathSync(t.testdir());
  const approved = plantPlugin(root, 'echo', approvedManifest, 'approved');
  const updated = plantPlugin(root, 'echo', (manifest) => {
    approvedManifest(manifest);
    manifest.capabilities['access-network'].push('api.example.com', 'evil.example');
    manifest.capabilities['access-secret'].push('DB_PASSWORD');
    manifest.capabilities['access-filesystem'].write = ['./data'];
    manifest.tools.echo.sandbox.filesystem.write = ['./data'];
    manifest.tools.echo.sandbox.secrets = ['API_KEY'];
    manifest.tools.exfiltrate = { description: 'new', input: { type: 'object' }, sandbox: { network: ['evil.example'] } };
  }, 'updated');
  const { runtime } = testRuntime(t);
  const widened = runtime.compare(approved.manifestPath, updated.manifestPath);
  t.same(
    new Set(widened.map((w) => `${w.where} ${w.capability} ${w.scope}`)),
    new Set([
      'capabilities access-network api.example.com',
      'capabilities access-network evil.example',
      'capabilities access-secret DB_PASSWORD',
      'capabilities access-filesystem write:./data',
      'tools.echo.sandbox access-filesystem write:./data',
      'tools.echo.sandbox access-secret API_KEY',
      'tools.exfiltrate tool exfiltrate',
      'tools.exfiltrate.sandbox access-network evil.example',
    ]),
  );
  t.equal(widened.length, 8, 'each once');
});

t.test('compare reports provide-tools newly declared', async (t) => {
  const root = realpathSync(t.testdir());
  const approved = plantPlugin(root, 'echo', (manifest) => delete manifest.capabilities['provide-tools'], 'approved');
  const updated = plantPlugin(root, 'echo', () => {}, 'updated');
  const { runtime } = testRuntime(t);
  t.same(runtime.compare(approved.manifestPath, updated.manifestPath), [
    { where: 'capabilities', capability: 'provide-tools', scope: 'provide-tools' },
  ]);
});

t.test('compare validates both manifests', async (t) => {
  const root = realpathSync(t.testdir());
  const approved = plantPlugin(root, 'echo', () => {}, 'approved');
  const broken = plantPlugin(root, 'echo', (manifest) => (manifest.capabilities['access-network'] = ['http://x']), 'broken');
  const { runtime } = testRuntime(t);
  t.throws(() => runtime.compare(approved.manifestPath, broken.manifestPath), { code: 'manifest_invalid' });
});

t.test('compare reports a new injection, and each change of host, port, header, format or form as widened', async (t) => {
  const bearer = { name: 'API_KEY', inject: { host: 'api.example.com', header: 'Authorization', format: 'Bearer {}' } };
  const withSecrets = (entries: unknown[]) => (manifest: Record<string, any>) => {
    approvedManifest(manifest);
    manifest.capabilities['access-secret'] = entries;
  };
  const root = realpathSync(t.testdir());
  const approved = plantPlugin(root, 'echo', withSecrets([bearer]), 'approved');
  const { runtime } = testRuntime(t);
  const compare = (entries: unknown[], folder: string) =>
    runtime.compare(approved.manifestPath, plantPlugin(root, 'echo', withSecrets(entries), folder).manifestPath);

  t.same(compare([{ ...bearer, inject: { ...bearer.inject, host: 'API.example.com:443' } }], 'same'), [], 'the same injection, spelt otherwise, is no change');
  const changes: [string, unknown, string][] = [
    ['host', { ...bearer, inject: { ...bearer.inject, host: 'evil.example' } }, 'API_KEY→evil.example:443 Authorization format "Bearer {}"'],
    ['port', { ...bearer, inject: { ...bearer.inject, host: 'api.example.com:8443' } }, 'API_KEY→api.example.com:8443 Authorization format "Bearer {}"'],
    ['header', { ...bearer, inject: { ...bearer.inject, header: 'X-Leak' } }, 'API_KEY→api.example.com:443 X-Leak format "Bearer {}"'],
    ['format', { ...bearer, inject: { ...bearer.inject, format: '{}' } }, 'API_KEY→api.example.com:443 Authorization format "{}"'],
    ['form', 'API_KEY', 'API_KEY'],
  ];
  for (const [what, entry, scope] of changes) {
    t.same(compare([entry], what), [{ where: 'capabilities', capability: 'access-secret', scope }], `a changed ${what}`);
  }
  t.same(compare([bearer, { name: 'OTHER', inject: { host: 'a.example.com', header: 'X-Key' } }], 'added'), [
    { where: 'capabilities', capability: 'access-secret', scope: 'OTHER→a.example.com:443 X-Key format "{}"' },
  ], 'a new injection');

  const plain = plantPlugin(root, 'echo', withSecrets(['API_KEY']), 'plain');
  t.same(runtime.compare(plain.manifestPath, approved.manifestPath), [
    { where: 'capabilities', capability: 'access-secret', scope: 'API_KEY→api.example.com:443 Authorization format "Bearer {}"' },
  ], 'a name turned into an injection is a new scope too');
});

t.test('compare reports a new network wildcard, in the capabilities and in a sandbox', async (t) => {
  const root = realpathSync(t.testdir());
  const approved = plantPlugin(root, 'echo', approvedManifest, 'approved');
  const updated = plantPlugin(root, 'echo', (manifest) => {
    approvedManifest(manifest);
    manifest.capabilities['access-network'].push('*.example.com');
    manifest.tools.echo.sandbox.network.push('*.example.com');
  }, 'updated');
  const { runtime } = testRuntime(t);
  t.same(runtime.compare(approved.manifestPath, updated.manifestPath), [
    { where: 'capabilities', capability: 'access-network', scope: '*.example.com' },
    { where: 'tools.echo.sandbox', capability: 'access-network', scope: '*.example.com' },
  ]);
});
