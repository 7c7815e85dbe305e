import t from 'tap';
import { canonicalAddress, hostDenied, parseCidr, specialRangeOf } from '../../runtime/policy/network-ranges.ts';

t.test('specialRangeOf names the range of loopback, private, link-local, metadata and unspecified hosts', async (t) => {
  const cases: [string, string][] = [
    ['127.0.0.1', 'loopback'],
    ['127.9.9.9:80', 'loopback'],
    ['[::1]', 'loopback'],
    ['[::1]:8080', 'loopback'],
    ['localhost', 'loopback'],
    ['LOCALHOST:3000', 'loopback'],
    ['localhost.', 'loopback'],
    ['api.localhost', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['[::ffff:7f00:1]:80', 'loopback'],
    ['[0:0:0:0:0:ffff:127.0.0.1]', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254:443', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['[fd12::1]', 'private'],
    ['[::ffff:a00:1]', 'private'],
    ['169.254.0.1', 'link-local'],
    ['[fe80::1]', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['169.254.169.254:80', 'metadata'],
    ['[::ffff:169.254.169.254]', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['[fd00:ec2::254]', 'metadata'],
    ['metadata.google.internal', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['[::]', 'unspecified'],
  ];
  for (const [host, range] of cases) t.equal(specialRangeOf(host), range, host);
});

t.test('other IPv4 spellings the OS resolver accepts are judged by the address they reach', async (t) => {
  // Deno matches --allow-net names as written, then the resolver (inet_aton) reads these
  // as addresses: a plugin granted "2130706433:80" connects to 127.0.0.1:80.
  const cases: [string, string, string][] = [
    ['2130706433', '127.0.0.1', 'loopback'],
    ['127.1', '127.0.0.1', 'loopback'],
    ['0x7f000001', '127.0.0.1', 'loopback'],
    ['0x7f.1:8080', '127.0.0.1', 'loopback'],
    ['0177.0.0.1', '127.0.0.1', 'loopback'],
    ['127.000.000.001', '127.0.0.1', 'loopback'],
    ['017700000001', '127.0.0.1', 'loopback'],
    ['2852039166', '169.254.169.254', 'metadata'],
    ['0xa.1', '10.0.0.1', 'private'],
    ['3232235777:443', '192.168.1.1', 'private'],
  ];
  for (const [host, address, range] of cases) {
    t.equal(canonicalAddress(host), address, `${host} reaches ${address}`);
    t.equal(specialRangeOf(host), range, `${host} is ${range}`);
  }
});

t.test('public hosts and names are in no special range', async (t) => {
  for (const host of ['example.com', 'example.com:443', '93.184.216.34', '172.32.0.1', '[2606:4700::1111]', 'cafe.face', '1.1.1.1:53', 'localhost-not.example']) {
    t.equal(specialRangeOf(host), null, host);
  }
  t.equal(canonicalAddress('Example.COM:443'), 'example.com', 'names stay names, lower-cased');
});

t.test('hostDenied matches exact names and addresses in any spelling, and CIDR ranges by family', async (t) => {
  t.ok(hostDenied('evil.example:443', 'evil.example'));
  t.ok(hostDenied('EVIL.example', 'evil.example'));
  t.notOk(hostDenied('sub.evil.example', 'evil.example'), 'a name denies that name, not its subdomains');
  t.ok(hostDenied('10.1.2.3', '10.0.0.0/8'));
  t.ok(hostDenied('10.1.2.3:80', '10.0.0.0/8'));
  t.ok(hostDenied('[::ffff:10.1.2.3]', '10.0.0.0/8'), 'IPv4-mapped IPv6');
  t.ok(hostDenied('[::ffff:a01:203]', '10.0.0.0/8'), 'IPv4-mapped IPv6, hex');
  t.ok(hostDenied('167838211', '10.0.0.0/8'), 'a decimal spelling of 10.1.2.3');
  t.ok(hostDenied('0xa.1.2.3', '10.0.0.0/8'), 'a hex spelling');
  t.ok(hostDenied('127.1', '127.0.0.1'), 'an exact address deny covers its other spellings');
  t.ok(hostDenied('[2001:db8::5]:443', '2001:db8::/32'));
  t.notOk(hostDenied('11.0.0.1', '10.0.0.0/8'));
  t.notOk(hostDenied('example.com', '10.0.0.0/8'), 'a name is not judged by a CIDR');
});

t.test('parseCidr accepts only an address with a prefix its family allows', async (t) => {
  t.same(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 4 });
  t.same(parseCidr('fd00::/8'), { address: 'fd00::', prefix: 8, family: 6 });
  for (const bad of ['10.0.0/8', '10.0.0.0/33', '::1/129', 'example.com/8', '10.0.0.0']) t.equal(parseCidr(bad), null, bad);
});
