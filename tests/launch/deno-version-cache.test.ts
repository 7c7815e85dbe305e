import { chmodSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { checkDenoVersion } from '../../runtime/launch/deno-binary.ts';

/**
 * A fake `deno` that reports `version` for --version and appends a line to `asked` each
 * time it runs, so a test can count how often the binary itself was asked.
 */
function countingDeno(dir: string, version: string): { deno: string; asked: string; write: (version: string) => void } {
  const deno = path.join(dir, 'deno');
  const asked = path.join(dir, 'asked');
  const write = (reported: string) => {
    writeFileSync(deno, `#!/bin/sh\necho asked >> '${asked}'\nprintf '%s\\n' 'deno ${reported} (stable, release, x86_64-unknown-linux-gnu)'\n`);
    chmodSync(deno, 0o755);
  };
  write(version);
  writeFileSync(asked, '');
  return { deno, asked, write };
}

function timesAsked(asked: string): number {
  return readFileSync(asked, 'utf8').split('\n').filter((line) => line === 'asked').length;
}

t.test('an unchanged binary is asked for its version once, then the state folder answers', async (t) => {
  const dir = t.testdir({ state: {} });
  const { deno, asked } = countingDeno(dir, '2.3.0');
  const stateDir = path.join(dir, 'state');
  t.equal(await checkDenoVersion(deno, '2.1.0', stateDir), '2.3.0');
  t.equal(timesAsked(asked), 1);
  t.equal(await checkDenoVersion(deno, '2.1.0', stateDir), '2.3.0');
  t.equal(await checkDenoVersion(deno, '2.1.0', stateDir), '2.3.0');
  t.equal(timesAsked(asked), 1, 'the second and third checks did not run the binary');
  t.equal(statSync(path.join(stateDir, 'deno-versions.json')).mode & 0o077, 0, 'the record is private');
});

t.test('without a state folder the binary is asked every time', async (t) => {
  const { deno, asked } = countingDeno(t.testdir({}), '2.3.0');
  await checkDenoVersion(deno, '2.1.0');
  await checkDenoVersion(deno, '2.1.0');
  t.equal(timesAsked(asked), 2);
});

t.test('a rewritten binary is asked again, even with the same size and modification time', async (t) => {
  const dir = t.testdir({ state: {} });
  const { deno, asked, write } = countingDeno(dir, '2.3.0');
  const stateDir = path.join(dir, 'state');
  t.equal(await checkDenoVersion(deno, '2.1.0', stateDir), '2.3.0');
  const before = statSync(deno);
  // Same length, another version; the modification time put back as it was.
  write('2.4.0');
  utimesSync(deno, before.atime, before.mtime);
  t.equal(statSync(deno).size, before.size);
  t.equal(await checkDenoVersion(deno, '2.1.0', stateDir), '2.4.0', 'the new version, not the remembered one');
  t.equal(timesAsked(asked), 2);
});

t.test('a binary replaced by an older Deno is refused, not served the remembered version', async (t) => {
  const dir = t.testdir({ state: {} });
  const { deno, write } = countingDeno(dir, '2.3.0');
  const stateDir = path.join(dir, 'state');
  await checkDenoVersion(deno, '2.1.0', stateDir);
  write('1.0.0');
  await t.rejects(checkDenoVersion(deno, '2.1.0', stateDir), { code: 'deno_unsupported', details: { found: '1.0.0' } });
});

t.test('a remembered old version is still refused, on every check', async (t) => {
  const dir = t.testdir({ state: {} });
  const { deno, asked } = countingDeno(dir, '1.0.0');
  const stateDir = path.join(dir, 'state');
  await t.rejects(checkDenoVersion(deno, '2.1.0', stateDir), { code: 'deno_unsupported', details: { found: '1.0.0' } });
  await t.rejects(checkDenoVersion(deno, '2.1.0', stateDir), {
    code: 'deno_unsupported',
    details: { found: '1.0.0', required: '2.1.0' },
  });
  t.equal(timesAsked(asked), 1, 'the refusal came from the remembered version');
});

t.test('a remembered version is checked against the floor given now, not the one it was recorded under', async (t) => {
  const dir = t.testdir({ state: {} });
  const { deno, asked } = countingDeno(dir, '2.3.0');
  const stateDir = path.join(dir, 'state');
  t.equal(await checkDenoVersion(deno, '2.1.0', stateDir), '2.3.0');
  await t.rejects(checkDenoVersion(deno, '2.5.0', stateDir), { code: 'deno_unsupported', details: { found: '2.3.0', required: '2.5.0' } });
  t.equal(timesAsked(asked), 1);
});

t.test('a corrupt record is ignored: the binary is asked again', async (t) => {
  const dir = t.testdir({ state: { 'deno-versions.json': '{not json' } });
  const { deno, asked } = countingDeno(dir, '2.3.0');
  t.equal(await checkDenoVersion(deno, '2.1.0', path.join(dir, 'state')), '2.3.0');
  t.equal(timesAsked(asked), 1);
});
