import fc from 'fast-check';
import t from 'tap';
import { endsInNumber, networkGrantCovers, parseNetworkHost, wildcardDomain } from '../../runtime/scopes/network-scope.ts';

t.test('parseNetworkHost splits host, host:port and bracketed IPv6', async (t) => {
  t.same(parseNetworkHost('Example.TEST'), { host: 'example.test', port: null });
  t.same(parseNetworkHost('example.test:443'), { host: 'example.test', port: '443' });
  t.same(parseNetworkHost('[::1]'), { host: '[::1]', port: null });
  t.same(parseNetworkHost('[::1]:8080'), { host: '[::1]', port: '8080' });
});

t.test('a host grant covers every port of that host', async (t) => {
  t.ok(networkGrantCovers('example.test', 'example.test'));
  t.ok(networkGrantCovers('example.test', 'example.test:443'));
  t.ok(networkGrantCovers('example.test', 'EXAMPLE.test:8080'));
  t.ok(networkGrantCovers('[::1]', '[::1]:9000'));
});

t.test('a host:port grant covers only that port', async (t) => {
  t.ok(networkGrantCovers('example.test:443', 'example.test:443'));
  t.notOk(networkGrantCovers('example.test:443', 'example.test:80'));
  t.notOk(networkGrantCovers('example.test:443', 'example.test'), 'not the whole host');
  t.notOk(networkGrantCovers('[::1]:8080', '[::1]:8081'));
});

t.test('a host grant covers neither other hosts nor its subdomains', async (t) => {
  t.notOk(networkGrantCovers('example.test', 'other.test'));
  t.notOk(networkGrantCovers('example.test', 'api.example.test'));
  t.notOk(networkGrantCovers('example.test', 'example.test.evil.test'));
  t.notOk(networkGrantCovers('127.0.0.1', '127.0.0.10'));
});

const label = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const hostName = fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.'));
const port = fc.integer({ min: 1, max: 65535 }).map(String);

t.test('a bare host grant covers that host on every port, in any letter case', async (t) => {
  fc.assert(fc.property(hostName, port, (host, p) => networkGrantCovers(host, `${host.toUpperCase()}:${p}`) && networkGrantCovers(host.toUpperCase(), host)));
  t.pass();
});

t.test('a host:port grant covers that port only, and never another host or a subdomain', async (t) => {
  fc.assert(
    fc.property(hostName, port, port, label, (host, granted, wanted, sub) =>
      networkGrantCovers(`${host}:${granted}`, `${host}:${wanted}`) === (granted === wanted) &&
      !networkGrantCovers(`${host}:${granted}`, host) &&
      !networkGrantCovers(host, `${sub}.${host}`) &&
      !networkGrantCovers(host, `${host}.${sub}`)),
  );
  t.pass();
});

t.test('wildcardDomain reads the domain of a "*." entry only', async (t) => {
  t.equal(wildcardDomain('*.Example.test'), 'example.test');
  t.equal(wildcardDomain('*.example.test:8443'), 'example.test');
  t.equal(wildcardDomain('example.test'), null);
  t.equal(wildcardDomain('*'), null);
  t.equal(wildcardDomain('a.*.example.test'), null);
});

t.test('endsInNumber is true for names the resolver reads as IPv4', async (t) => {
  for (const name of ['1.2.3.4', '2.3.4', 'example.123', '10.0x7f', 'a.0x', '5']) t.ok(endsInNumber(name), name);
  for (const name of ['example.test', '1.2.3.x4', '0xg', 'a1']) t.notOk(endsInNumber(name), name);
});

t.test('a wildcard grant covers names strictly below its domain, on every port', async (t) => {
  t.ok(networkGrantCovers('*.example.test', 'a.example.test'));
  t.ok(networkGrantCovers('*.example.test', 'a.b.example.test:8443'));
  t.ok(networkGrantCovers('*.EXAMPLE.test', 'A.example.TEST'));
  t.notOk(networkGrantCovers('*.example.test', 'example.test'), 'never the apex');
  t.notOk(networkGrantCovers('*.example.test', 'example.test:443'), 'never the apex, on any port');
  t.notOk(networkGrantCovers('*.example.test', 'aexample.test'), 'a label boundary, not a suffix');
  t.notOk(networkGrantCovers('*.example.test', 'a.example.test.evil'));
  t.notOk(networkGrantCovers('*.example.test', 'other.test'));
});

