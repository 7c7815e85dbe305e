import https from 'node:https';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { functionSecretStore } from '../../runtime/capabilities/secret-store.ts';
import { createCertificateAuthority } from '../../runtime/egress/certificates/certificate-authority.ts';
import { detectOsLayers } from '../../runtime/launch/os-limits.ts';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

// A secret granted for injection only: the gateway adds it to requests for one host, behind
// TLS it terminates with the runtime's own CA; the tool tries every way it has to hold the
// value and never does. The upstream is an HTTPS server on 127.0.0.1 whose certificate comes
// from a test CA the runtime is told to trust (`egressTrustedCertificates`).

const SECRET = `sk-live-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

const upstreamCa = createCertificateAuthority();
const leaf = upstreamCa.leafFor('127.0.0.1');
const seen: (string | undefined)[] = [];
const server = https.createServer({ key: leaf.key, cert: leaf.cert }, (request, response) => {
  seen.push(request.headers.authorization);
  // An upstream that echoes what it was sent, in a header and in the body, split in two writes.
  response.setHeader('x-echo', String(request.headers.authorization));
  const body = `you sent ${request.headers.authorization}`;
  response.write(body.slice(0, 20));
  setTimeout(() => response.end(body.slice(20)), 5);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
t.teardown(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
const port = (server.address() as AddressInfo).port;
const HOST = `127.0.0.1:${port}`;
const INJECT = { name: 'API_KEY', inject: { host: HOST, header: 'Authorization', format: 'Bearer {}' } };

/** Everything the tool could learn of the secret, tried in one call. */
const SOURCE = `${SDK_IMPORT}
const attempt = async (what, run) => { try { return { what, value: String(await run()) }; } catch (error) { return { what, error: String(error).slice(0, 200) }; } };
definePlugin({ tools: { probe: async (args, ctx) => {
  const answer = async (init) => { const response = await fetch('https://${HOST}/', init); return { status: response.status, echo: response.headers.get('x-echo'), body: await response.text() }; };
  return {
    injected: await answer({}),
    selfSet: await answer({ headers: { authorization: 'Bearer guess' } }),
    plain: await attempt('plain http', async () => (await fetch('http://${HOST}/')).status),
    tries: [
      await attempt('ctx.secret', () => ctx.secret('API_KEY')),
      await attempt('Deno.env', () => JSON.stringify(Deno.env.toObject())),
      await attempt('/proc/self/environ', () => Deno.readTextFileSync('/proc/self/environ')),
      await attempt('a Request object', async () => { const request = new Request('https://${HOST}/'); return [...request.headers].join(';'); }),
    ],
  };
} } });
`;

const writePlugin = (t: Test) =>
  writeInlinePlugin(t.testdir(), {
    name: 'injected',
    capabilities: { 'access-network': [HOST], 'access-secret': [INJECT] },
    source: SOURCE,
    tools: { probe: { sandbox: { network: [HOST], secrets: ['API_KEY'] } } },
  });

const runtimeFor = (t: Test, layerOverrides = {}) =>
  testRuntime(t, {
    policy: { plugins: { injected: { 'access-network': [HOST], 'access-secret': [INJECT] } } },
    secrets: functionSecretStore((name) => (name === 'API_KEY' ? SECRET : undefined)),
    egressTrustedCertificates: [upstreamCa.certificatePem],
    layerOverrides,
  });

interface ProbeResult {
  injected: { status: number; echo: string | null; body: string };
  selfSet: { status: number; echo: string | null; body: string };
  plain: { value?: string; error?: string };
  tries: { what: string; value?: string; error?: string }[];
}

const sandbox = detectOsLayers().sandbox.available;
const modes: [string, object][] = [['under the sandbox, bridged to the gateway', {}], ["in the host's network", { withoutNamespaces: true }]];

for (const [mode, overrides] of modes) {
  t.test(`the server behind the gateway's TLS sees the secret; the tool never holds it (${mode})`, { skip: mode.startsWith('under') && !sandbox ? 'no sandbox here' : false }, async (t) => {
    seen.length = 0;
    const h = runtimeFor(t, overrides);
    const plugin = await h.runtime.load(writePlugin(t));
    const result = (await plugin.call('probe', {})) as ProbeResult;

    t.equal(seen[0], `Bearer ${SECRET}`, 'the upstream got the header with the secret, added by the gateway');
    t.equal(seen.length, 1, 'and only the one request that did not set the header itself reached it');
    t.equal(result.injected.status, 200);
    t.equal(result.injected.echo, '*'.repeat(`Bearer ${SECRET}`.length), 'the echoed header comes back as asterisks of the same length');
    t.equal(result.injected.body, `you sent ${'*'.repeat(`Bearer ${SECRET}`.length)}`, 'so does the echo in the body, split across writes');

    t.equal(result.selfSet.status, 403, 'a request that sets the header itself is refused');
    t.match(result.selfSet.body, /injected by the host/);
    t.match(result.plain, { value: '403' }, 'plain http to the injection host is refused: the secret would cross in clear');
    for (const attempt of result.tries) t.notOk(JSON.stringify(attempt).includes(SECRET), `${attempt.what}: the secret is not there (${attempt.error ?? 'no error'})`);
    t.match(result.tries.find((attempt) => attempt.what === 'ctx.secret'), { error: /not granted|capability_denied/ }, 'ctx.secret is refused for an inject-only secret');

    await h.runtime.close();
    const records = h.audit.all({ type: 'egress' });
    t.ok(records.some((record) => record.decision === 'allowed' && record.injected === 'API_KEY' && record.host === '127.0.0.1'), 'the tunnel is audited with the injected secret named');
    t.ok(records.some((record) => record.decision === 'refused' && /header/i.test(String(record.rule))), 'the self-set header is audited as refused');
    t.notOk(JSON.stringify(h.audit.records).includes(SECRET), 'the value is in no audit record');
  });
}

t.test('a tool without the injection cannot use it: the CA is not trusted and no header is added', async (t) => {
  seen.length = 0;
  const h = testRuntime(t, {
    policy: { plugins: { bystander: { 'access-network': [HOST] } } },
    secrets: functionSecretStore(() => SECRET),
    egressTrustedCertificates: [upstreamCa.certificatePem],
  });
  const manifest = writeInlinePlugin(t.testdir(), {
    name: 'bystander',
    capabilities: { 'access-network': [HOST] },
    source: `${SDK_IMPORT}\ndefinePlugin({ tools: { probe: async () => { try { return (await fetch('https://${HOST}/')).status; } catch (error) { return String(error).slice(0, 200); } } } });\n`,
    tools: { probe: { sandbox: { network: [HOST] } } },
  });
  const plugin = await h.runtime.load(manifest);
  const outcome = await plugin.call('probe', {});
  t.equal(outcome, 'TypeError: fetch failed', 'its tunnel reaches the server, whose certificate (of a CA only the gateway trusts) Deno refuses');
  t.same(seen, [], 'no request with a secret reached the server');
});
