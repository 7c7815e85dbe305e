import t from 'tap';
import { networkGrantCovers, parseNetworkHost, pathGrantCovers } from '../../runtime/grants/grants.ts';

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

t.test('a path grant covers itself and what lies inside it', async (t) => {
  t.ok(pathGrantCovers('/data', '/data'));
  t.ok(pathGrantCovers('/data', '/data/file.txt'));
  t.ok(pathGrantCovers('/data', '/data/deep/er/file'));
  t.ok(pathGrantCovers('/data/', '/data/file.txt'));
  t.ok(pathGrantCovers('/', '/anything'));
});

t.test('a path grant does not cover a sibling that shares its prefix', async (t) => {
  t.notOk(pathGrantCovers('/data', '/data2'));
  t.notOk(pathGrantCovers('/data', '/data2/file'));
  t.notOk(pathGrantCovers('/data', '/data.bak'));
  t.notOk(pathGrantCovers('/data/in', '/data'), 'nor its parent');
});
