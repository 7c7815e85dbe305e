import { execFileSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import * as v from 'valibot';
import { PolicySchema } from '../../runtime/policy/policy-schema.ts';
import { loadPolicyFile, resolvePolicy } from '../../runtime/policy/resolved-policy.ts';
import { issuesOf } from '../helpers/schema-issues.ts';

const entry = { 'access-network': ['api.example.com'] };

t.test('positive control: the policy schema alone drops a plugin entry named constructor, silently', async (t) => {
  const result = v.safeParse(PolicySchema, JSON.parse(`{"plugins": {"constructor": ${JSON.stringify(entry)}}}`));
  t.ok(result.success);
  t.same(result.success && Object.keys(result.output.plugins), []);
});

for (const name of ['constructor', '__proto__', 'prototype']) {
  t.test(`a policy entry for a plugin named ${name} is policy_invalid, naming plugins.${name}`, async (t) => {
    const input = JSON.parse(`{"plugins": {"notes": {}, "${name}": ${JSON.stringify(entry)}}}`);
    t.match(issuesOf(() => resolvePolicy(input, '/'), 'policy_invalid'), [{ path: `plugins.${name}`, received: name }]);
  });
}

t.test('a policy file that is a FIFO is refused at once, not waited on', async (t) => {
  const dir = t.testdir({});
  const file = path.join(dir, 'policy.json');
  execFileSync('mkfifo', [file]);
  t.throws(() => loadPolicyFile(file), { code: 'policy_invalid', message: /is a FIFO/ });
});
