import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { isPluginRuntimeError } from '../../runtime/errors.ts';
import {
  checkDenoVersion,
  compareVersions,
  DENO_PATH_ENV,
  parseDenoVersion,
  resolveDenoPath,
} from '../../runtime/launch/deno-binary.ts';
import { ECHO_MANIFEST } from '../helpers/fixtures.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

/** A fake `deno` that reports `version` (or `output` verbatim) for --version. */
function fakeDeno(dir: string, output: string, name = 'deno'): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' '${output}'\n`);
  chmodSync(file, 0o755);
  return file;
}

const oldDenoOutput = 'deno 1.0.0 (stable, release, x86_64-unknown-linux-gnu)\nv8 8.4.300\ntypescript 3.9.2';

t.test('parseDenoVersion reads the version from `deno --version` output', async (t) => {
  t.equal(parseDenoVersion('deno 2.1.4 (stable, release, x86_64-unknown-linux-gnu)\nv8 13.0\ntypescript 5.6.2'), '2.1.4');
  t.equal(parseDenoVersion(oldDenoOutput), '1.0.0');
  t.equal(parseDenoVersion('node v20.0.0'), null);
  t.equal(parseDenoVersion(''), null);
});

t.test('compareVersions orders versions numerically, not as text', async (t) => {
  t.ok(compareVersions('2.10.0', '2.9.9') > 0);
  t.ok(compareVersions('1.46.3', '2.1.0') < 0);
  t.equal(compareVersions('2.1.0', '2.1.0'), 0);
  t.equal(compareVersions('2.1', '2.1.0'), 0);
  t.ok(compareVersions('2.1.1', '2.1') > 0);
});

t.test('checkDenoVersion refuses a Deno older than the floor, naming both versions', async (t) => {
  const deno = fakeDeno(t.testdir({}), oldDenoOutput);
  await t.rejects(checkDenoVersion(deno, '2.1.0'), {
    code: 'deno_unsupported',
    details: { found: '1.0.0', required: '2.1.0' },
  });
  try {
    await checkDenoVersion(deno, '2.1.0');
  } catch (error) {
    t.match((error as Error).message, /1\.0\.0/);
    t.match((error as Error).message, /2\.1\.0/);
  }
});

t.test('checkDenoVersion accepts a Deno at or above the floor', async (t) => {
  const deno = fakeDeno(t.testdir({}), 'deno 2.1.0 (stable, release, x86_64-unknown-linux-gnu)');
  t.equal(await checkDenoVersion(deno, '2.1.0'), '2.1.0');
});

t.test('checkDenoVersion refuses a binary that does not report a Deno version', async (t) => {
  const deno = fakeDeno(t.testdir({}), 'not deno at all');
  await t.rejects(checkDenoVersion(deno, '2.1.0'), { code: 'deno_not_found' });
});

t.test('resolveDenoPath prefers the option, then MANASVI_DENO, and refuses a missing binary', async (t) => {
  const dir = t.testdir({});
  const fromEnv = fakeDeno(dir, oldDenoOutput, 'deno-env');
  const fromOption = fakeDeno(dir, oldDenoOutput, 'deno-option');
  const saved = process.env[DENO_PATH_ENV];
  t.teardown(() => {
    if (saved === undefined) delete process.env[DENO_PATH_ENV];
    else process.env[DENO_PATH_ENV] = saved;
  });
  process.env[DENO_PATH_ENV] = fromEnv;
  t.equal(resolveDenoPath(), fromEnv);
  t.equal(resolveDenoPath(fromOption), fromOption);
  t.throws(() => resolveDenoPath(path.join(dir, 'missing')), { code: 'deno_not_found' });
  process.env[DENO_PATH_ENV] = path.join(dir, 'missing');
  t.throws(() => resolveDenoPath(), { code: 'deno_not_found' });
});

t.test('the default Deno binary is the npm package one and meets the floor', async (t) => {
  const saved = process.env[DENO_PATH_ENV];
  delete process.env[DENO_PATH_ENV];
  t.teardown(() => {
    if (saved !== undefined) process.env[DENO_PATH_ENV] = saved;
  });
  const deno = resolveDenoPath();
  t.match(deno, /node_modules/);
  t.type(await checkDenoVersion(deno, '2.1.0'), 'string');
});

t.test('a runtime given an old Deno refuses to load a plugin with deno_unsupported', async (t) => {
  const dir = t.testdir({});
  const { runtime } = testRuntime(t, { denoPath: fakeDeno(dir, oldDenoOutput) });
  await t.rejects(runtime.load(ECHO_MANIFEST), { code: 'deno_unsupported', details: { found: '1.0.0' } });
});

t.test('a runtime picks up MANASVI_DENO when no denoPath option is given', async (t) => {
  const dir = t.testdir({});
  const saved = process.env[DENO_PATH_ENV];
  t.teardown(() => {
    if (saved === undefined) delete process.env[DENO_PATH_ENV];
    else process.env[DENO_PATH_ENV] = saved;
  });
  process.env[DENO_PATH_ENV] = fakeDeno(dir, oldDenoOutput);
  const { runtime } = testRuntime(t);
  let error: unknown;
  await runtime.inspect(ECHO_MANIFEST).catch((caught: unknown) => (error = caught));
  t.ok(isPluginRuntimeError(error, 'deno_unsupported'), 'deno_unsupported from the MANASVI_DENO binary');
});
