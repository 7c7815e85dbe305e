import fc from 'fast-check';
import t from 'tap';
import { networkGrantCovers, parseNetworkHost } from '../../runtime/scopes/network-scope.ts';

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
