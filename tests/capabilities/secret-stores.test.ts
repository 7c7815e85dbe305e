import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { envSecretStore, fileSecretStore, functionSecretStore, type SecretStore } from '../../runtime/index.ts';
import { plantPlugin } from '../helpers/fixtures.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS } from '../helpers/wait-for.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const plant = () => `planted-${randomBytes(12).toString('hex')}`;

t.test('the env store reads MANASVI_SECRET_<NAME> by default, or the prefix given', async (t) => {
  const env = { MANASVI_SECRET_API_KEY: 'a', OTHER_API_KEY: 'b', API_KEY: 'c' };
  t.equal(await envSecretStore(undefined, env).get('API_KEY'), 'a');
  t.equal(await envSecretStore('OTHER_', env).get('API_KEY'), 'b');
  t.equal(await envSecretStore(undefined, env).get('MISSING'), undefined);
  t.equal(envSecretStore().protectedPath, undefined);
});

t.test('the file store reads a JSON object of strings and names its file as protected', async (t) => {
  const dir = realpathSync(t.testdir({ 'secrets.json': JSON.stringify({ API_KEY: 'from-file' }) }));
  const store = fileSecretStore(path.join(dir, 'secrets.json'));
  t.equal(await store.get('API_KEY'), 'from-file');
  t.equal(await store.get('toString'), undefined, 'no inherited property is a secret');
  t.equal(store.protectedPath, path.join(dir, 'secrets.json'));
});

t.test('a broken secrets file is config_invalid, and the error never quotes its content', async (t) => {
  const value = plant();
  const dir = realpathSync(
    t.testdir({
      'broken.json': `{ "API_KEY": "${value}", }`,
      'numbers.json': JSON.stringify({ API_KEY: value, PORT: 5 }),
    }),
  );
  for (const file of ['broken.json', 'numbers.json', 'missing.json']) {
    let caught: unknown;
    try {
      fileSecretStore(path.join(dir, file));
    } catch (error) {
      caught = error;
    }
    t.match(caught, { code: 'config_invalid' }, file);
    t.notOk(JSON.stringify({ message: (caught as Error).message, details: (caught as { details?: unknown }).details }).includes(value), `${file}: value not in the error`);
  }
});

t.test('the function store passes names to the function, sync or async', async (t) => {
  const asked: string[] = [];
  const sync = functionSecretStore((name) => (asked.push(name), name === 'K' ? 'v' : undefined));
  const async = functionSecretStore(async (name) => (name === 'K' ? 'w' : undefined));
  t.equal(await sync.get('K'), 'v');
  t.equal(await sync.get('X'), undefined);
  t.equal(await async.get('K'), 'w');
  t.same(asked, ['K', 'X']);
});

t.test('a real plugin reads its secret through each store', async (t) => {
  const root = realpathSync(t.testdir());
  const reader = plantPlugin(root, 'secret-reader');
  const policy = { plugins: { 'cap-secret-reader': { 'access-secret': ['API_KEY'] } } };
  const fromEnv = plant();
  const fromFile = plant();
  const fromFunction = plant();
  process.env['MANASVI_SECRET_API_KEY'] = fromEnv;
  t.teardown(() => void delete process.env['MANASVI_SECRET_API_KEY']);
  const secretsFile = path.join(root, 'secrets.json');
  writeFileSync(secretsFile, JSON.stringify({ API_KEY: fromFile }));
  const stores: [string, SecretStore | undefined, string][] = [
    ['default (environment)', undefined, fromEnv],
    ['file', fileSecretStore(secretsFile), fromFile],
    ['function', functionSecretStore(async (name) => (name === 'API_KEY' ? fromFunction : undefined)), fromFunction],
  ];
  for (const [what, secrets, value] of stores) {
    const { runtime } = testRuntime(t, { policy, ...(secrets ? { secrets } : {}) });
    const plugin = await runtime.load(reader.manifestPath);
    t.same(await plugin.call('digest', {}, { timeoutMs: GENEROUS_MS }), { sha256: sha256(value) }, what);
  }
});

t.test('a store that fails refuses the call without taking the host down', async (t) => {
  const reader = plantPlugin(t.testdir(), 'secret-reader');
  const value = plant();
  const { runtime } = testRuntime(t, {
    policy: { plugins: { 'cap-secret-reader': { 'access-secret': ['API_KEY'] } } },
    secrets: functionSecretStore(() => {
      throw new Error(`vault failed near ${value}`);
    }),
  });
  const plugin = await runtime.load(reader.manifestPath);
  const outcome = await plugin.call('digest', {}, { timeoutMs: GENEROUS_MS }).catch((error: unknown) => error);
  t.match(outcome, { code: 'tool_failed', details: { pluginCode: 'secret_unavailable' } });
  t.notOk(JSON.stringify({ message: (outcome as Error).message }).includes(value), "the store's error text is not passed on");
  t.same(await plugin.call('peek', {}, { timeoutMs: GENEROUS_MS }).then((r) => (r as { code: string }).code), 'capability_denied', 'the host still answers');
});

t.test('the secrets file is never granted to a plugin, even when the policy allows its folder', async (t) => {
  const root = realpathSync(t.testdir());
  const secretsFile = path.join(root, 'vault', 'secrets.json');
  const reader = plantPlugin(root, 'secret-reader', (manifest) => {
    manifest.capabilities['access-filesystem'] = { read: [secretsFile, path.dirname(secretsFile)] };
  });
  mkdirSync(path.dirname(secretsFile));
  writeFileSync(secretsFile, JSON.stringify({ API_KEY: plant() }));
  const { runtime } = testRuntime(t, {
    secrets: fileSecretStore(secretsFile),
    allowDeclared: true,
    policy: { plugins: { 'cap-secret-reader': { 'access-filesystem': { read: [root] }, 'access-secret': ['API_KEY'] } } },
  });
  const prepared = await runtime.inspect(reader.manifestPath);
  for (const decision of prepared.decisions.filter((d) => d.capability === 'access-filesystem')) {
    t.equal(decision.granted, false, decision.scope);
    t.equal(decision.rule, `runtime-protected path ${secretsFile} is never granted`);
  }
  t.same(prepared.grants.read, []);
});
