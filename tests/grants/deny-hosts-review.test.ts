import t from 'tap';
import { computeGrants } from '../../runtime/grants/compute-grants.ts';
import { resolvePolicy } from '../../runtime/policy/resolved-policy.ts';

// deny.hosts as an operator may write them (a trailing dot, IPv6 without brackets) deny
// what they name at grant time, as the gateway does at each connection.

t.test('deny entries with a trailing dot or an unbracketed IPv6 address refuse the hosts they name', async (t) => {
  const declared = { 'access-network': ['db.corp.example:5432', '[2001:db8::5]:443', 'good.example'] };
  const policy = {
    plugins: { plug: { 'access-network': ['*', ...declared['access-network']] } },
    deny: { hosts: ['DB.corp.example.', '2001:db8::5'] },
  };
  for (const allowDeclared of [false, true]) {
    const { grants, decisions } = computeGrants(declared, { allowDeclared, policy: resolvePolicy(policy, '/') }, 'plug');
    t.same(grants.network, ['good.example'], `allowDeclared ${allowDeclared}`);
    const rule = (scope: string) => decisions.find((decision) => decision.scope === scope)?.rule;
    t.equal(rule('db.corp.example:5432'), 'policy deny.hosts[0] ("DB.corp.example.")');
    t.equal(rule('[2001:db8::5]:443'), 'policy deny.hosts[1] ("2001:db8::5")');
  }
});
