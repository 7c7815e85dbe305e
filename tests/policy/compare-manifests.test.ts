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
