import { isIP } from 'node:net';
import fc from 'fast-check';
import t from 'tap';
import { egressRule, matchRule, normaliseHost } from '../../runtime/egress/egress-rules.ts';

t.test('egressRule reads a grant: lower-case host without a trailing dot, its port, wildcard, address, named', async (t) => {
  t.same(egressRule('API.Example.COM.:443', true), { entry: 'API.Example.COM.:443', host: 'api.example.com', port: 443, wildcard: false, address: false, named: true });
  t.same(egressRule('example.com', false), { entry: 'example.com', host: 'example.com', port: null, wildcard: false, address: false, named: false });
  t.match(egressRule('127.0.0.1:8080', true), { host: '127.0.0.1', port: 8080, address: true, named: true });
  t.match(egressRule('2130706433', true), { host: '127.0.0.1', address: true }, 'an IPv4 address in another spelling is kept canonical');
  t.match(egressRule('[::1]:80', true), { host: '::1', port: 80, address: true });
  t.match(egressRule('[::FFFF:127.0.0.1]', true), { host: '127.0.0.1', address: true }, 'IPv4-mapped IPv6 is its IPv4 address');
  t.match(egressRule('*.Example.com', true), { host: 'example.com', wildcard: true, address: false, named: false }, 'a wildcard is never named, whatever the caller says');
});

t.test('matchRule matches an exact name in any case and with a trailing dot', async (t) => {
  const rule = egressRule('api.example.com:443', true);
  for (const host of ['api.example.com', 'API.EXAMPLE.COM', 'Api.Example.Com.', 'api.example.com.']) t.equal(matchRule([rule], host, 443), rule, host);
  for (const host of ['example.com', 'x.api.example.com', 'api.example.co', 'api-example.com', 'api.example.com..']) t.equal(matchRule([rule], host, 443), null, host);
});

t.test('matchRule: a port-less grant covers every port, a host:port grant that port alone', async (t) => {
  const any = egressRule('example.com', false);
  for (const port of [1, 80, 443, 8080, 65535]) t.equal(matchRule([any], 'example.com', port), any, `port ${port}`);
  const one = egressRule('example.com:8443', false);
  t.equal(matchRule([one], 'example.com', 8443), one);
  for (const port of [443, 8444, 80]) t.equal(matchRule([one], 'example.com', port), null, `port ${port}`);
});

t.test('matchRule returns the first rule that covers the host and port', async (t) => {
  const rules = [egressRule('example.com:80', false), egressRule('*.example.com', false), egressRule('a.example.com', true), egressRule('example.com', true)];
  t.equal(matchRule(rules, 'example.com', 80), rules[0]);
  t.equal(matchRule(rules, 'example.com', 81), rules[3]);
  t.equal(matchRule(rules, 'a.example.com', 1), rules[1], 'the wildcard comes before the exact rule');
  t.equal(matchRule([], 'example.com', 80), null, 'no rules, no match');
});

t.test('a wildcard covers names below its domain, never the apex, a look-alike or an address', async (t) => {
  const rule = egressRule('*.example.com', false);
  for (const host of ['a.example.com', 'a.b.example.com', 'A.B.C.EXAMPLE.COM.', 'x-y.example.com']) t.equal(matchRule([rule], host, 443), rule, host);
  for (const host of ['example.com', 'example.com.', 'badexample.com', 'a.badexample.com', 'example.com.evil.test', 'aexample.com', 'com', '.example.co']) {
    t.equal(matchRule([rule], host, 443), null, host);
  }
  const numeric = egressRule('*.0.1', false);
  for (const host of ['127.0.0.1', '10.0.0.1', '2130706433', '[::ffff:127.0.0.1]', '0.0.0.1']) t.equal(matchRule([numeric], host, 80), null, `${host} is an address`);
  const v4ish = egressRule('*.1.2.3', false);
  t.equal(v4ish.host, '1.2.3', "a wildcard's domain is never read as an address");
  t.equal(matchRule([v4ish], 'x.1.2.0.3', 80), null, 'x.1.2.0.3 does not end in .1.2.3');
  t.equal(matchRule([v4ish], 'x.1.2.3', 80), v4ish);
  const ported = egressRule('*.example.com:443', false);
  t.equal(matchRule([ported], 'a.example.com', 443), ported);
  t.equal(matchRule([ported], 'a.example.com', 80), null, 'a wildcard with a port covers that port alone');
});

