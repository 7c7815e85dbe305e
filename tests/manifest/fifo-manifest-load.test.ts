import { execFileSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { isPluginRuntimeError } from '../../runtime/errors.ts';
import type { SchemaIssue } from '../../runtime/schema-issues.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

t.test('createRuntime().load() of a manifest that is a FIFO ends with manifest_invalid, not a hang', async (t) => {
  const { runtime } = testRuntime(t);
  const dir = t.testdir({ 'plugin.ts': '' });
  const manifest = path.join(dir, 'manifest.json');
  execFileSync('mkfifo', [manifest]);
  const error = await runtime.load(manifest).then(
    () => null,
    (caught: unknown) => caught,
  );
  t.ok(isPluginRuntimeError(error, 'manifest_invalid'), 'a typed error');
  const issues = (error as { details: { issues: SchemaIssue[] } }).details.issues;
  t.match(issues, [{ path: '(root)', message: /FIFO/ }]);
});
