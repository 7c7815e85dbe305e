import t from 'tap';
import { computeGrants, type ResolvedCapabilities } from '../../runtime/grants/compute-grants.ts';

const declared: ResolvedCapabilities = {
  'provide-tools': true,
  'access-network': ['api.example.test', '127.0.0.1:8080'],
  'access-secret': ['API_KEY'],
  'access-filesystem': { read: ['/data/in'], write: ['/data/out'] },
};

t.test('computeGrants by default grants only provide-tools', async (t) => {
  const { grants } = computeGrants(declared, { allowDeclared: false });
  t.same(grants, { provideTools: true, network: [], secrets: [], read: [], write: [] });
});

t.test('computeGrants reports each refused scope with the rule that refused it', async (t) => {
  const { decisions } = computeGrants(declared, { allowDeclared: false });
  const refused = decisions.filter((decision) => !decision.granted);
  t.same(
    refused.map(({ capability, scope }) => `${capability} ${scope}`),
    [
      'access-network api.example.test',
      'access-network 127.0.0.1:8080',
      'access-secret API_KEY',
      'access-filesystem read:/data/in',
      'access-filesystem write:/data/out',
    ],
  );
  for (const decision of refused) t.match(decision.rule, /\S/, `${decision.scope} names its rule`);
  t.match(decisions.find((decision) => decision.capability === 'provide-tools'), { scope: '*', granted: true });
});

t.test('computeGrants with allowDeclared grants everything declared, each decision naming its rule', async (t) => {
  const { grants, decisions } = computeGrants(declared, { allowDeclared: true });
  t.same(grants, {
    provideTools: true,
    network: ['api.example.test', '127.0.0.1:8080'],
    secrets: ['API_KEY'],
    read: ['/data/in'],
    write: ['/data/out'],
  });
  t.equal(decisions.length, 6);
  t.ok(decisions.every((decision) => decision.granted && decision.rule.length > 0));
});

t.test('computeGrants never grants what was not declared, whatever the policy', async (t) => {
  for (const allowDeclared of [false, true]) {
    const { grants, decisions } = computeGrants({}, { allowDeclared });
    t.same(grants, { provideTools: false, network: [], secrets: [], read: [], write: [] });
    t.same(decisions, []);
  }
});

t.test('computeGrants does not alias the declared lists', async (t) => {
  const { grants } = computeGrants(declared, { allowDeclared: true });
  grants.network.push('evil.test');
  t.same(declared['access-network'], ['api.example.test', '127.0.0.1:8080']);
});
