import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { SECRET, createProbeWorkspace } from '../../runtime/cli/doctor/probe-workspace.ts';
import { bundledDenoPath } from '../../runtime/launch/deno-binary.ts';
import { detectSandbox } from '../../runtime/launch/sandbox/sandbox-support.ts';
import { PACKAGE_ROOT } from '../../runtime/package-root.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS } from '../helpers/wait-for.ts';

// Escapes found reviewing the sandbox launcher, each tried for real with Deno's flags
// stripped (or under `deno eval`, which has every permission), judged on the host.

const deno = bundledDenoPath();
const sandbox = detectSandbox(deno);
const skip = sandbox.available ? false : `no sandbox here: ${sandbox.reason}`;

/** The launcher around `deno eval code`, as the runtime starts it; `kill` after `killAfterMs`. */
function launch(code: string, options: string[] = [], killAfterMs?: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  if (!sandbox.available) throw new Error('no sandbox');
  const stage = mkdtempSync(path.join(os.tmpdir(), 'manasvi-review-'));
  const args = [sandbox.script, sandbox.arch, '--net', '--exec', deno, ...sandbox.libraries.flatMap((lib) => ['--exec', lib]), ...options, '--', deno, 'eval', code];
  const child = spawn(sandbox.perl, args, { env: { DENO_DIR: stage, NO_COLOR: '1' } });
  if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGTERM'), killAfterMs);
  const guard = setTimeout(() => child.kill('SIGKILL'), 5000);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) =>
    child.once('close', (exitCode, signal) => {
      clearTimeout(guard);
      rmSync(stage, { recursive: true, force: true });
      resolve({ code: exitCode, signal, stdout, stderr });
    }),
  );
}

t.test('a descriptor the host inherited does not reach the tool: no way back to the host tree through /proc/self/fd', { skip }, async (t) => {
  // Node passes every descriptor it inherited without close-on-exec to each child it
  // spawns; the launcher passed them on to Deno, and a directory's opens the host's tree.
  const workspace = await createProbeWorkspace();
  t.teardown(() => workspace.close());
  const staged = workspace.stageEscaper();
  const host = path.join(PACKAGE_ROOT, 'tests', 'security', 'fixtures', 'inherited-fd-host.ts');
  const run = spawnSync(
    'bash',
    ['-c', 'exec 40<"$1"; shift; exec "$@"', 'bash', workspace.outside, process.execPath, '--import=tsx', host, staged.manifest, workspace.stateDir(), '/proc/self/fd/40/secret.txt'],
    { cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  t.equal(run.status, 0, run.stderr);
  const seen = JSON.parse(run.stdout) as { allowed: boolean; value?: string; error?: string };
  t.notOk(seen.allowed && String(seen.value).includes(SECRET), `the secret outside every grant stays out of reach (${seen.error ?? 'read'})`);
});

t.test('a SIGTERM that arrives while the sandbox is being built still ends the tool', { skip }, async (t) => {
  // pid 1 of a PID namespace drops a signal it has no handler for: sent during setup, it vanished.
  for (const delay of [0, 1, 2, 3, 4, 5, 6, 8, 10, 15]) {
    const run = await launch('setInterval(() => {}, 1000)', [], delay);
    t.equal(run.signal, 'SIGTERM', `TERM after ${delay} ms ends it as SIGTERM`);
  }
});

t.test('a read grant above the Deno binary or its libraries still starts the tool', { skip }, async (t) => {
  // Grants were bound over Deno's own files, noexec: a read grant of /usr (not a sensitive
  // tree) or of the folder holding Deno made every launch fail.
  const libc = sandbox.available ? (sandbox.libraries.find((lib) => lib.includes('libc.so')) ?? deno) : deno;
  for (const grant of [path.dirname(realpathSync(deno)), path.dirname(realpathSync(libc))]) {
    const run = await launch('console.log("started")', ['--ro', grant]);
    t.match(run, { code: 0, stdout: 'started\n' }, `with --ro ${grant}: ${run.stderr.trim()}`);
  }
});

t.test('host memory a tool could hold where no RSS shows it (memfds) is refused inside; without the sandbox it is held', { skip }, async (t) => {
  // memfd pages are in no process's RSS, so the host's watch cannot see them: the
  // sandbox's seccomp filter refuses memfd_create (and SysV shared memory), which Deno never uses.
  const workspace = await createProbeWorkspace();
  t.teardown(() => workspace.close());
  const shmem = () => Number(/^Shmem:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) / 1024;
  for (const [overrides, held] of [
    [{ stripDenoPermissions: true }, false],
    [{ stripDenoPermissions: true, withoutNamespaces: true }, true],
  ] as const) {
    const h = testRuntime(t, { allowDeclared: true, layerOverrides: overrides });
    const plugin = await h.load(workspace.stageEscaper().manifest);
    const before = shmem();
    let peak = before;
    const sample = setInterval(() => (peak = Math.max(peak, shmem())), 50);
    const result = (await plugin.call('bare', { action: 'memfd', text: '128', link: '500' }, { timeoutMs: GENEROUS_MS })) as { allowed: boolean; message?: string };
    clearInterval(sample);
    t.equal(result.allowed, held, `${held ? 'without' : 'with'} the sandbox: ${result.allowed ? 'held' : result.message} (host shared memory rose by ${Math.round(peak - before)} MB)`);
  }
});
