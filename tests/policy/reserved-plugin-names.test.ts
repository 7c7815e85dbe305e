import { execFileSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import * as v from 'valibot';
import { isPluginRuntimeError } from '../../runtime/errors.ts';
import { PolicySchema } from '../../runtime/policy/policy-schema.ts';
import { loadPolicyFile, resolvePolicy } from '../../runtime/policy/resolved-policy.ts';
import type { SchemaIssue } from '../../runtime/schema-issues.ts';

const entry = { 'access-network': ['api.example.com'] };

function policyIssues(run: () => unknown): SchemaIssue[] {
  try {
    run();
  } catch (error) {
    if (!isPluginRuntimeError(error, 'policy_invalid')) throw error;
    return error.details!['issues'] as SchemaIssue[];
  }
  return [];
}

t.test('positive control: the policy schema alone drops a plugin entry named constructor, silently', async (t) => {
  const result = v.safeParse(PolicySchema, JSON.parse(`{"plugins": {"constructor": ${JSON.stringify(entry)}}}`));
  t.ok(result.success);
  t.same(result.success && Object.keys(result.output.plugins), []);
});

for (const name of ['constructor', '__proto__', 'prototype']) {
  t.test(`a policy entry for a plugin named ${name} is policy_invalid, naming plugins.${name}`, async (t) => {
    const input = JSON.parse(`{"plugins": {"notes": {}, "${name}": ${JSON.stringify(entry)}}}`);
    t.match(policyIssues(() => resolvePolicy(input, '/')), [{ path: `plugins.${name}`, received: name }]);
  });
}

t.test('a policy file that is a FIFO is refused at once, not waited on', async (t) => {
  const dir = t.testdir({});
  const file = path.join(dir, 'policy.json');
  execFileSync('mkfifo', [file]);
  t.throws(() => loadPolicyFile(file), { code: 'policy_invalid', message: /is a FIFO/ });
});
