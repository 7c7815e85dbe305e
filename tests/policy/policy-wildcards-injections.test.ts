import t from 'tap';
import { resolvePolicy } from '../../runtime/policy/resolved-policy.ts';
import type { SchemaIssue } from '../../runtime/schema-issues.ts';

/** The issue paths of the policy_invalid error resolvePolicy throws; `['(accepted)']` if it throws nothing. */
function issuePaths(input: unknown): string[] {
  try {
    resolvePolicy(input, '/');
  } catch (error) {
    const { code, details } = error as { code?: string; details?: { issues?: SchemaIssue[] } };
    if (code !== 'policy_invalid') throw error;
    return (details?.issues ?? []).map((issue) => issue.path);
  }
  return ['(accepted)'];
}

const network = (...entries: string[]) => ({ plugins: { echo: { 'access-network': entries } } });
const denyHosts = (...hosts: string[]) => ({ deny: { hosts } });
const secret = (...entries: unknown[]) => ({ plugins: { echo: { 'access-secret': entries } } });

t.test('a policy may allow wildcards "*.domain" and "*.domain:port" beside "*" and exact hosts', async (t) => {
  const policy = resolvePolicy(network('*', '*.example.com', '*.api.example.com:8443', 'example.com'), '/');
  t.same(policy.plugins.get('echo')!.network, ['*', '*.example.com', '*.api.example.com:8443', 'example.com']);
});

t.test('a malformed policy wildcard is policy_invalid naming its field', async (t) => {
  for (const entry of ['*.com', '*.com:443', 'a.*.example.com', '**.example.com', '*.*.example.com', '*example.com', '*.1.2.3.4', '*.10.0x7f', '*.', '*:443', 'a*']) {
    t.same(issuePaths(network('ok.example.com', entry)), ['plugins.echo.access-network.1'], entry);
  }
});

t.test('a deny entry may be a wildcard; a malformed one is policy_invalid naming its field', async (t) => {
  t.same(resolvePolicy(denyHosts('*.evil.example', 'evil.example', '10.0.0.0/8'), '/').deny.hosts, ['*.evil.example', 'evil.example', '10.0.0.0/8']);
  for (const entry of ['*', '*.example', 'a.*.evil.example', '*.10.0.0.1']) {
    t.same(issuePaths(denyHosts('evil.example', entry)), ['deny.hosts.1'], entry);
  }
});

t.test('a policy secret entry is a name or an inject entry, read as the manifest reads one', async (t) => {
  const policy = resolvePolicy(
    secret(
      'DB_PASSWORD',
      { name: 'API_KEY', inject: { host: 'API.Example.com', header: 'Authorization', format: 'Bearer {}' } },
      { name: 'API_KEY', inject: { host: 'api.example.com:8443', header: 'X-Api-Key' } },
    ),
    '/',
  );
  t.same(policy.plugins.get('echo')!.secrets, [
    'DB_PASSWORD',
    { name: 'API_KEY', host: 'api.example.com', port: 443, header: 'Authorization', format: 'Bearer {}' },
    { name: 'API_KEY', host: 'api.example.com', port: 8443, header: 'X-Api-Key', format: '{}' },
  ], 'the host lower-cased, the port 443 unless given, the format "{}" unless given; one name may be injected in several places');
});

t.test('a malformed policy inject entry is policy_invalid naming its field', async (t) => {
  const inject = (fields: Record<string, unknown>) => secret({ name: 'API_KEY', inject: { host: 'api.example.com', header: 'Authorization', ...fields } });
  const cases: [Record<string, unknown>, string][] = [
    [{ host: '*.example.com' }, 'host'],
    [{ host: 'https://api.example.com' }, 'host'],
    [{ header: 'Host' }, 'header'],
    [{ header: 'proxy-authorization' }, 'header'],
    [{ header: 'Bad Header' }, 'header'],
    [{ format: 'no placeholder' }, 'format'],
    [{ format: '{}{}' }, 'format'],
    [{ format: '{}\u0007' }, 'format'],
  ];
  for (const [fields, field] of cases) {
    t.same(issuePaths(inject(fields)), [`plugins.echo.access-secret.0.inject.${field}`], JSON.stringify(fields));
  }
  t.same(issuePaths(secret({ name: 'API_KEY', inject: { host: 'a.example.com', header: 'X', extra: 1 } })), ['plugins.echo.access-secret.0']);
  t.same(issuePaths(secret({ name: 'lower', inject: { host: 'a.example.com', header: 'X' } })), ['plugins.echo.access-secret.0.name']);
});