t.test('a wildcard:port grant covers names below it on that port only', async (t) => {
  t.ok(networkGrantCovers('*.example.test:8443', 'a.example.test:8443'));
  t.notOk(networkGrantCovers('*.example.test:8443', 'a.example.test:443'));
  t.notOk(networkGrantCovers('*.example.test:8443', 'a.example.test'), 'not every port');
  t.notOk(networkGrantCovers('*.example.test:8443', 'example.test:8443'), 'never the apex');
});

t.test('a wildcard grant covers an equal or narrower wildcard, never a wider one', async (t) => {
  t.ok(networkGrantCovers('*.example.test', '*.example.test'));
  t.ok(networkGrantCovers('*.example.test', '*.a.example.test'));
  t.ok(networkGrantCovers('*.example.test', '*.a.b.example.test:443'));
  t.ok(networkGrantCovers('*.example.test:443', '*.a.example.test:443'));
  t.notOk(networkGrantCovers('*.example.test:443', '*.a.example.test'), 'a port-less wildcard is wider');
  t.notOk(networkGrantCovers('*.a.example.test', '*.example.test'));
  t.notOk(networkGrantCovers('*.example.test', '*.aexample.test'));
});

t.test('an exact grant never covers a wildcard, not even of its own name', async (t) => {
  t.notOk(networkGrantCovers('example.test', '*.example.test'));
  t.notOk(networkGrantCovers('a.example.test', '*.a.example.test'));
  t.notOk(networkGrantCovers('a.example.test', '*.example.test'));
});

t.test('a wildcard grant covers no address, and no entry holding another "*"', async (t) => {
  t.notOk(networkGrantCovers('*.0.0.1', '10.0.0.1'), 'even a malformed grant does not reach addresses');
  t.notOk(networkGrantCovers('*.example.test', 'a.*.example.test'));
  t.notOk(networkGrantCovers('*.*.test', 'a.b.test'));
  t.notOk(networkGrantCovers('*.example.test', '[::1]'));
});

const domain = fc.array(label, { minLength: 2, maxLength: 3 }).map((labels) => labels.join('.'));
const below = fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.'));
/** Names as the manifest allows them: no all-digit last label (that is an address). */
const namedDomain = domain.filter((d) => !endsInNumber(d));

t.test('property: a wildcard never covers its apex, nor any name or wildcard outside its domain', async (t) => {
  fc.assert(
    fc.property(namedDomain, hostName, fc.option(port, { nil: undefined }), fc.option(port, { nil: undefined }), (d, other, gp, wp) => {
      const grant = gp === undefined ? `*.${d}` : `*.${d}:${gp}`;
      const at = (name: string) => (wp === undefined ? name : `${name}:${wp}`);
      const outside = other !== d && !other.endsWith(`.${d}`);
      return (
        !networkGrantCovers(grant, at(d)) &&
        (!outside || (!networkGrantCovers(grant, at(other)) && !networkGrantCovers(grant, at(`*.${other}`)))) &&
        !networkGrantCovers(grant, at(`${other}${d}`)) &&
        !networkGrantCovers(d, at(`*.${d}`)) &&
        !networkGrantCovers(`${other}.${d}`, at(`*.${other}.${d}`))
      );
    }),
  );
  t.pass();
});

t.test('property: a wildcard covers every name and wildcard below its domain, on its port or every port', async (t) => {
  fc.assert(
    fc.property(namedDomain, below, fc.option(port, { nil: undefined }), port, (d, sub, gp, wp) => {
      const grant = gp === undefined ? `*.${d}` : `*.${d}:${gp}`;
      const wanted = gp ?? wp;
      const name = `${sub}.${d}`.toUpperCase();
      const covers = networkGrantCovers(grant, `${name}:${wanted}`) && networkGrantCovers(grant, `*.${name}:${wanted}`) && networkGrantCovers(grant, `*.${d}:${wanted}`);
      const portless = networkGrantCovers(grant, name) === (gp === undefined);
      return covers && portless;
    }),
  );
  t.pass();
});

t.test('property: coverage is transitive through wildcards: what a narrower wildcard covers, a wider one covers too', async (t) => {
  fc.assert(
    fc.property(namedDomain, below, below, (d, mid, leaf) => {
      const wide = `*.${d}`;
      const narrow = `*.${mid}.${d}`;
      const name = `${leaf}.${mid}.${d}`;
      return networkGrantCovers(wide, narrow) && networkGrantCovers(narrow, name) && networkGrantCovers(wide, name);
    }),
  );
  t.pass();
});
