import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { functionSecretStore } from '../../runtime/capabilities/secret-store.ts';
import { createCertificateAuthority } from '../../runtime/egress/certificates/certificate-authority.ts';
import { egressRecords } from '../helpers/egress-probes.ts';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, outcome } from '../helpers/wait-for.ts';

// An adversarial review of injection at egress, with real Deno tools: an interception that
// cannot start must still give its connection back to the budget and leave a record, and an
// injection for an IPv6 literal must work like one for a name. Loopback servers only; the
// tools run in the host's network (the gateway is what is under review here).

const SECRET = `sk-review-${Math.random().toString(36).slice(2)}`;
const upstreamCa = createCertificateAuthority();

/** An HTTPS server on `address` with a leaf for it from the test CA, echoing the Authorization it got. */
async function echoServer(t: Test, address: string) {
  const seen: (string | undefined)[] = [];
  const server = https.createServer({ ...upstreamCa.leafFor(address) }, (request, response) => {
    seen.push(request.headers.authorization);
    response.end(`you sent ${request.headers.authorization}`);
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  t.teardown(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return { port: (server.address() as AddressInfo).port, seen };
}

/** A plain HTTP server on 127.0.0.1 that answers "plain". */
async function plainServer(t: Test) {
  const server = http.createServer((_request, response) => response.end('plain'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return (server.address() as AddressInfo).port;
}

/** A tool that fetches each URL in turn, one after another, and says what each gave. */
const FETCHER = `${SDK_IMPORT}
definePlugin({ tools: { probe: async ({ urls }) => {
  const results = [];
  for (const url of urls) {
    try { const response = await fetch(url); results.push({ status: response.status, body: await response.text() }); }
    catch (error) { results.push({ error: String(error).slice(0, 200) }); }
  }
  return results;
} } });
`;

function injectedPlugin(t: Test, injectHost: string, network: string[]) {
  const inject = { name: 'API_KEY', inject: { host: injectHost, header: 'Authorization', format: 'Bearer {}' } };
  const manifest = writeInlinePlugin(t.testdir(), {
    name: 'injected',
    capabilities: { 'access-network': network, 'access-secret': [inject] },
    source: FETCHER,
    tools: { probe: { sandbox: { network, secrets: ['API_KEY'] } } },
  });
  return { manifest, policy: { 'access-network': network, 'access-secret': [inject] } };
}

t.test('an interception that cannot start is recorded and gives its connection back to the budget', async (t) => {
  const upstream = await echoServer(t, '127.0.0.1');
  const plainPort = await plainServer(t);
  const injectHost = `127.0.0.1:${upstream.port}`;
  const { manifest, policy } = injectedPlugin(t, injectHost, [injectHost, `127.0.0.1:${plainPort}`]);
  const rt = testRuntime(t, {
    policy: { plugins: { injected: { ...policy, limits: { egressConcurrentConnections: 1 } } } },
    // A store that fails: the interception cannot read the secret it is to inject.
    secrets: functionSecretStore(() => {
      throw new Error('the vault is sealed');
    }),
    egressTrustedCertificates: [upstreamCa.certificatePem],
    layerOverrides: { withoutNamespaces: true },
  });
  const plugin = await rt.load(manifest);
  const urls = [`https://${injectHost}/a`, `https://${injectHost}/b`, `http://127.0.0.1:${plainPort}/`];
  const result = await outcome(plugin.call('probe', { urls }, { timeoutMs: GENEROUS_MS }));
  t.same(result.ok ? 'ok' : result, 'ok', 'the call ends with its value: the failed interceptions hold no connection open');
  const results = result.ok ? (result.value as { status?: number; body?: string; error?: string }[]) : [];
  t.notOk(results[0]?.status === 200 || results[1]?.status === 200, 'neither injected request was answered by the upstream');
  t.match(results[2], { status: 200, body: 'plain' }, 'the request after them gets the one connection allowed');
  t.same(upstream.seen, [], 'nothing reached the injected host');
  const refused = egressRecords(rt.audit.records, { kind: 'connect', decision: 'refused' });
  t.equal(refused.filter((record) => record.injected === 'API_KEY').length, 2, 'each failed interception is on record, naming the secret');
  t.notOk(JSON.stringify(rt.audit.records).includes('vault is sealed'), "the store's own error text stays out of the audit");
});

t.test('an injection for an IPv6 literal reaches its server with the secret, masked on the way back', async (t) => {
  const upstream = await echoServer(t, '::1');
  const injectHost = `[::1]:${upstream.port}`;
  const { manifest, policy } = injectedPlugin(t, injectHost, [injectHost]);
  const rt = testRuntime(t, {
    policy: { plugins: { injected: policy } },
    secrets: functionSecretStore((name) => (name === 'API_KEY' ? SECRET : undefined)),
    egressTrustedCertificates: [upstreamCa.certificatePem],
    layerOverrides: { withoutNamespaces: true },
  });
  const plugin = await rt.load(manifest);
  const results = (await plugin.call('probe', { urls: [`https://${injectHost}/`] }, { timeoutMs: GENEROUS_MS })) as { status?: number; body?: string; error?: string }[];
  t.same(upstream.seen, [`Bearer ${SECRET}`], 'the server got the secret, added by the gateway');
  t.same(results, [{ status: 200, body: `you sent ${'*'.repeat(`Bearer ${SECRET}`.length)}` }], 'the tool got the echo masked');
  await rt.runtime.close(); // a keep-alive tunnel is recorded when it closes
  t.ok(
    egressRecords(rt.audit.records, { kind: 'connect', decision: 'allowed' }).some((record) => record.injected === 'API_KEY'),
    'the tunnel is on record with the secret named',
  );
});
