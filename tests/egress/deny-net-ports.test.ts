import t from 'tap';
import { denyNetFor, withoutAddress } from '../../runtime/egress/deny-ranges.ts';

const GATEWAY = '127.9.9.9';
/** The entries of a --deny-net list that name a port (the ranges never do). */
const withPorts = (entries: string[]) => entries.filter((entry) => /^(\[[^\]]+\]|[\d.]+):\d+$/.test(entry));

t.test('withoutAddress leaves every address of the block but the one', async (t) => {
  t.same(withoutAddress('127.0.0.0/30', '127.0.0.1'), ['127.0.0.0/32', '127.0.0.2/31']);
  t.same(withoutAddress('10.0.0.0/8', '127.0.0.1'), ['10.0.0.0/8'], 'a block without the address comes back whole');
});

t.test('the gateway and a literally granted special address are let through; every other special range is denied', async (t) => {
  const deny = denyNetFor(['127.0.0.1:8080', 'api.example.com:443'], GATEWAY);
  for (const covered of ['127.0.0.0/32', '127.0.0.2/31', '10.0.0.0/8', '169.254.169.254/32', '[::1]', '[::]']) t.ok(deny.includes(covered), covered);
  t.notOk(deny.some((entry) => entry === '127.0.0.0/8' || entry === '127.0.0.1/32'), 'no range holding 127.0.0.1 is left whole');
});

t.test("a literal grant's address is denied again on each port a name grant names, and only there", async (t) => {
  t.same(withPorts(denyNetFor(['127.0.0.1:8080', '*.evil.test:5432', 'db.evil.test:6379'], GATEWAY)), ['127.0.0.1:5432', '127.0.0.1:6379']);
  t.same(withPorts(denyNetFor(['[::1]:80', 'a.evil.test:81'], GATEWAY)), ['[::1]:81'], 'IPv6 in brackets');
  t.same(withPorts(denyNetFor(['[::ffff:127.0.0.1]:80', 'a.evil.test:81'], GATEWAY)), ['127.0.0.1:81'], 'an IPv4-mapped grant by its IPv4 address');
  t.same(withPorts(denyNetFor(['127.0.0.1:8080', '*.evil.test:8080'], GATEWAY)), [], "not on the literal grant's own port");
  t.same(withPorts(denyNetFor(['127.0.0.1', '*.evil.test:5432'], GATEWAY)), [], 'not for an address granted on every port');
  t.same(withPorts(denyNetFor(['203.0.113.1:80', 'a.evil.test:81'], GATEWAY)), [], 'not for a public address, which no range denies');
  t.same(withPorts(denyNetFor(['127.0.0.1:8080', '*.evil.test'], GATEWAY)), [], 'a name granted on every port cannot be closed by port (the gateway and the namespace must hold)');
});