t.test('an address grant covers that address in every spelling the resolver reads', async (t) => {
  const rule = egressRule('127.0.0.1', true);
  for (const host of ['127.0.0.1', '2130706433', '0x7f000001', '0X7F000001', '127.1', '0177.0.0.1', '127.000.000.001', '[::ffff:127.0.0.1]', '[::FFFF:7f00:1]', '::ffff:127.0.0.1', '127.0.0.1.']) {
    t.equal(matchRule([rule], host, 5432), rule, host);
  }
  for (const host of ['127.0.0.2', '2130706434', '[::1]', 'localhost', '127.0.0.1.example.com']) t.equal(matchRule([rule], host, 5432), null, host);
  const spelled = egressRule('0x7f000001:80', true);
  t.equal(matchRule([spelled], '127.0.0.1', 80), spelled, 'a grant in another spelling covers the canonical address');
});

t.test('an IPv6 grant matches with or without brackets and in every spelling of the address', async (t) => {
  const loop = egressRule('[::1]:8080', true);
  for (const host of ['[::1]', '::1', '[0:0:0:0:0:0:0:1]', '[0000::0001]']) t.equal(matchRule([loop], host, 8080), loop, host);
  t.equal(matchRule([loop], '[::1]', 8081), null, 'another port');
  t.equal(matchRule([loop], '[::2]', 8080), null, 'another address');
  const doc = egressRule('[2001:DB8::1]', false);
  for (const host of ['2001:db8::1', '[2001:0db8:0000::1]', '[2001:DB8:0:0:0:0:0:1]']) t.equal(matchRule([doc], host, 443), doc, host);
  t.equal(matchRule([doc], '[2001:db8::2]', 443), null);
});

t.test('normaliseHost lower-cases, drops one trailing dot and brackets, and makes addresses canonical', async (t) => {
  t.equal(normaliseHost('Example.COM.'), 'example.com');
  t.equal(normaliseHost('[::1]'), '::1');
  t.equal(normaliseHost('[0:0::1]'), '::1');
  t.equal(normaliseHost('0x7f.1'), '127.0.0.1');
  t.equal(normaliseHost('not an address'), 'not an address', 'what is no address stays as written');
});

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?$/);
const domain = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
const anyHost = fc.oneof(
  domain,
  fc.tuple(fc.array(label, { maxLength: 3 }), domain).map(([prefix, rest]) => [...prefix, rest].join('.')),
  fc.ipV4(),
  fc.ipV6().map((address) => `[${address}]`),
  fc.stringMatching(/^[a-z0-9.-]{1,30}$/),
);

t.test('property: a wildcard rule never matches its apex, an address or a name not ending in .<domain>', async (t) => {
  fc.assert(
    fc.property(domain, anyHost, fc.boolean(), fc.constantFrom('', '.'), (d, host, upper, dot) => {
      const rule = egressRule(`*.${d}`, true);
      const asked = `${upper ? host.toUpperCase() : host}${dot}`;
      const matched = matchRule([rule], asked, 443) !== null;
      if (!matched) return true;
      const wanted = normaliseHost(asked);
      return wanted !== d && wanted.endsWith(`.${d}`) && isIP(wanted) === 0 && rule.named === false;
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(domain, fc.array(label, { minLength: 1, maxLength: 3 }), (d, prefix) => {
      const rule = egressRule(`*.${d}`, false);
      const below = `${prefix.join('.')}.${d}`;
      // Every name below the domain is covered, unless the resolver would read it as an address.
      return matchRule([rule], d, 443) === null && (isIP(normaliseHost(below)) !== 0 || matchRule([rule], below, 443) === rule);
    }),
    { numRuns: 2000 },
  );
  t.pass('no counterexample');
});
