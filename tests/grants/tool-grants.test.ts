import t from 'tap';
import { isPluginRuntimeError } from '../../runtime/errors.ts';
import { type Grants, NO_GRANTS, type SecretInjection } from '../../runtime/grants/grants.ts';
import { loadLaunchConfig } from '../../runtime/config/launch-config.ts';
import { buildDenoArgv } from '../../runtime/launch/deno-argv.ts';
import { computeToolGrants, type ResolvedSandbox } from '../../runtime/grants/tool-grants.ts';

const declared: Grants = {
  provideTools: true,
  network: ['api.example.test', 'db.example.test:5432'],
  secrets: ['API_KEY', 'DB_PASSWORD'],
  read: ['/srv/plugin/data'],
  write: ['/srv/plugin/data/out'],
};
const nothing: Grants = { provideTools: true, network: [], secrets: [], read: [], write: [] };
const empty: ResolvedSandbox = { network: [], read: [], write: [], secrets: [] };

/** The code and named fields of the error computeToolGrants throws; null if it returns. */
function refusal(
  sandbox: Partial<ResolvedSandbox>,
  ceiling: Grants,
  granted: Grants,
  injections: SecretInjection[] = [],
): { code: string; fields: string[] } | null {
  try {
    computeToolGrants('fetch', { ...empty, ...sandbox }, ceiling, granted, injections);
    return null;
  } catch (error) {
    if (!isPluginRuntimeError(error)) throw error;
    const details = error.details as { tool: string; issues?: { path: string }[]; refused?: { field: string }[] };
    if (details.tool !== 'fetch') throw new Error(`error does not name the tool: ${JSON.stringify(details)}`);
    const fields = details.issues?.map((issue) => issue.path) ?? details.refused!.map((r) => `tools.fetch.sandbox.${r.field}`);
    return { code: error.code, fields };
  }
}

t.test('a tool that declares no sandbox is launched with nothing', async (t) => {
  t.same(computeToolGrants('fetch', empty, declared, declared), { grants: nothing, injections: [] });
});

t.test('a tool is launched with exactly its own sandbox, not the plugin grants', async (t) => {
  const sandbox: ResolvedSandbox = {
    network: ['api.example.test:443'],
    secrets: ['API_KEY'],
    read: ['/srv/plugin/data/in'],
    write: [],
  };
  t.same(computeToolGrants('fetch', sandbox, declared, declared), { grants: { provideTools: true, ...sandbox }, injections: [] });
});

t.test('a sandbox wider than the declared capabilities is manifest_invalid naming tools.<tool>.sandbox.<field>', async (t) => {
  const cases: [Partial<ResolvedSandbox>, string][] = [
    [{ network: ['api.example.test', 'evil.test'] }, 'tools.fetch.sandbox.network.1'],
    [{ secrets: ['AWS_SECRET'] }, 'tools.fetch.sandbox.secrets.0'],
    [{ read: ['/srv/plugin'] }, 'tools.fetch.sandbox.filesystem.read.0'],
    [{ write: ['/srv/plugin/data'] }, 'tools.fetch.sandbox.filesystem.write.0'],
  ];
  for (const [sandbox, field] of cases) {
    t.same(refusal(sandbox, declared, declared), { code: 'manifest_invalid', fields: [field] }, field);
  }
});

t.test('a sandbox that is declared but not granted is sandbox_exceeds_grants naming the tool and field', async (t) => {
  const cases: [Partial<ResolvedSandbox>, string][] = [
    [{ network: ['api.example.test'] }, 'tools.fetch.sandbox.network.0'],
    [{ secrets: ['API_KEY'] }, 'tools.fetch.sandbox.secrets.0'],
    [{ read: ['/srv/plugin/data'] }, 'tools.fetch.sandbox.filesystem.read.0'],
    [{ write: ['/srv/plugin/data/out/x'] }, 'tools.fetch.sandbox.filesystem.write.0'],
  ];
  for (const [sandbox, field] of cases) {
    t.same(refusal(sandbox, declared, nothing), { code: 'sandbox_exceeds_grants', fields: [field] }, field);
  }
});

