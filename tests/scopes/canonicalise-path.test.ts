import { realpathSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { canonicalisePath } from '../../runtime/scopes/canonicalise-path.ts';

t.test('canonicalisePath resolves a relative entry against the plugin folder', async (t) => {
  const dir = realpathSync(t.testdir({ plugin: { data: {} } }));
  const pluginDir = path.join(dir, 'plugin');
  t.equal(canonicalisePath(pluginDir, 'data'), path.join(pluginDir, 'data'));
  t.equal(canonicalisePath(pluginDir, './data/../data'), path.join(pluginDir, 'data'));
  t.equal(canonicalisePath(pluginDir, '../plugin/data'), path.join(pluginDir, 'data'));
});

t.test('canonicalisePath keeps an absolute entry absolute', async (t) => {
  const dir = realpathSync(t.testdir({ shared: {} }));
  t.equal(canonicalisePath('/anywhere', path.join(dir, 'shared')), path.join(dir, 'shared'));
});

t.test('canonicalisePath grants the real path of a symlinked folder, never the link', async (t) => {
  const dir = realpathSync(t.testdir({ real: { data: {} }, plugin: { data: t.fixture('symlink', '../real/data') } }));
  const pluginDir = path.join(dir, 'plugin');
  t.equal(canonicalisePath(pluginDir, 'data'), path.join(dir, 'real', 'data'));
  t.equal(canonicalisePath(pluginDir, 'data/file.txt'), path.join(dir, 'real', 'data', 'file.txt'));
});

t.test('canonicalisePath keeps a missing tail under the canonical form of its nearest ancestor', async (t) => {
  const dir = realpathSync(t.testdir({ real: {}, plugin: { out: t.fixture('symlink', '../real') } }));
  const pluginDir = path.join(dir, 'plugin');
  t.equal(canonicalisePath(pluginDir, 'out/new/deeper.txt'), path.join(dir, 'real', 'new', 'deeper.txt'));
  t.equal(canonicalisePath(pluginDir, 'not-yet'), path.join(pluginDir, 'not-yet'));
});

t.test('canonicalisePath follows a symlinked plugin folder to its real location', async (t) => {
  const dir = realpathSync(t.testdir({ real: { data: {} }, alias: t.fixture('symlink', 'real') }));
  t.equal(canonicalisePath(path.join(dir, 'alias'), 'data'), path.join(dir, 'real', 'data'));
});
