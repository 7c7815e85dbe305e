import t from 'tap';
import { computeGrants, declaredInjections, type ResolvedCapabilities } from '../../runtime/grants/compute-grants.ts';
import { grantAdvice } from '../../runtime/grants/grant-advice.ts';
import { resolvePolicy } from '../../runtime/policy/resolved-policy.ts';

const declared: ResolvedCapabilities = {
  'provide-tools': true,
  'access-network': ['api.example.com:443'],
  'access-secret': ['API_KEY'],
  'access-filesystem': { read: ['/srv/notes', '/etc/notes.conf', '/proc/self'], write: ['/srv/notes/out'] },
};

t.test('without a policy: says none was given and suggests exactly what was refused', async (t) => {
  const { decisions } = computeGrants(declared, { allowDeclared: false, protectedPaths: ['/opt/runtime'] }, 'notes');
  const advice = grantAdvice('notes', decisions, null);
  t.equal(advice.summary, 'no policy was given; only provide-tools is granted by default');
  t.same(advice.snippet, {
    plugins: {
      notes: {
        'access-network': ['api.example.com:443'],
        'access-secret': ['API_KEY'],
        'access-filesystem': { read: ['/srv/notes', '/etc/notes.conf'], write: ['/srv/notes/out'] },
      },
    },
  });
  t.match(advice.ungrantable, [{ scope: 'access-filesystem read:/proc/self', why: /never granted/ }], '/proc is never suggested');
});

t.test('the suggested entries, added to the policy, grant everything but the ungrantable', async (t) => {
  const { decisions } = computeGrants(declared, { allowDeclared: false }, 'notes');
  const advice = grantAdvice('notes', decisions, null);
  const policy = resolvePolicy(advice.snippet, '/', 'policy.json');
  const after = computeGrants(declared, { allowDeclared: false, policy }, 'notes');
  t.same(
    after.decisions.filter((d) => !d.granted).map((d) => d.scope),
    ['read:/proc/self'],
    'the sensitive /etc path is granted because the suggestion names it exactly',
  );
});

t.test('under a policy: names it; runtime-protected paths and deny entries are ungrantable, not suggested', async (t) => {
  const policy = resolvePolicy({ plugins: { notes: {} }, deny: { paths: ['/srv/notes/out'] } }, '/', '/etc/manasvi/policy.json');
  const fs = { read: ['/opt/runtime/lib'], write: ['/srv/notes/out'] };
  const { decisions } = computeGrants({ 'access-filesystem': fs }, { allowDeclared: false, policy, protectedPaths: ['/opt/runtime'] }, 'notes');
  const advice = grantAdvice('notes', decisions, policy.source);
  t.equal(advice.summary, 'the policy (/etc/manasvi/policy.json) does not grant it');
  t.equal(advice.snippet, null, 'nothing a policy entry could grant');
  t.match(advice.ungrantable, [
    { scope: 'access-filesystem read:/opt/runtime/lib', why: /runtime-protected/ },
    { scope: 'access-filesystem write:/srv/notes/out', why: /deny\.paths/ },
  ]);
});

t.test('under allow-declared only the host refusals remain, and nothing is suggested', async (t) => {
  const fs = { read: ['/proc/self/environ'] };
  const { decisions } = computeGrants({ 'access-filesystem': fs }, { allowDeclared: true }, 'notes');
  const advice = grantAdvice('notes', decisions, null, true);
  t.match(advice.summary, /allow-declared/);
  t.equal(advice.snippet, null);
  t.match(advice.ungrantable, [{ scope: 'access-filesystem read:/proc/self/environ', why: /never granted/ }]);
});

t.test('a refused injection is suggested as the very inject entry, which then grants it', async (t) => {
  const inject = { name: 'TOKEN', inject: { host: 'api.example.com', header: 'Authorization', format: 'Bearer {}' } };
  const withInjection: ResolvedCapabilities = { 'provide-tools': true, 'access-secret': ['API_KEY', inject] };
  const { decisions } = computeGrants(withInjection, { allowDeclared: false }, 'caller');
  const advice = grantAdvice('caller', decisions, null, false, declaredInjections(withInjection));
  t.same(advice.snippet, {
    plugins: { caller: { 'access-secret': ['API_KEY', { name: 'TOKEN', inject: { host: 'api.example.com:443', header: 'Authorization', format: 'Bearer {}' } }] } },
  });
  const policy = resolvePolicy(advice.snippet, '/', 'policy.json');
  const after = computeGrants(withInjection, { allowDeclared: false, policy }, 'caller');
  t.same(after.decisions.filter((d) => !d.granted), [], 'the suggestion, added to the policy, grants the injection and the name');
  t.match(after.injections, [{ name: 'TOKEN', host: 'api.example.com', port: 443 }]);
});