t.test('every excess field is named, not just the first', async (t) => {
  t.same(refusal({ network: ['evil.test'], secrets: ['NOPE'], read: ['/etc'] }, declared, declared), {
    code: 'manifest_invalid',
    fields: ['tools.fetch.sandbox.network.0', 'tools.fetch.sandbox.secrets.0', 'tools.fetch.sandbox.filesystem.read.0'],
  });
});

t.test('a host grant covers any port of the host; a host:port grant covers no other port', async (t) => {
  t.equal(refusal({ network: ['api.example.test:8443'] }, declared, declared), null, 'host covers :8443');
  t.equal(refusal({ network: ['db.example.test:5432'] }, declared, declared), null, 'same port');
  t.same(refusal({ network: ['db.example.test:5433'] }, declared, declared), {
    code: 'manifest_invalid',
    fields: ['tools.fetch.sandbox.network.0'],
  });
  t.same(refusal({ network: ['db.example.test'] }, declared, declared), {
    code: 'manifest_invalid',
    fields: ['tools.fetch.sandbox.network.0'],
  }, 'a bare host is wider than host:port');
});

t.test('a path grant covers what is inside it but not a sibling that shares its prefix', async (t) => {
  t.equal(refusal({ read: ['/srv/plugin/data/in/file.txt'] }, declared, declared), null);
  t.same(refusal({ read: ['/srv/plugin/data2'] }, declared, declared), {
    code: 'manifest_invalid',
    fields: ['tools.fetch.sandbox.filesystem.read.0'],
  });
  t.same(refusal({ write: ['/srv/plugin/data/outside'] }, declared, declared), {
    code: 'manifest_invalid',
    fields: ['tools.fetch.sandbox.filesystem.write.0'],
  });
});

t.test('a read grant does not stand in for a write grant', async (t) => {
  t.same(refusal({ write: ['/srv/plugin/data/in'] }, declared, declared), {
    code: 'manifest_invalid',
    fields: ['tools.fetch.sandbox.filesystem.write.0'],
  });
});

t.test('the tool grants returned are copies the caller cannot use to widen the sandbox', async (t) => {
  const sandbox: ResolvedSandbox = { ...empty, network: ['api.example.test'] };
  const { grants } = computeToolGrants('fetch', sandbox, declared, declared);
  grants.network.push('evil.test');
  t.same(sandbox.network, ['api.example.test']);
});

const wildcardDeclared: Grants = { ...nothing, network: ['*.example.test', 'api.example.test', '*.cdn.example.test:8443'] };

t.test('a wildcard grant covers a sandbox naming a host below it or a narrower wildcard, never the apex', async (t) => {
  for (const entry of ['a.example.test', 'a.b.example.test:443', '*.example.test', '*.a.example.test:80', 'x.cdn.example.test:8443', '*.x.cdn.example.test:8443']) {
    t.equal(refusal({ network: [entry] }, wildcardDeclared, wildcardDeclared), null, entry);
  }
  const cases: [Grants, string][] = [
    [wildcardDeclared, 'example.test'],
    [wildcardDeclared, 'example.test:443'],
    [wildcardDeclared, '*.test'],
    [wildcardDeclared, 'a.example.test.evil'],
    [wildcardDeclared, 'aexample.test'],
    [{ ...nothing, network: ['*.cdn.example.test:8443'] }, 'cdn.example.test:8443'],
    [{ ...nothing, network: ['*.cdn.example.test:8443'] }, 'x.cdn.example.test'],
    [{ ...nothing, network: ['*.cdn.example.test:8443'] }, '*.x.cdn.example.test:443'],
  ];
  for (const [ceiling, entry] of cases) {
    t.same(refusal({ network: [entry] }, ceiling, ceiling), { code: 'manifest_invalid', fields: ['tools.fetch.sandbox.network.0'] }, `${ceiling.network[0]} does not cover ${entry}`);
  }
});

