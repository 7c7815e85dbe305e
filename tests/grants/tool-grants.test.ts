import t from 'tap';
import { isPluginRuntimeError } from '../../runtime/errors.ts';
import type { Grants } from '../../runtime/grants/grants.ts';
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
function refusal(sandbox: Partial<ResolvedSandbox>, ceiling: Grants, granted: Grants): { code: string; fields: string[] } | null {
  try {
    computeToolGrants('fetch', { ...empty, ...sandbox }, ceiling, granted);
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
  t.same(computeToolGrants('fetch', empty, declared, declared), nothing);
});

t.test('a tool is launched with exactly its own sandbox, not the plugin grants', async (t) => {
  const sandbox: ResolvedSandbox = {
    network: ['api.example.test:443'],
    secrets: ['API_KEY'],
    read: ['/srv/plugin/data/in'],
    write: [],
  };
  t.same(computeToolGrants('fetch', sandbox, declared, declared), { provideTools: true, ...sandbox });
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
  const grants = computeToolGrants('fetch', sandbox, declared, declared);
  grants.network.push('evil.test');
  t.same(sandbox.network, ['api.example.test']);
});
