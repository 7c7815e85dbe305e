import t from 'tap';
import { endToEndHeaders, toolResponseHeaders, upstreamRequestHeaders } from '../../runtime/egress/interception/forward-headers.ts';
import { redactionPatterns } from '../../runtime/egress/interception/redact-stream.ts';

t.test('hop-by-hop headers and those the Connection header lists stop at the gateway', async (t) => {
  const raw = ['Host', 'a.test', 'Connection', 'keep-alive, X-Hop', 'X-Hop', '1', 'Keep-Alive', 'timeout=5', 'TE', 'trailers',
    'Proxy-Authorization', 'Basic x', 'Upgrade', 'h2c', 'X-Kept', 'yes', 'x-kept', 'again'];
  t.same([...endToEndHeaders(raw).values()], [
    { name: 'Host', values: ['a.test'] },
    { name: 'X-Kept', values: ['yes', 'again'] },
  ]);
});

t.test('upstream requests carry the injection and identity encoding, whatever the tool asked for', async (t) => {
  const headers = upstreamRequestHeaders(
    ['Host', 'api.test:8443', 'Accept-Encoding', 'gzip, br', 'Expect', '100-continue', 'Transfer-Encoding', 'chunked', 'Cookie', 'a=1', 'Cookie', 'b=2'],
    { header: 'Authorization', value: 'Bearer s3cr3t' },
  );
  t.same(headers, {
    Host: 'api.test:8443',
    Cookie: ['a=1', 'b=2'],
    'transfer-encoding': 'chunked',
    Authorization: 'Bearer s3cr3t',
    'accept-encoding': 'identity',
  });
});

t.test('response headers come back with the secret masked, framing headers dropped when the body was decoded', async (t) => {
  const patterns = redactionPatterns(['Bearer s3cr3t', 's3cr3t']);
  const raw = ['Content-Length', '20', 'Content-Encoding', 'gzip', 'Set-Cookie', 'a=s3cr3t', 'Set-Cookie', 'b=2', 'X-Echo', 'Bearer s3cr3t', 'Transfer-Encoding', 'chunked'];
  t.same(toolResponseHeaders(raw, patterns, false), [
    { name: 'Content-Length', values: ['20'] },
    { name: 'Content-Encoding', values: ['gzip'] },
    { name: 'Set-Cookie', values: ['a=******', 'b=2'] },
    { name: 'X-Echo', values: ['*************'] },
  ]);
  t.same(toolResponseHeaders(raw, patterns, true).map(({ name }) => name), ['Set-Cookie', 'X-Echo']);
});