t.test('an exact grant never covers a sandbox wildcard, and a declared wildcard the policy refused is sandbox_exceeds_grants', async (t) => {
  const exactOnly: Grants = { ...nothing, network: ['a.example.test'] };
  t.same(refusal({ network: ['*.a.example.test'] }, exactOnly, exactOnly), { code: 'manifest_invalid', fields: ['tools.fetch.sandbox.network.0'] });
  t.same(refusal({ network: ['*.example.test'] }, wildcardDeclared, exactOnly), {
    code: 'sandbox_exceeds_grants',
    fields: ['tools.fetch.sandbox.network.0'],
  });
});

t.test('a wildcard sandbox entry reaches Deno as --allow-net=*.example.test, unchanged', async (t) => {
  const { grants } = computeToolGrants('fetch', { ...empty, network: ['*.example.test', 'api.example.test'] }, wildcardDeclared, wildcardDeclared);
  const argv = buildDenoArgv({ config: loadLaunchConfig(), grants, bundlePath: '/state/bundles/b.js', heapMb: 128 });
  t.ok(argv.includes('--allow-net=*.example.test,api.example.test'), argv.join(' '));
});

const injection: SecretInjection = { name: 'API_KEY', host: 'api.example.test', port: 443, header: 'Authorization', format: 'Bearer {}' };
const secretsDeclared: Grants = { ...nothing, secrets: ['API_KEY', 'DB_PASSWORD', 'OTHER'] };
const plainOnly: Grants = { ...nothing, secrets: ['DB_PASSWORD'] };

t.test('a secret granted for injection only is in the tool\'s injections, never in its grants.secrets', async (t) => {
  const sandbox: ResolvedSandbox = { ...empty, secrets: ['API_KEY', 'DB_PASSWORD'] };
  const result = computeToolGrants('fetch', sandbox, secretsDeclared, plainOnly, [injection]);
  t.same(result.grants.secrets, ['DB_PASSWORD'], 'only the plainly granted name can be read (secret.get is gated on this list)');
  t.same(result.injections, [injection]);
  t.not(result.injections[0], injection, 'a copy');
});

t.test('a tool gets only the injections its sandbox names, and none when it names no secret', async (t) => {
  const other: SecretInjection = { ...injection, name: 'OTHER', host: 'other.example.test' };
  t.same(computeToolGrants('fetch', { ...empty, secrets: ['OTHER'] }, secretsDeclared, plainOnly, [injection, other]).injections, [other]);
  t.same(computeToolGrants('fetch', empty, secretsDeclared, plainOnly, [injection, other]), { grants: nothing, injections: [] });
});

t.test('a sandbox secret granted in neither form is sandbox_exceeds_grants; one never declared is manifest_invalid', async (t) => {
  t.same(refusal({ secrets: ['OTHER'] }, secretsDeclared, plainOnly, [injection]), {
    code: 'sandbox_exceeds_grants',
    fields: ['tools.fetch.sandbox.secrets.0'],
  });
  t.same(refusal({ secrets: ['NEVER_DECLARED'] }, secretsDeclared, plainOnly, [{ ...injection, name: 'NEVER_DECLARED' }]), {
    code: 'manifest_invalid',
    fields: ['tools.fetch.sandbox.secrets.0'],
  }, 'an injection does not stand in for a declaration');
});

t.test('the tool\'s grants never list a name the plugin holds for injection, even with the wire constant as a base', async (t) => {
  const { grants } = computeToolGrants('fetch', { ...empty, secrets: ['API_KEY'] }, secretsDeclared, { ...NO_GRANTS, provideTools: true }, [injection]);
  t.same(grants.secrets, []);
});
